"""Figures that oversight reads from other apps (exchange, feedback) through their query
modules. An app that is not installed, or has no data for the period, yields ``None``: the
indicators then say "no data" rather than show a number nobody measured."""

from __future__ import annotations

import datetime as dt
import importlib
from dataclasses import dataclass

import jdatetime
from django.apps import apps

from panjereh.common import jalali


@dataclass(frozen=True)
class ProviderMonth:
    """One provider agency's exchange traffic in one Jalali month."""

    calls: int
    failed: int


@dataclass(frozen=True)
class Satisfaction:
    ratings: int
    favourable: int  # rated high or very high


def _queries(app_label: str, module: str):
    if not apps.is_installed(f"panjereh.{app_label}"):
        return None
    try:
        return importlib.import_module(f"panjereh.{app_label}.{module}")
    except ImportError:
        return None


def report_month(as_of: dt.datetime) -> str:
    """The Jalali month (``1404-03``) a monthly figure as of ``as_of`` is about: the month
    ending that day if it is a month's last day, otherwise the last complete month."""
    day = jalali.from_gregorian(as_of)
    if (day + dt.timedelta(days=1)).month != day.month:
        return f"{day.year:04d}-{day.month:02d}"
    first = jdatetime.date(day.year, day.month, 1) - dt.timedelta(days=1)
    return f"{first.year:04d}-{first.month:02d}"


def exchange_by_provider(as_of: dt.datetime) -> dict[int, ProviderMonth] | None:
    """Calls and failures per provider agency id in the report month, from the exchange's
    monthly roll-ups; None when the exchange is absent or recorded nothing that month."""
    queries = _queries("exchange", "queries")
    if queries is None:
        return None
    month = report_month(as_of)
    rows = queries.provider_totals(month)
    if not rows:
        return None
    return {
        int(pk): ProviderMonth(int(v["calls"]), int(v["failures"]))
        for pk, v in rows.items()
        if pk is not None
    }


def satisfaction_progress(as_of: dt.datetime, key: str = "agency_id"):
    """Satisfaction of the current period against the baseline period, nationally and per
    ``key`` ("agency_id" or "service_id"), from the feedback app's rating rows up to ``as_of``
    (``feedback.queries.progress_as_of``: a ``ProgressTable``); None when the feedback app is
    absent or has no rating in either period (the indicators then read the applications'
    ratings, see :func:`ratings_from_performance`)."""
    queries = _queries("feedback", "queries")
    fn = getattr(queries, "progress_as_of", None) if queries else None
    if fn is None:
        return None
    table = fn(as_of, key)
    if not (table.national.current.ratings or table.national.baseline.ratings):
        return None
    return table


def exchange_totals(months: list[str]) -> list[dict] | None:
    """The exchange's own totals (calls, failures, quality) for each Jalali month; None when
    the exchange is absent or recorded no call in any of them."""
    queries = _queries("exchange", "queries")
    if queries is None or not hasattr(queries, "totals"):
        return None
    rows = [queries.totals(month) for month in months]
    return rows if any(r["calls"] for r in rows) else None


def ratings_from_performance(performance) -> dict[int, Satisfaction] | None:
    """Ratings per agency given to finished applications in the report month (from the
    service performance figures, so from the journey roll-up when there is one); None when
    nobody rated."""
    if performance is None:
        return None
    rows = {
        agency_id: Satisfaction(f.ratings, f.favourable)
        for agency_id, f in performance.agencies.items()
        if f.ratings
    }
    return rows or None
