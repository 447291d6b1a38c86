"""One-time codes sent by SMS: issued, checked once, expired, limited.

Only a keyed hash of each code is stored. A challenge allows a few attempts; a correct code
consumes it, so the same code can never be used twice (replay), and every wrong code also
counts against the national code across challenges (see :mod:`ratelimit`).
"""

from __future__ import annotations

import enum
import hmac
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from .models import OneTimeCode, subject_hash

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=2)
MAX_ATTEMPTS = 3


class Outcome(enum.Enum):
    OK = "ok"
    WRONG = "wrong"
    EXPIRED = "expired"
    USED = "used"
    EXHAUSTED = "exhausted"
    UNKNOWN = "unknown"


def _hash(challenge_subject: str, code: str) -> str:
    # A code lives two minutes, so the stored hashes of codes issued before a change of this
    # derivation (or of SECRET_KEY) only fail for those two minutes.
    return salted_hmac(
        "panjereh.identity.otp", f"{challenge_subject}:{code}", algorithm="sha256"
    ).hexdigest()


def issue(purpose: str, national_code: str) -> tuple[int, str]:
    """A new challenge for ``national_code``: its id (kept in the session) and the code."""
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    subject = subject_hash(national_code)
    now = timezone.now()
    row = OneTimeCode.objects.create(
        purpose=purpose,
        subject=subject,
        code_hash=_hash(subject, code),
        created_at=now,
        expires_at=now + CODE_TTL,
    )
    return row.pk, code


def verify(challenge_id: int | None, purpose: str, national_code: str, code: str) -> Outcome:
    """Check ``code`` against the challenge; a correct code consumes it."""
    subject = subject_hash(national_code)
    with transaction.atomic():
        # The row lock makes two concurrent submissions of one code succeed at most once.
        row = (
            OneTimeCode.objects.select_for_update()
            .filter(pk=challenge_id, purpose=purpose, subject=subject)
            .first()
        )
        if row is None:
            return Outcome.UNKNOWN
        if row.used_at is not None:
            return Outcome.USED
        if row.attempts >= MAX_ATTEMPTS:
            return Outcome.EXHAUSTED
        if timezone.now() >= row.expires_at:
            return Outcome.EXPIRED
        if not hmac.compare_digest(row.code_hash, _hash(subject, code.strip())):
            row.attempts += 1
            row.save(update_fields=["attempts"])
            return Outcome.EXHAUSTED if row.attempts >= MAX_ATTEMPTS else Outcome.WRONG
        row.used_at = timezone.now()
        row.save(update_fields=["used_at"])
        return Outcome.OK


def purge_expired(older_than: timedelta = timedelta(days=1)) -> int:
    """Delete challenges long past their expiry; they are evidence of nothing any more."""
    deleted, _ = OneTimeCode.objects.filter(expires_at__lt=timezone.now() - older_than).delete()
    return deleted
