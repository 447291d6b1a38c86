"""Fixtures of the status tests: monitored systems, a helper that feeds check results through
the monitor's own :func:`~panjereh.status.monitor.record`, and the real registry processes of
the exchange tests."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.core.cache import cache
from django.utils import timezone

from panjereh.registries import REGISTRIES
from panjereh.status import monitor
from panjereh.status.models import Source, System, SystemKind
from tests.exchange.conftest import registries  # noqa: F401 -- the session's registry processes

_n = itertools.count(1)


@pytest.fixture(autouse=True)
def _status_settings(settings):
    # Figures are cached by the newest row ids, which a rolled-back test gives out again.
    cache.clear()
    settings.PANJEREH_STATUS_OPEN_AFTER = 2
    settings.PANJEREH_STATUS_CLOSE_AFTER = 2
    settings.PANJEREH_STATUS_SLOW_MS = 1000
    settings.PANJEREH_STATUS_TIMEOUT = 2.0
    settings.PANJEREH_STATUS_INTERVAL = 30.0


def make_system(**fields) -> System:
    n = next(_n)
    data = {
        "key": f"test-system-{n}",
        "kind": SystemKind.REGISTRY,
        "name_fa": f"سامانه آزمایشی {n}",
        "name_en": f"Test system {n}",
        "check_url": f"http://127.0.0.1:9/{n}",
        "source": Source.OPERATOR,
    }
    data.update(fields)
    return System.objects.create(**data)


def feed(
    system: System,
    ok: bool,
    at: dt.datetime | None = None,
    *,
    latency_ms: int = 12,
    status: int | None = None,
    error: str = "",
):
    """Record one check result (as the prober would) and return the incident it opened or
    resolved, if any."""
    if status is None:
        status = 200 if ok else 503
    result = monitor.Result(
        at=at or timezone.now(),
        ok=ok,
        latency_ms=latency_ms,
        http_status=status,
        error=error or ("" if ok else f"HTTP {status}"),
    )
    return monitor.record(System.objects.get(pk=system.pk), result)


@pytest.fixture
def live_registries(registries):  # noqa: F811
    """The registry processes, put back to normal (and restarted if stopped) after the test."""
    yield registries
    for name in REGISTRIES:
        if name not in registries.processes:
            registries.start_one(name)
        registries.control(name, mode="normal")
