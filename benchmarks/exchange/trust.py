"""The cost of trust (issue 13): the full gateway against a bare forwarder, in one run.

Run with ``.venv/bin/python benchmarks/exchange/trust.py`` with ``DATABASE_URL`` (an empty
PostgreSQL database) and ``REDIS_URL`` set; the lean client drives both. Everything else
happens in a temporary directory removed at the end; every server binds 127.0.0.1 on a free
port and is stopped by its PID.

Three paths to the same civil registry (a real process, stdlib threaded WSGI server):

- **direct**: the client calls the registry;
- **bare**: a forwarder built from the same server and HTTP client as the gateway (Granian
  with the same workers and threads; Django under the gateway process's settings and
  middleware; one pooled httpx client per process, the answer read in full) that forwards with
  no check and no log (``benchmarks/exchange/bare/``, not production code);
- **full**: ``panjereh serve --app gateway`` with every check on: signed client assertion
  (verified, ``jti`` replay check), rate limit, grant, item filter (2 of 4 items) and one
  durable, chained log record per call, committed before the answer leaves.

Latency: ``--latency-calls`` sequential calls on each path; added p50 = full − bare. Throughput:
``--threads`` client threads, the three paths alternating for ``--rounds`` rounds; the ratios
full ÷ bare and full ÷ direct are the medians of the rounds. Durability: after every full
phase, once every answer is in, the log holds exactly one record per call answered; at the end
the chain and seals are verified (``exchange.log.verify``).

Goals: full ÷ bare ≥ 0.7 in throughput; added p50 ≤ 2 ms; every record durable and the chain
verified. The direct ratio is printed too (X-Road's published user report: 0.11).
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
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # benchmarks/benchlib.py
sys.path.insert(0, str(HERE))  # run.py (provisioning, phases, the lean client)
import run as exchange_run  # noqa: E402
from benchlib import free_port, process_cpu, stop_server, wait_http  # noqa: E402

ROOT = HERE.parents[1]
RATIO_GOAL = 0.7
ADDED_P50_GOAL_MS = 2.0
XROAD_REPORTED_RATIO = 0.11


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30.0, help="Per path, in all.")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--latency-calls", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--server-threads", type=int, default=8)
    parser.add_argument("--calls", type=int, default=400_000, help="Per path, at most.")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
        print("warning: DATABASE_URL and REDIS_URL unset; the issue's run is PostgreSQL + Redis")
    exchange_run.CLIENT = "lean"

    var = Path(tempfile.mkdtemp(prefix="panjereh-bench-trust-"))
    os.environ["PANJEREH_VAR"] = str(var)
    os.environ["PANJEREH_HOME"] = str(var)
    os.environ.setdefault("PANJEREH_MODE", "demo")
    os.environ["PANJEREH_EXCHANGE_RATE_PER_MINUTE"] = "10000000"
    sys.path.insert(0, str(ROOT / "src"))
    servers: list[subprocess.Popen] = []
    cluster = None
    try:
        env = exchange_run.setup(var)
        from panjereh.exchange import log
        from panjereh.exchange.client import make_assertion
        from panjereh.exchange.models import LogRecord
        from panjereh.registries.population import Population
        from panjereh.registries.supervisor import Cluster

        cluster = Cluster("small", registries=("civil",)).start()
        identity, system, key = exchange_run.provision_exchange(env, cluster.url("civil"))
        direct_base = f"{cluster.url('civil')}/identity"
        bin_dir = Path(sys.executable).parent

        full_port, bare_port = free_port(), free_port()
        gateway = subprocess.Popen(
            [str(bin_dir / "panjereh"), "serve", "--app", "gateway"]
            + ["--bind", f"127.0.0.1:{full_port}", "--workers", str(args.workers)]
            + ["--threads", str(args.server_threads)],
            env={**os.environ},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        servers.append(gateway)
        bare = subprocess.Popen(
            [sys.executable, str(HERE / "bare" / "serve.py"), "127.0.0.1", str(bare_port)]
            + [str(args.workers), str(args.server_threads)],
            env={
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "bare.settings",
                "PYTHONPATH": os.pathsep.join([str(HERE), str(ROOT / "src")]),
                "BARE_UPSTREAM": direct_base,
            },
            cwd=str(HERE),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        servers.append(bare)
        full_url, bare_url = f"http://127.0.0.1:{full_port}", f"http://127.0.0.1:{bare_port}"
        wait_http(f"{full_url}/r1/", 180, any_status=True)
        wait_http(f"{bare_url}/r1/x", 180, any_status=True)

        population = Population(size=10_000)
        codes = [population.national_code(i) for i in range(0, 10_000, 7)]
        full_path = f"{full_url}/r1/IR/{identity.path()}"
        client_id = system.client_id

        def tokens(count: int) -> list[str]:
            return [
                make_assertion(key, client_id, "urn:panjereh:nix", lifetime=290)
                for _ in range(count)
            ]

        def direct(client, n):
            return client.get(f"{direct_base}/{codes[n % len(codes)]}")

        def forwarded(client, n):
            return client.get(f"{bare_url}/r1/{codes[n % len(codes)]}")

        def full(pool):
            def call(client, n):
                code = codes[n % len(codes)]
                return client.get(
                    f"{full_path}/{code}",
                    headers={
                        "Authorization": f"Bearer {pool[n]}",
                        "X-Road-Client": client_id,
                        "X-Road-UserId": code,
                        "X-Road-Issue": "BENCH",
                    },
                )

            return call

        # Full-gateway calls answered so far, each must have its log record (starting from the
        # records already there: waiting for the gateway called it once).
        answered = LogRecord.objects.count()
        durable_checks: list[tuple[int, int]] = []

        def full_phase(threads: int, seconds: float, calls: int) -> dict:
            nonlocal answered
            result = exchange_run.run_phase(full(tokens(calls)), threads, seconds, calls)
            answered += result["calls"]
            durable_checks.append((answered, LogRecord.objects.count()))
            return result

        # Warm every path (imports, connections, caches in every worker).
        exchange_run.run_phase(direct, 4, 3, 200)
        exchange_run.run_phase(forwarded, 4, 3, 200)
        full_phase(4, 3, 200)

        latency = {
            "direct": exchange_run.run_phase(direct, 1, 60, args.latency_calls),
            "bare": exchange_run.run_phase(forwarded, 1, 60, args.latency_calls),
            "full": full_phase(1, 60, args.latency_calls),
        }

        rounds = max(1, args.rounds)
        per_phase = args.seconds / rounds
        # Tokens are signed before each full phase (not timed): enough for the fastest run.
        budget = min(args.calls, int(per_phase * 3000) + 100)
        phases: dict[str, list[dict]] = {"direct": [], "bare": [], "full": []}
        cpu = {"bare": 0.0, "full": 0.0}
        bare_ratios, direct_ratios = [], []
        for _round in range(rounds):
            one = exchange_run.run_phase(direct, args.threads, per_phase, args.calls)
            before = process_cpu(bare.pid)
            two = exchange_run.run_phase(forwarded, args.threads, per_phase, args.calls)
            cpu["bare"] += process_cpu(bare.pid) - before
            before = process_cpu(gateway.pid)
            three = full_phase(args.threads, per_phase, budget)
            cpu["full"] += process_cpu(gateway.pid) - before
            for name, result in (("direct", one), ("bare", two), ("full", three)):
                phases[name].append(result)
            bare_ratios.append(three["rps"] / two["rps"] if two["rps"] else 0.0)
            direct_ratios.append(three["rps"] / one["rps"] if one["rps"] else 0.0)

        for server in servers:
            stop_server(server)
        servers.clear()
        log.seal_pending()
        verification = log.verify()
        rows = LogRecord.objects.count()

        def total(name: str) -> dict:
            calls = sum(p["calls"] for p in phases[name])
            seconds = sum(p["seconds"] for p in phases[name])
            return {
                "calls": calls,
                "errors": sum(p["errors"] for p in phases[name]),
                "rps": calls / seconds if seconds else 0.0,
                "p50_ms": statistics.median(p["p50_ms"] for p in phases[name]),
            }

        thr = {name: total(name) for name in phases}
        ratio = statistics.median(bare_ratios)
        direct_ratio = statistics.median(direct_ratios)
        added_p50 = latency["full"]["p50_ms"] - latency["bare"]["p50_ms"]
        durable = all(answered_ == rows_ for answered_, rows_ in durable_checks)
        result = {
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}",
            "database": "PostgreSQL"
            if "postgres" in os.environ.get("DATABASE_URL", "")
            else "SQLite",
            "cache": "Redis" if os.environ.get("REDIS_URL") else "local",
            "client": "lean (http.client)",
            "latency_p50_ms": {k: v["p50_ms"] for k, v in latency.items()},
            "latency_p99_ms": {k: v["p99_ms"] for k, v in latency.items()},
            "throughput": thr,
            "ratio_full_bare_pairs": bare_ratios,
            "ratio_full_direct_pairs": direct_ratios,
            "cpu_per_call_ms": {
                "bare": cpu["bare"] * 1000 / max(1, thr["bare"]["calls"]),
                "full": cpu["full"] * 1000 / max(1, thr["full"]["calls"]),
            },
            "durable_checks": durable_checks,
            "log_rows": rows,
            "log_verified": verification.ok,
            "log_checked": verification.checked,
            "load": os.getloadavg(),
        }
        print(json.dumps(result, indent=2))
        print(
            f"\nthroughput: direct {thr['direct']['rps']:.0f}, bare {thr['bare']['rps']:.0f}, "
            f"full {thr['full']['rps']:.0f} calls/s ({args.threads} threads, {rounds} rounds)"
        )
        print(
            f"full / bare (median of rounds) {ratio:.2f} >= {RATIO_GOAL}: "
            f"{'met' if ratio >= RATIO_GOAL else 'NOT met'}"
        )
        print(
            f"added p50 full - bare {added_p50:.2f} ms <= {ADDED_P50_GOAL_MS} ms: "
            f"{'met' if added_p50 <= ADDED_P50_GOAL_MS else 'NOT met'} "
            f"(p50 direct {latency['direct']['p50_ms']:.2f}, bare "
            f"{latency['bare']['p50_ms']:.2f}, full {latency['full']['p50_ms']:.2f} ms)"
        )
        print(
            f"full / direct (median of rounds) {direct_ratio:.2f} "
            f"(X-Road's published user report: {XROAD_REPORTED_RATIO})"
        )
        print(
            f"durable: one log record per answered call after every full phase: "
            f"{'yes' if durable else 'NO'} ({answered} records expected, {rows} found); chain "
            "and seals "
            f"verified: {'yes' if verification.ok else 'NO'} ({verification.checked} checked)"
        )
        errors = sum(t["errors"] for t in thr.values())
        return 0 if durable and verification.ok and not errors else 1
    finally:
        for server in servers:
            stop_server(server)
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(var, ignore_errors=True)


if __name__ == "__main__":
    started = time.monotonic()
    code = main()
    print(f"({time.monotonic() - started:.0f} s)")
    sys.exit(code)
