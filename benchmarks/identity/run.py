"""Identity benchmark: the OIDC token and userinfo endpoints under concurrent clients on
loopback, and the full sign-in (national code, SMS code, authorization, token) end to end.

Run with ``.venv/bin/python benchmarks/identity/run.py [--write-docs]``. Everything happens in
a temporary directory (SQLite database unless ``DATABASE_URL`` is set, keys, SMS files) removed
at the end; the server (``panjereh serve``: Granian, 2 workers x 8 threads) binds 127.0.0.1 on
a free port and is stopped by its process ID.

1. Migrate; make citizens, one agency client (confidential, Argon2-hashed secret, ES256 ID
   tokens: registered with the defaults, as in the demo) and their consent, and pre-issue
   authorization codes with PKCE challenges under live sign-on sessions (the browser half of
   the flow is measured separately in 4).
2. Token endpoint: ``--clients`` threads redeem the codes (``authorization_code`` grant with
   ``code_verifier`` and HTTP Basic client authentication), one request each, over one
   kept-alive connection per thread (``benchlib.LoadClient``, ``http.client``: the load
   generator shares the 2 cores with the server, and httpx cost it 1.0–1.2 ms of CPU per
   request, this about a third of that). The CPU time
   the server (the server and its workers, from ``/proc``) and this load generator spend
   per request is reported too: wall-clock figures on a shared machine are noisy, CPU is not.
3. Userinfo endpoint: the same threads call ``/oidc/userinfo/`` with the access tokens.
4. Full sign-in: sign-in page, national code, SMS code (read from the file backend),
   authorization (consent already given), token, ID token verified against the JWKS.
5. The token request again in this process, without HTTP or concurrency: the server's own
   cost per request, which bounds what the cores can sustain.

Goal (issue 13, on PostgreSQL + Redis: set ``DATABASE_URL`` to an empty database and
``REDIS_URL``): the token endpoint's capacity >= 300 requests/s (closed loop) and p95 <= 50 ms
at 200 requests/s offered (open loop). Codes are single use, so the run pre-mints one per token
request. ``--app gateway`` sends the token and userinfo requests to the gateway process, which
serves the programs' OIDC endpoints in production (the full sign-in is then skipped).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/benchlib.py

from benchlib import LoadClient, free_port, percentile, process_cpu, wait_http

ROOT = Path(__file__).resolve().parents[2]
# Issue 13: on PostgreSQL + Redis, capacity >= 300 req/s (closed loop) and p95 <= 50 ms at
# 200 req/s offered (open loop). (Issue 4 asked for 200 req/s at p95 <= 50 ms.)
TOKEN_GOAL_CAPACITY_RPS = 300.0
TOKEN_GOAL_RPS = 200.0
TOKEN_GOAL_P95_MS = 50.0
CALLBACK = "http://127.0.0.1:9/callback"  # never contacted: the benchmark reads the redirect
BEGIN, END = "<!-- identity-benchmark:begin -->", "<!-- identity-benchmark:end -->"


def summary(name: str, latencies: list[float], seconds: float, errors: int) -> dict:
    return {
        "name": name,
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / seconds if seconds else 0.0,
        "p50": percentile(latencies, 0.50) * 1000,
        "p95": percentile(latencies, 0.95) * 1000,
        "max": max(latencies) * 1000,
        "mean": statistics.fmean(latencies) * 1000,
    }


def run_concurrently(jobs: list, clients: int, worker, base: str) -> tuple[list[float], float, int]:
    """Run ``worker(http, job)`` over ``jobs`` from ``clients`` threads, each with its own
    kept-alive ``LoadClient`` to ``base`` (a worker may ignore it); latencies, wall time,
    errors."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    queue = list(reversed(jobs))

    def loop():
        with LoadClient(base) as http:
            while True:
                with lock:
                    if not queue:
                        return
                    job = queue.pop()
                started = time.perf_counter()
                try:
                    ok = worker(http, job)
                except Exception as exc:  # counted as an error, the client goes on
                    print(f"request failed: {exc!r}", file=sys.stderr)
                    ok = False
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    if not ok:
                        errors[0] += 1

    threads = [threading.Thread(target=loop) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, time.perf_counter() - started, errors[0]


def run_at_rate(
    jobs: list, rate: float, clients: int, worker, base: str
) -> tuple[list[float], float, int]:
    """Open-loop load: job ``i`` is due at ``start + i / rate``, whatever happened before it.

    ``clients`` threads take the jobs in order, wait for each one's due time and send it. The
    latency counts from the due time, not from the send: when the server falls behind, the
    wait for a free client is part of the figure (no "coordinated omission", where a slow server
    is asked less often and looks fast)."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    position = [0]
    start = time.perf_counter() + 0.2

    def loop():
        with LoadClient(base) as http:
            while True:
                with lock:
                    n = position[0]
                    if n >= len(jobs):
                        return
                    position[0] += 1
                due = start + n / rate
                pause = due - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
                ok = worker(http, jobs[n])
                elapsed = time.perf_counter() - due
                with lock:
                    latencies.append(elapsed)
                    if not ok:
                        errors[0] += 1

    threads = [threading.Thread(target=loop) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, time.perf_counter() - start, errors[0]


def prepare(codes: int, people: int) -> dict:
    """Database, citizens, client, consent and pre-issued codes (in this process)."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections
    from django.utils import timezone
    from oauth2_provider.models import Grant

    from panjereh.identity.clients import register_agency_client
    from panjereh.identity.models import CodeSession, Consent, SsoSession, User
    from panjereh.identity.oidc import code_hash

    call_command("migrate", verbosity=0, interactive=False)
    application, secret = register_agency_client(
        "Benchmark window", [CALLBACK], client_id="bench-window"
    )
    users = []
    now = timezone.now()
    for n in range(people):
        body = f"{700000000 + n:09d}"
        total = sum(int(d) * (10 - i) for i, d in enumerate(body))
        remainder = total % 11
        code = body + str(remainder if remainder < 2 else 11 - remainder)
        user = User(
            username=f"c-bench-{n}",
            national_code=code,
            mobile=f"0912{n:07d}",
            first_name="آزمون",
            last_name=f"شماره {n}",
            registry_verified_at=now,
            mobile_verified_at=now,
            assurance_level=1,
        )
        user.set_unusable_password()
        users.append(user)
    User.objects.bulk_create(users)
    users = list(User.objects.filter(username__startswith="c-bench-"))
    Consent.objects.bulk_create(
        Consent(user=u, application=application, scopes=["openid", "profile"]) for u in users
    )
    sessions = SsoSession.objects.bulk_create(
        SsoSession(sid=secrets.token_urlsafe(24), user=u) for u in users
    )
    for session in sessions:
        session.clients.add(application)
    jobs = []
    grants, links = [], []
    for n in range(codes):
        user, session = users[n % len(users)], sessions[n % len(sessions)]
        verifier = secrets.token_urlsafe(48)
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .decode()
            .rstrip("=")
        )
        code = secrets.token_urlsafe(30)
        grants.append(
            Grant(
                application=application,
                user=user,
                code=code,
                expires=now + timezone.timedelta(hours=1),
                redirect_uri=CALLBACK,
                scope="openid profile",
                code_challenge=challenge,
                code_challenge_method="S256",
                nonce=secrets.token_urlsafe(8),
                claims="{}",
            )
        )
        links.append(CodeSession(code_hash=code_hash(code), sso_session=session))
        jobs.append({"code": code, "verifier": verifier})
    Grant.objects.bulk_create(grants)
    CodeSession.objects.bulk_create(links)
    for connection in connections.all():
        connection.close()
    return {
        "client_id": application.client_id,
        "secret": secret,
        "jobs": jobs,
        "people": [(u.national_code, u.mobile) for u in users],
    }


def full_sign_in(base: str, data: dict, person: tuple[str, str], var: Path) -> bool:
    """One person's whole sign-in, as a browser and the agency window would do it."""
    import httpx
    from joserfc import jwt
    from joserfc.jwk import KeySet

    national_code, mobile = person
    with httpx.Client(base_url=base, timeout=30, trust_env=False) as browser:
        page = browser.get("/account/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        browser.post(
            "/account/login/", data={"csrfmiddlewaretoken": token, "national_code": national_code}
        )
        page = browser.get("/account/login/verify/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        text = json.loads((var / "sms" / f"{mobile}.jsonl").read_text().splitlines()[-1])["text"]
        code = re.search(r"\d{6}", text).group(0)
        browser.post("/account/login/verify/", data={"csrfmiddlewaretoken": token, "code": code})
        verifier = secrets.token_urlsafe(48)
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .decode()
            .rstrip("=")
        )
        nonce = secrets.token_urlsafe(8)
        query = urlencode(
            {
                "response_type": "code",
                "client_id": data["client_id"],
                "redirect_uri": CALLBACK,
                "scope": "openid profile",
                "state": "s",
                "nonce": nonce,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        redirect = browser.get(f"/oidc/authorize/?{query}")
        location = redirect.headers.get("location", "")
        if not location.startswith(CALLBACK):
            return False
        code = parse_qs(urlparse(location).query)["code"][0]
    with httpx.Client(base_url=base, timeout=30, trust_env=False) as window:
        answer = window.post(
            "/oidc/token/",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": CALLBACK,
                "code_verifier": verifier,
            },
            auth=(data["client_id"], data["secret"]),
        )
        if answer.status_code != 200:
            return False
        keys = KeySet.import_key_set(window.get("/oidc/jwks/").json())
        claims = jwt.decode(answer.json()["id_token"], keys, algorithms=["ES256"]).claims
        return claims.get("nonce") == nonce and claims.get("aud") == data["client_id"]


def goal_verdict(results: list[dict]) -> str:
    """The goal is "sustains >= 200 req/s with p95 <= 50 ms": the closed-loop run shows the
    capacity, the open-loop run at the offered rate shows the p95 while sustaining it."""
    capacity = next(r for r in results if r["name"].startswith("token (authorization_code"))
    paced = next((r for r in results if "offered" in r["name"]), None)
    if paced is None:
        return "No open-loop run: goal not assessed."
    met = (
        capacity["rps"] >= TOKEN_GOAL_CAPACITY_RPS
        and paced["rps"] >= 0.97 * TOKEN_GOAL_RPS
        and paced["p95"] <= TOKEN_GOAL_P95_MS
        and paced["errors"] == 0
    )
    return (
        f"Token endpoint goal (capacity >= {TOKEN_GOAL_CAPACITY_RPS:.0f} req/s; p95 <= "
        f"{TOKEN_GOAL_P95_MS:.0f} ms at {TOKEN_GOAL_RPS:.0f} req/s offered): capacity {capacity['rps']:.0f} req/s (closed loop), "
        f"p95 {paced['p95']:.1f} ms at {paced['rps']:.0f} req/s offered: "
        + ("met." if met else "not met on this run.")
    )


def write_docs(results: list[dict], setup: str, database: str) -> None:
    """Put this run's rows into the Identity section of docs/benchmarks.md (one set of rows per
    database, so a SQLite run and a PostgreSQL run sit side by side); other sections untouched."""
    path = ROOT / "docs" / "benchmarks.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    rows: list[str] = []
    notes: list[str] = []
    if BEGIN in text and END in text:
        old = text.split(BEGIN, 1)[1].split(END, 1)[0]
        rows = [
            line
            for line in old.splitlines()
            if line.startswith("| ")
            and not line.startswith(f"| {database} ")
            and "---" not in line
            and not line.startswith("| database ")
        ]
        notes = [
            line
            for line in old.splitlines()
            if line.startswith("- ") and not line.startswith(f"- {database}: ")
        ]
    for r in results:
        rows.append(
            f"| {database} | {r['name']} | {r['requests']} | {r['errors']} | {r['rps']:.0f} | "
            f"{r['p50']:.1f} | {r['p95']:.1f} | {r['max']:.1f} |"
        )
    notes.append(f"- {database}: {setup} {goal_verdict(results)}")
    section = "\n".join(
        [
            BEGIN,
            "## Identity",
            "",
            "`benchmarks/identity/run.py`: OIDC token endpoint (authorization code with PKCE and "
            "client authentication), userinfo, and the whole sign-in (national code, SMS code, "
            "authorization, token, ID token verified with the JWKS), on loopback.",
            "",
            "| database | measure | requests | errors | req/s | p50 (ms) | p95 (ms) | max (ms) |",
            "|---|---|---:|---:|---:|---:|---:|---:|",
            *sorted(rows),
            "",
            *sorted(notes),
            END,
        ]
    )
    if BEGIN in text and END in text:
        before, rest = text.split(BEGIN, 1)
        text = before + section + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codes", type=int, default=2000, help="token requests")
    parser.add_argument("--userinfo", type=int, default=3000, help="userinfo requests")
    parser.add_argument(
        "--signins",
        type=int,
        default=25,
        help="full sign-ins (all from 127.0.0.1: the window allows 30 per IP per 10 minutes)",
    )
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients")
    parser.add_argument(
        "--inprocess", type=int, default=200, help="token requests in this process, no HTTP"
    )
    parser.add_argument(
        "--rate", type=float, default=200.0, help="offered token requests per second (open loop)"
    )
    parser.add_argument("--rate-seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument(
        "--app",
        choices=["portal", "gateway"],
        default="portal",
        help="the server the token and userinfo requests go to: the portal process, or the "
        "gateway process (`panjereh serve --app gateway`, which serves the programs' OIDC "
        "endpoints in production); the full sign-in needs the portal, so it is skipped with "
        "gateway",
    )
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    if args.app == "gateway":
        args.signins = 0
    if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
        print("note: DATABASE_URL and REDIS_URL unset; issue 13's run is PostgreSQL + Redis")

    var = Path(tempfile.mkdtemp(prefix="panjereh-bench-identity-"))
    os.environ.update(
        {
            "PANJEREH_VAR": str(var),
            "PANJEREH_MODE": "demo",
            "DJANGO_SETTINGS_MODULE": "panjereh.conf.settings",
            "PANJEREH_SMS_PROVIDER": "file",
        }
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    os.environ["PANJEREH_PUBLIC_URL"] = base
    server = None
    try:
        print(f"preparing in {var} …", flush=True)
        paced = int(args.rate * args.rate_seconds)
        data = prepare(args.codes + paced + args.inprocess, max(args.signins, 50))
        local_jobs = data["jobs"][args.codes + paced :]
        paced_jobs = data["jobs"][args.codes : args.codes + paced]
        data["jobs"] = data["jobs"][: args.codes]
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
                "--threads",
                str(args.threads),
                "--app",
                args.app,
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # The JWKS (the gateway process's discovery document fails: see docs/benchmarks.md).
        wait_http(f"{base}/oidc/jwks/", 180)
        auth = (data["client_id"], data["secret"])
        # Warm every worker (the first client-secret check in a process runs Argon2).
        import httpx

        for _ in range(4 * args.workers):
            httpx.post(
                f"{base}/oidc/token/",
                data={"grant_type": "refresh_token", "refresh_token": "x"},
                auth=auth,
                trust_env=False,
            )

        tokens: list[str] = []
        token_lock = threading.Lock()

        basic = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()

        def redeem(http, job) -> bool:
            status, body = http.post_form(
                "/oidc/token/",
                {
                    "grant_type": "authorization_code",
                    "code": job["code"],
                    "redirect_uri": CALLBACK,
                    "code_verifier": job["verifier"],
                },
                {"Authorization": basic},
            )
            if status != 200:
                return False
            with token_lock:
                tokens.append(json.loads(body)["access_token"])
            return True

        results = []
        server_cpu, client_cpu = process_cpu(server.pid), time.process_time()
        latencies, seconds, errors = run_concurrently(data["jobs"], args.clients, redeem, base)
        server_cpu = process_cpu(server.pid) - server_cpu
        client_cpu = time.process_time() - client_cpu
        cpu_note = (
            f"CPU per token request over HTTP: server {1000 * server_cpu / len(latencies):.1f} ms "
            f"(server and its workers, from /proc), load generator "
            f"{1000 * client_cpu / len(latencies):.1f} ms."
        )
        results.append(
            summary(
                f"token (authorization_code + PKCE), {args.clients} clients",
                latencies,
                seconds,
                errors,
            )
        )

        # The goal's own question: at 200 requests/s offered (open loop), what is the p95?
        if paced_jobs:
            latencies, seconds, errors = run_at_rate(paced_jobs, args.rate, 32, redeem, base)
            results.append(
                summary(
                    f"token at {args.rate:.0f} req/s offered (open loop)",
                    latencies,
                    seconds,
                    errors,
                )
            )

        def userinfo(http, access_token) -> bool:
            status, _body = http.request(
                "GET", "/oidc/userinfo/", headers={"Authorization": f"Bearer {access_token}"}
            )
            return status == 200

        jobs = [tokens[n % len(tokens)] for n in range(args.userinfo)] if tokens else []
        latencies, seconds, errors = run_concurrently(jobs, args.clients, userinfo, base)
        results.append(summary(f"userinfo, {args.clients} clients", latencies, seconds, errors))

        people = data["people"][: args.signins]
        # SMS codes per person are limited (3 per 15 minutes): each person signs in once.
        if people:
            latencies, seconds, errors = run_concurrently(
                people,
                min(4, args.clients),
                lambda _http, person: full_sign_in(base, data, person, var),
                base,
            )
            results.append(
                summary("full sign-in to verified ID token, 4 clients", latencies, seconds, errors)
            )

        # The same token request without HTTP or concurrency: the server's own cost per request.
        if local_jobs:
            from django.test import Client

            local = Client()
            basic = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            latencies, errors = [], 0
            started = time.perf_counter()
            for job in local_jobs:
                began = time.perf_counter()
                response = local.post(
                    "/oidc/token/",
                    {
                        "grant_type": "authorization_code",
                        "code": job["code"],
                        "redirect_uri": CALLBACK,
                        "code_verifier": job["verifier"],
                    },
                    HTTP_AUTHORIZATION=f"Basic {basic}",
                )
                latencies.append(time.perf_counter() - began)
                errors += response.status_code != 200
            results.append(
                summary(
                    "token, in-process, 1 thread (server cost per request)",
                    latencies,
                    time.perf_counter() - started,
                    errors,
                )
            )

        load = os.getloadavg()
        database = "PostgreSQL" if os.environ.get("DATABASE_URL") else "SQLite"
        setup = (
            f"{os.cpu_count()} cores shared by server and clients, "
            f"`panjereh serve --app {args.app}` (Granian) "
            f"{args.workers} workers x {args.threads} threads, Argon2-hashed client secret, "
            f"ES256 ID tokens, cache: {'Redis' if os.environ.get('REDIS_URL') else 'local'}; "
            "load average after the run "
            f"{load[0]:.1f}. {cpu_note}"
        )
        print(setup)
        for r in results:
            print(
                f"{r['name']:<50} n={r['requests']:<5} errors={r['errors']:<3} "
                f"{r['rps']:7.1f} req/s  p50 {r['p50']:6.1f} ms  p95 {r['p95']:6.1f} ms  max {r['max']:6.1f} ms"
            )
        print(goal_verdict(results))
        if args.write_docs:
            write_docs(results, setup, database)
            print("written to docs/benchmarks.md")
    finally:
        if server is not None and server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(var, ignore_errors=True)


if __name__ == "__main__":
    main()
