"""Jalali weeks: Saturday 00:00 to Friday 24:00, Tehran time (Asia/Tehran).

The Iranian week starts on Saturday (شنبه) and ends on Friday (جمعه). A week is identified by
the Gregorian date of its Saturday in Tehran (stored as a ``DateField``, so it sorts and indexes
as a date) and is shown and cited by the Jalali date of that Saturday (``1405-09-01``).
"""

from __future__ import annotations

import datetime as dt

import jdatetime
from django.utils import timezone

from panjereh.common import jalali

SATURDAY = 5  # Python's date.weekday(): Monday is 0


def week_of(moment: dt.datetime | dt.date | None = None) -> dt.date:
    """The Saturday (Tehran calendar day) that starts the Jalali week containing ``moment``."""
    if moment is None:
        moment = timezone.now()
    if isinstance(moment, dt.datetime):
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment, jalali.TEHRAN)
        day = moment.astimezone(jalali.TEHRAN).date()
    else:
        day = moment
    return day - dt.timedelta(days=(day.weekday() - SATURDAY) % 7)


def current_week() -> dt.date:
    return week_of(timezone.now())


def last_completed_week() -> dt.date:
    return current_week() - dt.timedelta(days=7)


def bounds(week: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of the week as aware datetimes in Tehran."""
    start = dt.datetime.combine(week, dt.time.min, tzinfo=jalali.TEHRAN)
    return start, start + dt.timedelta(days=7)


def label(week: dt.date) -> str:
    """The citable key of a week: the Jalali date of its Saturday, ``1405-09-01``."""
    return jalali.iso(week)


def parse_label(text: str) -> dt.date:
    """``1405-09-01`` (Persian digits too) → the week's Saturday; ValueError if not a Saturday."""
    try:
        day = jalali.to_gregorian(text)
    except jalali.InvalidJalaliDate as exc:
        raise ValueError(text) from exc
    if day.weekday() != SATURDAY:
        raise ValueError(text)
    return day


def last_day(week: dt.date) -> jdatetime.date:
    """The Friday that ends the week, as a Jalali date (for display)."""
    return jalali.from_gregorian(week + dt.timedelta(days=6))
