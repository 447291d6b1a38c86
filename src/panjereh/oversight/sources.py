"""Figures that oversight reads from other apps (exchange, feedback) through their query
modules. A source with no data for the period yields ``None``: the indicators then say "no
data" rather than show a number nobody measured."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.apps import apps

from panjereh.common import jalali
from panjereh.exchange import queries as exchange_queries
from panjereh.feedback import queries as feedback_queries


@dataclass(frozen=True)
class ProviderMonth:
    """One provider agency's exchange traffic in one Jalali month."""

    calls: int
    failed: int


@dataclass(frozen=True)
class Satisfaction:
    ratings: int
    favourable: int  # rated high or very high


def report_month(as_of: dt.datetime) -> str:
    """The Jalali month (``1404-03``) a monthly figure as of ``as_of`` is about: the month
    ending that day if it is a month's last day, otherwise the last complete month."""
    day = jalali.from_gregorian(as_of)
    month = jalali.Month.of(day)
    return str(month if day == month.last_day() else month.previous())


def exchange_by_provider(as_of: dt.datetime) -> dict[int, ProviderMonth] | None:
    """Calls and failures per provider agency id in the report month, from the exchange's
    monthly roll-ups; None when the exchange recorded nothing that month."""
    rows = exchange_queries.provider_totals(report_month(as_of))
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
    (``feedback.queries.progress_as_of``: a ``ProgressTable``); None when there is no rating
    in either period (the indicators then read the applications' ratings, see
    :func:`ratings_from_performance`)."""
    table = feedback_queries.progress_as_of(as_of, key)
    if not (table.national.current.ratings or table.national.baseline.ratings):
        return None
    return table


def payment_demands(as_of: dt.datetime) -> dict[int, tuple[int, int]]:
    """Per agency id: reports of a payment demanded outside the window received up to
    ``as_of`` and, of those, upheld by then (``feedback.queries.payment_demands_as_of``)."""
    return feedback_queries.payment_demands_as_of(as_of)


def exchange_totals(months: list[str]) -> list[dict] | None:
    """The exchange's own totals (calls, failures, quality) for each Jalali month; None when
    the exchange recorded no call in any of them."""
    rows = [exchange_queries.totals(month) for month in months]
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


def permit_rows(as_of: dt.datetime, start: dt.datetime, end: dt.datetime) -> dict | None:
    """The permits rows the permits indicators read (``permits.queries``): the authorities,
    each permit type as declared by its version in force at ``as_of``, the permits issued
    through the window in ``[start, end)``, the hand-offs open and unanswered at ``as_of``,
    the refused reintroduction attempts by then, and the violations reported about each
    authority (``feedback.queries.permit_violations_as_of``). None without the permits app."""
    if not apps.is_installed("panjereh.permits"):
        return None
    from panjereh.permits import queries as permits_queries

    return {
        "authorities": permits_queries.authority_rows(),
        "types": permits_queries.permit_types_as_of(as_of),
        "issued": permits_queries.issued_between(start, end),
        "handoffs": permits_queries.handoffs_as_of(as_of),
        "violations": feedback_queries.permit_violations_as_of(as_of),
        "attempts": permits_queries.attempts_as_of(as_of),
    }


def permit_register_counts() -> dict | None:
    """How many conditions the deregulation register holds and how many attempts to bring
    one back were refused (``permits.queries.counts``); None without the permits app."""
    if not apps.is_installed("panjereh.permits"):
        return None
    from panjereh.permits import queries as permits_queries

    c = permits_queries.counts()
    return {"removed_conditions": c.removed_conditions, "attempts": c.attempts}
