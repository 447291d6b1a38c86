"""Read queries of the status page and its open data: current states, incidents and monthly
availability, all computed from the rows (checks, daily roll-ups, incidents).

Availability of a system in a month is the share of its checks in that month that succeeded
(answered in time with the expected status; slow answers count as available). Finished days
come from :class:`~panjereh.status.models.DailyRollup`, days not rolled up yet from the raw
:class:`~panjereh.status.models.Check` rows. Announced maintenance is not excluded.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Count, Max, Q
from django.utils import timezone

from panjereh.common import jalali
from panjereh.common.persian import to_latin_digits

from . import conf
from .models import (
    KIND_ORDER,
    Check,
    DailyRollup,
    Incident,
    IncidentKind,
    IncidentState,
    System,
)

OPERATIONAL, DEGRADED, DOWN, MAINTENANCE, UNKNOWN = (
    "operational",
    "degraded",
    "down",
    "maintenance",
    "unknown",
)
STATES = (OPERATIONAL, DEGRADED, DOWN, MAINTENANCE, UNKNOWN)


@dataclass
class SystemState:
    system: System
    state: str
    incident: Incident | None = None


def _stale_after() -> dt.timedelta:
    # Three missed rounds (at least two minutes): the monitor itself is not running.
    return dt.timedelta(seconds=max(120.0, 3 * float(conf.get("INTERVAL"))))


def state_of(system: System, incident: Incident | None, now: dt.datetime) -> str:
    if incident is not None:
        return MAINTENANCE if incident.kind == IncidentKind.MAINTENANCE else DOWN
    if system.last_checked_at is None or now - system.last_checked_at > _stale_after():
        return UNKNOWN
    if not system.last_ok:
        return DOWN
    if (system.last_latency_ms or 0) > int(conf.get("SLOW_MS")):
        return DEGRADED
    return OPERATIONAL


def open_incidents() -> list[Incident]:
    return list(
        Incident.objects.filter(state=IncidentState.OPEN)
        .select_related("system")
        .order_by("-started_at")
    )


def recent_incidents(days: int = 30, limit: int = 20) -> list[Incident]:
    since = timezone.now() - dt.timedelta(days=days)
    return list(
        Incident.objects.filter(state=IncidentState.RESOLVED, ended_at__gte=since)
        .select_related("system")
        .order_by("-started_at")[:limit]
    )


def system_states(
    now: dt.datetime | None = None, open_list: list[Incident] | None = None
) -> list[SystemState]:
    now = now or timezone.now()
    by_system: dict[int, Incident] = {}
    for incident in open_list if open_list is not None else open_incidents():
        # An outage outranks maintenance when both are open.
        held = by_system.get(incident.system_id)
        if held is None or (held.kind == IncidentKind.MAINTENANCE and incident.kind != held.kind):
            by_system[incident.system_id] = incident
    systems = sorted(
        System.objects.filter(enabled=True),
        key=lambda s: (KIND_ORDER.index(s.kind), s.name_en or s.name_fa, s.key),
    )
    return [
        SystemState(s, state_of(s, by_system.get(s.pk), now), by_system.get(s.pk)) for s in systems
    ]


# -- months and availability -------------------------------------------------------------------


# The status pages' months are the one Jalali month type.
Month = jalali.Month


@dataclass
class Availability:
    checks: int = 0
    ok_checks: int = 0

    @property
    def share(self) -> float | None:
        """Percentage of successful checks, or None without a single check."""
        return 100.0 * self.ok_checks / self.checks if self.checks else None


def availability(month: Month) -> dict[int, Availability]:
    """Per system id: the month's checks and successful checks, from roll-ups and raw rows.

    Roll-ups cover whole days up to the last rolled-up one (for every system at once, see
    :func:`panjereh.status.monitor.rollup`); raw rows are counted only after it, so no day is
    counted twice and the page never aggregates a month of raw checks.
    """
    start, end = month.bounds()
    result: dict[int, Availability] = {}
    last_rolled = None
    for system_id, day, checks, ok_checks in DailyRollup.objects.filter(
        day__gte=start.date(), day__lt=end.date()
    ).values_list("system_id", "day", "checks", "ok_checks"):
        item = result.setdefault(system_id, Availability())
        item.checks += checks
        item.ok_checks += ok_checks
        last_rolled = day if last_rolled is None or day > last_rolled else last_rolled
    raw_from = start
    if last_rolled is not None:
        after = dt.datetime.combine(
            last_rolled + dt.timedelta(days=1), dt.time.min, tzinfo=jalali.TEHRAN
        )
        raw_from = max(start, after)
    if raw_from < end:
        rows = (
            Check.objects.filter(at__gte=raw_from, at__lt=end)
            .order_by()
            .values("system_id")
            .annotate(checks=Count("id"), ok_checks=Count("id", filter=Q(ok=True)))
        )
        for row in rows:
            item = result.setdefault(row["system_id"], Availability())
            item.checks += row["checks"]
            item.ok_checks += row["ok_checks"]
    return result


def availability_by_month(months: list[Month]) -> dict[str, dict[int, Availability]]:
    """:func:`availability` of each month (by its ISO name), kept in the cache until the next
    check or roll-up row is written (the newest ids are the key: two index look-ups for all
    the months instead of the counting)."""
    stamp = (
        Check.objects.aggregate(m=Max("id"))["m"],
        DailyRollup.objects.aggregate(m=Max("id"))["m"],
    )
    result = {}
    for month in months:
        key = f"status:availability:{month.iso}:{stamp[0]}:{stamp[1]}"
        figures = cache.get(key)
        if figures is None:
            figures = availability(month)
            cache.set(key, figures, 3600)
        result[month.iso] = figures
    return result


def availability_table(months: list[Month], states: list) -> list[dict]:
    """Rows for the page: each system of ``states`` (:func:`system_states`) with its
    availability in each month."""
    figures = list(availability_by_month(months).values())
    return [
        {
            "system": state.system,
            "months": [f.get(state.system.pk, Availability()) for f in figures],
        }
        for state in states
    ]


def incidents_in(month: Month) -> dict[int, int]:
    start, end = month.bounds()
    rows = (
        Incident.objects.filter(started_at__lt=end)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gte=start))
        .values("system_id")
        .annotate(n=Count("id"))
    )
    return {row["system_id"]: row["n"] for row in rows}


def latest_check_time() -> dt.datetime | None:
    return System.objects.filter(enabled=True).aggregate(m=Max("last_checked_at"))["m"]


# -- the exchange's per-call references --------------------------------------------------------

_NIX_RE = re.compile(r"^NIX-\d{8}-[0-9A-F]{8}$")


def looks_like_exchange_reference(text: str) -> bool:
    return bool(_NIX_RE.match(to_latin_digits(text or "").strip().upper()))


def exchange_call(text: str) -> dict | None:
    """A gateway error's ``NIX-…`` reference (one per failed call) → when the call was made,
    which provider it went to, and the status incident of that provider at that time, if any.

    Says nothing about who made the call or whom it was about. None when ``text`` is not such a
    reference at all.
    """
    from panjereh.exchange.models import LogRecord

    from .monitor import registry_key

    reference = to_latin_digits(text or "").strip().upper()
    if not _NIX_RE.match(reference):
        return None
    # The reference carries the gateway's (UTC) date: search that day only, through the
    # index on created_at (the log has no index on the reference itself).
    try:
        day = dt.datetime.strptime(reference[4:12], "%Y%m%d").replace(tzinfo=dt.UTC)
    except ValueError:
        return {"reference": reference, "found": False}
    margin = dt.timedelta(minutes=5)
    record = (
        LogRecord.objects.filter(
            created_at__gte=day - margin,
            created_at__lt=day + dt.timedelta(days=1) + margin,
            incident=reference,
        )
        .select_related("service__provider")
        .only("created_at", "service__subsystem", "service__provider")
        .first()
    )
    if record is None:
        return {"reference": reference, "found": False}
    system = incident = None
    if record.service is not None:
        key = registry_key(record.service.provider, record.service.subsystem)
        system = System.objects.filter(key=key).first()
    if system is not None:
        incident = (
            Incident.objects.filter(system=system, started_at__lte=record.created_at)
            .filter(Q(ended_at__isnull=True) | Q(ended_at__gte=record.created_at))
            .order_by("-started_at")
            .first()
        )
    return {
        "reference": reference,
        "found": True,
        "at": record.created_at,
        "system": system,
        "incident": incident,
    }
