"""One-use client assertions and rate-limit counters of the exchange gateway, in the Django cache.

Every call through the gateway records its assertion's ``jti`` (a replayed assertion is refused)
and counts against its system's rate limit; both must hold across every gateway process. They
live in the Django cache, whose ``add`` and ``incr`` are atomic across processes with Redis
(django-redis: ``SET NX`` and ``INCR``; production and the PostgreSQL test run) and with the
demo's disk cache shared by the processes of its one host (diskcache's Django backend); the
SQLite test run is one process with the in-memory cache.
"""

from __future__ import annotations

from django.core.cache import cache


def admit(jti_key: str, jti_ttl: float, counter_key: str, counter_ttl: float) -> tuple[bool, int]:
    """Record ``jti_key`` for ``jti_ttl`` seconds and count one against ``counter_key`` (kept
    ``counter_ttl`` seconds): (False, 0) if the jti was recorded already (a replay is not
    counted), else (True, the counter's new value)."""
    if not cache.add(jti_key, 1, timeout=jti_ttl):
        return (False, 0)
    return (True, count(counter_key, counter_ttl))


def count(key: str, ttl: float) -> int:
    """Count one against ``key``; its new value. The counter is created (kept ``ttl`` seconds
    from its first count) by the first caller: one write per call afterwards."""
    try:
        return cache.incr(key)
    except ValueError:  # no counter yet (or it just expired)
        if cache.add(key, 1, timeout=ttl):
            return 1
        return cache.incr(key)
