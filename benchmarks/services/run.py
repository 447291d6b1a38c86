"""Smart-services benchmark: end-to-end latency of a smart application and 1,000 concurrent
applications, none lost or duplicated.

Run with ``.venv/bin/python benchmarks/services/run.py``. Everything happens in a temporary
directory (SQLite unless ``DATABASE_URL`` is set) removed at the end; the registries and the
gateway (``panjereh serve``) bind 127.0.0.1 on free ports and are stopped by their PIDs.

1. Migrate, load the definitions, start the registries (real processes), register them and
   provision the grants; create the citizens.
2. Latency: ``--latency`` no-criminal-record applications one after the other, each timed from
   submission to the signed document in the inbox (two registry calls through the gateway,
   rules, ES256 signature, inbox message), running the worker's task function in process.
3. Throughput: ``--applications`` applications submitted at once by ``--threads`` client
   threads (each also re-submitted with the same idempotency key), processed by ``--workers``
   ``panjereh worker`` processes; then every application is checked: final state, one
   document per issued application, no duplicate.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
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
P50_GOAL_MS = 150.0
P95_GOAL_MS = 400.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=int, default=100)
    parser.add_argument("--applications", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--markdown", action="store_true", help="Print a docs section.")
    args = parser.parse_args()

    var = Path(tempfile.mkdtemp(prefix="panjereh-bench-services-"))
    port = free_port()
    os.environ.update(
        {
            "PANJEREH_VAR": str(var),
            "PANJEREH_MODE": "test",
            "PANJEREH_SERVICES_EXCHANGE_URL": f"http://127.0.0.1:{port}",
            "PANJEREH_TASKS": "inprocess",
            "PANJEREH_EXCHANGE_SEAL_INTERVAL": "5",
            "DJANGO_SETTINGS_MODULE": "panjereh.conf.settings",
        }
    )
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from panjereh.exchange import provision
    from panjereh.identity.models import User
    from panjereh.registries.population import Population
    from panjereh.registries.supervisor import Cluster
    from panjereh.services import definitions, engine, nix, tasks
    from panjereh.services.models import Application, Document, ServiceDefinition, State

    call_command("migrate", verbosity=0, interactive=False)
    cluster = Cluster("small", seed=1404).start()
    server = None
    workers: list[subprocess.Popen] = []
    try:
        definitions.load()
        provision.register_registries(cluster.addresses())
        for definition in ServiceDefinition.objects.filter(active=True):
            nix.provision(definition, resolution_number="1404/bench")
        people = Population(seed=1404, size=cluster.size)
        codes = []
        for i in range(people.size):
            person = people.person(i)
            if person["alive"] and person["age"] >= 18:
                codes.append(people.national_code(i))
            if len(codes) >= args.applications + args.latency + 3:
                break
        User.objects.bulk_create(
            [User(username=f"b{c}", national_code=c, assurance_level=3) for c in codes]
        )
        users = list(User.objects.filter(national_code__in=codes).order_by("pk"))
        server = subprocess.Popen(
            [sys.executable, "-m", "panjereh", "serve", "--bind", f"127.0.0.1:{port}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_http(f"http://127.0.0.1:{port}/services/jwks.json")
        definition = definitions.active("no-criminal-record")

        # -- latency -------------------------------------------------------------------
        for user in users[:3]:  # warm-up: connections, keys, caches
            app, _ = engine.submit(
                definition, user, idempotency_key="warm", inputs={"purpose": "b"}
            )
            engine.advance(app.pk)
        latencies = []
        outcomes: dict[str, int] = {}
        for n, user in enumerate(users[3 : 3 + args.latency]):
            start = time.perf_counter()
            app, _ = engine.submit(
                definition, user, idempotency_key=f"l{n}", inputs={"purpose": "b"}
            )
            state = engine.advance(app.pk)
            latencies.append((time.perf_counter() - start) * 1000)
            outcomes[state] = outcomes.get(state, 0) + 1

        # -- 1,000 at once -----------------------------------------------------------
        batch = users[3 + args.latency : 3 + args.latency + args.applications]
        errors: list[str] = []
        lock = threading.Lock()

        def submit_some(chunk) -> None:
            from django.db import connection as thread_connection

            try:
                for user in chunk:
                    key = f"t{user.pk}"
                    engine.submit(definition, user, idempotency_key=key, inputs={"purpose": "b"})
                    engine.submit(definition, user, idempotency_key=key, inputs={"purpose": "b"})
            except Exception as exc:  # noqa: BLE001 -- counted and reported
                with lock:
                    errors.append(repr(exc))
            finally:
                thread_connection.close()

        connection.close()
        chunks = [batch[i :: args.threads] for i in range(args.threads)]
        started = time.perf_counter()
        threads = [threading.Thread(target=submit_some, args=(c,)) for c in chunks]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        submitted_s = time.perf_counter() - started
        for _ in range(args.workers):
            workers.append(
                subprocess.Popen(
                    [sys.executable, "-m", "panjereh", "worker", "--events-every", "0"],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        batch_ids = [u.pk for u in batch]
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            open_count = Application.objects.filter(
                user_id__in=batch_ids, state__in=list(engine.workflow.RUNNABLE)
            ).count()
            if open_count == 0:
                break
            time.sleep(0.5)
        total_s = time.perf_counter() - started
        apps = Application.objects.filter(user_id__in=batch_ids)
        count = apps.count()
        by_state = {s: apps.filter(state=s).count() for s in State.values}
        documents = Document.objects.filter(application__user_id__in=batch_ids).count()
        per_user = max((apps.filter(user_id=pk).count() for pk in batch_ids[:50]), default=0)
        tasks.deliver_notifications()
    finally:
        for worker in workers:
            stop_server(worker)
        if server is not None:
            stop_server(server)
        cluster.stop()

    p50, p95 = percentile(latencies, 0.5), percentile(latencies, 0.95)
    completed = by_state.get("issued", 0) + by_state.get("rejected", 0)
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "database": connection.vendor,
        "latency_ms": {"p50": round(p50, 1), "p95": round(p95, 1), "n": len(latencies)},
        "latency_outcomes": outcomes,
        "applications": args.applications,
        "submit_threads": args.threads,
        "workers": args.workers,
        "created": count,
        "states": {k: v for k, v in by_state.items() if v},
        "documents": documents,
        "issued": by_state.get("issued", 0),
        "completed": completed,
        "max_per_user_sample": per_user,
        "submit_errors": errors[:5],
        "submitted_s": round(submitted_s, 1),
        "total_s": round(total_s, 1),
        "throughput_per_s": round(completed / total_s, 1) if total_s else 0,
        "load": [round(x, 1) for x in os.getloadavg()],
    }
    shutil.rmtree(var, ignore_errors=True)
    if errors:
        print("submit errors:", *errors[:5], sep="\n  ", file=sys.stderr)
    if args.markdown:
        print(markdown(result))
    else:
        print(json.dumps(result, indent=1, ensure_ascii=False))


def markdown(r: dict) -> str:
    met = lambda ok: "met" if ok else "not met"  # noqa: E731
    return "\n".join(
        [
            f"### {r['database']}",
            "",
            f"{r['machine']}; load average after the run {', '.join(map(str, r['load']))}.",
            "",
            f"- End-to-end latency of a no-criminal-record application (submission → two "
            f"registry calls through the gateway → rules → ES256-signed document → inbox), "
            f"{r['latency_ms']['n']} sequential applications: p50 **{r['latency_ms']['p50']} ms** "
            f"(goal ≤ {P50_GOAL_MS:.0f} ms: {met(r['latency_ms']['p50'] <= P50_GOAL_MS)}), "
            f"p95 **{r['latency_ms']['p95']} ms** (goal ≤ {P95_GOAL_MS:.0f} ms: "
            f"{met(r['latency_ms']['p95'] <= P95_GOAL_MS)}).",
            f"- {r['applications']:,} applications submitted at once by {r['submit_threads']} "
            f"threads (each submitted twice with the same idempotency key) in "
            f"{r['submitted_s']} s, processed by {r['workers']} `panjereh worker` processes: "
            f"**{r['created']:,} created, {r['completed']:,} completed** "
            f"({', '.join(f'{k} {v}' for k, v in r['states'].items())}), {r['documents']:,} "
            f"documents for {r['issued']:,} issued, none duplicated, in {r['total_s']} s "
            f"({r['throughput_per_s']} applications/s). Goal 1,000 of 1,000 completed: "
            f"{met(r['completed'] == r['applications'] == r['created'] and r['documents'] == r['issued'])}.",
        ]
    )


if __name__ == "__main__":
    main()
