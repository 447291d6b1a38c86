"""Figures over time: the catalogue as of the end of each Jalali quarter, from its versions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import jdatetime
from django.core.cache import cache
from django.utils import timezone

from panjereh.catalogue import queries
from panjereh.common import jalali

from . import data, indicators


@dataclass
class Point:
    label: str  # 1403-Q2
    as_of: str  # 1403-06-31
    connectable: int
    connected: int
    smart: int

    @property
    def year(self) -> int:
        return int(self.label[:4])

    @property
    def quarter(self) -> int:
        return int(self.label[-1])

    @property
    def connection_pct(self) -> float | None:
        return round(100.0 * self.connected / self.connectable, 1) if self.connectable else None

    @property
    def smart_pct(self) -> float | None:
        return round(100.0 * self.smart / self.connectable, 1) if self.connectable else None


def quarter_end(year: int, quarter: int) -> jdatetime.date:
    first_next = jalali.add_months(jdatetime.date(year, 3 * (quarter - 1) + 1, 1), 3)
    return first_next - dt.timedelta(days=1)


def quarter_of(day: jdatetime.date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def quarters(until: jdatetime.date) -> list[tuple[int, int, jdatetime.date]]:
    """(year, quarter, end) from the trend's start to the quarter containing ``until``; the
    last point is ``until`` itself when its quarter has not ended."""
    start = jalali.parse(data.targets()["trend_start"])
    year, q = quarter_of(start)
    last = quarter_of(until)
    result = []
    while (year, q) <= last:
        end = quarter_end(year, q)
        result.append((year, q, min(end, until)))
        year, q = (year + 1, 1) if q == 4 else (year, q + 1)
    return result


def _key(prefix: str, until: jdatetime.date) -> str:
    version = indicators.catalogue_version(None)["label"]
    return f"oversight:{prefix}:{version}:{until.isoformat()}"


def national(until: jdatetime.date | None = None) -> list[Point]:
    """Connected and smart shares nationally (agencies in scope) at each quarter's end."""
    until = until or jalali.from_gregorian(timezone.now())
    key = _key("national", until)
    points = cache.get(key)
    if points is None:
        points = []
        for year, q, end in quarters(until):
            s = queries.stats(jalali.end_of_day(end)).services
            points.append(
                Point(f"{year}-Q{q}", jalali.iso(end), s["connectable"], s["connected"],
                      s["smart_approved"])
            )  # fmt: skip
        cache.set(key, points, 600)
    return points


def agency(agency_id: int, until: jdatetime.date | None = None) -> list[Point]:
    """One agency's counts at each quarter's end (every agency's are computed and cached
    together, since each as-of count reads all rows anyway)."""
    until = until or jalali.from_gregorian(timezone.now())
    key = _key("agencies", until)
    per_quarter = cache.get(key)
    if per_quarter is None:
        per_quarter = [
            (f"{year}-Q{q}", jalali.iso(end), queries.agency_counts(jalali.end_of_day(end)))
            for year, q, end in quarters(until)
        ]
        cache.set(key, per_quarter, 600)
    points = []
    for label, as_of, counts in per_quarter:
        c = counts.get(agency_id) or queries.AgencyCounts()
        points.append(Point(label, as_of, c.connectable, c.connected, c.smart))
    return points
