"""Read queries of the feedback app: satisfaction figures computed from the rating rows, and
complaint counts. Oversight reads :func:`progress_as_of`; nothing here writes.

Each summary is one grouped query (ease × satisfaction counts), from which the share of "high
or very high" satisfaction, the 5×5 cross-table and the means are derived, so every figure on a
page can be traced back to rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from .models import FAVOURABLE, PERMIT_KINDS, Complaint, ComplaintKind, ComplaintState, Rating


@dataclass
class Summary:
    """Counts of one set of ratings. ``cross[e][s]`` counts ease ``e+1`` × satisfaction ``s+1``."""

    cross: list[list[int]] = field(default_factory=lambda: [[0] * 5 for _ in range(5)])

    def add(self, ease: int, satisfaction: int, n: int) -> None:
        self.cross[ease - 1][satisfaction - 1] += n

    @property
    def ratings(self) -> int:
        return sum(sum(row) for row in self.cross)

    @property
    def favourable(self) -> int:
        """Satisfaction high or very high (4 or 5)."""
        return sum(row[s] for row in self.cross for s in range(FAVOURABLE - 1, 5))

    @property
    def easy(self) -> int:
        return sum(sum(self.cross[e]) for e in range(FAVOURABLE - 1, 5))

    @property
    def share(self) -> float | None:
        return round(100 * self.favourable / self.ratings, 1) if self.ratings else None

    @property
    def ease_share(self) -> float | None:
        return round(100 * self.easy / self.ratings, 1) if self.ratings else None

    @property
    def mean_satisfaction(self) -> float | None:
        if not self.ratings:
            return None
        total = sum(n * (s + 1) for row in self.cross for s, n in enumerate(row))
        return round(total / self.ratings, 2)

    @property
    def mean_ease(self) -> float | None:
        if not self.ratings:
            return None
        return round(sum(sum(row) * (e + 1) for e, row in enumerate(self.cross)) / self.ratings, 2)

    def table(self) -> list[dict]:
        """Rows for a template: ease 5 down to 1, each with satisfaction 1..5 and a total."""
        return [
            {"ease": e + 1, "cells": self.cross[e], "total": sum(self.cross[e])}
            for e in range(4, -1, -1)
        ]

    def column_totals(self) -> list[int]:
        return [sum(self.cross[e][s] for e in range(5)) for s in range(5)]


def _between(qs: QuerySet, start: dt.datetime | None, end: dt.datetime | None) -> QuerySet:
    if start is not None:
        qs = qs.filter(created_at__gt=start)
    if end is not None:
        qs = qs.filter(created_at__lte=end)
    return qs


def summarize(qs: QuerySet | None = None) -> Summary:
    summary = Summary()
    qs = Rating.objects.all() if qs is None else qs
    for row in qs.order_by().values("ease", "satisfaction").annotate(n=Count("id")):
        summary.add(row["ease"], row["satisfaction"], row["n"])
    return summary


def grouped(key: str, qs: QuerySet | None = None) -> dict[int, Summary]:
    """One summary per value of ``key`` ("agency_id" or "service_id"), from one query."""
    out: dict[int, Summary] = {}
    qs = Rating.objects.all() if qs is None else qs
    for row in qs.order_by().values(key, "ease", "satisfaction").annotate(n=Count("id")):
        out.setdefault(row[key], Summary()).add(row["ease"], row["satisfaction"], row["n"])
    return out


# -- the small-number rule of every public figure ----------------------------------------------


def min_public_ratings() -> int:
    """Below this many ratings no share, mean or change computed from them is published (one
    rating is a person's score): ``PANJEREH_FEEDBACK_MIN_PUBLIC_RATINGS``, 5."""
    return int(getattr(settings, "PANJEREH_FEEDBACK_MIN_PUBLIC_RATINGS", 5))


def publishable(ratings: int | None) -> bool:
    """The one rule every public page and open-data file applies to a figure computed from
    ``ratings`` ratings, national figures included: publish it only from
    :func:`min_public_ratings` ratings up. Counts of ratings are always published."""
    return (ratings or 0) >= min_public_ratings()


def too_few(ratings: int | None) -> bool:
    """Some ratings, but too few to publish what they say ("not enough data")."""
    return 0 < (ratings or 0) < min_public_ratings()


# -- change against a baseline and the +20% target ----------------------------------------------


def target_rise() -> float:
    """The law's target: the satisfaction index rises by 20% (relative) against the baseline."""
    return float(getattr(settings, "PANJEREH_FEEDBACK_TARGET_RISE", 0.20))


def periods(now: dt.datetime | None = None) -> tuple[tuple, tuple]:
    """((start, end) of the current period, (start, end) of the baseline period).

    The current period is the last ``PANJEREH_FEEDBACK_PERIOD_DAYS`` days (90); the baseline is
    ``PANJEREH_FEEDBACK_BASELINE`` ("2025-03-21/2025-06-21", ISO dates, end exclusive) when set,
    otherwise the period of the same length just before."""
    now = now or timezone.now()
    days = int(getattr(settings, "PANJEREH_FEEDBACK_PERIOD_DAYS", 90))
    current = (now - dt.timedelta(days=days), now)
    configured = getattr(settings, "PANJEREH_FEEDBACK_BASELINE", "")
    if configured:
        first, last = (dt.date.fromisoformat(p.strip()) for p in configured.split("/"))
        tz = timezone.get_current_timezone()
        baseline = (
            dt.datetime.combine(first, dt.time.min, tzinfo=tz),
            dt.datetime.combine(last, dt.time.min, tzinfo=tz),
        )
    else:
        baseline = (current[0] - dt.timedelta(days=days), current[0])
    return current, baseline


@dataclass
class Progress:
    current: Summary
    baseline: Summary

    @property
    def change_points(self) -> float | None:
        if self.current.share is None or self.baseline.share is None:
            return None
        return round(self.current.share - self.baseline.share, 1)

    @property
    def change_relative(self) -> float | None:
        """Relative change of the share, in percent (+20 meets the target)."""
        if self.current.share is None or not self.baseline.share:
            return None
        return round(100 * (self.current.share / self.baseline.share - 1), 1)

    @property
    def target_share(self) -> float | None:
        if self.baseline.share is None:
            return None
        return round(min(100.0, self.baseline.share * (1 + target_rise())), 1)

    @property
    def met(self) -> bool | None:
        if self.current.share is None or self.target_share is None:
            return None
        return self.current.share >= self.target_share


def progress_by(key: str, qs: QuerySet | None = None, now: dt.datetime | None = None):
    """{key value: Progress} for the current period against the baseline."""
    (c0, c1), (b0, b1) = periods(now)
    qs = Rating.objects.all() if qs is None else qs
    current = grouped(key, qs.filter(created_at__gte=c0, created_at__lte=c1))
    baseline = grouped(key, qs.filter(created_at__gte=b0, created_at__lt=b1))
    return {
        k: Progress(current.get(k, Summary()), baseline.get(k, Summary()))
        for k in set(current) | set(baseline)
    }


def progress(qs: QuerySet | None = None, now: dt.datetime | None = None) -> Progress:
    (c0, c1), (b0, b1) = periods(now)
    qs = Rating.objects.all() if qs is None else qs
    return Progress(
        summarize(qs.filter(created_at__gte=c0, created_at__lte=c1)),
        summarize(qs.filter(created_at__gte=b0, created_at__lt=b1)),
    )


# -- queues -----------------------------------------------------------------------------------


def awaiting_reply(agency_ids) -> QuerySet:
    """Ratings still waiting for the agency's reply, the most overdue first."""
    return (
        Rating.objects.filter(agency_id__in=agency_ids, replied_at__isnull=True)
        .select_related("application__definition", "agency")
        .order_by("reply_due_at", "pk")
    )


def overdue(now: dt.datetime | None = None) -> QuerySet:
    return Rating.objects.filter(
        replied_at__isnull=True, reply_due_at__lt=now or timezone.now()
    ).select_related("application__definition", "agency")


def escalated() -> QuerySet:
    return (
        Rating.objects.filter(escalated_at__isnull=False)
        .select_related("application__definition", "agency")
        .order_by("-escalated_at")
    )


# -- complaints -------------------------------------------------------------------------------


def complaint_counts(agency_id: int | None = None) -> dict[int, dict]:
    """Per agency id: total, by kind and by state (no personal data)."""
    qs = Complaint.objects.order_by()
    if agency_id is not None:
        qs = qs.filter(agency_id=agency_id)
    out: dict[int, dict] = {}
    for row in qs.values("agency_id", "kind", "state").annotate(n=Count("id")):
        slot = out.setdefault(
            row["agency_id"],
            {
                "total": 0,
                "kinds": dict.fromkeys(ComplaintKind.values, 0),
                "states": dict.fromkeys(ComplaintState.values, 0),
            },
        )
        slot["total"] += row["n"]
        slot["kinds"][row["kind"]] += row["n"]
        slot["states"][row["state"]] += row["n"]
    return out


def payment_demands_as_of(as_of: dt.datetime) -> dict[int, tuple[int, int]]:
    """Reports of a payment demanded outside the window (``ComplaintKind.OFF_PORTAL_PAYMENT``)
    per agency id: (received up to ``as_of``, of those upheld by ``as_of``). Received is what
    citizens reported; upheld is what the supervising body found true. No personal data."""
    rows = (
        Complaint.objects.filter(kind=ComplaintKind.OFF_PORTAL_PAYMENT, created_at__lte=as_of)
        .order_by()
        .values("agency_id")
        .annotate(
            received=Count("id"),
            upheld=Count("id", filter=Q(state=ComplaintState.UPHELD, decided_at__lte=as_of)),
        )
    )
    return {row["agency_id"]: (row["received"], row["upheld"]) for row in rows}


def permit_violations_as_of(as_of: dt.datetime) -> dict[int, tuple[int, int]]:
    """Violations reported about issuing authorities (complaints naming an authority, of the
    kinds a permit application may report: ``models.PERMIT_KINDS``) per authority id:
    (received up to ``as_of``, of those upheld by ``as_of``). No personal data."""
    rows = (
        Complaint.objects.filter(
            authority__isnull=False, kind__in=list(PERMIT_KINDS), created_at__lte=as_of
        )
        .order_by()
        .values("authority_id")
        .annotate(
            received=Count("id"),
            upheld=Count("id", filter=Q(state=ComplaintState.UPHELD, decided_at__lte=as_of)),
        )
    )
    return {row["authority_id"]: (row["received"], row["upheld"]) for row in rows}


# -- oversight: change against the baseline as of a date, nationally and per agency/service ----


@dataclass
class ProgressTable:
    """:class:`Progress` nationally and per value of a key, with the two periods it compares."""

    current_period: tuple
    baseline_period: tuple
    national: Progress
    by: dict[int, Progress]


def progress_as_of(as_of: dt.datetime, key: str = "agency_id") -> ProgressTable:
    """The current period against the baseline (:func:`periods` of ``as_of``, the same bounds
    as :func:`progress_by`), nationally and per ``key`` ("agency_id" or "service_id"), from one
    grouped query over the rating rows given up to ``as_of``. A rating inside both periods (a
    configured baseline may overlap) counts in both, as in :func:`progress_by`."""
    from django.db.models import BooleanField, ExpressionWrapper

    (c0, c1), (b0, b1) = periods(as_of)
    in_current = Q(created_at__gte=c0, created_at__lte=c1)
    in_baseline = Q(created_at__gte=b0, created_at__lt=b1)
    rows = (
        Rating.objects.filter(in_current | in_baseline, created_at__lte=as_of)
        .order_by()
        .annotate(
            in_current=ExpressionWrapper(in_current, output_field=BooleanField()),
            in_baseline=ExpressionWrapper(in_baseline, output_field=BooleanField()),
        )
        .values(key, "in_current", "in_baseline", "ease", "satisfaction")
        .annotate(n=Count("id"))
    )
    national = Progress(Summary(), Summary())
    by: dict[int, Progress] = {}
    for row in rows:
        slot = by.get(row[key]) if row[key] is not None else None
        if slot is None and row[key] is not None:
            slot = by[row[key]] = Progress(Summary(), Summary())
        for flag, part in (("in_current", "current"), ("in_baseline", "baseline")):
            if row[flag]:
                getattr(national, part).add(row["ease"], row["satisfaction"], row["n"])
                if slot is not None:
                    getattr(slot, part).add(row["ease"], row["satisfaction"], row["n"])
    return ProgressTable((c0, c1), (b0, b1), national, by)
