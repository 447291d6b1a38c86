"""Monthly exchange statistics over a ten-million-record message log.

Run with ``.venv/bin/python benchmarks/exchange/stats10m.py``. Everything happens in a temporary
directory (a throw-away SQLite file) removed at the end; nothing listens on the network.

1. Migrate; create 6 provider agencies with 12 data services and 40 consumer agencies (each
   calling 3 services, 120 provider × consumer × service pairs), plus 10 in-scope agencies
   with a consumer system that never call (the "not connected / under 100 calls" test).
2. Insert ``--records`` log records (default 10,000,000) into one Jalali month, generated
   inside SQLite by a recursive CTE (``INSERT … SELECT`` in chunks of ``--chunk`` rows, so no
   Python object per record) with ``journal_mode=OFF``, ``synchronous=OFF`` and the log's
   secondary indexes dropped, then the ``created_at`` index the roll-up uses is rebuilt (the
   other indexes serve other questions and are left out of this throw-away file). Outcomes:
   97 % answered, 2 % provider failures, 1 % refused; latencies 0.5–2.5 ms with a 1 % tail up
   to 3 s. Stops inserting when ``--budget`` seconds run out and says so.
3. Time the roll-up of the month (``stats.rollup``: one pass over the month's records, a
   batch job), then the month's statistics as the operator and oversight read them
   (``queries.totals``, ``queries.monthly``, ``queries.low_activity``, the per-provider and
   per-consumer totals), then the operator's statistics page itself (``/en/exchange/statistics/``
   through Django's test client, with the seal status). The goal is the month's statistics in
   ≤ 1 s over 10 million records; the ratio printed is roll-up time / statistics time.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GOAL_S = 1.0
PROVIDERS = 6
SERVICES_PER_PROVIDER = 2
CONSUMERS = 40
SERVICES_PER_CONSUMER = 3
IDLE_AGENCIES = 10


def setup() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "panjereh.conf.settings")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def make_agencies() -> tuple[list[int], list[int], list[int]]:
    """Providers' data services, consumers and idle agencies; returns (services, consumers,
    service→provider list aligned with services)."""
    from panjereh.catalogue import operations
    from panjereh.catalogue.models import Agency
    from panjereh.exchange import provision
    from panjereh.exchange.client import generate_key, public_jwks
    from panjereh.exchange.models import DataService

    def agency(code: str, n: int) -> Agency:
        return operations.save_agency(
            Agency(),
            {
                "code": code,
                "name_fa": f"دستگاه {code}",
                "name_en": f"Agency {code}",
                "kind": "organisation",
                "connection_status": "connected",
                "connection_form": "direct",
                "member_code": f"{n:08d}",
            },
        )

    services, providers_of = [], []
    for p in range(PROVIDERS):
        provider = agency(f"provider-{p}", 10_000 + p)
        for s in range(SERVICES_PER_PROVIDER):
            service = DataService.objects.create(
                provider=provider,
                subsystem=f"registry-{p}",
                code=f"service-{s}",
                title_fa=f"خدمت داده {p}-{s}",
                items=[{"code": "civil.identity", "fields": ["name"]}],
                upstream_base_url="http://127.0.0.1:9/",
            )
            services.append(service.pk)
            providers_of.append(provider.pk)
    consumers = []
    jwks = public_jwks(generate_key())
    for c in range(CONSUMERS):
        consumer = agency(f"consumer-{c}", 20_000 + c)
        provision.register_consumer(consumer, "portal", jwks)
        consumers.append(consumer.pk)
    for i in range(IDLE_AGENCIES):
        idle = agency(f"idle-{i}", 30_000 + i)
        provision.register_consumer(idle, "portal", jwks)
    return services, consumers, providers_of


def drop_secondary_indexes(cursor, table: str) -> list[str]:
    cursor.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL",
        [table],
    )
    names = [row[0] for row in cursor.fetchall()]
    for name in names:
        cursor.execute(f'DROP INDEX "{name}"')
    return names


def insert_records(records: int, chunk: int, budget_s: float, month: str, layout) -> dict:
    """Generate the month's records inside SQLite, ``chunk`` rows per statement."""
    from django.db import connection, transaction

    from panjereh.exchange import stats
    from panjereh.exchange.models import LogRecord

    services, consumers, providers_of = layout
    table = LogRecord._meta.db_table
    start, end = stats.month_bounds(month)
    start_epoch = int(start.timestamp())
    span = int((end - start).total_seconds()) - 1
    # Each consumer calls SERVICES_PER_CONSUMER services: pair k → (consumer, service).
    pairs = [
        (consumers[c], services[(c * 7 + j) % len(services)])
        for c in range(len(consumers))
        for j in range(SERVICES_PER_CONSUMER)
    ]
    pair_consumer = " ".join(f"WHEN {k} THEN {c}" for k, (c, _s) in enumerate(pairs))
    pair_service = " ".join(f"WHEN {k} THEN {s}" for k, (_c, s) in enumerate(pairs))
    service_provider = " ".join(
        f"WHEN {s} THEN {p}" for s, p in zip(services, providers_of, strict=True)
    )
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode = OFF")
        cursor.execute("PRAGMA synchronous = OFF")
        cursor.execute("PRAGMA foreign_keys = OFF")
        cursor.execute("PRAGMA cache_size = -524288")  # 512 MB
        cursor.execute("PRAGMA temp_store = MEMORY")
        dropped = drop_secondary_indexes(cursor, table)
    # h: a multiplicative hash of the row number (Knuth), so outcomes and latencies look
    # random but are reproducible.
    sql = f"""
        INSERT INTO {table} (
            created_at, x_road_id, incident, client, consumer_id, consumer_system_id,
            provider_id, service_id, grant_id, method, path, subject, issue, purpose, items,
            outcome, fault, reason, http_status, latency_us, request_hash, response_hash,
            seq, hash)
        WITH RECURSIVE n(i) AS (
            SELECT %s UNION ALL SELECT i + 1 FROM n WHERE i < %s
        ), r AS (
            SELECT i, (i * 2654435761) % 4294967296 AS h, i % {len(pairs)} AS k FROM n
        ), s AS (
            SELECT i, h, CASE k {pair_consumer} END AS consumer,
                   CASE k {pair_service} END AS service FROM r
        )
        SELECT datetime({start_epoch} + (i * {span}) / %s, 'unixepoch'),
               printf('b%%012d', i), '', 'IR/GOV/bench/portal', consumer, NULL,
               CASE service {service_provider} END, service, NULL, 'GET', 'bench',
               printf('%%010d', h % 10000000000), '', '', '["civil.identity"]',
               CASE WHEN h % 100 < 97 THEN 'ok' WHEN h % 100 < 99 THEN 'provider_error'
                    ELSE 'refused' END,
               CASE WHEN h % 100 < 97 THEN '' WHEN h % 100 < 99 THEN 'provider' ELSE 'consumer'
                    END,
               CASE WHEN h % 100 < 97 THEN '' WHEN h % 100 < 99 THEN 'provider_error'
                    ELSE 'no_grant' END,
               CASE WHEN h % 100 < 97 THEN 200 WHEN h % 100 < 99 THEN 502 ELSE 403 END,
               CASE WHEN (h / 100) % 100 = 0 THEN 500 + (h / 10000) % 3000000
                    ELSE 500 + (h / 10000) % 2000 END,
               '0000000000000000000000000000000000000000000000000000000000000000', '',
               NULL, ''
        FROM s
    """  # noqa: S608 -- numbers and names from this script only
    begun = time.perf_counter()
    inserted = 0
    while inserted < records and time.perf_counter() - begun < budget_s:
        size = min(chunk, records - inserted)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [inserted, inserted + size - 1, records])
        inserted += size
    insert_s = time.perf_counter() - begun
    begun = time.perf_counter()
    with connection.cursor() as cursor:
        index = LogRecord._meta.indexes[1]  # (created_at), the roll-up's range
        cursor.execute(f'CREATE INDEX "{index.name}" ON {table} (created_at)')
        cursor.execute(f"ANALYZE {table}")
    index_s = time.perf_counter() - begun
    return {
        "records": inserted,
        "asked": records,
        "insert_s": insert_s,
        "index_s": index_s,
        "dropped": len(dropped),
        "pairs": len(pairs),
    }


def time_statistics(month: str) -> dict:
    from django.test import Client

    from panjereh.exchange import queries, stats
    from panjereh.identity.models import User

    begun = time.perf_counter()
    rows = stats.rollup(month)
    rollup_s = time.perf_counter() - begun

    def read() -> dict:
        return {
            "totals": queries.totals(month),
            "monthly": queries.monthly(month),
            "flagged": queries.low_activity(month),
            "providers": queries.provider_totals(month),
            "consumers": queries.consumer_totals(month),
        }

    read()  # the first read pays for imports and the page cache, as a running server has
    timings = []
    for _ in range(5):
        begun = time.perf_counter()
        figures = read()
        timings.append(time.perf_counter() - begun)
    operator = User.objects.create_superuser("bench-operator", password=None)
    client = Client()
    client.force_login(operator)
    url = f"/en/exchange/statistics/?month={month}"
    response = client.get(url)
    page_ok = response.status_code == 200
    page_timings = []
    for _ in range(5):
        begun = time.perf_counter()
        response = client.get(url)
        page_timings.append(time.perf_counter() - begun)
        page_ok = page_ok and response.status_code == 200
    return {
        "rollup_s": rollup_s,
        "rollup_rows": rows,
        "query_s": sorted(timings)[len(timings) // 2],
        "query_max_s": max(timings),
        "page_s": sorted(page_timings)[len(page_timings) // 2],
        "page_max_s": max(page_timings),
        "page_ok": page_ok,
        "calls": figures["totals"]["calls"],
        "failures": figures["totals"]["failures"],
        "quality": figures["totals"]["quality"],
        "rows": len(figures["monthly"]),
        "flagged": len(figures["flagged"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000_000)
    parser.add_argument("--chunk", type=int, default=1_000_000)
    parser.add_argument(
        "--budget", type=float, default=600.0, help="Seconds at most for inserting the records."
    )
    parser.add_argument("--month", default="", help="Jalali month, e.g. 1404-07 (default: now)")
    args = parser.parse_args()

    var = Path(tempfile.mkdtemp(prefix="panjereh-bench-stats10m-"))
    os.environ["PANJEREH_VAR"] = str(var)
    os.environ["PANJEREH_HOME"] = str(var)
    os.environ.setdefault("PANJEREH_MODE", "demo")
    os.environ.pop("DATABASE_URL", None)  # a throw-away SQLite file, whatever the shell says
    sys.path.insert(0, str(ROOT / "src"))
    try:
        started = time.perf_counter()
        setup()
        from django.utils import timezone

        from panjereh.exchange import stats

        month = args.month or stats.month_key(timezone.now())
        layout = make_agencies()
        inserted = insert_records(args.records, args.chunk, args.budget, month, layout)
        size_mb = (var / "panjereh.sqlite3").stat().st_size / 1e6
        timed = time_statistics(month)
        total_s = time.perf_counter() - started
    finally:
        shutil.rmtree(var, ignore_errors=True)

    ratio = timed["rollup_s"] / timed["query_s"] if timed["query_s"] else 0.0
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print("database: SQLite (throw-away file, journal off)")
    print(
        f"log records in month {month}: {inserted['records']:,}"
        + (
            f" (of {inserted['asked']:,} asked: the time budget ran out)"
            if inserted["records"] < inserted["asked"]
            else ""
        )
        + f", {inserted['pairs']} provider×consumer×service pairs, file {size_mb:,.0f} MB"
    )
    print(
        f"insert: {inserted['insert_s']:.1f} s "
        f"({inserted['records'] / max(inserted['insert_s'], 1e-9):,.0f} records/s); "
        f"created_at index rebuilt in {inserted['index_s']:.1f} s"
    )
    print(
        f"roll-up (batch job, one pass over the month): {timed['rollup_s']:.2f} s "
        f"-> {timed['rollup_rows']} rows"
    )
    print(
        f"monthly statistics (totals, {timed['rows']} rows, {timed['flagged']} flagged agencies, "
        f"per-provider and per-consumer totals) from the roll-up: "
        f"median {timed['query_s'] * 1000:.1f} ms, max {timed['query_max_s'] * 1000:.1f} ms "
        f"(goal <= {GOAL_S:.0f} s: {'met' if timed['query_max_s'] <= GOAL_S else 'NOT met'})"
    )
    print(
        f"operator's statistics page: median {timed['page_s'] * 1000:.1f} ms, "
        f"max {timed['page_max_s'] * 1000:.1f} ms"
        + ("" if timed["page_ok"] else " (the page did NOT answer 200)")
    )
    quality = timed["quality"]
    print(
        f"month: {timed['calls']:,} calls, {timed['failures']:,} failures, quality "
        f"{quality * 100 if quality is not None else 0:.2f} %"
    )
    print(f"ratio roll-up / statistics read: {ratio:,.0f}x")
    print(f"total run: {total_s:.0f} s")


if __name__ == "__main__":
    main()
