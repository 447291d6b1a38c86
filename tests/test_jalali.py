"""The Jalali Month type: parsing, text, order, the Tehran instants it spans, and stepping
across Esfand (29 days in a common year, 30 in a leap year) into the next year."""

import datetime as dt

import jdatetime
import pytest

from panjereh.common import jalali
from panjereh.common.jalali import TEHRAN, InvalidJalaliDate, Month


def test_a_month_parses_from_its_text_and_prints_back():
    assert Month.parse("1404-03") == Month(1404, 3)
    assert Month.parse("1404/3") == Month(1404, 3)
    assert Month.parse("۱۴۰۵-۰۸") == Month(1405, 8)
    assert str(Month(1404, 3)) == "1404-03"
    assert str(Month.parse(str(Month(1399, 12)))) == "1399-12"


@pytest.mark.parametrize("text", ["", "1404", "1404-13", "1404-00", "1404-03-01", "abc", None])
def test_text_that_is_not_a_month_is_refused(text):
    with pytest.raises(InvalidJalaliDate):
        Month.parse(text)


def test_months_order_by_time():
    months = [Month(1404, 1), Month(1403, 12), Month(1404, 10), Month(1404, 2)]
    assert sorted(months) == [Month(1403, 12), Month(1404, 1), Month(1404, 2), Month(1404, 10)]
    assert Month(1403, 12) < Month(1404, 1)
    assert max(months) == Month(1404, 10)


def test_bounds_are_tehran_instants_from_the_first_day_to_the_next_month():
    start, end = Month(1404, 1).bounds()
    assert start == dt.datetime(2025, 3, 21, tzinfo=TEHRAN)
    assert end == dt.datetime(2025, 4, 21, tzinfo=TEHRAN)
    assert start.utcoffset() == dt.timedelta(hours=3, minutes=30)


def test_esfand_of_a_leap_year_has_30_days_and_ends_at_nowruz():
    assert jdatetime.date(1403, 1, 1).isleap()
    esfand = Month(1403, 12)
    start, end = esfand.bounds()
    assert start == dt.datetime(2025, 2, 19, tzinfo=TEHRAN)
    assert end == dt.datetime(2025, 3, 21, tzinfo=TEHRAN)
    assert (end - start).days == 30
    assert esfand.last_day() == jdatetime.date(1403, 12, 30)


def test_esfand_of_a_common_year_has_29_days():
    assert not jdatetime.date(1404, 1, 1).isleap()
    start, end = Month(1404, 12).bounds()
    assert start == dt.datetime(2026, 2, 20, tzinfo=TEHRAN)
    assert end == dt.datetime(2026, 3, 21, tzinfo=TEHRAN)
    assert (end - start).days == 29
    assert Month(1404, 12).last_day() == jdatetime.date(1404, 12, 29)


def test_next_and_previous_roll_over_the_year():
    assert Month(1403, 12).next() == Month(1404, 1)
    assert Month(1404, 1).previous() == Month(1403, 12)
    assert Month(1404, 6).next() == Month(1404, 7)
    assert Month(1404, 7).previous() == Month(1404, 6)
    assert Month(1404, 1).plus(-13) == Month(1402, 12)
    assert Month(1404, 12).plus(13) == Month(1406, 1)
    # The end of a month is the start of the next, across the year too.
    assert Month(1403, 12).bounds()[1] == Month(1404, 1).bounds()[0]


def test_the_month_of_a_moment_is_read_in_tehran():
    # 2025-03-20 20:29 UTC is 23:59 on 1403/12/30 in Tehran; a minute later is Nowruz.
    assert Month.of(dt.datetime(2025, 3, 20, 20, 29, tzinfo=dt.UTC)) == Month(1403, 12)
    assert Month.of(dt.datetime(2025, 3, 20, 20, 30, tzinfo=dt.UTC)) == Month(1404, 1)
    assert Month.of(dt.date(2026, 3, 20)) == Month(1404, 12)
    assert Month.of(jdatetime.date(1404, 3, 31)) == Month(1404, 3)


def test_month_bounds_function_is_the_month_types_bounds():
    assert jalali.month_bounds(1403, 12) == Month(1403, 12).bounds()
