"""The exchange's settings, read at call time so that tests and operators can change them.

Each has a default that suits the demo; override in Django settings or the environment
(``PANJEREH_EXCHANGE_*``), through the one reader, :class:`panjereh.common.conf.Section`.
"""

from __future__ import annotations

from typing import Any

from panjereh.common.conf import Section

DEFAULTS: dict[str, Any] = {
    # X-Road instance identifier: the first part of every client and service identifier.
    "INSTANCE": "IR",
    # The "aud" every client assertion must carry.
    "AUDIENCE": "urn:panjereh:nix",
    # Longest accepted lifetime (exp - iat) of a client assertion, and clock leeway, seconds.
    "ASSERTION_MAX_LIFETIME": 300,
    "ASSERTION_LEEWAY": 30,
    # Calls per minute per consumer system, unless the system has its own limit.
    "RATE_PER_MINUTE": 6000,
    # Circuit breaker: consecutive failed calls that open a provider's circuit, and the
    # cool-down in seconds before one trial call is let through (half-open).
    "BREAKER_THRESHOLD": 5,
    "BREAKER_COOLDOWN": 10.0,
    # Retries of idempotent reads after a transport error or a 502/503/504 answer.
    "RETRIES": 1,
    # Seconds a gateway process may keep consumer systems and data services, and the grants of
    # a (consumer, service) pair, in memory; every change of them invalidates them at once in
    # every process (see gateway.configuration_changed).
    "CONFIG_TTL": 1.0,
    "GRANT_TTL": 1.0,
    # Largest request body the gateway accepts (larger: 413 before it is read), and largest
    # provider answer it reads (larger: 502 provider_answer_too_large), bytes.
    "MAX_REQUEST_BYTES": 1_048_576,
    "MAX_RESPONSE_BYTES": 2_097_152,
    # Records per signed seal, and how often (seconds) a gateway process seals in the
    # background; 0 turns background sealing off (tests seal explicitly).
    "SEAL_BATCH": 1000,
    "SEAL_INTERVAL": 5.0,
    # The copy of each seal outside the database (anchor.py): the append-only file (empty:
    # VAR_DIR/exchange-anchor.jsonl, or a throw-away file under tests), the witness that is
    # sent each seal (empty: none) and how long to wait for it, seconds.
    "ANCHOR_PATH": "",
    "ANCHOR_WITNESS_URL": "",
    "ANCHOR_WITNESS_TIMEOUT": 3.0,
}


SECTION = Section("PANJEREH_EXCHANGE_", DEFAULTS)


def get(name: str) -> Any:
    # Read on every call of the gateway, several times: the section looks a value up once, then
    # keeps it until a setting changes (Django's setting_changed signal, sent by tests' settings
    # overrides). The tests' SEAL_INTERVAL of 0 comes from the settings (PANJEREH_MODE=test).
    return SECTION.get(name)


def clear(**_kwargs: Any) -> None:
    SECTION.clear()
