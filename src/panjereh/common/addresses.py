"""Where this installation's own services are reached from its other processes."""

from __future__ import annotations

from django.conf import settings

from .conf import setting


def _setting(name: str) -> str:
    return str(setting(name, "") or "")


def exchange_url(specific: str = "") -> str:
    """The exchange gateway's base address for a caller: its own setting if given (e.g.
    ``PANJEREH_SERVICES_EXCHANGE_URL``), else ``PANJEREH_EXCHANGE_URL``, else the public
    address of this installation (the gateway is served by the same web nodes)."""
    value = (_setting(specific) if specific else "") or configured_exchange_url()
    return (value or settings.PUBLIC_BASE_URL).rstrip("/")


def configured_exchange_url() -> str:
    """``PANJEREH_EXCHANGE_URL`` when the gateway has an address of its own, else ""."""
    return _setting("PANJEREH_EXCHANGE_URL").rstrip("/")
