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


def _fast_sqlite() -> None:
    from django.db import connection

    if connection.vendor == "sqlite":
        with connection.cursor() as cur:
            cur.execute("PRAGMA synchronous=OFF")
            cur.execute("PRAGMA journal_mode=MEMORY")
            cur.execute("PRAGMA cache_size=-200000")


def _ts(value) -> str:
    """A UTC timestamp as Django stores it in SQLite."""
    import datetime as dt

    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def add_log_records(months: list[str], n: int, seed: int = 7) -> int:
    """``n`` exchange log records spread over ``months`` (raw executemany, benchmark only)."""
    import hashlib

    from django.db import connection, transaction

    from panjereh.catalogue.models import Agency
    from panjereh.exchange import stats
    from panjereh.exchange.models import LogRecord

    rng = random.Random(seed)
    agencies = list(Agency.objects.filter(in_scope=True).values_list("pk", flat=True))
    providers = rng.sample(agencies, min(40, len(agencies)))
    consumers = rng.sample(agencies, min(80, len(agencies)))
    table = LogRecord._meta.db_table
    cols = (
        "created_at, x_road_id, incident, client, consumer_id, provider_id, method, path, "
        "subject, issue, purpose, items, outcome, fault, reason, http_status, latency_us, "
        "request_hash, response_hash, hash"
    )
    sql = f"INSERT INTO {table} ({cols}) VALUES ({', '.join(['%s'] * 20)})"  # noqa: S608 (table name from the model)
    digest = hashlib.sha256(b"bench").hexdigest()
    outcomes = ["ok"] * 90 + ["not_found"] * 5 + ["provider_error"] * 3 + ["refused"] * 2
    bounds = [stats.month_bounds(m) for m in months]
    done = 0
    batch = 50_000
    with transaction.atomic(), connection.cursor() as cur:
        while done < n:
            rows = []
            for i in range(done, min(n, done + batch)):
                start, end = bounds[i % len(bounds)]
                at = start + (end - start) * rng.random()
                outcome = rng.choice(outcomes)
                rows.append((
                    _ts(at), f"bench-{i:030d}", "", "bench", rng.choice(consumers),
                    rng.choice(providers), "GET", "/r", "", "", "", "[]", outcome, "", "",
                    200, 1000 * rng.randint(5, 120), digest, "", "",
                ))  # fmt: skip
            cur.executemany(sql, rows)
            done += len(rows)
    return done


def add_journeys(months: list[str], events: int, seed: int = 9) -> tuple[int, int]:
    """Applications and their journey events (about five per application: submitted, three
    state changes, a rating for most) spread over ``months``; raw executemany, benchmark only.
    Returns (applications, journey events)."""
    import datetime as dt

    from django.db import connection, transaction

    from panjereh.catalogue.models import Service
    from panjereh.identity.models import User
    from panjereh.oversight.servperf import month_bounds
    from panjereh.services.models import Application, JourneyEvent, ServiceDefinition

    rng = random.Random(seed)
    services = list(
        Service.objects.filter(connected=True, service_id__isnull=False)
        .order_by("pk")
        .values_list("pk", "agency_id", "title_fa")[:300]
    )
    defs = ServiceDefinition.objects.bulk_create(
        [
            ServiceDefinition(
                code=f"bench-{pk}", version=1, service_id=pk, agency_id=agency, title_fa=title,
                spec={}, digest="0" * 64,
            )
            for pk, agency, title in services
        ]
    )  # fmt: skip
    defs = list(
        ServiceDefinition.objects.filter(code__startswith="bench-").values_list("pk", "agency_id")
    )
    user = User.objects.create(username="bench", national_code="0000000000")
    a_table, e_table = Application._meta.db_table, JourneyEvent._meta.db_table
    a_sql = (
        f"INSERT INTO {a_table} (id, tracking_code, definition_id, agency_id, user_id, "  # noqa: S608
        "subject_code, origin, idempotency_key, inputs, state, waiting_for, review_reason, "
        "decision, decision_reasons, attempts, submitted_at, due_at, completed_at, rating) "
        f"VALUES ({', '.join(['%s'] * 19)})"
    )
    e_sql = (
        f"INSERT INTO {e_table} (application_id, at, kind, from_state, to_state, text_fa, "  # noqa: S608
        "text_en, data) VALUES (%s, %s, %s, %s, %s, '', '', '{}')"
    )
    bounds = [month_bounds(m) for m in months]
    apps_done = ev_done = 0
    with transaction.atomic(), connection.cursor() as cur:
        while ev_done < events:
            a_rows, e_rows = [], []
            while len(e_rows) < 50_000 and ev_done + len(e_rows) < events:
                apps_done += 1
                i = apps_done
                definition, agency = defs[i % len(defs)]
                start, end = bounds[i % len(bounds)]
                at = start + (end - start) * rng.random()
                done_at = at + dt.timedelta(minutes=rng.randint(1, 60 * 24 * 5))
                finished = rng.random() < 0.9
                state = (
                    ("issued" if rng.random() < 0.85 else "rejected")
                    if finished
                    else "human_review"
                )
                rating = (
                    rng.choice([1, 2, 3, 4, 4, 5, 5, 5])
                    if finished and rng.random() < 0.6
                    else None
                )
                a_rows.append((
                    i, f"B{i:012d}", definition, agency, user.pk, "0000000000", "citizen",
                    str(i), "{}", state, "", "", "", "[]", 0, _ts(at),
                    _ts(at + dt.timedelta(minutes=5)), _ts(done_at) if finished else None, rating,
                ))  # fmt: skip
                e_rows.append((i, _ts(at), "submitted", "", ""))
                e_rows.append((i, _ts(at), "state", "submitted", "fetching"))
                if finished:
                    e_rows.append((i, _ts(at), "state", "fetching", "deciding"))
                    e_rows.append((i, _ts(done_at), "state", "deciding", state))
                    if rating:
                        e_rows.append((i, _ts(done_at + dt.timedelta(hours=1)), "rated", "", ""))
                else:
                    e_rows.append((i, _ts(at), "state", "fetching", "human_review"))
            cur.executemany(a_sql, a_rows)
            cur.executemany(e_sql, e_rows)
            ev_done += len(e_rows)
    return apps_done, ev_done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--exchange-rows", type=int, default=20_000)
    parser.add_argument(
        "--log-records", type=int, default=5_000_000, help="exchange log records (raw)"
    )
    parser.add_argument(
        "--journey-records", type=int, default=5_000_000, help="journey events (raw)"
    )
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

    from panjereh.catalogue.models import Service
    from panjereh.common import jalali
    from panjereh.demo import dataset
    from panjereh.oversight import indicators, obligations, reports, series

    print(
        f"# Oversight benchmark ({platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} cores, SQLite)"
    )
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    seeded = dataset.seed("national")
    _fast_sqlite()
    add_exchange_month("1404-03", args.exchange_rows)
    obligations.seed()
    obligations.generate_due(jalali.to_gregorian("1404-03-31"))
    print(f"setup: {seeded.agencies} agencies, {seeded.services} cards, {seeded.versions} versions, "
          f"{args.exchange_rows} exchange roll-up rows in {time.perf_counter() - started:.1f} s")  # fmt: skip

    from panjereh.exchange import stats
    from panjereh.oversight import servperf
    from panjereh.oversight.models import ServiceTransactions

    months = ["1404-02", "1404-03"]
    started = time.perf_counter()
    logs = add_log_records(months, args.log_records)
    t_logs = time.perf_counter() - started
    started = time.perf_counter()
    applications, journeys = add_journeys(months, args.journey_records)
    t_journeys = time.perf_counter() - started
    print(f"generated {logs:,} exchange log records in {t_logs:.1f} s, {journeys:,} journey "
          f"events ({applications:,} applications) in {t_journeys:.1f} s")  # fmt: skip
    # The benchmark's synthetic roll-ups of 1404-03 are replaced by the real roll-up of the log.
    from panjereh.exchange.models import MonthlyStat

    MonthlyStat.objects.filter(month="1404-03").delete()
    for month in months:
        started = time.perf_counter()
        stats.rollup(month)
        t_ex = time.perf_counter() - started
        started = time.perf_counter()
        servperf.rollup(month)
        t_j = time.perf_counter() - started
        print(f"roll-up {month}: exchange {t_ex:.1f} s, journeys {t_j:.1f} s")
    # The nightly job also rolls up the last complete month, which "now" reads.
    from django.utils import timezone

    from panjereh.oversight import sources

    started = time.perf_counter()
    current = sources.report_month(timezone.now())
    servperf.rollup(current)
    print(f"roll-up {current} (the report month of now): {time.perf_counter() - started:.1f} s")
    # A few agencies' entries of offline transactions and costs.
    for pk, agency in list(
        Service.objects.filter(definitions__code__startswith="bench-").values_list(
            "pk", "agency_id"
        )
    )[:100]:
        ServiceTransactions.objects.create(
            service_id=pk, agency_id=agency, month="1404-03",
            offline_transactions=random.randint(0, 5000), cost_rials=random.randint(10**6, 10**9),
        )  # fmt: skip

    as_of = jalali.end_of_day("1404-03-31")
    started = time.perf_counter()
    direct = servperf.compute(jalali.end_of_day("1404-03-31"))
    # (the roll-up is read: it was computed after the as-of moment)
    t_perf = time.perf_counter() - started
    n = direct.national.values()
    print(
        f"service performance 1404-03: {len(direct.services)} services, completion "
        f"{n['completion_rate'].value}% ({n['completion_rate'].numerator:,}/"
        f"{n['completion_rate'].denominator:,}), satisfaction {n['user_satisfaction'].value}%, "
        f"take-up {n['digital_takeup'].value}%, cost/tx {n['cost_per_transaction'].value} rials "
        f"({t_perf:.3f} s from the roll-up)"
    )
    started = time.perf_counter()
    log_counts = servperf.rows_from_applications(
        *servperf.month_bounds("1404-03"), jalali.end_of_day("1404-03-31")
    )
    t_log = time.perf_counter() - started
    print(f"the same counts straight from the journey log (no roll-up): {t_log:.1f} s; equal: "
          f"{log_counts == servperf.rows_from_rollup('1404-03', as_of)}")  # fmt: skip
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
        ("page /transparency/services/", "/transparency/services/?as_of=1404-03-31"),
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
