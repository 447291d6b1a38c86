"""Authenticator apps (TOTP, RFC 6238) on ``cryptography``'s primitives.

Secrets are encrypted at rest with a Fernet key derived (HKDF) from the deployment's secret
key. A code is accepted for the current 30-second step or one step either side (clock drift),
and never twice: the last accepted step is remembered.
"""

from __future__ import annotations

import base64
import os
import time
from urllib.parse import quote, urlencode

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.twofactor import InvalidToken
from cryptography.hazmat.primitives.twofactor.totp import TOTP
from django.conf import settings
from django.utils import timezone

from .models import TotpDevice

STEP = 30
DIGITS = 6
ISSUER = "Panjereh"


def _fernet() -> Fernet:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"panjereh-totp", info=b"totp-secrets"
    ).derive(settings.SECRET_KEY.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def _totp(secret: bytes) -> TOTP:
    # SHA-1 is what authenticator apps implement for TOTP; HMAC-SHA-1 is not broken.
    return TOTP(secret, DIGITS, hashes.SHA1(), STEP, enforce_key_length=True)  # noqa: S303


def start_enrolment(user) -> TotpDevice:
    """A new, unconfirmed device for ``user`` (replacing an unconfirmed one)."""
    secret = os.urandom(20)
    device, _ = TotpDevice.objects.update_or_create(
        user=user,
        defaults={
            "encrypted_secret": _fernet().encrypt(secret).decode(),
            "confirmed_at": None,
            "last_step": 0,
        },
    )
    return device


def secret_of(device: TotpDevice) -> bytes:
    return _fernet().decrypt(device.encrypted_secret.encode())


def base32_secret(device: TotpDevice) -> str:
    return base64.b32encode(secret_of(device)).decode().rstrip("=")


def provisioning_uri(device: TotpDevice, account: str) -> str:
    label = quote(f"{ISSUER}:{account}")
    query = urlencode({"secret": base32_secret(device), "issuer": ISSUER, "digits": DIGITS})
    return f"otpauth://totp/{label}?{query}"


def code_at(secret: bytes, at: float | None = None) -> str:
    """The code shown by an authenticator at time ``at`` (used by tests and the benchmark)."""
    return _totp(secret).generate(int(at if at is not None else time.time())).decode()


def verify(device: TotpDevice, code: str, at: float | None = None) -> bool:
    """True if ``code`` is valid now and newer than the last accepted one; remembers it."""
    code = "".join(ch for ch in code if ch.isdigit())
    if len(code) != DIGITS:
        return False
    now = int(at if at is not None else time.time())
    totp = _totp(secret_of(device))
    for drift in (0, -1, 1):
        moment = now + drift * STEP
        step = moment // STEP
        if step <= device.last_step:
            continue
        try:
            totp.verify(code.encode(), moment)
        except InvalidToken:
            continue
        updated = TotpDevice.objects.filter(pk=device.pk, last_step__lt=step).update(last_step=step)
        if not updated:  # a concurrent request used this step first
            return False
        device.last_step = step
        if device.confirmed_at is None:
            device.confirmed_at = timezone.now()
            device.save(update_fields=["confirmed_at"])
        return True
    return False
