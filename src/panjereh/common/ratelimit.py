"""Cache-based attempt counters and lockouts, per national code, per person and per address.

Counters live in the default cache: in production that is Redis, shared by every worker; the
embedded demo's local-memory cache is per process, so its limits are per worker (documented in
``docs/identity.md``).
"""

from __future__ import annotations

import hashlib
import time
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
# Wrong staff passwords per (username, address): a stranger cannot lock a known account out
# for its owner, who signs in from another address.
PASSWORD_FAILURES = Limit("pw-fail", limit=5, window=15 * 60, lockout=15 * 60)
# Wrong staff passwords per username from every address together: a slower back-off against
# a guessing spread over many addresses, locking for minutes, not for the whole window.
PASSWORD_FAILURES_GLOBAL = Limit("pw-fail-all", limit=30, window=60 * 60, lockout=5 * 60)

# Helper authorisations offered by one person (each names a national code).
DELEGATION_OFFERS = Limit("delegation-offer", limit=10, window=60 * 60, lockout=60 * 60)


def _key(kind: str, limit: Limit, subject: str) -> str:
    digest = hashlib.sha256(subject.encode()).hexdigest()[:32]
    return f"panjereh:rl:{kind}:{limit.scope}:{digest}"


# The cache's own expiry (Redis's clock) only frees memory: whether a lock holds and which
# window an attempt counts in are decided by this process's clock, so that behaviour follows
# the application's time (and tests that move it) on every cache backend alike.


def _window_key(limit: Limit, subject: str) -> str:
    return f"{_key('count', limit, subject)}:{int(time.time() // limit.window)}"


def is_locked(limit: Limit, subject: str) -> bool:
    until = cache.get(_key("lock", limit, subject))
    return isinstance(until, (int, float)) and until > time.time()


def hit(limit: Limit, subject: str) -> bool:
    """Count one attempt; True when the subject is locked (already, or by this attempt).

    Attempts count in fixed windows of ``limit.window`` seconds."""
    if is_locked(limit, subject):
        return True
    key = _window_key(limit, subject)
    cache.add(key, 0, timeout=limit.window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=limit.window)
        count = 1
    if count >= limit.limit:
        cache.set(_key("lock", limit, subject), time.time() + limit.lockout, timeout=limit.lockout)
        cache.delete(key)
        return True
    return False


def reset(limit: Limit, subject: str) -> None:
    cache.delete(_window_key(limit, subject))


def client_ip(request) -> str:
    """The client's address: ``REMOTE_ADDR``, unless ``PANJEREH_TRUSTED_PROXIES`` reverse
    proxies stand in front of the server; then the address the outermost of them saw, which is
    that many entries from the end of ``X-Forwarded-For``. Entries further left are written by
    the client and never trusted (rotating them must not give fresh counters)."""
    from django.conf import settings

    remote = request.META.get("REMOTE_ADDR", "") or "unknown"
    proxies = int(getattr(settings, "PANJEREH_TRUSTED_PROXIES", 0) or 0)
    if proxies <= 0:
        return remote
    hops = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [hop for hop in hops if hop]
    if len(hops) < proxies:
        # Fewer hops than proxies: the request did not come through all of them.
        return remote
    return hops[-proxies]


def password_subjects(username: str, request) -> tuple[str, str]:
    """The lockout subjects of one staff password attempt: (username at address, username)."""
    name = (username or "").lower()
    address = client_ip(request) if request is not None else "unknown"
    return f"{name}|{address}", name
