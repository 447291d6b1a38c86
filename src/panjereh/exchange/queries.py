"""Read-only questions about the exchange, for oversight, the operator and the portal.

Other apps use these functions rather than the exchange's tables.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet, Sum

from panjereh.catalogue.models import Agency

from . import grants as grant_ops
from .models import (
    ACTIVE_STATES,
    READ_OUTCOMES,
    ConsumerSystem,
    DataService,
    Grant,
    LogRecord,
    MonthlyStat,
)

LOW_ACTIVITY_THRESHOLD = 100  # the 1401 report's test: under 100 calls a month


def monthly(
    month: str,
    *,
    provider: Agency | None = None,
    consumer: Agency | None = None,
) -> list[dict[str, Any]]:
    """Rows of one Jalali month (``1404-03``): provider × consumer × service with quality."""
    stats = MonthlyStat.objects.filter(month=month).select_related(
        "provider", "consumer", "service"
    )
    if provider is not None:
        stats = stats.filter(provider=provider)
    if consumer is not None:
        stats = stats.filter(consumer=consumer)
    return [
        {
            "month": s.month,
            "provider": s.provider,
            "consumer": s.consumer,
            "service": s.service,
            "calls": s.calls,
            "failures": s.failures,
            "refused": s.refused,
            "quality": s.quality,
            "latency_p50_ms": s.latency_p50_ms,
            "latency_p95_ms": s.latency_p95_ms,
            "latency_p99_ms": s.latency_p99_ms,
        }
        for s in stats.order_by("provider_id", "consumer_id", "service_id")
    ]


def totals(month: str) -> dict[str, Any]:
    """The month's calls, failures and quality (1 − failed/total) over the whole exchange."""
    agg = MonthlyStat.objects.filter(month=month).aggregate(
        calls=Sum("calls"), failures=Sum("failures"), refused=Sum("refused")
    )
    calls = agg["calls"] or 0
    failures = agg["failures"] or 0
    return {
        "month": month,
        "calls": calls,
        "failures": failures,
        "refused": agg["refused"] or 0,
        "quality": 1 - failures / calls if calls else None,
    }


def low_activity(month: str, threshold: int = LOW_ACTIVITY_THRESHOLD) -> list[dict[str, Any]]:
    """Consumer agencies (with a system or an active grant) under ``threshold`` calls in
    ``month``; ``connected`` says whether they have a consumer system at all."""
    with_systems = set(ConsumerSystem.objects.values_list("agency_id", flat=True))
    with_grants = set(
        Grant.objects.filter(state__in=ACTIVE_STATES).values_list("consumer_id", flat=True)
    )
    calls = dict(
        MonthlyStat.objects.filter(month=month, consumer__isnull=False)
        .values_list("consumer_id")
        .annotate(n=Sum("calls"))
        .values_list("consumer_id", "n")
    )
    agencies = Agency.objects.in_bulk(with_systems | with_grants)
    flagged = []
    for pk, agency in agencies.items():
        n = calls.get(pk, 0)
        if n < threshold:
            flagged.append({"agency": agency, "calls": n, "connected": pk in with_systems})
    return sorted(flagged, key=lambda row: (row["calls"], row["agency"].name_fa))


def accesses_to(national_code: str) -> QuerySet[LogRecord]:
    """Every read of data about this person (answered calls), newest first."""
    if not national_code:
        return LogRecord.objects.none()
    return (
        LogRecord.objects.filter(subject=national_code, outcome__in=READ_OUTCOMES)
        .select_related("consumer", "service", "service__provider", "grant__purpose")
        .order_by("-created_at", "-id")
    )


def my_data_reads(national_code: str) -> QuerySet[LogRecord]:
    """The person's "who read my data": every read of data about them, and every read made
    for them (``made_for``: another person's data read on their behalf, with that person's
    consent, e.g. the other party of their credit check), newest first."""
    if not national_code:
        return LogRecord.objects.none()
    return (
        LogRecord.objects.filter(
            Q(subject=national_code) | Q(made_for=national_code), outcome__in=READ_OUTCOMES
        )
        .select_related("consumer", "service", "service__provider", "grant__purpose")
        .order_by("-created_at", "-id")
    )


def grant_counts() -> dict[str, int]:
    counts = dict(
        Grant.objects.values_list("state").annotate(n=Count("id")).values_list("state", "n")
    )
    counts["overdue"] = grant_ops.overdue().count()
    return counts


def overdue_grants() -> QuerySet[Grant]:
    return grant_ops.overdue()


def refusals(month_start, month_end) -> dict[str, int]:
    """Refused calls by reason in a period (e.g. how often consumers ask beyond their grant)."""
    rows = (
        LogRecord.objects.filter(created_at__gte=month_start, created_at__lt=month_end)
        .filter(~Q(reason=""))
        .values_list("reason")
        .annotate(n=Count("id"))
    )
    return dict(rows)


def provider_totals(month: str) -> dict[int, dict[str, int]]:
    """Calls, failures and refusals per provider agency id in one Jalali month (one aggregate
    over the roll-up), for oversight's per-agency indicators."""
    return _totals_by("provider_id", month)


def consumer_totals(month: str) -> dict[int, dict[str, int]]:
    """The same per consumer agency id."""
    return _totals_by("consumer_id", month)


def _totals_by(column: str, month: str) -> dict[int, dict[str, int]]:
    rows = (
        MonthlyStat.objects.filter(month=month)
        .exclude(**{f"{column}__isnull": True})
        .values(column)
        .annotate(calls=Sum("calls"), failures=Sum("failures"), refused=Sum("refused"))
    )
    return {
        row[column]: {
            "calls": row["calls"] or 0,
            "failures": row["failures"] or 0,
            "refused": row["refused"] or 0,
        }
        for row in rows
    }


def flagged_agencies(month: str, threshold: int = LOW_ACTIVITY_THRESHOLD) -> list[dict[str, Any]]:
    """The 1401 report's test for one month: in-scope agencies not connected to the exchange
    at all (no consumer system and no data service), then connected agencies under
    ``threshold`` calls as consumers (:func:`low_activity`). Each row: ``agency``, ``calls``,
    ``connected``, ``reason`` (``not_connected`` | ``low_activity``)."""
    rows = [dict(row, reason="low_activity") for row in low_activity(month, threshold)]
    listed = {row["agency"].pk for row in rows}
    providers = set(DataService.objects.values_list("provider_id", flat=True))
    systems = set(ConsumerSystem.objects.values_list("agency_id", flat=True))
    absent = (
        Agency.objects.filter(in_scope=True)
        .exclude(pk__in=providers | systems | listed)
        .order_by("name_fa")
    )
    calls = {pk: row["calls"] for pk, row in consumer_totals(month).items()}
    return [
        {
            "agency": agency,
            "calls": calls.get(agency.pk, 0),
            "connected": False,
            "reason": "not_connected",
        }
        for agency in absent
    ] + rows
