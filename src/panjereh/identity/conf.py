"""Identity's settings read through one Section (``PANJEREH_IDENTITY_*``); a Django setting
wins over the environment variable of the same name."""

from __future__ import annotations

from typing import Any

from panjereh.common.conf import Section

DEFAULTS: dict[str, Any] = {
    # Seconds a company registry answer (who represents a company) is reused for showing pages
    # (the "acting as" header). Requests that act (any POST) and decisions always ask afresh.
    "REPRESENTATION_TTL": 60,
    # Passkeys (WebAuthn): the relying party ID (a domain name, never an IP address: browsers
    # refuse one), the origins a ceremony may come from, and the name authenticators show.
    # Empty: the request's own host name and origin (development, tests, the demo).
    "WEBAUTHN_RP_ID": "",
    "WEBAUTHN_ORIGINS": [],
    "WEBAUTHN_RP_NAME": "Panjereh",
}

SECTION = Section("PANJEREH_IDENTITY_", DEFAULTS)


def get(name: str) -> Any:
    return SECTION.get(name)
