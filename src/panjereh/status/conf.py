"""The status monitor's settings, read at call time so that tests and operators can change them.

Each has a default that suits the demo; override in Django settings (``PANJEREH_STATUS_*``) or
the environment variable of the same name.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from panjereh.common.conf import Section

DEFAULTS: dict[str, Any] = {
    # Seconds between two probe rounds of `panjereh status probe` (and the beat schedule).
    "INTERVAL": 30.0,
    # Seconds a probe waits for an answer (connect and read) before it counts as failed.
    "TIMEOUT": 5.0,
    # An answer slower than this (milliseconds) is "degraded": up, but slow.
    "SLOW_MS": 1000,
    # Consecutive failed checks that open an incident, and successful ones that close it.
    "OPEN_AFTER": 2,
    "CLOSE_AFTER": 2,
    # Days of raw check rows kept; older days survive only as daily roll-ups.
    "RAW_DAYS": 7,
    # Where the national window (and the exchange gateway it hosts) is reached by the prober;
    # empty: PUBLIC_BASE_URL.
    "BASE_URL": "",
    # The exchange gateway's health address; empty: /status/healthz/exchange/ at
    # PANJEREH_EXCHANGE_URL if set, else at BASE_URL.
    "EXCHANGE_URL": "",
}


SECTION = Section("PANJEREH_STATUS_", DEFAULTS)


def get(name: str) -> Any:
    return SECTION.get(name)


def base_url() -> str:
    return (get("BASE_URL") or settings.PUBLIC_BASE_URL).rstrip("/")
