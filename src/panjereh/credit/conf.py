"""The transaction-credit check's settings (``PANJEREH_CREDIT_*``), read through the one reader."""

from __future__ import annotations

from typing import Any

from panjereh.common.conf import Section

DEFAULTS: dict[str, Any] = {
    # How long one party's consent lasts (days); the other party must consent, and the reads
    # be made, within it. A read needs both consents still valid.
    "CONSENT_DAYS": 3,
    # Checks one person may start in a day (each tells another person by SMS).
    "STARTS_PER_DAY": 10,
    # Seconds the window waits for the registry's answer through the exchange.
    "TIMEOUT": 8.0,
}

SECTION = Section("PANJEREH_CREDIT_", DEFAULTS)


def get(name: str) -> Any:
    return SECTION.get(name)
