"""Oversight benchmark: every indicator for the national dataset as of a date, the trend, the
public pages and the quarterly PDF.

Run with ``.venv/bin/python benchmarks/oversight/run.py``. Everything happens in a temporary
directory (SQLite database) that is removed at the end; nothing listens on the network.

1. Migrate and load ``seed --profile national`` (186 agencies in scope, ~6,000 cards, dated
   versions), plus a month of exchange roll-ups (``MonthlyStat``: provider × consumer × data
   service) so the exchange indicators have data, and the legal obligations.
2. Indicators: ``indicators.compute(as_of=1404-03-31)`` (every national and per-agency
   indicator, from version rows), cold and then repeated; the same for "now" from current rows.
3. The as-of trend (one point per Jalali quarter since 1401), the public overview and agency
   pages through Django's test client, and the quarterly report PDF (WeasyPrint).

Goals checked: all indicators as of a date <= 1 s; quarterly PDF <= 10 s. The exit status is
0 either way; the figures are what matter.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

INDICATORS_GOAL_S = 1.0
PDF_GOAL_S = 10.0
ROOT = Path(__file__).resolve().parents[2]


def timed(fn, rounds: int) -> tuple[float, float, float]:
    """(first, median of the rest, max of the rest) in seconds."""
    started = time.perf_counter()
    fn()
    first = time.perf_counter() - started
    rest = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        rest.append(time.perf_counter() - started)
    return first, statistics.median(rest), max(rest)


def add_exchange_month(month: str, rows: int, seed: int = 1404) -> int:
    """A month of exchange roll-ups between in-scope agencies (benchmark data only)."""
    from panjereh.catalogue.models import Agency
    from panjereh.exchange.models import MonthlyStat

    rng = random.Random(seed)
    agencies = list(Agency.objects.filter(in_scope=True).values_list("pk", flat=True))
    providers = rng.sample(agencies, min(120, len(agencies)))
    batch = []
    for _ in range(rows):
        calls = int(rng.lognormvariate(7, 2))
        batch.append(
            MonthlyStat(
                month=month,
                provider_id=rng.choice(providers),
                consumer_id=rng.choice(agencies),
                calls=calls,
                failures=int(calls * rng.random() * 0.05),
            )
        )
    MonthlyStat.objects.bulk_create(batch, batch_size=5000)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--exchange-rows", type=int, default=20_000)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="panjereh-oversight-bench-"))
    os.environ.update(
        {
            "PANJEREH_VAR": str(workdir),
            "PANJEREH_MODE": "demo",
            "DJANGO_SETTINGS_MODULE": "panjereh.conf.settings",
        }
    )
    os.environ.pop("DATABASE_URL", None)
    sys.path.insert(0, str(ROOT / "src"))
    try:
        run(args)
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def run(args) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from panjereh.catalogue import dataset
    from panjereh.common import jalali
    from panjereh.oversight import indicators, obligations, reports, series

    print(
        f"# Oversight benchmark ({platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} cores, SQLite)"
    )
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    seeded = dataset.seed("national")
    add_exchange_month("1404-03", args.exchange_rows)
    obligations.seed()
    obligations.generate_due(jalali.to_gregorian("1404-03-31"))
    print(f"setup: {seeded.agencies} agencies, {seeded.services} cards, {seeded.versions} versions, "
          f"{args.exchange_rows} exchange roll-up rows in {time.perf_counter() - started:.1f} s")  # fmt: skip

    as_of = jalali.end_of_day("1404-03-31")
    result = indicators.compute(as_of)
    n = result.national
    print(
        "figures as of 1404-03-31: connected {}/{} ({}%), smart {}/{} ({}%), agencies {}/{}, "
        "buckets {}/{} and {}/{}/{}, under 20% smart {} of {}".format(
            n["connection_rate"].numerator, n["connection_rate"].denominator, n["connection_rate"].value,
            n["smart_rate"].numerator, n["smart_rate"].denominator, n["smart_rate"].value,
            n["agencies_connected"].numerator, n["agencies_connected"].denominator,
            n["connection_full"].numerator, n["connection_low"].numerator, n["smart_full"].numerator,
            n["smart_low_nonzero"].numerator, n["smart_zero"].numerator,
            n["smart_low"].numerator, n["smart_low"].denominator,
        )
    )  # fmt: skip

    rows = []
    first, median, worst = timed(lambda: indicators.compute(as_of), args.rounds)
    rows.append(("all indicators as of 1404-03-31", first, median, worst, INDICATORS_GOAL_S))
    first, median, worst = timed(lambda: indicators.compute(None), args.rounds)
    rows.append(("all indicators now (current rows)", first, median, worst, INDICATORS_GOAL_S))

    from django.core.cache import cache

    def trend() -> None:
        cache.clear()
        series.national(jalali.parse("1404-03-31"))

    first, median, worst = timed(trend, 3)
    rows.append(("trend, 13 quarters 1401-Q1..1404-Q1 (uncached)", first, median, worst, None))

    client = Client()
    code = result.agencies[0].info.code

    def page(url: str):
        def get() -> None:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)

        return get

    for label, url in [
        ("page /transparency/ as of 1404-03-31", "/transparency/?as_of=1404-03-31"),
        ("page /transparency/agencies/", "/transparency/agencies/?as_of=1404-03-31"),
        ("page /transparency/agencies/<code>/", f"/transparency/agencies/{code}/?as_of=1404-03-31"),
        ("open data agencies.csv", "/transparency/open-data/agencies.csv?as_of=1404-03-31"),
    ]:
        cache.clear()
        first, median, worst = timed(page(url), args.rounds)
        rows.append((label + " (first uncached)", first, median, worst, None))

    first, median, worst = timed(lambda: reports.quarterly_pdf(1404, 1), 2)
    rows.append(("quarterly report PDF 1404-Q1", first, median, worst, PDF_GOAL_S))
    size = len(reports.quarterly_pdf(1404, 1))

    print()
    print("| measurement | first (s) | median (s) | max (s) | goal |")
    print("|---|---:|---:|---:|---|")
    for label, first, median, worst, goal in rows:
        verdict = ""
        if goal is not None:
            verdict = f"≤ {goal:g} s: {'met' if max(first, worst) <= goal else 'NOT met'}"
        print(f"| {label} | {first:.3f} | {median:.3f} | {worst:.3f} | {verdict} |")
    print(f"\nPDF size: {size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
