"""The permits app's settings (``PANJEREH_PORTAL_*``), read through the one reader.

Each specialised portal the window routes applications to has its API address
(``PANJEREH_PORTAL_URL_<PORTAL>``) and the window's secret there
(``PANJEREH_PORTAL_SECRET_<PORTAL>``, HMAC-SHA256 of every call, docs/portals.md). Outside
production a secret that is not set is made on first use into
``VAR_DIR/portals/window-secret-<portal>`` (as the PSP's merchant secret is), so the demo hands
the simulated portals the very secret the server and the worker read; production must set it.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from panjereh.common import keyfiles
from panjereh.common.conf import Section

# The specialised portals the window knows (their codes are IssuingAuthority.portal's values).
PORTAL_NAMES: tuple[str, ...] = ("behinyab", "heritage", "health")
SIMULATED = "http://127.0.0.1:8792"

DEFAULTS: dict[str, Any] = {
    # Each portal's API base address (the simulated portals' process by default).
    **{f"URL_{name.upper()}": f"{SIMULATED}/{name}/api/v1" for name in PORTAL_NAMES},
    # The window's secret at each portal; empty: the file under VAR_DIR outside production.
    **{f"SECRET_{name.upper()}": "" for name in PORTAL_NAMES},
    # The window's key at the portals (X-Portal-Key).
    "KEY": "panjereh",
    # Seconds one call to a portal may take (a slower answer is a failed attempt).
    "TIMEOUT": 5.0,
    # Sending: the first retry after this many seconds, doubling up to the maximum.
    "RETRY_FIRST": 15,
    "RETRY_MAX": 1800,
    # Events read per page of a portal's feed, and pages per run of the reading job.
    "PAGE_SIZE": 100,
    "MAX_PAGES": 20,
}

SECTION = Section("PANJEREH_PORTAL_", DEFAULTS)


def get(name: str) -> Any:
    return SECTION.get(name)


def url(portal: str) -> str:
    return str(get(f"URL_{portal.upper()}") or "").rstrip("/")


def secret(portal: str) -> bytes:
    """The window's secret at ``portal``; raises ImproperlyConfigured in production when unset."""
    from django.conf import settings

    if portal not in PORTAL_NAMES:
        raise ImproperlyConfigured(f"unknown portal {portal!r}")
    path = Path(settings.VAR_DIR) / "portals" / f"window-secret-{portal}"
    text = keyfiles.load_or_create(
        f"PANJEREH_PORTAL_SECRET_{portal.upper()}",
        path,
        lambda: secrets.token_hex(32).encode(),
    )
    return text.strip().encode()
