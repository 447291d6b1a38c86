"""Monthly availability is computed from the rows: raw checks, and daily roll-ups once the raw
rows of finished days are pruned; the month is the Jalali month in Tehran."""

from __future__ import annotations

import datetime as dt

import pytest

from panjereh.common import jalali
from panjereh.common.jalali import TEHRAN
from panjereh.status import monitor, queries
from panjereh.status.models import Check, DailyRollup

from .conftest import make_system

pytestmark = pytest.mark.django_db
ABAN_1405 = queries.Month(1405, 8)  # 23 Oct – 21 Nov 2026
AZAR_1405 = queries.Month(1405, 9)  # from 22 Nov 2026


def _checks(system, day: dt.date, ok: int, failed: int, *, hour: int = 10) -> None:
    start = dt.datetime.combine(day, dt.time(hour), tzinfo=TEHRAN)
    rows = [
        Check(
            system=system,
            at=start + dt.timedelta(minutes=n),
            ok=n >= failed,
            latency_ms=20,
            http_status=200 if n >= failed else 503,
        )
        for n in range(ok + failed)
    ]
    Check.objects.bulk_create(rows)


def test_month_bounds_are_jalali_in_tehran():
    start, end = ABAN_1405.bounds()
    assert start == dt.datetime(2026, 10, 23, tzinfo=TEHRAN)
    assert end == dt.datetime(2026, 11, 22, tzinfo=TEHRAN)
    assert queries.Month.of(dt.datetime(2026, 11, 21, 20, 45, tzinfo=dt.UTC)) == AZAR_1405
    assert queries.Month.of(dt.datetime(2026, 11, 21, 20, 15, tzinfo=dt.UTC)) == ABAN_1405
    assert queries.Month.parse("۱۴۰۵-۰۸") == ABAN_1405
    with pytest.raises(jalali.InvalidJalaliDate):
        queries.Month.parse("1405-13")


def test_availability_from_raw_rows_and_from_rollups(settings):
    settings.PANJEREH_STATUS_RAW_DAYS = 2
    a, b, idle = make_system(), make_system(), make_system()
    first = dt.date(2026, 10, 23)
    for n in range(10):  # ten days of Aban, ten checks a day; day 3 has four failures
        _checks(a, first + dt.timedelta(days=n), ok=6 if n == 2 else 10, failed=4 if n == 2 else 0)
    _checks(b, first, ok=1, failed=3)
    # Just outside the month on both sides (Tehran time): never counted in Aban.
    Check.objects.create(
        system=a, at=dt.datetime(2026, 10, 22, 23, 59, tzinfo=TEHRAN), ok=False, latency_ms=1
    )
    Check.objects.create(
        system=a, at=dt.datetime(2026, 11, 22, 0, 1, tzinfo=TEHRAN), ok=False, latency_ms=1
    )

    raw = queries.availability(ABAN_1405)
    assert (raw[a.pk].checks, raw[a.pk].ok_checks) == (100, 96)
    assert raw[a.pk].share == pytest.approx(96.0)
    assert raw[b.pk].share == pytest.approx(25.0)
    assert idle.pk not in raw

    # Roll up (as on 25 Nov) and prune raw rows older than two days: the figure stays.
    done = monitor.rollup(today=dt.date(2026, 11, 25))
    # Kept: 23 and 24 Nov and today; so every row here goes (a's 100 + 2 outside, b's 4).
    assert done["pruned"] == 106
    assert not Check.objects.exists()
    assert DailyRollup.objects.get(system=a, day=first + dt.timedelta(days=2)).ok_checks == 6
    rolled = queries.availability(ABAN_1405)
    assert (rolled[a.pk].checks, rolled[a.pk].ok_checks) == (100, 96)
    assert rolled[b.pk].share == pytest.approx(25.0)
    # Idempotent.
    monitor.rollup(today=dt.date(2026, 11, 25))
    assert DailyRollup.objects.filter(system=a).count() == 12  # 10 Aban days + 2 outside
    assert queries.availability(ABAN_1405)[a.pk].checks == 100


def test_month_in_progress_mixes_rollups_and_todays_raw_rows():
    a = make_system()
    for n in range(4):  # 1–4 Azar
        _checks(a, dt.date(2026, 11, 22) + dt.timedelta(days=n), ok=9, failed=1)
    today = dt.date(2026, 11, 26)  # 5 Azar
    _checks(a, today, ok=3, failed=2)
    monitor.rollup(today=today)
    assert DailyRollup.objects.filter(system=a).count() == 4
    assert not DailyRollup.objects.filter(day=today).exists()
    figure = queries.availability(AZAR_1405)[a.pk]
    assert (figure.checks, figure.ok_checks) == (45, 39)


def test_cached_figures_follow_every_new_check():
    a = make_system()
    _checks(a, dt.date(2026, 11, 1), ok=3, failed=1)
    first = queries.availability_by_month([ABAN_1405])[ABAN_1405.iso][a.pk]
    assert (first.checks, first.ok_checks) == (4, 3)
    assert (
        queries.availability_by_month([ABAN_1405])[ABAN_1405.iso][a.pk].checks == 4
    )  # from the cache
    _checks(a, dt.date(2026, 11, 2), ok=0, failed=1)
    again = queries.availability_by_month([ABAN_1405])[ABAN_1405.iso][a.pk]
    assert (again.checks, again.ok_checks) == (5, 3)
