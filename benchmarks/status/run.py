"""Status-page benchmark: one probe round over every system, and the page under load with a
month of check rows.

Run with ``.venv/bin/python benchmarks/status/run.py``. Everything happens in a temporary
directory (SQLite unless ``DATABASE_URL`` is set) removed at the end; the registries and the
national window (``panjereh serve``) bind 127.0.0.1 on free ports and are stopped by their PIDs.

1. Migrate, start the eleven registries (real processes), register them on the exchange, serve
   the national window, and let :func:`~panjereh.status.monitor.sync_systems` find the systems.
2. Probe: ``--rounds`` rounds over every system (13: national window, exchange gateway, eleven
   registries), timed; the ratio of the summed check latencies to a round's wall time shows
   what checking concurrently buys. Then one registry is made slow (``--slow-ms``) and one is
   stopped: a round still lasts about one check, not the sum of them.
3. History: a month of checks (one per system every ``--check-every`` seconds) with a few
   outages, written directly; the month's availability is computed from the raw rows, then the
   finished days are rolled up (and raw rows older than a week pruned) and it is computed again
   from the roll-ups: same figures, and the ratio of the two query times.
4. Page: ``--clients`` concurrent clients each GET ``/status/`` ``--requests`` times; p50, p95
   and throughput.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/benchlib.py
from benchlib import free_port, percentile, stop_server, wait_http

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--slow-ms", type=int, default=1500)
    parser.add_argument("--slow-registries", type=int, default=4, choices=range(5))
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--check-every", type=int, default=60, help="Seconds between checks.")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=25, help="Per client.")
    parser.add_argument("--markdown", action="store_true", help="Print a docs section.")
    args = parser.parse_args()

    var = Path(tempfile.mkdtemp(prefix="panjereh-bench-status-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    os.environ.update(
        {
            "PANJEREH_VAR": str(var),
            "PANJEREH_MODE": "test",
            "PANJEREH_PUBLIC_URL": base,
            "PANJEREH_STATUS_BASE_URL": base,
            "PANJEREH_STATUS_TIMEOUT": "3",
            "PANJEREH_EXCHANGE_SEAL_INTERVAL": "0",
            "DJANGO_SETTINGS_MODULE": "panjereh.conf.settings",
        }
    )
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    import httpx
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from panjereh.exchange import provision
    from panjereh.registries.supervisor import Cluster
    from panjereh.status import incidents, monitor, queries
    from panjereh.status.models import Check, System, SystemKind

    try:
        call_command("migrate", verbosity=0, interactive=False)
        cluster = Cluster("small", seed=1404).start()
    except BaseException:
        shutil.rmtree(var, ignore_errors=True)
        raise
    server = None
    result: dict = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
        "database": connection.vendor,
    }
    try:
        provision.register_registries(cluster.addresses())
        server = subprocess.Popen(
            [sys.executable, "-m", "panjereh", "serve", "--bind", f"127.0.0.1:{port}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_http(f"{base}/status/healthz/")
        monitor.sync_systems()
        systems = list(System.objects.filter(enabled=True))

        # -- probe rounds ------------------------------------------------------------------
        monitor.probe_round()  # warm-up: connections, imports

        def timed_round() -> tuple[float, float, int, int]:
            """(checking wall ms, recording ms, summed check latencies ms, failed checks)."""
            t0 = time.perf_counter()
            results = monitor.check_all(systems)
            t1 = time.perf_counter()
            for system, outcome in zip(systems, results, strict=True):
                monitor.record(system, outcome)
            t2 = time.perf_counter()
            summed = sum(r.latency_ms for r in results)
            return (t1 - t0) * 1000, (t2 - t1) * 1000, summed, sum(not r.ok for r in results)

        walls, records, summed = [], [], []
        for _ in range(args.rounds):
            wall, recording, total, failed = timed_round()
            assert failed == 0, "a system failed in a healthy round"
            walls.append(wall)
            records.append(recording)
            summed.append(total)
        slow = ["relief", "post", "ssaa", "health"][: args.slow_registries]
        for name in slow:
            cluster.control(name, mode="slow", delay_ms=args.slow_ms)
        cluster.stop_one("martyrs")
        faulty_wall, _recording, faulty_sum, faulty_failed = timed_round()
        for name in slow:
            cluster.control(name, mode="normal")
        cluster.start_one("martyrs")
        result["probe"] = {
            "systems": len(systems),
            "rounds": args.rounds,
            "check_wall_p50_ms": round(percentile(walls, 0.5), 1),
            "check_wall_p95_ms": round(percentile(walls, 0.95), 1),
            "record_p50_ms": round(percentile(records, 0.5), 1),
            "summed_checks_p50_ms": round(percentile(summed, 0.5), 1),
            "slow_registries": len(slow),
            "slow_ms": args.slow_ms,
            "faulty_check_wall_ms": round(faulty_wall, 1),
            "faulty_summed_checks_ms": faulty_sum,
            "faulty_concurrency_ratio": round(faulty_sum / faulty_wall, 2),
            "failed_in_faulty_round": faulty_failed,
        }

        # -- a month of history ------------------------------------------------------------
        Check.objects.all().delete()
        now = timezone.now().replace(microsecond=0)
        start = now - dt.timedelta(days=args.days)
        rng = random.Random(1404)  # noqa: S311 -- synthetic history
        outages = {s.pk: [] for s in systems}
        registries = [s for s in systems if s.kind == SystemKind.REGISTRY]
        for system in rng.sample(registries, 4):
            begin = start + dt.timedelta(seconds=rng.randrange(args.days * 86400 - 7200))
            outages[system.pk].append((begin, begin + dt.timedelta(minutes=rng.randrange(5, 90))))
        written = 0
        began = time.perf_counter()
        for system in systems:
            batch = []
            moment = start
            while moment < now:
                down = any(a <= moment < b for a, b in outages[system.pk])
                batch.append(
                    Check(
                        system=system,
                        at=moment,
                        ok=not down,
                        latency_ms=rng.randrange(3, 40),
                        http_status=None if down else 200,
                        error="connection refused" if down else "",
                    )
                )
                moment += dt.timedelta(seconds=args.check_every)
            Check.objects.bulk_create(batch, batch_size=5000)
            written += len(batch)
            for a, b in outages[system.pk]:
                incidents.open_incident(
                    system, a, ended_at=b, first_error="connection refused", failed_checks=2
                )
        write_s = time.perf_counter() - began
        months = [queries.Month.of(now)]
        months.append(months[0].previous())
        if queries.Month.of(start) not in months:
            months.append(queries.Month.of(start))

        def timed_availability() -> tuple[float, dict]:
            t0 = time.perf_counter()
            figures = {m.iso: queries.availability(m) for m in months}
            return (time.perf_counter() - t0) * 1000, figures

        raw_ms, raw_figures = timed_availability()
        t0 = time.perf_counter()
        rolled = monitor.rollup()
        rollup_s = time.perf_counter() - t0
        rolled_ms, rolled_figures = timed_availability()
        same = all(
            (raw_figures[m][pk].checks, raw_figures[m][pk].ok_checks)
            == (rolled_figures[m][pk].checks, rolled_figures[m][pk].ok_checks)
            for m in raw_figures
            for pk in raw_figures[m]
        )
        result["history"] = {
            "check_rows_written": written,
            "write_s": round(write_s, 1),
            "rollup_s": round(rollup_s, 2),
            "rollup_days": rolled["days"],
            "raw_rows_pruned": rolled["pruned"],
            "raw_rows_kept": Check.objects.count(),
            "availability_from_raw_ms": round(raw_ms, 1),
            "availability_from_rollups_ms": round(rolled_ms, 1),
            "rollup_speedup": round(raw_ms / rolled_ms, 1) if rolled_ms else None,
            "same_figures": same,
        }

        # -- the page under load -----------------------------------------------------------
        url = f"{base}/status/"
        httpx.get(url, trust_env=False, timeout=30)  # warm-up
        latencies: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()

        def client() -> None:
            with httpx.Client(trust_env=False, timeout=30) as http:
                for _ in range(args.requests):
                    t = time.perf_counter()
                    response = http.get(url)
                    ms = (time.perf_counter() - t) * 1000
                    with lock:
                        latencies.append(ms)
                        if response.status_code != 200 or "INC-" not in response.text:
                            errors.append(str(response.status_code))

        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        t0 = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - t0
        result["page"] = {
            "clients": args.clients,
            "requests": len(latencies),
            "errors": len(errors),
            "p50_ms": round(percentile(latencies, 0.5), 1),
            "p95_ms": round(percentile(latencies, 0.95), 1),
            "per_second": round(len(latencies) / wall, 1),
        }
    finally:
        if server is not None:
            stop_server(server)
        cluster.stop()
        shutil.rmtree(var, ignore_errors=True)
    if args.markdown:
        print(markdown(result))
    else:
        print(json.dumps(result, indent=1, ensure_ascii=False))


def markdown(r: dict) -> str:
    p, h, g = r["probe"], r["history"], r["page"]
    return "\n".join(
        [
            f"Measured on {r['machine']} ({r['database']}), loopback, one run.",
            "",
            "| measure | value |",
            "|---|---|",
            f"| checking {p['systems']} systems concurrently, p50 / p95 | {p['check_wall_p50_ms']} / {p['check_wall_p95_ms']} ms (summed check latencies p50 {p['summed_checks_p50_ms']} ms) |",
            f"| recording a round (checks, states, incidents), p50 | {p['record_p50_ms']} ms |",
            f"| round with {p['slow_registries']} registries slow ({p['slow_ms']} ms) and one stopped | {p['faulty_check_wall_ms']} ms for {p['faulty_summed_checks_ms']} ms of checks (×{p['faulty_concurrency_ratio']}), {p['failed_in_faulty_round']} failed |",
            f"| check rows of a month written | {h['check_rows_written']:,} |",
            f"| monthly availability from raw rows / from roll-ups | {h['availability_from_raw_ms']} / {h['availability_from_rollups_ms']} ms (×{h['rollup_speedup']}, same figures: {h['same_figures']}) |",
            f"| roll-up of the month | {h['rollup_s']} s, {h['raw_rows_pruned']:,} raw rows pruned, {h['raw_rows_kept']:,} kept |",
            f"| /status/ with {g['clients']} concurrent clients, p50 / p95 | {g['p50_ms']} / {g['p95_ms']} ms ({g['per_second']} pages/s, {g['errors']} errors) |",
        ]
    )


if __name__ == "__main__":
    main()
