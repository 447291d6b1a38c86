"""Cache-based attempt counters and lockouts, per national code and per IP address.

Counters live in the default cache: in production that is Redis, shared by every worker; the
embedded demo's local-memory cache is per process, so its limits are per worker (documented in
``docs/identity.md``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.core.cache import cache


@dataclass(frozen=True)
class Limit:
    scope: str
    limit: int
    window: int  # seconds
    lockout: int  # seconds the key stays locked once the limit is reached


# Wrong one-time or authenticator codes for one national code, across challenges.
CODE_FAILURES = Limit("code-fail", limit=5, window=15 * 60, lockout=15 * 60)
# One-time codes sent for one national code (SMS flooding of a victim's phone).
CODES_SENT = Limit("code-sent", limit=4, window=15 * 60, lockout=15 * 60)
# Registration and sign-in attempts from one IP address (enumeration and brute force).
IP_ATTEMPTS = Limit("ip", limit=30, window=10 * 60, lockout=10 * 60)
# Wrong staff passwords per username.
PASSWORD_FAILURES = Limit("pw-fail", limit=5, window=15 * 60, lockout=15 * 60)


def _key(kind: str, limit: Limit, subject: str) -> str:
    digest = hashlib.sha256(subject.encode()).hexdigest()[:32]
    return f"panjereh:rl:{kind}:{limit.scope}:{digest}"


def is_locked(limit: Limit, subject: str) -> bool:
    return bool(cache.get(_key("lock", limit, subject)))


def hit(limit: Limit, subject: str) -> bool:
    """Count one attempt; True when the subject is locked (already, or by this attempt)."""
    if is_locked(limit, subject):
        return True
    key = _key("count", limit, subject)
    cache.add(key, 0, timeout=limit.window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=limit.window)
        count = 1
    if count >= limit.limit:
        cache.set(_key("lock", limit, subject), 1, timeout=limit.lockout)
        cache.delete(key)
        return True
    return False


def reset(limit: Limit, subject: str) -> None:
    cache.delete(_key("count", limit, subject))


def client_ip(request) -> str:
    """The client's address. Behind the reverse proxy, only its last-hop header is trusted."""
    from django.conf import settings

    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "") or "unknown"
