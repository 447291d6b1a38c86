"""Identity's write use cases, one function each; rights and rules are checked here.

Views only read the request, call one of these and show the outcome. A refusal is an
:class:`IdentityError` (its ``message`` is shown to the person; its ``code`` tells the view which
status to answer with). Operations on an account take the ``actor`` and refuse anyone but the
account's owner (:func:`require_owner`, a ``roles.NotPermitted``: a 403 at the door).

Registration and sign-in are the operations of someone not yet signed in: their right to the next
step is the progress kept in the browser's server-side session (a code sent to this session, a
code proved in it), so those operations take the ``request`` whose session holds it. Every
operation that records an audit event takes the ``request`` for its address and browser.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth import login, logout
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from panjereh.catalogue import roles
from panjereh.common import messaging, ratelimit

from . import assurance, audit, otp, registry_checks, totp
from .models import AuthEvent, Consent, Delegation, TotpDevice, User

# The progress of registration and sign-in in the session.
REG_KEY = "panjereh_registration"
LOGIN_KEY = "panjereh_login"
BACKEND = "panjereh.identity.backends.RateLimitedModelBackend"


class IdentityError(Exception):
    """A refusal to show to the person (``message`` is translated text, ``code`` for the view's
    status and for tests)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


# -- rights --------------------------------------------------------------------------------------


def _is_person(actor) -> bool:
    return (
        actor is not None
        and not roles.is_system(actor)
        and bool(getattr(actor, "is_authenticated", False))
        and getattr(actor, "pk", None) is not None
        and bool(getattr(actor, "is_active", True))
    )


def require_person(actor) -> None:
    """Refuse anyone who is not a signed-in person (anonymous, no actor, the system)."""
    if not _is_person(actor):
        raise roles.NotPermitted()


def require_owner(actor, account: User) -> None:
    """A person acts only on their own account."""
    require_person(actor)
    if account is None or actor.pk != account.pk:
        raise roles.NotPermitted()


# -- messages ------------------------------------------------------------------------------------


def _msg_ip_locked() -> str:
    return _("Too many attempts from your connection. Please try again in a few minutes.")


def _msg_code_locked() -> str:
    return _("Too many wrong attempts for this national code. Please try again in 15 minutes.")


def _msg_no_match() -> str:
    return _(
        "These details do not match the civil registration records. Check your national code "
        "and birth date, and use a mobile number registered in your own name."
    )


def _msg_unavailable() -> str:
    return _(
        "The civil registration service is not answering right now. Nothing was saved; "
        "please try again in a few minutes."
    )


def _msg_wrong_authenticator_code() -> str:
    return _("The authenticator code is not correct.")


_OTP_MESSAGES = {
    otp.Outcome.WRONG: lambda: _("The code is not correct."),
    otp.Outcome.EXPIRED: lambda: _("The code has expired. Ask for a new code."),
    otp.Outcome.USED: lambda: _("This code has already been used. Ask for a new code."),
    otp.Outcome.EXHAUSTED: lambda: _("Too many wrong codes for this request. Ask for a new code."),
    otp.Outcome.UNKNOWN: lambda: _("This request has expired. Please start again."),
}


def _otp_refusal(outcome: otp.Outcome) -> IdentityError:
    return IdentityError(outcome.value, _OTP_MESSAGES[outcome]())


def _code_locked() -> IdentityError:
    return IdentityError("code_locked", _msg_code_locked())


# -- one-time codes by SMS -----------------------------------------------------------------------


def _sms_text(code: str) -> str:
    # The domain-bound line lets phones offer autofill and warns people off look-alike sites.
    return _("Panjereh code: %(code)s\nDo not give this code to anyone.") % {"code": code}


def _send_code(purpose: str, national_code: str, mobile: str | None) -> int:
    """Issue a challenge and send its code to ``mobile`` (if any): the one place identity sends
    an SMS. Returns the challenge's id (kept in the session)."""
    challenge_id, code = otp.issue(purpose, national_code)
    if mobile:
        messaging.send_sms(mobile, _sms_text(code), reference=f"identity:{purpose}")
    return challenge_id


def count_attempt_from(ip: str) -> None:
    """Count one registration or sign-in attempt from ``ip``; refuse when it is locked out."""
    if ratelimit.is_locked(ratelimit.IP_ATTEMPTS, ip):
        raise IdentityError("ip_locked", _msg_ip_locked())
    ratelimit.hit(ratelimit.IP_ATTEMPTS, ip)


# -- registration -------------------------------------------------------------------------------


def _registration_refused(
    request, national_code: str | None, reason: str, code: str, message: str
) -> IdentityError:
    audit.record(
        AuthEvent.Kind.REGISTRATION_REFUSED, request, national_code=national_code, reason=reason
    )
    return IdentityError(code, message)


def count_registration_attempt(request) -> None:
    """Count one registration attempt from the request's address; a refusal is recorded."""
    try:
        count_attempt_from(ratelimit.client_ip(request))
    except IdentityError as exc:
        raise _registration_refused(request, None, "ip_locked", exc.code, exc.message) from None


def start_registration(
    request, national_code: str, birth_date: date, mobile: str, next_url: str = ""
) -> None:
    """Check the national code, birth date and mobile with the registries and send a code to the
    mobile; the progress is kept in the session until the code is proved. Nothing about the
    person is saved yet. Refusals are recorded (codes ``code_locked``, ``too_many_codes``,
    ``no_match``, ``registry_unavailable``)."""
    if ratelimit.is_locked(ratelimit.CODE_FAILURES, national_code) or ratelimit.is_locked(
        ratelimit.CODES_SENT, national_code
    ):
        raise _registration_refused(
            request, national_code, "code_locked", "code_locked", _msg_code_locked()
        )
    audit.record(AuthEvent.Kind.REGISTRATION_STARTED, request, national_code=national_code)
    try:
        # Both checks are made every time and a failure of either reads the same, so that the
        # form does not tell whether a birth date or a mobile number was the wrong one.
        record = registry_checks.match_identity(national_code, birth_date)
        owns_mobile = registry_checks.mobile_belongs_to(national_code, mobile)
        if record is None or not record.alive or not owns_mobile:
            ratelimit.hit(ratelimit.CODE_FAILURES, national_code)
            reason = (
                "mobile_not_owned" if record is not None and record.alive else "registry_mismatch"
            )
            raise _registration_refused(request, national_code, reason, "no_match", _msg_no_match())
    except registry_checks.RegistryUnavailable:
        raise _registration_refused(
            request,
            national_code,
            "registry_unavailable",
            "registry_unavailable",
            _msg_unavailable(),
        ) from None
    if ratelimit.hit(ratelimit.CODES_SENT, national_code):
        raise _registration_refused(
            request, national_code, "too_many_codes", "too_many_codes", _msg_code_locked()
        )
    challenge_id = _send_code("register", national_code, mobile)
    audit.record(AuthEvent.Kind.OTP_SENT, request, national_code=national_code, purpose="register")
    request.session[REG_KEY] = {
        "national_code": national_code,
        "mobile": mobile,
        "challenge": challenge_id,
        "verified": False,
        "next": next_url,
        "record": {
            "first_name": record.first_name,
            "last_name": record.last_name,
            "father_name": record.father_name,
            "birth_date": record.birth_date.isoformat(),
            "sex": record.sex,
        },
    }


def registration_in_progress(request) -> dict | None:
    """The registration this browser has started (national code, mobile, registry record,
    whether the code was proved), or None."""
    return request.session.get(REG_KEY) or None


def _registration(request) -> dict:
    state = registration_in_progress(request)
    if not state:
        raise _otp_refusal(otp.Outcome.UNKNOWN)
    return state


def verify_registration_code(request, code: str) -> None:
    """Prove the code sent to the mobile being registered; wrong codes count against the
    national code, and too many end the registration (``code_locked``)."""
    state = _registration(request)
    national_code = state["national_code"]
    if ratelimit.is_locked(ratelimit.CODE_FAILURES, national_code):
        raise _code_locked()
    outcome = otp.verify(state["challenge"], "register", national_code, code)
    if outcome is otp.Outcome.OK:
        state["verified"] = True
        request.session[REG_KEY] = state
        return
    if outcome in (otp.Outcome.WRONG, otp.Outcome.EXHAUSTED):
        audit.record(
            AuthEvent.Kind.OTP_FAILED, request, national_code=national_code, purpose="register"
        )
        if ratelimit.hit(ratelimit.CODE_FAILURES, national_code):
            request.session.pop(REG_KEY, None)
            audit.record(AuthEvent.Kind.LOCKED_OUT, request, national_code=national_code)
            raise _code_locked()
    raise _otp_refusal(outcome)


def resend_registration_code(request) -> None:
    """Send a new code for the registration in progress (limited per national code)."""
    state = _registration(request)
    national_code = state["national_code"]
    if ratelimit.is_locked(ratelimit.CODE_FAILURES, national_code) or ratelimit.hit(
        ratelimit.CODES_SENT, national_code
    ):
        raise _code_locked()
    state["challenge"] = _send_code("register", national_code, state["mobile"])
    state["verified"] = False
    request.session[REG_KEY] = state


def complete_registration(
    national_code: str, mobile: str, record: dict, birth_date: date, request=None
) -> tuple[User, bool]:
    """Create (or refresh) the account of a person whose national code, birth date and mobile
    the registries matched and whose one-time code was right; returns it and whether it is new.

    The caller has checked all of that (:func:`confirm_registration` does): this is the only
    write of registration."""
    now = timezone.now()
    try:
        with transaction.atomic():
            user = User.objects.select_for_update().filter(national_code=national_code).first()
            created = user is None
            if created:
                user = User(username=f"c-{uuid.uuid4().hex[:20]}", national_code=national_code)
                user.set_unusable_password()
            user.first_name = record["first_name"]
            user.last_name = record["last_name"]
            user.father_name = record["father_name"]
            user.birth_date = birth_date
            user.mobile = mobile
            user.registry_verified_at = now
            user.mobile_verified_at = now
            user.save()
    except IntegrityError:
        # Two confirmations of one national code raced; the other one created the account.
        user = User.objects.get(national_code=national_code)
        created = False
    audit.record(
        AuthEvent.Kind.REGISTERED, request, user=user, created=created, mobile_tail=user.mobile[-4:]
    )
    assurance.recompute(user, request)
    return user, created


def confirm_registration(request) -> tuple[User, bool, str]:
    """Create (or refresh) the account whose code this browser proved and sign its owner in;
    returns the account, whether it is new and where to go next. Refused (``unknown``) unless
    the code was proved in this session."""
    state = registration_in_progress(request)
    if not state or not state.get("verified"):
        raise _otp_refusal(otp.Outcome.UNKNOWN)
    record = state["record"]
    birth_date = date.fromisoformat(record["birth_date"])
    user, created = complete_registration(
        state["national_code"], state["mobile"], record, birth_date, request
    )
    request.session.pop(REG_KEY, None)
    sign_in_as(request, user, "registration+otp")
    return user, created, state.get("next") or ""


# -- sign-in and sign-out ------------------------------------------------------------------------


@dataclass(frozen=True)
class SignInStep:
    """Where a sign-in stands after a code: signed in (go to ``next_url``), or an authenticator
    code is still needed."""

    signed_in: bool
    next_url: str = ""


def _active_citizen(national_code: str) -> User | None:
    return User.objects.filter(national_code=national_code, is_active=True).first()


def _confirmed_device(user: User | None) -> TotpDevice | None:
    if user is None:
        return None
    return TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).first()


def _switch_person(request, user: User) -> None:
    """If someone else is signed in on this browser, sign them out properly first, so that
    their agency windows are told (Django's login would only empty the session)."""
    if request.user.is_authenticated and request.user.pk != user.pk:
        logout(request)


def sign_in_as(request, user: User, method: str) -> None:
    """Django's login (which starts the sign-on session and records the sign-in, see
    :mod:`signals`), with ``method`` recorded as how the person proved who they are."""
    _switch_person(request, user)
    request.panjereh_auth_method = method
    login(request, user, backend=BACKEND)


def send_sign_in_code(request, national_code: str, next_url: str = "") -> None:
    """Start a sign-in: a code goes by SMS to the mobile of the account of ``national_code``.

    A challenge is made whether or not the code has an account, so that the next page, its
    timing and its message are the same; without an account no SMS goes out and no code can ever
    match. Refused (``code_locked``, recorded) when the national code is locked or has been sent
    too many codes."""
    if ratelimit.is_locked(ratelimit.CODE_FAILURES, national_code) or ratelimit.hit(
        ratelimit.CODES_SENT, national_code
    ):
        audit.record(AuthEvent.Kind.LOCKED_OUT, request, national_code=national_code)
        raise _code_locked()
    user = _active_citizen(national_code)
    challenge_id = _send_code("login", national_code, user.mobile if user else None)
    audit.record(
        AuthEvent.Kind.OTP_SENT, request, user=user, national_code=national_code, purpose="login"
    )
    request.session[LOGIN_KEY] = {
        "national_code": national_code,
        "challenge": challenge_id,
        "next": next_url,
        "otp_ok": False,
    }


def sign_in_in_progress(request) -> dict | None:
    """The sign-in this browser has started, or None."""
    return request.session.get(LOGIN_KEY) or None


def awaiting_authenticator(request) -> bool:
    """Whether this browser proved the SMS code of an account that also needs an authenticator
    code, and that account and its authenticator still exist."""
    state = sign_in_in_progress(request)
    if not state or not state.get("otp_ok"):
        return False
    return _confirmed_device(_active_citizen(state["national_code"])) is not None


def _finish_sign_in(request, user: User, method: str) -> str:
    state = request.session.pop(LOGIN_KEY, {})
    ratelimit.reset(ratelimit.CODE_FAILURES, user.national_code or "")
    sign_in_as(request, user, method)
    return state.get("next") or ""


def _count_code_failure(request, national_code: str, kind: str, user: User | None = None) -> None:
    """Record a wrong code; when it locks the national code, end the sign-in and refuse."""
    audit.record(kind, request, user=user, national_code=national_code)
    if ratelimit.hit(ratelimit.CODE_FAILURES, national_code):
        request.session.pop(LOGIN_KEY, None)
        audit.record(AuthEvent.Kind.LOCKED_OUT, request, user=user, national_code=national_code)
        raise _code_locked()


def verify_sign_in_code(request, code: str) -> SignInStep:
    """Prove the SMS code of the sign-in in progress. Without an authenticator the person is
    signed in; with one, the next step is :func:`verify_sign_in_authenticator`. A wrong code (and
    a right one for a national code without an account) counts against the national code."""
    state = sign_in_in_progress(request)
    if not state:
        raise _otp_refusal(otp.Outcome.UNKNOWN)
    national_code = state["national_code"]
    if ratelimit.is_locked(ratelimit.CODE_FAILURES, national_code):
        raise _code_locked()
    outcome = otp.verify(state["challenge"], "login", national_code, code)
    user = _active_citizen(national_code)
    if outcome is otp.Outcome.OK and user is not None:
        if _confirmed_device(user) is not None:
            state["otp_ok"] = True
            request.session[LOGIN_KEY] = state
            return SignInStep(signed_in=False)
        return SignInStep(signed_in=True, next_url=_finish_sign_in(request, user, "otp"))
    if outcome in (otp.Outcome.WRONG, otp.Outcome.EXHAUSTED, otp.Outcome.OK):
        _count_code_failure(request, national_code, AuthEvent.Kind.OTP_FAILED, user)
        outcome = otp.Outcome.WRONG if outcome is otp.Outcome.OK else outcome
    raise _otp_refusal(outcome)


def verify_sign_in_authenticator(request, code: str) -> str:
    """Prove the authenticator code after the SMS code and sign in; returns where to go next.
    Refused (``unknown``) unless :func:`awaiting_authenticator`."""
    state = sign_in_in_progress(request)
    if not state or not state.get("otp_ok"):
        raise _otp_refusal(otp.Outcome.UNKNOWN)
    national_code = state["national_code"]
    user = _active_citizen(national_code)
    device = _confirmed_device(user)
    if user is None or device is None:
        raise _otp_refusal(otp.Outcome.UNKNOWN)
    if ratelimit.is_locked(ratelimit.CODE_FAILURES, national_code):
        raise _code_locked()
    if totp.verify(device, code):
        return _finish_sign_in(request, user, "otp+totp")
    _count_code_failure(request, national_code, AuthEvent.Kind.TOTP_FAILED)
    raise IdentityError("wrong_code", _msg_wrong_authenticator_code())


def sign_out(request) -> bool:
    """Sign the person out of the national window and, through their sign-on session, every
    agency window (see :mod:`signals`); whether anyone was signed in."""
    if not request.user.is_authenticated:
        return False
    logout(request)
    return True


# -- step-up: photo; the optional authenticator app (passkeys: see passkeys.py) --------------------------------------------------


def check_photo(account: User, photo: bytes, *, actor, request=None) -> None:
    """Compare ``photo`` with the civil registration photo; a match raises the account to the
    level it supports. Refused: ``registry_unavailable`` (nothing recorded), ``no_match``
    (recorded)."""
    require_owner(actor, account)
    try:
        matches = registry_checks.photo_matches(account.national_code, photo)
    except registry_checks.RegistryUnavailable:
        raise IdentityError("registry_unavailable", _msg_unavailable()) from None
    if not matches:
        audit.record(AuthEvent.Kind.PHOTO_CHECKED, request, user=account, result="no_match")
        raise IdentityError("no_match", _("The photo does not match the civil registration photo."))
    assurance.mark_photo_checked(account, request)


def start_authenticator_enrolment(account: User, *, actor) -> TotpDevice:
    """The account's authenticator waiting to be confirmed (a new secret if there is none yet).
    Refused (``already_enrolled``) when one is confirmed."""
    require_owner(actor, account)
    device = TotpDevice.objects.filter(user=account).first()
    if device is not None and device.confirmed_at is not None:
        raise IdentityError("already_enrolled", _("Your authenticator app is already enrolled."))
    if device is None:
        device = totp.start_enrolment(account)
    return device


def confirm_authenticator(account: User, code: str, *, actor, request=None) -> TotpDevice:
    """Confirm the account's new authenticator with a code it shows; the level is recomputed.
    Refused: ``already_enrolled``, ``wrong_code``."""
    device = start_authenticator_enrolment(account, actor=actor)
    if not totp.verify(device, code):
        raise IdentityError("wrong_code", _msg_wrong_authenticator_code())
    audit.record(AuthEvent.Kind.TOTP_ENROLLED, request, user=account)
    assurance.recompute(account, request)
    return device


# -- delegations -------------------------------------------------------------------------------


def offer_delegation(
    principal: User, helper_national_code: str, purpose: str, days: int, request=None
) -> Delegation:
    """Offer ``helper_national_code`` the right to act for ``principal`` for ``days`` days.

    The answer is the same whether or not the code has an account and whoever holds it: the
    offer waits until its holder signs in and accepts, and only then is the helper named to the
    principal. Offers per principal are rate limited."""
    require_person(principal)
    if helper_national_code == principal.national_code:
        raise IdentityError("self", _("You cannot be your own helper."))
    subject = f"user:{principal.pk}"
    if ratelimit.is_locked(ratelimit.DELEGATION_OFFERS, subject):
        raise IdentityError(
            "rate_limited", _("Too many authorisations in a short time. Please try again later.")
        )
    now = timezone.now()
    delegation = Delegation.objects.create(
        principal=principal,
        helper_national_code=helper_national_code,
        purpose=purpose,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    ratelimit.hit(ratelimit.DELEGATION_OFFERS, subject)
    audit.record(
        AuthEvent.Kind.DELEGATION_GRANTED,
        request,
        user=principal,
        delegation_id=delegation.pk,
        helper_code_tail=helper_national_code[-3:],
    )
    return delegation


def pending_offers(user: User):
    """Offers waiting for ``user`` to accept (made to their national code, still current)."""
    if not user.national_code:
        return Delegation.objects.none()
    return Delegation.objects.filter(
        helper_national_code=user.national_code,
        helper__isnull=True,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).exclude(principal=user)


def accept_delegation(helper: User, pk: int, request=None) -> Delegation:
    """The holder of the offered national code accepts; from now on they are named."""
    require_person(helper)
    with transaction.atomic():
        delegation = pending_offers(helper).select_for_update().filter(pk=pk).first()
        if delegation is None:
            raise IdentityError("not_found", _("This authorisation is not waiting for you."))
        delegation.helper = helper
        delegation.accepted_at = timezone.now()
        delegation.save(update_fields=["helper", "accepted_at"])
    audit.record(
        AuthEvent.Kind.DELEGATION_ACCEPTED,
        request,
        user=helper,
        delegation_id=delegation.pk,
    )
    return delegation


def revoke_delegation(principal: User, pk: int, request=None) -> Delegation:
    require_person(principal)
    delegation = Delegation.objects.filter(pk=pk, principal=principal).first()
    if delegation is None:
        raise IdentityError("not_found", _("This authorisation is not yours."))
    if delegation.revoked_at is None:
        delegation.revoked_at = timezone.now()
        delegation.save(update_fields=["revoked_at"])
        audit.record(AuthEvent.Kind.DELEGATION_REVOKED, request, user=principal, delegation_id=pk)
    return delegation


def start_acting(helper: User, pk: int, request) -> Delegation:
    """The helper starts acting for the principal in this browser session."""
    require_person(helper)
    delegation = Delegation.objects.filter(pk=pk, helper=helper).first()
    if delegation is None:
        raise IdentityError("not_found", _("This authorisation is not yours."))
    if not delegation.is_active():
        raise IdentityError("ended", _("This authorisation has ended."))
    request.session[audit.ACTING_SESSION_KEY] = delegation.pk
    audit.record(AuthEvent.Kind.ACTING_AS, request, user=helper, purpose=delegation.purpose)
    return delegation


def stop_acting(request) -> None:
    """The helper stops acting for anyone in this browser session."""
    request.session.pop(audit.ACTING_SESSION_KEY, None)


def record_consent(request, application, scopes: list[str]) -> Consent:
    """The signed-in person allowed ``application`` (an agency window) the ``scopes``: kept, so
    the next sign-in there does not ask again, and audited."""
    require_person(request.user)
    consent, _created = Consent.objects.update_or_create(
        user=request.user,
        application=application,
        defaults={"scopes": scopes, "granted_at": timezone.now()},
    )
    audit.record(
        AuthEvent.Kind.CONSENT,
        request,
        user=request.user,
        client_name=application.name,
        scopes=scopes,
    )
    return consent
