"""Jalali (solar Hijri) dates: parsing, formatting and month arithmetic, through jdatetime."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import jdatetime

from .persian import to_latin_digits, to_persian_digits

TEHRAN = ZoneInfo("Asia/Tehran")
MONTHS_FA = [
    "فروردین",
    "اردیبهشت",
    "خرداد",
    "تیر",
    "مرداد",
    "شهریور",
    "مهر",
    "آبان",
    "آذر",
    "دی",
    "بهمن",
    "اسفند",
]
_JALALI_RE = re.compile(r"^\s*(\d{4})[/\-.](\d{1,2})[/\-.](\d{1,2})\s*$")


class InvalidJalaliDate(ValueError):
    """Raised for text that is not a real Jalali date."""


def parse(text: str) -> jdatetime.date:
    """``1404/03/31``, ``1404-3-31`` or the same in Persian digits → a Jalali date."""
    match = _JALALI_RE.match(to_latin_digits(text or ""))
    if not match:
        raise InvalidJalaliDate(text)
    year, month, day = (int(part) for part in match.groups())
    try:
        return jdatetime.date(year, month, day)
    except ValueError as exc:
        raise InvalidJalaliDate(text) from exc


def to_gregorian(text_or_date: str | jdatetime.date) -> dt.date:
    jdate = parse(text_or_date) if isinstance(text_or_date, str) else text_or_date
    return jdate.togregorian()


def end_of_day(text_or_date: str | jdatetime.date) -> dt.datetime:
    """The last instant of a Jalali day in Tehran, as an aware datetime: the 'as of' bound."""
    day = to_gregorian(text_or_date)
    return dt.datetime.combine(day, dt.time.max, tzinfo=TEHRAN)


def month_bounds(year: int, month: int) -> tuple[dt.datetime, dt.datetime]:
    """The instants (Tehran time) where the Jalali month starts and where the next one starts."""
    first = jdatetime.date(year, month, 1)
    following = add_months(first, 1)
    start = dt.datetime.combine(first.togregorian(), dt.time.min, tzinfo=TEHRAN)
    end = dt.datetime.combine(following.togregorian(), dt.time.min, tzinfo=TEHRAN)
    return start, end


def from_gregorian(value: dt.date | dt.datetime) -> jdatetime.date:
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(TEHRAN)
        value = value.date()
    return jdatetime.date.fromgregorian(date=value)


def iso(value: dt.date | dt.datetime | jdatetime.date) -> str:
    """``1404-03-31``: the Jalali date in ASCII digits, for files and APIs."""
    jdate = value if isinstance(value, jdatetime.date) else from_gregorian(value)
    return f"{jdate.year:04d}-{jdate.month:02d}-{jdate.day:02d}"


def format_fa(value: dt.date | dt.datetime | jdatetime.date | None, with_month_name=True) -> str:
    """``۳۱ خرداد ۱۴۰۴`` (or ``۱۴۰۴/۰۳/۳۱``) for the Persian UI."""
    if value is None:
        return ""
    jdate = value if isinstance(value, jdatetime.date) else from_gregorian(value)
    if with_month_name:
        text = f"{jdate.day} {MONTHS_FA[jdate.month - 1]} {jdate.year}"
    else:
        text = f"{jdate.year:04d}/{jdate.month:02d}/{jdate.day:02d}"
    return to_persian_digits(text)


def add_months(jdate: jdatetime.date, months: int) -> jdatetime.date:
    """Calendar months in the Jalali calendar: 1403/10/08 + 1 month = 1403/11/08.

    A day past the end of the target month is clamped (1403/06/31 + 1 month = 1403/07/30).
    """
    index = jdate.year * 12 + (jdate.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    day = jdate.day
    while day > 28:
        try:
            return jdatetime.date(year, month, day)
        except ValueError:
            day -= 1
    return jdatetime.date(year, month, day)
