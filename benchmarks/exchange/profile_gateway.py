"""Profile the gateway in process (CPU time, cProfile): ``python benchmarks/exchange/profile_gateway.py``.

Same set-up as ``run.py`` (temporary SQLite database unless ``DATABASE_URL``, the civil registry
as a real process), then ``--calls`` calls through the production WSGI application (the lean
handler ``/r1/`` takes in ``conf/wsgi.py``) under cProfile, sorted by cumulative time. Prints the top ``--top`` functions.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="cumulative", help="pstats order: cumulative, tottime …")
    parser.add_argument(
        "--no-profile",
        action="store_true",
        help="Only measure CPU per call, through the production WSGI application (no test client).",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="With --no-profile: call the WSGI application from this many threads at once "
        "(the serving layer's thread contention without its HTTP).",
    )
    args = parser.parse_args()
    var = Path(tempfile.mkdtemp(prefix="panjereh-prof-exchange-"))
    os.environ["PANJEREH_VAR"] = str(var)
    os.environ["PANJEREH_HOME"] = str(var)
    os.environ.setdefault("PANJEREH_MODE", "demo")
    os.environ["PANJEREH_EXCHANGE_RATE_PER_MINUTE"] = "10000000"
    os.environ["PANJEREH_EXCHANGE_SEAL_INTERVAL"] = "0"
    import run  # the benchmark's set-up

    cluster = None
    try:
        env = run.setup(var)

        from panjereh.exchange.client import make_assertion
        from panjereh.registries.population import Population
        from panjereh.registries.supervisor import Cluster

        cluster = Cluster("small", registries=("civil",)).start()
        identity, system, key = run.provision_exchange(env, cluster.url("civil"))
        population = Population(size=10_000)
        codes = [population.national_code(i) for i in range(0, 10_000, 7)]
        path = f"/r1/IR/{identity.path()}"
        tokens = [
            make_assertion(key, system.client_id, "urn:panjereh:nix", lifetime=290)
            for _ in range(args.calls + 100)
        ]
        from io import BytesIO

        from panjereh.conf.wsgi import application

        def wsgi_call(n: int) -> None:
            code = codes[n % len(codes)]
            environ = {
                "REQUEST_METHOD": "GET",
                "PATH_INFO": f"{path}/{code}",
                "QUERY_STRING": "",
                "SERVER_NAME": "127.0.0.1",
                "SERVER_PORT": "8000",
                "SERVER_PROTOCOL": "HTTP/1.1",
                "wsgi.url_scheme": "http",
                "wsgi.input": BytesIO(),
                "wsgi.errors": sys.stderr,
                "HTTP_HOST": "127.0.0.1:8000",
                "HTTP_AUTHORIZATION": f"Bearer {tokens[n]}",
                "HTTP_X_ROAD_CLIENT": system.client_id,
                "HTTP_X_ROAD_USERID": code,
                "HTTP_X_ROAD_ISSUE": "BENCH",
            }
            status = []
            body = b"".join(application(environ, lambda s, h, *a: status.append(s)))
            assert status[0].startswith("200"), body

        for n in range(100):  # warm up the path that is measured
            wsgi_call(args.calls + n)
        if args.no_profile:
            import threading

            from django.db import connections

            def run_calls(numbers) -> None:
                try:
                    for n in numbers:
                        wsgi_call(n)
                finally:
                    connections.close_all()

            started = time.process_time()
            begun = time.perf_counter()
            threads = [
                threading.Thread(target=run_calls, args=(range(t, args.calls, args.threads),))
                for t in range(args.threads)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            cpu = time.process_time() - started
            elapsed = time.perf_counter() - begun
            print(
                f"{args.calls} calls from {args.threads} thread(s), "
                f"{cpu / args.calls * 1000:.3f} ms CPU per call (WSGI, no profiler), "
                f"{args.calls / elapsed:.0f} calls/s"
            )
            from panjereh.exchange import log

            started = time.process_time()
            sealed = log.seal_pending()
            cpu = time.process_time() - started
            print(
                f"sealing {sealed} records: {cpu / max(1, sealed) * 1000:.3f} ms CPU per record "
                "(the background sealer's share of a call)"
            )
            return
        profiler = cProfile.Profile(time.process_time)
        started = time.process_time()
        profiler.enable()
        for n in range(args.calls):
            wsgi_call(n)
        profiler.disable()
        cpu = time.process_time() - started
        print(f"{args.calls} calls, {cpu / args.calls * 1000:.3f} ms CPU per call (with profiler)")
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.top)
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(var, ignore_errors=True)


if __name__ == "__main__":
    main()
