"""Passkeys (WebAuthn): registering one, signing in and stepping up with one, renaming and
removing them. One function per use case; rights are checked here.

Who does what: the browser's WebAuthn API (``navigator.credentials.create``/``get``, called by
``identity/js/passkeys.js``) talks to the person's phone or computer, which keeps the private
key and unlocks it with a fingerprint, face or screen lock; the ``webauthn`` package makes the
options and verifies what comes back (challenge, origin, relying-party ID, signature, flags).
The rules around it are ours: a passkey counts for assurance level 3 only when the device
verified the person (user verification); a use counter that goes back (a cloned authenticator)
is refused and recorded; the challenge of a ceremony lives in the session and is used once.

Level 3 is held by the account (a live passkey registered with user verification, on top of
level 2); a browser session shows level 3 to services asking for it (an agency window sending
``acr_values=3``, the step-up page) only after a passkey was used in it (:func:`session_proved`).
"""

from __future__ import annotations

import hmac
import json
import time
import unicodedata
from hashlib import sha256
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http.request import split_domain_port
from django.utils import timezone
from django.utils.translation import gettext as _
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.cose import COSEAlgorithmIdentifier
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from panjereh.common import ratelimit

from . import assurance, audit, conf
from .models import AuthEvent, Passkey, User
from .operations import IdentityError, require_owner, sign_in_as

REG_KEY = "panjereh_passkey_registration"
AUTH_KEY = "panjereh_passkey_authentication"
PROVED_KEY = "panjereh_passkey_proved"
# A ceremony's challenge is good for this long (the browser's own timeout is one minute).
CHALLENGE_SECONDS = 5 * 60
TIMEOUT_MS = 60_000
NAME_MAX = 60
# Option and verification requests from one address (each is one WebAuthn ceremony step).
CEREMONIES = ratelimit.Limit("passkey-ip", limit=60, window=10 * 60, lockout=10 * 60)
ALGORITHMS = [
    COSEAlgorithmIdentifier.ECDSA_SHA_256,
    COSEAlgorithmIdentifier.EDDSA,
    COSEAlgorithmIdentifier.RSASSA_PKCS1_v1_5_SHA_256,
]
TRANSPORTS = {t.value for t in AuthenticatorTransport}


# -- the relying party ---------------------------------------------------------------------------


def rp_id(request) -> str:
    """The relying-party ID: the setting, or the request's host name (without its port)."""
    configured = conf.get("WEBAUTHN_RP_ID")
    if configured:
        return configured
    host, _port = split_domain_port(request.get_host())
    return host


def origins(request) -> list[str]:
    configured = list(conf.get("WEBAUTHN_ORIGINS") or [])
    return configured or [f"{request.scheme}://{request.get_host()}"]


def _user_handle(user: User) -> bytes:
    """A stable, opaque handle for the authenticator (not the national code)."""
    return hmac.new(
        settings.SECRET_KEY.encode(), f"passkey-user:{user.pk}".encode(), sha256
    ).digest()


def _descriptor(passkey: Passkey) -> PublicKeyCredentialDescriptor:
    transports = [AuthenticatorTransport(t) for t in passkey.transports if t in TRANSPORTS]
    return PublicKeyCredentialDescriptor(
        id=base64url_to_bytes(passkey.credential_id), transports=transports or None
    )


# -- reading -------------------------------------------------------------------------------------


def live_passkeys(user: User):
    return Passkey.objects.filter(user=user, revoked_at__isnull=True).order_by("created_at", "id")


def session_proved(request) -> bool:
    """Whether a passkey of the signed-in person, with user verification, was used in this
    browser session (signing in, stepping up or registering it) and is still live."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    proof = request.session.get(PROVED_KEY) or {}
    if proof.get("user") != user.pk:
        return False
    return Passkey.objects.filter(
        pk=proof.get("passkey"), user=user, revoked_at__isnull=True, user_verified=True
    ).exists()


def session_level(request) -> int:
    """The level this session may act at: the account's level, but not above 2 unless a passkey
    was used in the session."""
    user = request.user
    level = int(getattr(user, "assurance_level", 0) or 0)
    if level >= 3 and not session_proved(request):
        return 2
    return level


def registration_blocker(account: User, request) -> str | None:
    """Why ``account`` cannot add a passkey in this session now (a sentence), or None."""
    have = assurance.evidence(account)
    if not have["registry"]:
        return _("A passkey can be added only after your details are matched with the registry.")
    if not have["photo"]:
        return _("Do the photo check first: a passkey can be added only after it.")
    live = live_passkeys(account)
    if live.exists():
        if not session_proved(request):
            return _(
                "You already have a passkey. Use it first (the button below); then you can add "
                "another one."
            )
        return None
    last_removed = (
        Passkey.objects.filter(user=account, revoked_at__isnull=False)
        .order_by("-revoked_at")
        .values_list("revoked_at", flat=True)
        .first()
    )
    photo_at = account.photo_verified_at
    if last_removed is not None and (photo_at is None or photo_at < last_removed):
        return _(
            "You removed your passkeys. To add a new one, do the photo check again first: it "
            "shows that it is really you."
        )
    return None


# -- checks on what the browser sends -------------------------------------------------------------


def bad_input() -> IdentityError:
    return IdentityError("bad_input", _("Your browser sent something we could not read."))


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def parse_body(body: bytes, limit: int = 32 * 1024) -> dict:
    """The JSON object a ceremony page posts; refused (``bad_input``) when too large, not UTF-8,
    not a JSON object, or holding a NUL."""
    if len(body) > limit:
        raise bad_input()
    try:
        data = json.loads(body.decode("utf-8")) if body else {}
    except (UnicodeDecodeError, ValueError):
        raise bad_input() from None
    if not isinstance(data, dict) or _has_nul(data):
        raise bad_input()
    return data


def _clean_name(name: Any, fallback: str) -> str:
    if not isinstance(name, str):
        raise bad_input()
    name = unicodedata.normalize("NFC", name).strip()
    if any(unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn") for ch in name):
        raise IdentityError("bad_name", _("Use letters, digits and spaces in the name."))
    if len(name) > NAME_MAX:
        raise IdentityError(
            "bad_name", _("Keep the name to %(max)s characters or fewer.") % {"max": NAME_MAX}
        )
    return name or fallback


def count_ceremony(request) -> None:
    """One ceremony step from this address; refused (``ip_locked``) when there are too many."""
    if ratelimit.hit(CEREMONIES, ratelimit.client_ip(request)):
        raise IdentityError(
            "ip_locked",
            _("Too many attempts from your connection. Please try again in a few minutes."),
        )


def _challenge_state(request, key: str) -> dict | None:
    state = request.session.pop(key, None)
    if not isinstance(state, dict) or time.time() - state.get("at", 0) > CHALLENGE_SECONDS:
        return None
    return state


def _expired() -> IdentityError:
    return IdentityError(
        "expired", _("This request has expired. Please try again (the button again).")
    )


def _not_accepted() -> IdentityError:
    return IdentityError(
        "not_accepted", _("Your passkey could not be checked. Nothing was changed; try again.")
    )


def _no_user_verification() -> IdentityError:
    return IdentityError(
        "no_user_verification",
        _(
            "Your device did not check that it is you (fingerprint, face or screen lock). "
            "Turn on a screen lock on your device and try again."
        ),
    )


def _prove(request, passkey: Passkey) -> None:
    request.session[PROVED_KEY] = {"user": passkey.user_id, "passkey": passkey.pk}


# -- registering --------------------------------------------------------------------------------


def registration_options(request, account: User, *, actor) -> dict:
    """The options for ``navigator.credentials.create`` (a JSON object); the challenge is kept
    in the session. Only the account's owner, and only when :func:`registration_blocker` is
    silent (``not_ready`` otherwise)."""
    require_owner(actor, account)
    blocker = registration_blocker(account, request)
    if blocker:
        raise IdentityError("not_ready", blocker)
    the_rp_id = rp_id(request)
    name = account.national_code or account.username
    options = generate_registration_options(
        rp_id=the_rp_id,
        rp_name=conf.get("WEBAUTHN_RP_NAME"),
        user_name=name,
        user_id=_user_handle(account),
        user_display_name=account.get_full_name() or name,
        timeout=TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[_descriptor(p) for p in live_passkeys(account)],
        supported_pub_key_algs=ALGORITHMS,
    )
    request.session[REG_KEY] = {
        "challenge": bytes_to_base64url(options.challenge),
        "user": account.pk,
        "rp_id": the_rp_id,
        "at": time.time(),
    }
    return json.loads(options_to_json(options))


def register(request, account: User, credential: dict, name: Any = "", *, actor) -> Passkey:
    """Verify what ``navigator.credentials.create`` gave and keep the passkey; the level is
    recomputed and the session counts as proved by it. Refused: ``expired`` (no challenge in
    this session), ``not_accepted`` (recorded), ``no_user_verification`` (recorded),
    ``already_registered``, ``bad_name``, ``not_ready``."""
    require_owner(actor, account)
    label = _clean_name(
        name, _("Passkey %(n)s") % {"n": Passkey.objects.filter(user=account).count() + 1}
    )
    state = _challenge_state(request, REG_KEY)
    if state is None or state.get("user") != account.pk:
        raise _expired()
    blocker = registration_blocker(account, request)
    if blocker:
        raise IdentityError("not_ready", blocker)
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(state["challenge"]),
            expected_rp_id=state["rp_id"],
            expected_origin=origins(request),
            require_user_verification=False,  # checked below, to say so clearly
        )
    except (WebAuthnException, ValueError, KeyError, TypeError, AttributeError) as exc:
        audit.record(
            AuthEvent.Kind.PASSKEY_FAILED, request, user=account, step="register", why=str(exc)
        )
        raise _not_accepted() from None
    if not verified.user_verified:
        audit.record(
            AuthEvent.Kind.PASSKEY_FAILED, request, user=account, step="register", why="no_uv"
        )
        raise _no_user_verification()
    transports = (credential.get("response") or {}).get("transports") or []
    transports = [t for t in transports if isinstance(t, str) and t in TRANSPORTS][:6]
    try:
        with transaction.atomic():
            passkey = Passkey.objects.create(
                user=account,
                credential_id=bytes_to_base64url(verified.credential_id),
                public_key=verified.credential_public_key,
                sign_count=verified.sign_count,
                transports=transports,
                aaguid=str(verified.aaguid)[:36],
                name=label,
                backup_eligible=verified.credential_device_type == "multi_device",
                backed_up=verified.credential_backed_up,
                user_verified=True,
            )
    except IntegrityError:
        raise IdentityError(
            "already_registered", _("This passkey is already registered.")
        ) from None
    audit.record(AuthEvent.Kind.PASSKEY_REGISTERED, request, user=account, name=label)
    _prove(request, passkey)
    assurance.recompute(account, request)
    return passkey


# -- signing in and stepping up -----------------------------------------------------------------


def authentication_options(request, next_url: str = "", *, step_up: bool = False) -> dict:
    """The options for ``navigator.credentials.get``. Signing in: any passkey of this site
    (discoverable credentials: the device offers its own; someone else signed in on this
    browser is signed out first when it succeeds). Stepping up (``step_up``, signed in): only
    the person's own live passkeys (``no_passkey`` when they have none)."""
    user = request.user if step_up and request.user.is_authenticated else None
    allow = []
    if user is not None:
        allow = [_descriptor(p) for p in live_passkeys(user)]
        if not allow:
            raise IdentityError("no_passkey", _("You have no passkey yet."))
    the_rp_id = rp_id(request)
    options = generate_authentication_options(
        rp_id=the_rp_id,
        timeout=TIMEOUT_MS,
        allow_credentials=allow,
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    request.session[AUTH_KEY] = {
        "challenge": bytes_to_base64url(options.challenge),
        "user": user.pk if user is not None else None,
        "rp_id": the_rp_id,
        "next": next_url,
        "at": time.time(),
    }
    return json.loads(options_to_json(options))


def _unknown_passkey() -> IdentityError:
    return IdentityError(
        "unknown_passkey",
        _(
            "This passkey is not registered at the national window, or it was removed. Sign in "
            "with your national code and a code by SMS instead."
        ),
    )


def authenticate(request, credential: dict) -> str:
    """Verify what ``navigator.credentials.get`` gave and sign its owner in (or, signed in,
    prove the session with it); returns where to go next. User verification is required. A
    use counter that did not go up (a copied authenticator) is refused and recorded
    (``cloned``). Other refusals: ``expired``, ``unknown_passkey``, ``not_accepted``,
    ``no_user_verification``."""
    state = _challenge_state(request, AUTH_KEY)
    if state is None:
        raise _expired()
    credential_id = credential.get("id")
    if not isinstance(credential_id, str) or not 0 < len(credential_id) <= 1400:
        raise bad_input()
    passkey = Passkey.objects.select_related("user").filter(credential_id=credential_id).first()
    if passkey is None or not passkey.is_live or not passkey.user.is_active:
        audit.record(
            AuthEvent.Kind.PASSKEY_FAILED,
            request,
            user=passkey.user if passkey is not None else None,
            step="sign_in",
            why="unknown" if passkey is None else "removed",
        )
        raise _unknown_passkey()
    account = passkey.user
    if state.get("user") is not None and state["user"] != account.pk:
        raise _unknown_passkey()
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(state["challenge"]),
            expected_rp_id=state["rp_id"],
            expected_origin=origins(request),
            credential_public_key=bytes(passkey.public_key),
            # The counter is checked below, after the signature, to record a regression.
            credential_current_sign_count=0,
            require_user_verification=False,  # checked below, to say so clearly
        )
    except (WebAuthnException, ValueError, KeyError, TypeError, AttributeError) as exc:
        audit.record(
            AuthEvent.Kind.PASSKEY_FAILED, request, user=account, step="sign_in", why=str(exc)
        )
        raise _not_accepted() from None
    if not verified.user_verified:
        audit.record(
            AuthEvent.Kind.PASSKEY_FAILED, request, user=account, step="sign_in", why="no_uv"
        )
        raise _no_user_verification()
    with transaction.atomic():
        row = Passkey.objects.select_for_update().get(pk=passkey.pk)
        new = verified.new_sign_count
        if (new > 0 or row.sign_count > 0) and new <= row.sign_count:
            regression = {"stored": row.sign_count, "received": new, "passkey": row.name}
            cloned = True
        else:
            cloned = False
            row.sign_count = new
            row.last_used_at = timezone.now()
            row.backed_up = verified.credential_backed_up
            row.save(update_fields=["sign_count", "last_used_at", "backed_up"])
    if cloned:
        audit.record(AuthEvent.Kind.PASSKEY_CLONED, request, user=account, **regression)
        raise IdentityError(
            "cloned",
            _(
                "This passkey was refused: its use counter went back, which happens when a "
                "passkey was copied. If you did not copy it, remove it from your passkeys and "
                "add a new one."
            ),
        )
    sign_in_as(request, account, "passkey")
    _prove(request, row)
    return state.get("next") or ""


# -- managing -----------------------------------------------------------------------------------


def _own_live_passkey(passkey_id: int, actor) -> Passkey:
    passkey = (
        Passkey.objects.select_related("user")
        .filter(pk=passkey_id, revoked_at__isnull=True)
        .first()
    )
    if passkey is None:
        raise IdentityError("not_found", _("This passkey does not exist or was removed."))
    require_owner(actor, passkey.user)
    return passkey


def rename(passkey_id: int, name: Any, *, actor, request=None) -> Passkey:
    """Give one of one's own live passkeys a new name. Refused: ``bad_name``, ``not_found``."""
    passkey = _own_live_passkey(passkey_id, actor)
    label = _clean_name(name, "")
    if not label:
        raise IdentityError("bad_name", _("Enter a name for the passkey."))
    old = passkey.name
    passkey.name = label
    passkey.save(update_fields=["name"])
    audit.record(AuthEvent.Kind.PASSKEY_RENAMED, request, user=passkey.user, old=old, new=label)
    return passkey


def revoke(passkey_id: int, *, actor, request=None) -> Passkey:
    """Remove one of one's own passkeys (a lost phone): it can no longer sign in; the level is
    recomputed (removing the last one drops level 3 to 2). Refused: ``not_found``."""
    passkey = _own_live_passkey(passkey_id, actor)
    passkey.revoked_at = timezone.now()
    passkey.save(update_fields=["revoked_at"])
    audit.record(AuthEvent.Kind.PASSKEY_REVOKED, request, user=passkey.user, name=passkey.name)
    if request is not None and hasattr(request, "session"):
        proof = request.session.get(PROVED_KEY) or {}
        if proof.get("passkey") == passkey.pk:
            request.session.pop(PROVED_KEY, None)
    assurance.recompute(passkey.user, request)
    return passkey
