"""Monthly statistics from the log: calls, failures, quality, latency, low activity."""

from __future__ import annotations

import pytest
from django.utils import timezone

from panjereh.exchange import queries, stats
from tests.factories import make_agency

pytestmark = pytest.mark.django_db


def test_monthly_rollup(exchange, registries, population):
    service = exchange.service("education", "school-record")
    exchange.grant(service, ["education.school_record"])
    for i in range(4):
        code = population.national_code(i)
        assert exchange.call(service, code, code).status_code == 200
    registries.control("education", mode="fail", status=500)
    code = population.national_code(9)
    assert exchange.call(service, code, code).status_code == 502
    quiet = make_agency()
    from panjereh.exchange import provision
    from panjereh.exchange.client import generate_key, public_jwks

    provision.register_consumer(quiet, "quiet-system", public_jwks(generate_key()))

    month = stats.month_key(timezone.now())
    stats.rollup(month)
    rows = queries.monthly(month, consumer=exchange.consumer)
    assert len(rows) == 1
    row = rows[0]
    assert row["service"] == service and row["provider"] == service.provider
    assert row["calls"] == 5 and row["failures"] == 1
    assert row["quality"] == pytest.approx(0.8)
    assert 0 < row["latency_p50_ms"] <= row["latency_p95_ms"] <= row["latency_p99_ms"]
    assert queries.totals(month)["calls"] == 5

    flagged = {row["agency"]: row for row in queries.low_activity(month)}
    assert flagged[exchange.consumer]["calls"] == 5
    assert flagged[quiet]["calls"] == 0 and flagged[quiet]["connected"]
    assert exchange.consumer not in {r["agency"] for r in queries.low_activity(month, threshold=5)}

    assert queries.provider_totals(month)[service.provider_id] == {
        "calls": 5,
        "failures": 1,
        "refused": 0,
    }
    assert queries.consumer_totals(month)[exchange.consumer.pk]["calls"] == 5

    stats.rollup(month)  # recomputing replaces the month's rows
    assert len(queries.monthly(month)) == 1


def test_month_bounds_follow_the_jalali_calendar():
    start, end = stats.month_bounds("1404-01")
    assert start.date().isoformat() == "2025-03-21"
    assert end.date().isoformat() == "2025-04-21"
