"""Exchange benchmark: one provider called directly, then through the gateway, on loopback.

Run with ``.venv/bin/python benchmarks/exchange/run.py``. Everything happens in a temporary
directory (SQLite database unless ``DATABASE_URL`` is set, the log signing key) removed at the
end; the registry and the gateway bind 127.0.0.1 on free ports and are stopped by their PIDs.

1. Migrate, start the civil registry (a real process), register it, a consumer system with an
   Ed25519 key, and an approved grant for two of the identity service's four items.
2. Start the gateway (``panjereh serve``: Granian, 2 workers × 8 threads) with every check on:
   signed client assertion (verified, ``jti`` replay-protected), rate limit, grant, item
   filtering, and one durable log insert per call (background sealing every 5 s).
3. Latency: ``--latency-calls`` sequential calls each way; added latency = gateway − direct
   at p50 and p99.
4. Throughput: ``--threads`` client threads, direct and through-the-gateway phases alternating
   (``--rounds`` pairs, ``--seconds`` per path in all); the ratio is the median of the pairs.
5. Statistics: ``--stats-records`` synthetic log records (default 10,000,000; COPY on
   PostgreSQL, executemany on SQLite; fewer if inserting takes longer than ``--stats-budget``
   seconds), rolled up, then the monthly queries timed.

Client assertions are signed before each timed phase, so the figures measure the exchange,
not the client's signing. Direct and through-the-gateway calls use the same client (httpx, a
kept-alive connection per client thread). The clients and the servers share the machine's cores.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/benchlib.py
from benchlib import LoadClient, free_port, percentile, process_cpu, stop_server, wait_http

ROOT = Path(__file__).resolve().parents[2]
THROUGHPUT_GOAL = 0.5
ADDED_P50_GOAL_MS = 3.0
STATS_GOAL_S = 1.0


def setup(var: Path) -> dict:
    """Migrate and provision in this process (Django configured for the temporary VAR)."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "panjereh.conf.settings")
    django.setup()
    import datetime as dt

    from django.core.management import call_command
    from django.utils import timezone

    from panjereh.catalogue import operations, roles
    from panjereh.catalogue.models import Agency, Service
    from panjereh.exchange import grants, provision
    from panjereh.exchange.client import generate_key, public_jwks

    call_command("migrate", verbosity=0, interactive=False)
    return {
        "Agency": Agency,
        "Service": Service,
        "operations": operations,
        "SYSTEM": roles.SYSTEM,
        "grants": grants,
        "provision": provision,
        "generate_key": generate_key,
        "public_jwks": public_jwks,
        "timezone": timezone,
        "dt": dt,
    }


def provision_exchange(env: dict, registry_url: str) -> tuple:
    operations = env["operations"]
    services = env["provision"].register_registry(registry_url)
    identity = next(s for s in services if s.code == "identity")
    consumer = operations.save_agency(
        env["Agency"](),
        {
            "code": "bench-consumer",
            "name_fa": "دستگاه آزمایشی",
            "name_en": "Benchmark consumer",
            "kind": "organisation",
            "member_code": "10999999999",
        },
        author=env["SYSTEM"],
    )
    purpose = operations.save_service(
        env["Service"](agency=consumer),
        {"title_fa": "خدمت آزمایشی", "title_en": "Benchmark service", "recipients": ["G2C"]},
        author=env["SYSTEM"],
    )
    key = env["generate_key"]()
    system = env["provision"].register_consumer(consumer, "bench", env["public_jwks"](key))
    system.rate_per_minute = 10_000_000
    system.save()
    grant = env["grants"].request_grant(
        consumer, identity, ["civil.identity", "civil.birth_date"], purpose, actor=env["SYSTEM"]
    )
    today = env["timezone"].localdate()
    env["grants"].approve(
        grant,
        resolution_number="bench/1",
        resolution_session="1",
        resolution_date=today,
        valid_until=today + env["dt"].timedelta(days=30),
        actor=env["SYSTEM"],
    )
    return identity, system, key


class LeanClient:
    """``--client lean``: the same ``get(url, headers=…)`` as httpx's client over
    ``benchlib.LoadClient`` (``http.client``, one kept-alive connection per server), which
    costs the shared cores about a quarter of httpx's CPU per call."""

    def __init__(self) -> None:
        self._clients: dict[str, LoadClient] = {}

    def get(self, url: str, headers: dict | None = None):
        from types import SimpleNamespace
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        base = f"{parts.scheme}://{parts.netloc}"
        client = self._clients.get(base)
        if client is None:
            client = self._clients[base] = LoadClient(base, timeout=10.0)
        status, _body = client.request("GET", parts.path, headers=headers)
        return SimpleNamespace(status_code=status)

    def __enter__(self) -> LeanClient:
        return self

    def __exit__(self, *exc) -> None:
        for client in self._clients.values():
            client.close()


CLIENT = "httpx"  # set from --client


def run_phase(make_request, threads: int, seconds: float, calls: int) -> dict:
    """Drive ``make_request(client, n)`` from ``threads`` threads until the time or call budget."""
    import httpx

    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    counter = iter(range(calls))
    deadline = time.monotonic() + seconds

    def worker() -> None:
        nonlocal errors
        local: list[float] = []
        bad = 0
        client_context = (
            LeanClient() if CLIENT == "lean" else httpx.Client(trust_env=False, timeout=10.0)
        )
        with client_context as client:
            while time.monotonic() < deadline:
                with lock:
                    n = next(counter, None)
                if n is None:
                    break
                started = time.perf_counter()
                response = make_request(client, n)
                local.append((time.perf_counter() - started) * 1000)
                if response.status_code != 200:
                    bad += 1
        with lock:
            latencies.extend(local)
            errors += bad

    started = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    return {
        "calls": len(latencies),
        "errors": errors,
        "seconds": elapsed,
        "rps": len(latencies) / elapsed if elapsed else 0.0,
        "p50_ms": percentile(latencies, 0.50),
        "p99_ms": percentile(latencies, 0.99),
    }


def stats_benchmark(records: int, budget_s: float, provider, service, consumer) -> dict:
    """Insert ``records`` synthetic log rows over one Jalali month (stopping early if that takes
    longer than ``budget_s``), roll up, time the monthly queries.

    Rows go in the fast way of each database: ``COPY`` on PostgreSQL, ``executemany`` of one
    prepared INSERT (in transactions of 50,000) on SQLite; the values are computed from the row
    number (no random generator, no model instances), the timestamps adapted by Django once.
    """
    import datetime as dt

    from django.db import connection, transaction
    from django.utils import timezone

    from panjereh.exchange import queries, stats
    from panjereh.exchange.models import LogRecord

    month = stats.month_key(timezone.now())
    start, end = stats.month_bounds(month)
    span = (end - start).total_seconds() - 1
    postgres = connection.vendor == "postgresql"
    fields = [f for f in LogRecord._meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 -- model names
        quote(LogRecord._meta.db_table),
        ", ".join(quote(f.column) for f in fields),
        ", ".join(["%s"] * len(fields)),
    )
    names = [f.attname for f in fields]
    template = {
        "incident": "",
        "client": "IR/GOV/10999999999/bench",
        "consumer_id": consumer,
        "consumer_system_id": None,
        "provider_id": provider,
        "service_id": service,
        "grant_id": None,
        "method": "GET",
        "path": "bench",
        "issue": "",
        "purpose": "",
        "items": '["civil.identity"]',
        "fault": "",
        "reason": "",
        "http_status": 200,
        "request_hash": "0" * 64,
        "response_hash": "",
        "seq": None,
        "hash": "",
    }
    slots = {name: i for i, name in enumerate(names)}
    base = [template.get(name) for name in names]
    # 100,003 distinct instants spread over the month, adapted for the database once.
    instants = []
    for k in range(100_003):
        moment = start + dt.timedelta(seconds=span * k / 100_003, microseconds=1)
        instants.append(moment if postgres else connection.ops.adapt_datetimefield_value(moment))
    outcomes = ["ok"] * 97 + ["provider_error"] * 2 + ["refused"]
    at, xid, subject = slots["created_at"], slots["x_road_id"], slots["subject"]
    outcome, latency = slots["outcome"], slots["latency_us"]

    def row(i: int) -> list:
        values = base.copy()
        values[at] = instants[min(100_002, i * 100_003 // records)]  # append-only: in time order
        values[xid] = f"bench-{i:030d}"
        values[subject] = f"{(i * 2654435761) % 10**10:010d}"
        values[outcome] = outcomes[(i * 31) % 100]
        values[latency] = 1_000 + (i * 7907) % 49_000
        return values

    if not postgres:
        with connection.cursor() as cursor:  # a 256 MB page cache for the index inserts
            cursor.execute("PRAGMA cache_size = -262144")
    begun = time.perf_counter()
    inserted = 0
    chunk = 50_000
    copy_sql = "COPY {} ({}) FROM STDIN".format(
        quote(LogRecord._meta.db_table), ", ".join(quote(f.column) for f in fields)
    )
    while inserted < records and time.perf_counter() - begun < budget_s:
        size = min(chunk, records - inserted)
        rows = [row(i) for i in range(inserted, inserted + size)]
        with transaction.atomic(), connection.cursor() as cursor:
            if postgres:
                with cursor.cursor.copy(copy_sql) as copy:
                    for values in rows:
                        copy.write_row(values)
            else:
                cursor.executemany(sql, rows)
        inserted += size
    insert_s = time.perf_counter() - begun
    begun = time.perf_counter()
    stats.rollup(month)
    rolled = time.perf_counter() - begun
    begun = time.perf_counter()
    rows_ = queries.monthly(month)
    totals = queries.totals(month)
    flagged = queries.low_activity(month)
    queried = time.perf_counter() - begun
    return {
        "records": inserted,
        "asked": records,
        "insert_s": insert_s,
        "rollup_s": rolled,
        "query_s": queried,
        "rows": len(rows_),
        "calls_in_month": totals["calls"],
        "flagged": len(flagged),
    }


BEGIN = "<!-- exchange-benchmark:begin -->"
END = "<!-- exchange-benchmark:end -->"
INTRO = """## Exchange

`benchmarks/exchange/run.py`: the civil registry's identity service (a separate process, stdlib
threaded WSGI server with HTTP/1.1 keep-alive) called directly and through the gateway (`panjereh serve`:
Granian, 2 workers × 8 threads) with every check on: signed client assertion (Ed25519, verified, `jti`
replay check), rate limit, grant (cached ≤ 1 s, invalidated by every grant change), item
filtering (2 of 4 items) and one durable log insert per call (committed before the answer
leaves), sealed in the background. Both paths use the same client (httpx, one kept-alive
connection per client thread); the gateway keeps one connection per thread to the registry.
Loopback; the client threads, the gateway and the registry share the machine's 2 cores. Goals:
throughput through the gateway ≥ 0.5 of direct, added p50 ≤ 3 ms, monthly statistics over a
10-million-record log ≤ 1 s. `benchmarks/exchange/profile_gateway.py` profiles one call's CPU.
"""


def write_docs(markdown: str, kind: str) -> None:
    """Put this run's figures into the Exchange section of docs/benchmarks.md (one subsection
    per database), leaving every other section, written by other benchmarks, alone."""
    path = ROOT / "docs" / "benchmarks.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    if BEGIN not in text or END not in text:
        text = text.rstrip() + f"\n\n{BEGIN}\n{INTRO}\n{END}\n"
    begin, end = (
        f"<!-- exchange-benchmark:{kind}:begin -->",
        f"<!-- exchange-benchmark:{kind}:end -->",
    )
    block = f"{begin}\n{markdown.rstrip()}\n{end}\n"
    if begin in text and end in text:
        before, _sep, rest = text.partition(begin)
        _old, _sep, after = rest.partition(end)
        text = before + block + after.lstrip("\n")
    else:
        before, _sep, after = text.partition(END)
        text = before.rstrip("\n") + "\n\n" + block + END + after
    path.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30.0, help="Per path, in all.")
    parser.add_argument("--calls", type=int, default=40_000, help="Per path, at most.")
    parser.add_argument("--rounds", type=int, default=5, help="Alternating phase pairs.")
    parser.add_argument("--latency-calls", type=int, default=1000)
    parser.add_argument("--stats-records", type=int, default=10_000_000)
    parser.add_argument(
        "--stats-budget",
        type=float,
        default=900.0,
        help="Seconds at most for inserting the synthetic log; fewer records if it runs out.",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--client",
        choices=["httpx", "lean"],
        default="httpx",
        help="The load generator's HTTP client for both paths: httpx (a consumer's usual "
        "library, the default) or lean (http.client; less of the shared CPU, so the direct "
        "path gains more than the gateway path and the ratio is lower).",
    )
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    global CLIENT
    CLIENT = args.client

    var = Path(tempfile.mkdtemp(prefix="panjereh-bench-exchange-"))
    os.environ["PANJEREH_VAR"] = str(var)
    os.environ["PANJEREH_HOME"] = str(var)
    os.environ.setdefault("PANJEREH_MODE", "demo")
    os.environ["PANJEREH_EXCHANGE_RATE_PER_MINUTE"] = "10000000"
    sys.path.insert(0, str(ROOT / "src"))
    server: subprocess.Popen | None = None
    cluster = None
    try:
        env = setup(var)
        from panjereh.exchange.client import make_assertion
        from panjereh.registries.population import Population
        from panjereh.registries.supervisor import Cluster

        cluster = Cluster("small", registries=("civil",)).start()
        identity, system, key = provision_exchange(env, cluster.url("civil"))
        port = free_port()
        server = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "panjereh"),
                "serve",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(args.workers),
                "--threads",
                "8",
            ],
            env={**os.environ},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        gateway = f"http://127.0.0.1:{port}"
        wait_http(f"{gateway}/r1/", 30, any_status=True)
        population = Population(size=10_000)
        codes = [population.national_code(i) for i in range(0, 10_000, 7)]
        direct_base = f"{cluster.url('civil')}/identity"
        path = f"{gateway}/r1/IR/{identity.path()}"
        client_id = system.client_id

        def tokens(count: int) -> list[str]:
            return [
                make_assertion(key, client_id, "urn:panjereh:nix", lifetime=290)
                for _ in range(count)
            ]

        def direct(client, n):
            return client.get(f"{direct_base}/{codes[n % len(codes)]}")

        def through(pool):
            def call(client, n):
                code = codes[n % len(codes)]
                return client.get(
                    f"{path}/{code}",
                    headers={
                        "Authorization": f"Bearer {pool[n]}",
                        "X-Road-Client": client_id,
                        "X-Road-UserId": code,
                        "X-Road-Issue": "BENCH",
                    },
                )

            return call

        # Warm both paths (imports, connections, caches in every worker).
        run_phase(direct, 4, 5, 200)
        run_phase(through(tokens(200)), 4, 5, 200)

        lat_direct = run_phase(direct, 1, 60, args.latency_calls)
        lat_gateway = run_phase(through(tokens(args.latency_calls)), 1, 60, args.latency_calls)
        # Throughput: direct and through-the-gateway phases alternate (--rounds pairs of
        # seconds/rounds each), so that a slow spell of the shared machine hits both paths; the
        # ratio is computed per pair and the median pair is reported with the totals.
        registry_pid = cluster.processes["civil"].pid
        rounds = max(1, args.rounds)
        per_phase = args.seconds / rounds
        pool = tokens(args.calls)
        used = 0
        direct_phases, gateway_phases, pair_ratios = [], [], []
        cpu = {"direct_registry": 0.0, "gateway_registry": 0.0, "gateway": 0.0}
        for _round in range(rounds):
            before = process_cpu(registry_pid)
            one = run_phase(direct, args.threads, per_phase, args.calls)
            cpu["direct_registry"] += process_cpu(registry_pid) - before
            direct_phases.append(one)
            before = process_cpu(registry_pid), process_cpu(server.pid)
            two = run_phase(through(pool[used:]), args.threads, per_phase, len(pool) - used)
            cpu["gateway_registry"] += process_cpu(registry_pid) - before[0]
            cpu["gateway"] += process_cpu(server.pid) - before[1]
            used += two["calls"]
            gateway_phases.append(two)
            pair_ratios.append(two["rps"] / one["rps"] if one["rps"] else 0.0)

        def combine(phases: list[dict]) -> dict:
            calls = sum(p["calls"] for p in phases)
            seconds = sum(p["seconds"] for p in phases)
            return {
                "calls": calls,
                "errors": sum(p["errors"] for p in phases),
                "seconds": seconds,
                "rps": calls / seconds if seconds else 0.0,
                "p50_ms": statistics.median(p["p50_ms"] for p in phases),
                "p99_ms": max(p["p99_ms"] for p in phases),
            }

        thr_direct = combine(direct_phases)
        thr_gateway = combine(gateway_phases)
        thr_direct["registry_cpu_ms"] = cpu["direct_registry"] * 1000 / max(1, thr_direct["calls"])
        thr_gateway["registry_cpu_ms"] = (
            cpu["gateway_registry"] * 1000 / max(1, thr_gateway["calls"])
        )
        thr_gateway["gateway_cpu_ms"] = cpu["gateway"] * 1000 / max(1, thr_gateway["calls"])
        thr_gateway["pair_ratios"] = pair_ratios

        added_p50 = lat_gateway["p50_ms"] - lat_direct["p50_ms"]
        added_p99 = lat_gateway["p99_ms"] - lat_direct["p99_ms"]
        ratio = statistics.median(pair_ratios)

        from panjereh.exchange import log

        stop_server(server)  # the statistics phase writes alone
        server = None
        log.seal_pending()
        verification = log.verify()
        stats_result = None
        if args.stats_records:
            stats_result = stats_benchmark(
                args.stats_records,
                args.stats_budget,
                identity.provider_id,
                identity.pk,
                system.agency_id,
            )

        result = {
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
            "database": "PostgreSQL" if os.environ.get("DATABASE_URL") else "SQLite (WAL)",
            "client": args.client,
            "latency_direct": lat_direct,
            "latency_gateway": lat_gateway,
            "throughput_direct": thr_direct,
            "throughput_gateway": thr_gateway,
            "ratio": ratio,
            "added_p50_ms": added_p50,
            "added_p99_ms": added_p99,
            "log_verified": verification.ok,
            "log_records": verification.checked,
            "stats": stats_result,
            "load": os.getloadavg(),
        }
        print(json.dumps(result, indent=2))
        markdown = render(result, args)
        print(markdown)
        if args.write_docs:
            kind = "postgresql" if os.environ.get("DATABASE_URL") else "sqlite"
            write_docs(markdown, kind + ("-lean" if args.client == "lean" else ""))
    finally:
        if server is not None:
            stop_server(server)
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(var, ignore_errors=True)


def render(r: dict, args) -> str:
    def ok(passed: bool) -> str:
        return "met" if passed else "**not met**"

    td, tg = r["throughput_direct"], r["throughput_gateway"]
    ld, lg = r["latency_direct"], r["latency_gateway"]
    lines = [
        f"### {r['database']}, {r['client']} client",
        "",
        f"{r['machine']}; load average after the run {', '.join(f'{x:.1f}' for x in r['load'])} "
        "(the benchmark's own load included). Load generator: "
        + (
            "httpx (kept-alive connections), sharing the cores with the servers."
            if r["client"] == "httpx"
            else "http.client (`--client lean`), sharing the cores with the servers."
        ),
        "",
        "| | direct | through the gateway |",
        "|---|---:|---:|",
        f"| throughput ({args.threads} client threads, {args.rounds} alternating rounds, "
        f"{args.seconds:.0f} s per path) | "
        f"{td['rps']:.0f} calls/s | {tg['rps']:.0f} calls/s |",
        f"| latency p50 (sequential) | {ld['p50_ms']:.2f} ms | {lg['p50_ms']:.2f} ms |",
        f"| latency p99 (sequential) | {ld['p99_ms']:.2f} ms | {lg['p99_ms']:.2f} ms |",
        f"| errors | {td['errors'] + ld['errors']} | {tg['errors'] + lg['errors']} |",
        f"| CPU per call: registry | {td['registry_cpu_ms']:.2f} ms | "
        f"{tg['registry_cpu_ms']:.2f} ms |",
        f"| CPU per call: gateway (all workers) | – | {tg['gateway_cpu_ms']:.2f} ms |",
        "",
        f"- Throughput ratio gateway/direct, median of the {len(tg['pair_ratios'])} round pairs: "
        f"**{r['ratio']:.2f}** (pairs: {', '.join(f'{x:.2f}' for x in tg['pair_ratios'])}; goal "
        f"≥ {THROUGHPUT_GOAL}: {ok(r['ratio'] >= THROUGHPUT_GOAL)}).",
        f"- Added latency: p50 **{r['added_p50_ms']:.2f} ms** (goal ≤ {ADDED_P50_GOAL_MS} ms: "
        f"{ok(r['added_p50_ms'] <= ADDED_P50_GOAL_MS)}), p99 {r['added_p99_ms']:.2f} ms.",
        f"- Message log after the run: {r['log_records']} records sealed, chain and seals "
        f"{'verified' if r['log_verified'] else '**NOT verified**'}.",
    ]
    s = r["stats"]
    if s:
        lines.append(
            f"- Monthly statistics: {s['records']:,} log records in one month (inserted in "
            f"{s['insert_s']:.0f} s"
            + (
                f", of {s['asked']:,} asked: the time budget ran out"
                if s["records"] < s["asked"]
                else ""
            )
            + f"); roll-up {s['rollup_s']:.1f} s (batch job), then the month's figures (rows, totals, "
            f"agencies under 100 calls) from the roll-up in **{s['query_s'] * 1000:.0f} ms** "
            f"(goal ≤ {STATS_GOAL_S:.0f} s: {ok(s['query_s'] <= STATS_GOAL_S)}; the query reads "
            "the roll-up, so its time does not grow with the log)."
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
