"""People who sign in. Citizens are keyed by national code; staff by a username.

Citizens have no password: they sign in with their national code and a one-time code sent to
the mobile number that the mobile-ownership registry says is theirs (and an authenticator app's
code if they enrolled one), or with a passkey. Staff of the platform and the agencies sign in to the back office
with an Argon2-hashed password.

The evidence behind the assurance level is kept as dated facts on the user (registry match,
photo check) and in related rows (passkeys, in-person checks); the level itself
is recomputed from them by :mod:`panjereh.identity.assurance`, never typed in.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .validators import validate_legal_national_id


class User(AbstractUser):
    national_code = models.CharField(
        _("national code"), max_length=10, unique=True, null=True, blank=True
    )
    mobile = models.CharField(_("mobile number"), max_length=11, blank=True)
    assurance_level = models.PositiveSmallIntegerField(_("assurance level"), default=0)
    father_name = models.CharField(_("father's name"), max_length=150, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    registry_verified_at = models.DateTimeField(
        _("matched with civil registration at"), null=True, blank=True
    )
    mobile_verified_at = models.DateTimeField(
        _("mobile ownership verified at"), null=True, blank=True
    )
    photo_verified_at = models.DateTimeField(_("registry photo checked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        permissions = [
            ("record_in_person_check", _("Can record an in-person identity check")),
            ("view_identity_oversight", _("Can see identity counts for oversight")),
        ]

    def display_name(self) -> str:
        return self.get_full_name() or self.username

    @property
    def is_citizen(self) -> bool:
        return bool(self.national_code)


class LegalPerson(models.Model):
    """A company or institution, keyed by its 11-digit national ID."""

    national_id = models.CharField(
        _("national ID"), max_length=11, unique=True, validators=[validate_legal_national_id]
    )
    name = models.CharField(_("name"), max_length=300)
    registered_at = models.DateTimeField(_("registered at"), default=timezone.now)

    class Meta:
        verbose_name = _("legal person")
        verbose_name_plural = _("legal persons")

    def __str__(self) -> str:
        return f"{self.name} ({self.national_id})"


class RepresentativeRole(models.TextChoices):
    CEO = "ceo", _("Chief executive")
    BOARD = "board", _("Board member")
    SIGNATORY = "signatory", _("Authorised signatory")
    AGENT = "agent", _("Agent")


class Representative(models.Model):
    """A natural person who acts for a legal person, with a role, for a period."""

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="representations"
    )
    legal_person = models.ForeignKey(
        LegalPerson, on_delete=models.CASCADE, related_name="representatives"
    )
    role = models.CharField(_("role"), max_length=20, choices=RepresentativeRole.choices)
    valid_from = models.DateField(_("valid from"), default=timezone.localdate)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)

    class Meta:
        verbose_name = _("representative")
        verbose_name_plural = _("representatives")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "legal_person", "role"], name="representative_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.person} → {self.legal_person} ({self.role})"

    def is_current(self, on=None) -> bool:
        on = on or timezone.localdate()
        return self.valid_from <= on and (self.valid_until is None or on <= self.valid_until)


def companies_represented(person, on=None):
    """The legal persons ``person`` currently acts for, with the role, for the portal's
    "on behalf of" choice."""
    on = on or timezone.localdate()
    return (
        Representative.objects.filter(person=person, valid_from__lte=on)
        .filter(models.Q(valid_until__isnull=True) | models.Q(valid_until__gte=on))
        .select_related("legal_person")
    )


class Delegation(models.Model):
    """A person (the principal) lets a helper act for them until a set time.

    The principal names the helper by national code only; the offer waits for whoever holds
    that code to sign in and accept it. Until then ``helper`` is empty, so the principal learns
    neither the helper's name nor whether the code has an account."""

    principal = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="delegations_given"
    )
    helper_national_code = models.CharField(
        _("helper's national code"), max_length=10, db_index=True, default=""
    )
    helper = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="delegations_received",
        null=True,
        blank=True,
    )
    purpose = models.CharField(_("purpose"), max_length=300)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("delegation")
        verbose_name_plural = _("delegations")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(principal=models.F("helper")), name="delegation_not_self"
            ),
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("created_at")),
                name="delegation_expires_after_creation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.principal} → {self.helper or '…'} until {self.expires_at:%Y-%m-%d}"

    def is_active(self, at=None) -> bool:
        at = at or timezone.now()
        return (
            self.revoked_at is None
            and self.accepted_at is not None
            and self.helper_id is not None
            and self.created_at <= at < self.expires_at
        )


class DelegationScope(models.TextChoices):
    """What a company's representative may let a third-party filer (an accountant, a lawyer)
    do in the company's name."""

    APPLY = "apply", _("Apply for permits and services")
    PAY = "pay", _("Pay fees and bills")
    READ = "read", _("Read notices and letters")


class CompanyDelegation(models.Model):
    """A representative of a company lets another person act for it, within ``scopes``, until
    ``expires_at`` (at most a year). The delegate is named by national code; they need no
    account yet. A delegate may not delegate further; the delegation lapses when its grantor is
    no longer named by the company registry (see :mod:`.businesses`)."""

    company = models.ForeignKey(LegalPerson, on_delete=models.CASCADE, related_name="delegations")
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="company_delegations_given"
    )
    delegate_national_code = models.CharField(
        _("delegate's national code"), max_length=10, db_index=True
    )
    scopes = models.JSONField(_("what the delegate may do"), default=list)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("company delegation")
        verbose_name_plural = _("company delegations")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("created_at")),
                name="company_delegation_expires_after_creation",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.company} → …{self.delegate_national_code[-3:]} until {self.expires_at:%Y-%m-%d}"
        )

    def is_active(self, at=None) -> bool:
        at = at or timezone.now()
        return self.revoked_at is None and self.created_at <= at < self.expires_at

    def scope_labels(self) -> list[str]:
        return [str(DelegationScope(s).label) for s in self.scopes if s in DelegationScope.values]


class AuthEvent(models.Model):
    """One authentication event: the audit trail that the user can read."""

    class Kind(models.TextChoices):
        REGISTRATION_STARTED = "registration_started", _("Registration started")
        REGISTRATION_REFUSED = "registration_refused", _("Registration refused")
        REGISTERED = "registered", _("Registered")
        OTP_SENT = "otp_sent", _("One-time code sent")
        OTP_FAILED = "otp_failed", _("Wrong one-time code")
        LOGIN = "login", _("Signed in")
        LOGIN_FAILED = "login_failed", _("Sign-in failed")
        LOCKED_OUT = "locked_out", _("Locked out after too many attempts")
        TOTP_FAILED = "totp_failed", _("Wrong authenticator code")
        LOGOUT = "logout", _("Signed out")
        BACKCHANNEL_LOGOUT = "backchannel_logout", _("Agency window notified of sign-out")
        CONSENT = "consent", _("Consent given to an agency window")
        TOKEN_ISSUED = "token_issued", _("Agency window signed in")
        LEVEL_CHANGED = "level_changed", _("Assurance level changed")
        TOTP_ENROLLED = "totp_enrolled", _("Authenticator app enrolled")
        SIGNING_KEY_ENROLLED = "signing_key_enrolled", _("Signing key enrolled")
        PASSKEY_REGISTERED = "passkey_registered", _("Passkey added")
        PASSKEY_RENAMED = "passkey_renamed", _("Passkey renamed")
        PASSKEY_REVOKED = "passkey_revoked", _("Passkey removed")
        PASSKEY_FAILED = "passkey_failed", _("Passkey not accepted")
        PASSKEY_CLONED = "passkey_cloned", _("Passkey refused: its use counter went back (a copy?)")
        PHOTO_CHECKED = "photo_checked", _("Registry photo check")
        IN_PERSON_CHECKED = "in_person_checked", _("In-person check recorded")
        DELEGATION_GRANTED = "delegation_granted", _("Helper authorised")
        DELEGATION_ACCEPTED = "delegation_accepted", _("Helper accepted the authorisation")
        DELEGATION_REVOKED = "delegation_revoked", _("Helper authorisation revoked")
        ACTING_AS = "acting_as", _("Helper started acting for the person")
        COMPANY_ADDED = "company_added", _("Company added: the registry names you")
        COMPANY_REFUSED = "company_refused", _("Company not added")
        ACTING_FOR_COMPANY = "acting_for_company", _("Started acting for a company")
        ACTING_AS_SELF = "acting_as_self", _("Acting as yourself again")
        ACTING_ENDED = "acting_ended", _("No longer acting for a company: the registry changed")
        REPRESENTATION_ENDED = (
            "representation_ended",
            _("The company registry no longer names you as a representative"),
        )
        COMPANY_DELEGATION_GRANTED = (
            "company_delegation_granted",
            _("Company authorisation granted"),
        )
        COMPANY_DELEGATION_REVOKED = (
            "company_delegation_revoked",
            _("Company authorisation revoked"),
        )

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="auth_events",
    )
    # For events about a national code with no account (or not yet known to be one), the code is
    # kept only as a keyed hash so that the log can be correlated without becoming a list of
    # who tried to register.
    subject_hash = models.CharField(max_length=64, blank=True, db_index=True)
    kind = models.CharField(_("event"), max_length=32, choices=Kind.choices)
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)
    client_name = models.CharField(_("agency window"), max_length=255, blank=True)
    acting_for = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="auth_events_by_helpers",
    )
    delegation = models.ForeignKey(Delegation, on_delete=models.SET_NULL, null=True, blank=True)
    # The company the person acted for (every action in a company's name names both).
    acting_company = models.ForeignKey(
        LegalPerson,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="auth_events",
        verbose_name=_("company"),
    )
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    class Meta:
        verbose_name = _("authentication event")
        verbose_name_plural = _("authentication events")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["user", "-at"], name="authevent_user_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind}"


def subject_hash(national_code: str) -> str:
    """A keyed hash of a national code for logs: stable, but not reversible without the key."""
    key = settings.SECRET_KEY.encode()
    return hashlib.blake2b(national_code.encode(), key=key[:64], digest_size=32).hexdigest()


class OneTimeCode(models.Model):
    """A one-time code sent by SMS. Only its keyed hash is stored; it is usable once."""

    class Purpose(models.TextChoices):
        REGISTER = "register", _("registration")
        LOGIN = "login", _("sign-in")

    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    subject = models.CharField(max_length=64, db_index=True)  # subject_hash of the national code
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("one-time code")
        verbose_name_plural = _("one-time codes")

    def __str__(self) -> str:
        return f"{self.purpose} code {self.pk}"


class TotpDevice(models.Model):
    """An authenticator app (RFC 6238). The secret is stored encrypted with a key derived from
    the deployment's secret key, so a database dump alone does not give second factors away."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="totp_device"
    )
    encrypted_secret = models.TextField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # The last accepted time step: a code is never accepted twice.
    last_step = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("authenticator app")
        verbose_name_plural = _("authenticator apps")

    def __str__(self) -> str:
        return f"authenticator of {self.user}"


class Passkey(models.Model):
    """A WebAuthn passkey (a public-key credential the person's phone or computer keeps and
    unlocks with a fingerprint, face or screen lock). Registered and checked with the
    ``webauthn`` package (see :mod:`.passkeys`); the private key never leaves the device."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="passkeys"
    )
    # The credential ID, base64url without padding (as the browser's JSON names it).
    credential_id = models.CharField(max_length=1400, unique=True)
    # The COSE public key as the authenticator gave it.
    public_key = models.BinaryField()
    sign_count = models.PositiveBigIntegerField(default=0)
    transports = models.JSONField(default=list, blank=True)
    aaguid = models.CharField(max_length=36, blank=True)
    name = models.CharField(_("name"), max_length=60)
    created_at = models.DateTimeField(_("added"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("removed"), null=True, blank=True)
    # Whether the passkey may be copied to the person's other devices, and whether it is.
    backup_eligible = models.BooleanField(default=False)
    backed_up = models.BooleanField(default=False)
    # The authenticator verified the person (fingerprint, face, PIN) when the passkey was made.
    user_verified = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("passkey")
        verbose_name_plural = _("passkeys")
        indexes = [models.Index(fields=["user", "revoked_at"], name="passkey_user_live")]

    def __str__(self) -> str:
        return f"passkey {self.pk} of {self.user}"

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None


class InPersonCheck(models.Model):
    """An identity check at a counter, recorded by an authorised officer."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="in_person_checks"
    )
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="in_person_checks_made"
    )
    office = models.CharField(_("office"), max_length=200)
    document = models.CharField(_("document checked"), max_length=200)
    checked_at = models.DateTimeField(_("checked at"), default=timezone.now)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("in-person check")
        verbose_name_plural = _("in-person checks")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(user=models.F("officer")), name="in_person_not_self"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} checked by {self.officer} at {self.office}"


class ClientProfile(models.Model):
    """What the national window knows about an agency's OIDC client beyond the OAuth basics."""

    application = models.OneToOneField(
        "oauth2_provider.Application",
        on_delete=models.CASCADE,
        related_name="panjereh_profile",
    )
    agency = models.ForeignKey(
        "catalogue.Agency",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="oidc_clients",
    )
    # Pairwise subjects are computed per sector: two clients of one agency see one subject.
    sector_identifier = models.CharField(_("sector identifier"), max_length=200, blank=True)
    may_receive_national_code = models.BooleanField(
        _("may receive the national code"),
        default=False,
        help_text=_("Only for agencies whose law lets them know the person's national code."),
    )
    backchannel_logout_uri = models.URLField(_("back-channel logout URI"), blank=True)
    # OIDC Core §4 (third-party-initiated login): where the national window hands a signed-in
    # person over; the window then starts its own code flow, and no second sign-in is asked.
    initiate_login_uri = models.URLField(_("initiate login URI"), blank=True)
    id_token_alg = models.CharField(
        _("ID token signature"),
        max_length=5,
        choices=[("ES256", "ES256"), ("RS256", "RS256")],
        default="ES256",
        help_text=_(
            "ES256 (elliptic curve) is the default: smaller and quicker to sign. RS256 only for "
            "a window whose library cannot verify ES256."
        ),
    )

    class Meta:
        verbose_name = _("agency window (OIDC client) profile")
        verbose_name_plural = _("agency window (OIDC client) profiles")

    def __str__(self) -> str:
        return f"profile of {self.application}"

    def sector(self) -> str:
        if self.sector_identifier:
            return self.sector_identifier
        if self.agency_id:
            return f"agency:{self.agency.code}"
        return f"client:{self.application.client_id}"


class Consent(models.Model):
    """The person's consent that an agency window receives some claims."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consents"
    )
    application = models.ForeignKey("oauth2_provider.Application", on_delete=models.CASCADE)
    scopes = models.JSONField(default=list)
    granted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        constraints = [
            models.UniqueConstraint(fields=["user", "application"], name="consent_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.application}"


class SsoSession(models.Model):
    """One sign-in at the national window, with the agency windows used under it (``sid``)."""

    sid = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sso_sessions"
    )
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    clients = models.ManyToManyField("oauth2_provider.Application", blank=True, related_name="+")

    class Meta:
        verbose_name = _("single sign-on session")
        verbose_name_plural = _("single sign-on sessions")

    def __str__(self) -> str:
        return f"session {self.sid[:8]} of {self.user}"


class CodeSession(models.Model):
    """Which sign-on session an authorization code was issued under, so that the ID token
    issued for it at the token endpoint (where there is no browser session) carries its sid."""

    code_hash = models.CharField(max_length=64, unique=True)
    sso_session = models.ForeignKey(SsoSession, on_delete=models.CASCADE)
    created_at = models.DateTimeField(default=timezone.now)
    # The company the person acted for when the code was issued (national ID), if the agency
    # window asked for the ``org`` scope; re-checked with the registry when tokens are issued.
    acting_company = models.CharField(max_length=11, blank=True)

    def __str__(self) -> str:
        return f"code of session {self.sso_session_id}"


class OrgClaim(models.Model):
    """The ``org`` claim an ID token carried (by the token's ``jti``), so that the userinfo
    answer for the access token issued with it, and a refresh, say the same."""

    jti = models.CharField(max_length=255, unique=True)
    claim = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"org claim of {self.jti[:8]}"


class RedeemedCode(models.Model):
    """An authorization code already exchanged for tokens, and which tokens it gave.

    RFC 6749 4.1.2: a code used a second time is refused, and the tokens issued for its first
    use are revoked (someone else may hold the code). Kept as long as those tokens can live."""

    code_hash = models.CharField(max_length=64, unique=True)
    application_id = models.BigIntegerField()
    access_token_id = models.BigIntegerField(null=True, blank=True)
    token_family = models.UUIDField(null=True, blank=True)
    redeemed_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"code redeemed at {self.redeemed_at:%Y-%m-%d %H:%M}"


class BackchannelDelivery(models.Model):
    """A back-channel logout that an agency window did not accept at once, retried with backoff.

    Sessions are purged after 30 days; a delivery keeps what it needs (the session id, the
    person, the client), so it outlives that. A fresh logout token is signed for each attempt
    (a token lives two minutes)."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting to retry")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Gave up")

    sid = models.CharField(max_length=64)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    application = models.ForeignKey(
        "oauth2_provider.Application", on_delete=models.CASCADE, related_name="+"
    )
    issuer = models.CharField(max_length=300)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=1)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_status = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("back-channel logout delivery")
        verbose_name_plural = _("back-channel logout deliveries")
        indexes = [models.Index(fields=["state", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"logout of {self.sid[:8]} to {self.application_id} ({self.state})"
