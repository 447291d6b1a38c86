"""Fixtures of the registry tests: the session's registry processes and the exchange of the
exchange tests (real processes over HTTP, a provisioned gateway, a consumer with a grant)."""

from __future__ import annotations

from tests.exchange.conftest import (  # noqa: F401 -- fixtures shared with the exchange tests
    _clean_state,
    exchange,
    population,
    registries,
)
