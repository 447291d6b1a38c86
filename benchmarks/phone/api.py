"""Citizen API benchmark (issue 18): p95 of the main reads with 50 concurrent clients.

The reads a phone makes when the app opens: ``GET /api/me/v1/profile/``, ``applications/``,
``messages/`` (the inbox) and ``documents/`` (every signed document, its status read from the
agencies' signed status lists). Each client is its own person, with a certificate (issued by
the engine's own issuing step), inbox messages and an access token of the app's public client
(scope ``citizen``); the tokens are minted in the database, as the token endpoint stores them
(the OAuth flow is not what is measured: docs/identity.md has the token endpoint's figures).

Goal: **p95 ≤ 200 ms** for each read, measured from the client over loopback with 50 clients
at once, each on its own kept-alive connection (``benchlib.LoadClient``). Every client makes
``rounds`` passes over the four reads; 15 passes keep each person within the API's budget of
300 requests a minute (a 429 is counted and reported, never hidden).

Alone (PostgreSQL + Redis; it migrates the database and adds its own people each run)::

    DATABASE_URL=postgres://postgres@127.0.0.1:55440/h4_bench \\
    REDIS_URL=redis://127.0.0.1:6390/28 .venv/bin/python benchmarks/phone/api.py

From benchmarks/phone/run.py: ``measure(base_url, token_factory, clients=50)``, where
``token_factory(count, env=None)`` makes ``count`` people and their tokens in the database of
the server at ``base_url`` (its environment: ``env``, by default this process's), through a
child process ``api.py --mint count`` so that the caller need not load Django.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE.parent))  # benchmarks/benchlib.py
from benchlib import (  # noqa: E402
    LoadClient,
    free_port,
    load,
    machine,
    percentile,
    process_cpu,
    stop_server,
    verdict,
    wait_http,
)

GOAL_P95_MS = 200.0
READS = ["profile/", "applications/", "messages/", "documents/"]
API = "/api/me/v1/"


# -- people and tokens (in the server's database) --------------------------------------------------


def mint(count: int) -> list[str]:
    """``count`` people, each with a certificate and three inbox messages, and a token of the
    app for each (runs in a process where Django is set up for the server's database)."""
    import datetime as dt
    import secrets
    import uuid

    import django

    django.setup()
    from django.utils import timezone
    from oauth2_provider.models import AccessToken

    from panjereh.citizenapi.client import ensure_app_client
    from panjereh.identity.models import User
    from panjereh.inbox.models import Message
    from panjereh.registries.population import national_code_check_digit
    from panjereh.services import definitions, engine, workflow
    from panjereh.services.models import FetchedData, State

    definitions.load()
    application = ensure_app_client()
    definition = definitions.active("no-criminal-record")
    tokens = []
    run = uuid.uuid4().hex[:6]
    for n in range(count):
        body = f"{secrets.randbelow(10**9):09d}"
        code = body + str(national_code_check_digit(body))
        user = User.objects.create(
            username=f"bench-{run}-{n}",
            national_code=code,
            first_name="مریم",
            last_name=f"آزمون {n}",
            mobile="0912" + code[-7:],
            assurance_level=3,
        )
        submitted, _ = engine.submit(
            definition, user, idempotency_key=uuid.uuid4().hex, inputs={"purpose": "بانک"}
        )
        FetchedData.objects.create(
            application=submitted,
            name="identity",
            record={
                "first_name": "مریم",
                "last_name": f"آزمون {n}",
                "father_name": "علی",
                "birth_date": "1990-01-02",
                "birth_date_jalali": "1368-10-12",
                "alive": True,
            },
        )
        FetchedData.objects.create(
            application=submitted, name="criminal", record={"has_record": False, "convictions": []}
        )
        workflow.transition(submitted, State.FETCHING)
        workflow.transition(submitted, State.DECIDING)
        engine.advance(submitted.pk)
        for i in range(3):
            Message.objects.get_or_create(
                user=user,
                dedupe_key=f"bench-{i}",
                defaults={
                    "kind": Message.Kind.choices[0][0],
                    "subject_fa": f"پیام {i}",
                    "subject_en": f"Message {i}",
                    "body_fa": "متن",
                },
            )
        value = secrets.token_urlsafe(30)
        AccessToken.objects.create(
            user=user,
            application=application,
            token=value,
            scope="openid profile citizen",
            expires=timezone.now() + dt.timedelta(hours=2),
        )
        tokens.append(value)
    return tokens


def token_factory(count: int, env: dict | None = None) -> list[str]:
    """Tokens of ``count`` new people, made by a child process in the server's environment."""
    env = dict(env or os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), str(ROOT / "src"), env.get("PYTHONPATH", "")])
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--mint", str(count)],
        env=env,
        cwd=env.get("PANJEREH_VAR") or None,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def server_environment(base_url: str) -> dict | None:
    """The environment (and working directory, as ``PWD``) of the process listening on
    ``base_url``'s port, read from /proc (Linux): the caller of :func:`measure` need not pass
    the server's settings. None when it cannot be read."""
    from urllib.parse import urlsplit

    port = urlsplit(base_url).port
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # LISTEN
                inodes.add(fields[9])
    if not inodes:
        return None
    wanted = {f"socket:[{inode}]" for inode in inodes}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if not any(os.readlink(fd) in wanted for fd in (proc / "fd").iterdir()):
                continue
            raw = (proc / "environ").read_bytes()
            cwd = os.readlink(proc / "cwd")
        except OSError:
            continue
        env = dict(item.split("=", 1) for item in raw.decode().split("\0") if "=" in item)
        env.setdefault("PANJEREH_VAR", cwd)
        return env
    return None


# -- the load ---------------------------------------------------------------------------------------


def measure(
    base_url: str,
    token_factory=token_factory,
    clients: int = 50,
    *,
    rounds: int = 15,
    env: dict | None = None,
    server_pid: int | None = None,
) -> dict:
    """p50/p95 of each read with ``clients`` concurrent clients; figures with the goal. The
    server's environment (for the tokens) is ``env``, else read from the process listening on
    ``base_url`` when this process has no Django settings of its own."""
    if env is None and "DJANGO_SETTINGS_MODULE" not in os.environ:
        env = server_environment(base_url)
    try:
        tokens = token_factory(clients, env) if env is not None else token_factory(clients)
    except Exception as exc:  # noqa: BLE001 - reported, the other benchmarks go on
        print(f"  citizen API not measured: no tokens ({type(exc).__name__}: {exc})")
        return {"measured": False, "reason": f"{type(exc).__name__}: {exc}"}
    base_url = base_url.rstrip("/")
    times: dict[str, list[float]] = {read: [] for read in READS}
    statuses: dict[str, dict[int, int]] = {read: {} for read in READS}
    lock = threading.Lock()
    start = threading.Barrier(len(tokens))

    def client(token: str) -> None:
        headers = {"Authorization": f"Bearer {token}", "Accept-Language": "fa"}
        with LoadClient(base_url) as http:
            for read in READS:  # warm: the connection open, the person's first read
                http.request("GET", API + read, headers=headers)
            start.wait()
            for _ in range(rounds):
                for read in READS:
                    began = time.perf_counter()
                    status, _body = http.request("GET", API + read, headers=headers)
                    took = (time.perf_counter() - began) * 1000
                    with lock:
                        statuses[read][status] = statuses[read].get(status, 0) + 1
                        if status == 200:
                            times[read].append(took)

    load_before = load()
    cpu_before = process_cpu(server_pid) if server_pid else 0.0
    began = time.perf_counter()
    threads = [threading.Thread(target=client, args=(token,)) for token in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    total = sum(len(v) for v in times.values())
    # The server's CPU a request (its worker processes included): what the machine's other
    # load does not change much, unlike the latency under 50 clients on a shared machine.
    cpu_ms = (process_cpu(server_pid) - cpu_before) * 1000 / max(1, total) if server_pid else None
    result: dict = {
        "measured": True,
        "clients": len(tokens),
        "rounds": rounds,
        "requests": total,
        "requests_per_second": round(total / seconds, 1),
        "load_before": load_before,
        "load_after": load(),
        "goal_p95_ms": GOAL_P95_MS,
        "server_cpu_ms_a_request": round(cpu_ms, 1) if cpu_ms is not None else None,
        "reads": {},
    }
    print(
        f"  {len(tokens)} clients x {rounds} rounds x {len(READS)} reads: {total} answers 200 in "
        f"{seconds:.1f} s ({total / seconds:.0f}/s); load before {load_before}, after "
        f"{result['load_after']}"
        + (f"; server CPU a request {cpu_ms:.1f} ms" if cpu_ms is not None else ""),
        flush=True,
    )
    for read in READS:
        values = times[read]
        p50, p95 = percentile(values, 0.5), percentile(values, 0.95)
        print(
            f"  GET {API}{read}: p50 {p50:.1f} ms, p95 {p95:.1f} ms, max "
            f"{max(values or [0]):.1f} ms; answers {statuses[read]}",
            flush=True,
        )
        result["reads"][read] = {
            "p50_ms": round(p50, 1),
            "p95_ms": round(p95, 1),
            "statuses": {str(k): v for k, v in statuses[read].items()},
            **verdict(f"p95 GET {API}{read}", p95, GOAL_P95_MS, "ms"),
        }
    every = [t for values in times.values() for t in values]
    result["all"] = verdict(
        "p95 of the four reads together", percentile(every, 0.95), GOAL_P95_MS, "ms"
    )
    return result


# -- alone ----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--json", type=Path, help="Write the figures to this file too.")
    parser.add_argument("--mint", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mint is not None:
        print(json.dumps(mint(args.mint)))
        return
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("DATABASE_URL must name a PostgreSQL database the run may write into")
    if not os.environ.get("REDIS_URL"):
        raise SystemExit("REDIS_URL must name a Redis database (cache and the rate limit)")
    info = machine()
    print("== citizen API benchmark ==", flush=True)
    print("machine:", json.dumps(info), "load:", load(), flush=True)
    var = Path(tempfile.mkdtemp(prefix="panjereh-bench-citizenapi-"))
    env = {
        **os.environ,
        "PANJEREH_VAR": str(var),
        "PANJEREH_MODE": "test",
        "PANJEREH_LOG_LEVEL": "ERROR",
        "DJANGO_SETTINGS_MODULE": "panjereh.conf.settings",
        "PANJEREH_TASKS": "inprocess",
    }
    subprocess.run(
        [sys.executable, "-m", "panjereh", "migrate", "-v0"], env=env, cwd=var, check=True
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "panjereh",
            "serve",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
        ],
        env=env,
        cwd=var,
        stdout=subprocess.DEVNULL,
        stderr=(var / "server.log").open("w"),
        start_new_session=True,
    )
    try:
        wait_http(base + API + "profile/", timeout=90, any_status=True)
        result = measure(
            base, token_factory, args.clients, rounds=args.rounds, env=env, server_pid=server.pid
        )
    finally:
        stop_server(server)
    result["machine"] = info
    result["database"] = "PostgreSQL"
    result["server_workers"] = args.workers
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
