"""Monthly statistics of the exchange, rolled up from the message log.

:func:`rollup` recomputes one Jalali month in one pass over that month's log records and
replaces its rows in :class:`MonthlyStat`; oversight reads the small roll-up table through
:mod:`.queries`, so monthly figures stay fast however long the log grows.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict

import jdatetime
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from panjereh.common.jalali import Month

from .models import FAILED_OUTCOMES, LogRecord, MonthlyStat, Outcome


def month_key(value: dt.datetime | dt.date | jdatetime.date) -> str:
    """The roll-up key (``1404-03``) of the Jalali month a moment or day falls in."""
    return str(Month.of(value))


def month_bounds(month: str) -> tuple[dt.datetime, dt.datetime]:
    """The instants (Tehran time) where a Jalali month ``1404-03`` starts and the next starts:
    ``Month.parse(month).bounds()``, kept for the benchmarks' callers."""
    return Month.parse(month).bounds()


def _percentile(histogram: list[tuple[int, int]], total: int, fraction: float) -> float | None:
    """The nearest-rank percentile (ms) of a sorted (latency µs, count) histogram."""
    if not total:
        return None
    rank = max(0, math.ceil(fraction * total) - 1)
    seen = 0
    for latency, count in histogram:
        seen += count
        if seen > rank:
            return latency / 1000
    return histogram[-1][0] / 1000


def rollup(month: str) -> int:
    """Recompute ``month``'s rows; returns how many rows it has now."""
    start, end = Month.parse(month).bounds()
    groups: dict[tuple, dict] = defaultdict(
        lambda: {"calls": 0, "failures": 0, "refused": 0, "lat": {}}
    )
    # The database counts (one row per group and distinct latency, not per record), so a month
    # of ten million records comes back as a few tens of thousands of rows; the percentiles are
    # then exact, read from each group's latency histogram.
    rows = (
        LogRecord.objects.filter(created_at__gte=start, created_at__lt=end)
        .values_list("provider_id", "consumer_id", "service_id", "latency_us")
        .annotate(
            n=Count("id"),
            failed=Count("id", filter=Q(outcome__in=FAILED_OUTCOMES)),
            refused=Count("id", filter=Q(outcome=Outcome.REFUSED)),
        )
        .order_by()
        .iterator(chunk_size=20_000)
    )
    for provider, consumer, service, latency, n, failed, refused in rows:
        group = groups[(provider, consumer, service)]
        group["calls"] += n
        group["failures"] += failed
        group["refused"] += refused
        group["lat"][latency] = group["lat"].get(latency, 0) + n
    now = timezone.now()
    stats = []
    for (provider, consumer, service), group in groups.items():
        latencies = sorted(group["lat"].items())
        stats.append(
            MonthlyStat(
                month=month,
                provider_id=provider,
                consumer_id=consumer,
                service_id=service,
                calls=group["calls"],
                failures=group["failures"],
                refused=group["refused"],
                latency_p50_ms=_percentile(latencies, group["calls"], 0.50),
                latency_p95_ms=_percentile(latencies, group["calls"], 0.95),
                latency_p99_ms=_percentile(latencies, group["calls"], 0.99),
                computed_at=now,
            )
        )
    with transaction.atomic():
        MonthlyStat.objects.filter(month=month).delete()
        MonthlyStat.objects.bulk_create(stats, batch_size=1000)
    return len(stats)


def rollup_recent(today: dt.date | None = None) -> list[str]:
    """Roll up this month and the last (records of the last may still be arriving)."""
    today = today or timezone.localdate()
    this = Month.of(today)
    months = [str(this.previous()), str(this)]
    for month in months:
        rollup(month)
    return months
