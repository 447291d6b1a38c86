"""The payments app's settings (``PANJEREH_PAYMENTS_*``), read through the one reader."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from panjereh.common import keyfiles
from panjereh.common.conf import Section

DEFAULTS: dict[str, Any] = {
    # The provider that takes new payments (an identifier of providers.registry) and the
    # modules that register providers (a real PSP is one more module here).
    "PROVIDER": "simulated",
    "PROVIDER_MODULES": ("panjereh.payments.providers.simulated",),
    # The simulated PSP: its address, the merchant ID it knows the window by, and the seconds
    # a call to it may take.
    "PSP_URL": "http://127.0.0.1:8790",
    "PSP_MERCHANT": "panjereh",
    "PSP_TIMEOUT": 5.0,
    # The provider's deadline for the verify call after the payer paid (seconds; the bank
    # reverses the payment after it), and how long before it the window stops trying to verify
    # and reverses instead.
    "VERIFY_WINDOW": 900,
    "VERIFY_MARGIN": 120,
    # Reconciliation: first question to the provider this many seconds after the payer was
    # sent to the bank, then doubling up to the maximum.
    "CHECK_AFTER": 60,
    "CHECK_MAX": 3600,
    # A payment never sent to the bank is expired after this many seconds.
    "CREATED_LIFE": 3600,
    # A callback signed longer ago than this (seconds) is refused as a replay.
    "CALLBACK_MAX_AGE": 3600,
    # Days back the settlement job fetches and reconciles (yesterday and before).
    "SETTLEMENT_DAYS": 3,
}

SECTION = Section("PANJEREH_PAYMENTS_", DEFAULTS)


def get(name: str) -> Any:
    return SECTION.get(name)


def psp_secret() -> bytes:
    """The merchant's shared secret with the simulated PSP: ``PANJEREH_PAYMENTS_PSP_SECRET``,
    else (outside production) ``VAR_DIR/payments/psp-secret``, made on first use."""
    import secrets

    from django.conf import settings

    path = Path(settings.VAR_DIR) / "payments" / "psp-secret"
    text = keyfiles.load_or_create(
        "PANJEREH_PAYMENTS_PSP_SECRET", path, lambda: secrets.token_hex(32).encode()
    )
    return text.strip().encode()
