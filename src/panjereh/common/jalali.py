"""Jalali (solar Hijri) dates: parsing, formatting and month arithmetic, through jdatetime."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
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
    """The instants (Tehran time) where the Jalali month starts and where the next one starts
    (:meth:`Month.bounds`)."""
    return Month(year, month).bounds()


_MONTH_RE = re.compile(r"^\s*(\d{4})[/\-.](\d{1,2})\s*$")


@dataclass(frozen=True, order=True)
class Month:
    """One Jalali month: ``Month.parse("1404-03")``, ``str(month) == "1404-03"``; months order
    by time, and :meth:`bounds` gives the Tehran instants it spans."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12 or not 1 <= self.year <= 9999:
            raise InvalidJalaliDate(f"{self.year}-{self.month}")

    @classmethod
    def parse(cls, text: str) -> Month:
        """``1404-03`` (or ``1404/3``, or in Persian digits) → the month; raises
        :class:`InvalidJalaliDate` for anything else."""
        match = _MONTH_RE.match(to_latin_digits(text or ""))
        if not match:
            raise InvalidJalaliDate(text)
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, value: dt.date | dt.datetime | jdatetime.date) -> Month:
        """The month a day falls in; an aware datetime is read in Tehran time."""
        jdate = value if isinstance(value, jdatetime.date) else from_gregorian(value)
        return cls(jdate.year, jdate.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def iso(self) -> str:
        """``1404-03``, for addresses and keys (templates cannot call ``str``)."""
        return str(self)

    @property
    def name_fa(self) -> str:
        """``خرداد ۱۴۰۴``."""
        return to_persian_digits(f"{MONTHS_FA[self.month - 1]} {self.year}")

    @property
    def name_en(self) -> str:
        """``Khordad 1404``."""
        return f"{jdatetime.date(self.year, self.month, 1).j_months_en[self.month - 1]} {self.year}"

    def first_day(self) -> jdatetime.date:
        return jdatetime.date(self.year, self.month, 1)

    def last_day(self) -> jdatetime.date:
        return self.next().first_day() - dt.timedelta(days=1)

    def next(self) -> Month:
        return self.plus(1)

    def previous(self) -> Month:
        return self.plus(-1)

    def plus(self, months: int) -> Month:
        year, index = divmod(self.year * 12 + self.month - 1 + months, 12)
        return Month(year, index + 1)

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """(start, end): the month's first instant and the next month's first instant, as
        aware datetimes in Tehran; the month is ``start <= t < end``."""
        start = dt.datetime.combine(self.first_day().togregorian(), dt.time.min, tzinfo=TEHRAN)
        end = dt.datetime.combine(self.next().first_day().togregorian(), dt.time.min, tzinfo=TEHRAN)
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
