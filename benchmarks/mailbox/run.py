"""Official mailbox benchmark (issue 17): a bulk send of 100,000 notices under a real Celery
worker, none lost or duplicated, and its sustained rate; the notice API's latency; the
person's mailbox page with 10,000 notices; booking throughput (benchmarks/mailbox/booking.py).

Run with ``DATABASE_URL`` naming a PostgreSQL database the run may write into (it migrates it
and adds its own agency, people and notices each run), ``REDIS_URL`` (cache and sessions) and
``CELERY_BROKER_URL`` (the worker's broker)::

    .venv/bin/python benchmarks/mailbox/run.py            # the issue's sizes
    .venv/bin/python benchmarks/mailbox/run.py --quick    # 5,000 notices, fewer samples

Everything binds 127.0.0.1. The window's server (``panjereh serve``) and the Celery worker
(``celery -A panjereh.conf.celery worker``) are child processes, stopped by their PIDs.

1. **Bulk send** (none lost or duplicated; the sustained rate): one ``POST
   /api/mailbox/v1/batches`` of ``--bulk`` items (the API's bulk batch, authenticated as an
   exchange member), queued at commit to the worker, which makes the items available a chunk
   (``PANJEREH_MAILBOX_BULK_CHUNK``) a second, each signed, stored with its events and the
   addressee's SMS alert. After the batch is done: the notices of the batch, their distinct
   idempotency keys and the items without a notice are counted. The rate is the items made
   available ÷ the seconds from the first to the last ``made_available_at``.
2. **Notice API** (goal p95 ≤ 50 ms): ``--sends`` single ``POST /api/mailbox/v1/notices``
   over HTTP, one client, each with its own client assertion (ES256) and idempotency key.
3. **Mailbox page** (goal p95 ≤ 100 ms): ``GET /mailbox/?page=n`` over HTTP for a person with
   ``--box`` notices (made by the bulk send), signed in (a session on Redis), random pages;
   the page's query count is printed (no N+1: it does not grow with the page size).
4. **Booking** (the APPOINTMENTS helper's ``benchmarks/mailbox/booking.py``: ``run(args)``).

Each figure is printed with its goal and the ratio (figure ÷ goal), measured in this run, and
the machine (cores, memory, load average before and after each phase).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/benchlib.py
from benchlib import (
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

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
API_P95_GOAL_MS = 50.0
PAGE_P95_GOAL_MS = 100.0
AUDIENCE = "urn:panjereh:nix"


def national_code(body9: str) -> str:
    total = sum(int(d) * (10 - k) for k, d in enumerate(body9)) % 11
    return body9 + str(total if total < 2 else 11 - total)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bulk", type=int, default=100_000, help="items of the bulk send")
    parser.add_argument("--box", type=int, default=10_000, help="notices of the page's person")
    parser.add_argument("--people", type=int, default=9_000, help="other addressees")
    parser.add_argument("--sends", type=int, default=1000, help="single sends over HTTP")
    parser.add_argument("--pages", type=int, default=500, help="mailbox pages fetched")
    parser.add_argument("--chunk", type=int, help="PANJEREH_MAILBOX_BULK_CHUNK for the worker")
    parser.add_argument("--concurrency", type=int, default=1, help="Celery worker processes")
    parser.add_argument("--timeout", type=float, default=3600, help="bulk: seconds to wait")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--only", default="bulk,api,page,booking")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.bulk, args.box, args.people, args.sends, args.pages = 5_000, 2_000, 600, 200, 150
    args.box = min(args.box, args.bulk)
    phases = set(args.only.split(","))
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("DATABASE_URL must name a PostgreSQL database the run may write into")
    if not os.environ.get("REDIS_URL") or not os.environ.get("CELERY_BROKER_URL"):
        raise SystemExit("REDIS_URL and CELERY_BROKER_URL must name Redis databases")

    info = machine()
    info["load_at_start"] = load()
    var = Path(tempfile.mkdtemp(prefix="panjereh-bench-mailbox-"))
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.update(
        {
            "PANJEREH_VAR": str(var),
            "PANJEREH_MODE": "test",
            "DJANGO_SETTINGS_MODULE": "panjereh.conf.settings",
            # The batch is queued to the worker at commit (the test mode's default is in process).
            "PANJEREH_TASKS": "celery",
            # One agency sends everything here: its per-minute quota (600 by default) would
            # refuse the single sends, which are the measure, not the quota.
            "PANJEREH_MAILBOX_AGENCY_PER_MINUTE": "1000000",
        }
    )
    if args.chunk:
        os.environ["PANJEREH_MAILBOX_BULK_CHUNK"] = str(args.chunk)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections

    call_command("migrate", verbosity=0, interactive=False)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        info["database"] = "PostgreSQL " + cursor.fetchone()[0]
    from panjereh.mailbox import conf as mailbox_conf

    info["bulk_chunk"] = int(mailbox_conf.get("BULK_CHUNK"))
    info["worker_concurrency"] = args.concurrency
    results: dict = {"machine": info, "args": vars(args)}
    print("== mailbox benchmark ==", flush=True)
    print(json.dumps(info, ensure_ascii=False), flush=True)

    setup = prepare(args)
    connections.close_all()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "panjereh", "serve", "--bind", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=(var / "server.log").open("w"),
    )
    worker = None
    try:
        wait_http(f"{base}/mailbox/verify/", timeout=180, any_status=True)
        if "bulk" in phases:
            worker = subprocess.Popen(
                [
                    str(Path(sys.executable).parent / "celery"),
                    "-A",
                    "panjereh.conf.celery",
                    "worker",
                    "--loglevel=INFO",
                    f"--concurrency={args.concurrency}",
                    "--without-gossip",
                    "--without-mingle",
                    "--hostname=mailbench@%h",
                ],
                stdout=subprocess.DEVNULL,
                stderr=(var / "worker.log").open("w"),
                start_new_session=True,  # its pool processes stop with it (its group)
            )
            results["bulk"] = bench_bulk(args, setup, base, var)
            _stop_worker(worker)
            worker = None
        if "api" in phases:
            results["api"] = bench_api(args, setup, base, server)
        if "page" in phases:
            results["page"] = bench_page(args, setup, base, server)
    finally:
        if worker is not None:
            _stop_worker(worker)
        stop_server(server)
    if "booking" in phases:
        results["booking"] = bench_booking(args)
    connections.close_all()
    info["load_at_end"] = load()
    print("\n== summary ==")
    print(json.dumps(results, ensure_ascii=False, indent=1, default=str), flush=True)
    out = var / "results.json"
    out.write_text(json.dumps(results, ensure_ascii=False, indent=1, default=str))
    print(f"(written to {out})")


def _stop_worker(worker: subprocess.Popen) -> None:
    """SIGTERM to the worker's own process group (its pool), SIGKILL if it lingers."""
    if worker.poll() is not None:
        return
    os.killpg(worker.pid, signal.SIGTERM)
    try:
        worker.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()


def prepare(args) -> dict:
    """This run's sending agency (an exchange member with its key) and its addressees: the
    page's person and ``--people`` others, registered with mobiles (each gets an SMS alert)."""
    from django.contrib.auth.hashers import make_password

    from panjereh.catalogue import operations as catalogue
    from panjereh.catalogue.models import Agency
    from panjereh.exchange import provision
    from panjereh.exchange.client import generate_key, public_jwks
    from panjereh.identity.models import User

    started = time.perf_counter()
    run = Agency.objects.filter(code__startswith="mbench").count() + 1
    agency = catalogue.save_agency(
        Agency(),
        {
            "code": f"mbench{run}",
            "name_fa": f"دادگاه سنجش {run}",
            "name_en": f"Benchmark court {run}",
            "kind": "organisation",
            "member_code": f"77{run:06d}",
        },
        author=catalogue.SYSTEM,
    )
    key = generate_key()
    system = provision.register_consumer(agency, "court-system", public_jwks(key))
    type(system).objects.filter(pk=system.pk).update(rate_per_minute=1_000_000)
    password = make_password(None)
    rows = []
    for i in range(args.people + 1):
        code = national_code(f"{(run % 900) + 100:03d}{i:06d}")
        rows.append(
            User(
                username=f"mbench{run}-{i:06d}",
                first_name="آزمون",
                last_name=f"صندوق {i}",
                national_code=code,
                mobile=f"0912{(run * 1_000_000 + i) % 10_000_000:07d}",
                is_active=True,
                password=password,
            )
        )
    User.objects.bulk_create(rows, batch_size=2000)
    codes = [r.national_code for r in rows]
    print(
        f"prepared agency {agency.code} and {len(codes):,} people in "
        f"{time.perf_counter() - started:.1f} s",
        flush=True,
    )
    return {
        "agency": agency,
        "system": system,
        "key": key,
        "box_person": rows[0].username,
        "box_code": codes[0],
        "codes": codes[1:],
    }


def _headers(setup, key: str | None = None) -> dict:
    from panjereh.exchange.client import make_assertion

    client_id = setup["system"].client_id
    headers = {
        "X-Road-Client": client_id,
        "Authorization": "Bearer " + make_assertion(setup["key"], client_id, AUDIENCE),
        "Content-Type": "application/json",
        "Accept-Language": "fa",
    }
    if key:
        headers["Idempotency-Key"] = key
    return headers


def bench_bulk(args, setup, base: str, var: Path) -> dict:
    from django.db import connection
    from django.db.models import Count, Max, Min

    from panjereh.mailbox.models import Batch, BatchItem, Notice

    print(f"\n-- bulk send of {args.bulk:,} notices (load {load()}) --", flush=True)
    others = setup["codes"]
    items = []
    for i in range(args.bulk):
        code = setup["box_code"] if i < args.box else others[i % len(others)]
        items.append(
            {
                "to": {"national_code": code},
                "subject": f"اخطاریه جلسه رسیدگی شماره {i + 1}",
                "body": f"دادگاه سنجش: جلسه رسیدگی پرونده {140300000 + i} در تاریخ ۱۴۰۵/۰۱/۱۵.",
            }
        )
    body = json.dumps({"items": items}, ensure_ascii=False).encode()
    key = f"daily-list-{setup['agency'].code}"
    with LoadClient(base, timeout=600) as client:
        t = time.perf_counter()
        status, answer = client.request(
            "POST", "/api/mailbox/v1/batches", body, _headers(setup, key)
        )
        accepted_s = time.perf_counter() - t
    if status != 202:
        print(f"  refused: {status} {answer[:300]!r}", flush=True)
        return {"error": f"HTTP {status}", "answer": answer[:300].decode(errors="replace")}
    reference = json.loads(answer)["id"]
    print(
        f"  POST batches: {len(body) / 1e6:.1f} MB, {args.bulk:,} items, 202 in "
        f"{accepted_s:.1f} s (load {load()})",
        flush=True,
    )
    batch = Batch.objects.get(reference=reference)
    started = time.perf_counter()
    last_done, last_print = -1, 0.0
    samples = []
    while time.perf_counter() - started < args.timeout:
        batch.refresh_from_db()
        done = BatchItem.objects.filter(batch=batch).exclude(status="pending").count()
        now = time.perf_counter() - started
        samples.append((round(now, 1), done))
        if now - last_print >= 30 or batch.status == "done":
            print(f"  {now:6.0f} s: {done:,} handled (load {load()})", flush=True)
            last_print = now
        if batch.status == "done":
            break
        last_done = done
        time.sleep(2)
    connection.close()
    waited = time.perf_counter() - started
    notices = Notice.objects.filter(batch=batch)
    counts = notices.aggregate(
        rows=Count("pk"),
        keys=Count("idempotency_key", distinct=True),
        first=Min("made_available_at"),
        last=Max("made_available_at"),
    )
    items_by = dict(
        BatchItem.objects.filter(batch=batch)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    without_notice = BatchItem.objects.filter(batch=batch, notice__isnull=True).count()
    distinct_items = notices.values("idempotency_key").distinct().count()
    span = (
        (counts["last"] - counts["first"]).total_seconds()
        if counts["first"] and counts["last"]
        else 0.0
    )
    rate = counts["rows"] / span if span else 0.0
    lost = args.bulk - counts["rows"]
    duplicated = counts["rows"] - counts["keys"]
    print(
        f"  batch {batch.status} after {waited:.0f} s: items {items_by}; {counts['rows']:,} "
        f"notices, {counts['keys']:,} distinct idempotency keys, {without_notice} items "
        f"without a notice; lost {lost}, duplicated {duplicated}; made available over "
        f"{span:.0f} s: {rate:.1f} notices/s sustained",
        flush=True,
    )
    if last_done < 0:
        last_done = 0
    return {
        "items": args.bulk,
        "request_mb": round(len(body) / 1e6, 1),
        "accepted_seconds": round(accepted_s, 1),
        "status": batch.status,
        "waited_seconds": round(waited, 1),
        "item_statuses": items_by,
        "notices": counts["rows"],
        "distinct_keys": counts["keys"],
        "distinct_items": distinct_items,
        "items_without_notice": without_notice,
        "lost": lost,
        "duplicated": duplicated,
        "none_lost_or_duplicated": lost == 0 and duplicated == 0 and without_notice == 0,
        "span_seconds": round(span, 1),
        "notices_per_s": round(rate, 1),
        "progress": samples[:: max(1, len(samples) // 40)],
        "load": load(),
    }


def bench_api(args, setup, base: str, server) -> dict:
    print(f"\n-- notice API, {args.sends} single sends (load {load()}) --", flush=True)
    rng = random.Random(args.seed)
    codes = setup["codes"]
    times, codes_seen = [], {}
    with LoadClient(base) as client:
        for i in range(-20, args.sends):  # 20 to warm the workers
            data = {
                "to": {"national_code": rng.choice(codes)},
                "subject": "احضاریه",
                "body": f"متن احضاریه شماره {i} برای سنجش رابط برنامه‌ها.",
            }
            body = json.dumps(data, ensure_ascii=False).encode()
            headers = _headers(setup, f"single-{setup['agency'].code}-{i}")
            if i == 0:
                cpu_before = process_cpu(server.pid)
            t = time.perf_counter()
            status, _answer = client.request("POST", "/api/mailbox/v1/notices", body, headers)
            elapsed = (time.perf_counter() - t) * 1000
            if i >= 0:
                times.append(elapsed)
                codes_seen[status] = codes_seen.get(status, 0) + 1
    server_cpu = (process_cpu(server.pid) - cpu_before) * 1000 / max(1, len(times))
    p95 = percentile(times, 0.95)
    print(
        f"  {len(times)} sends {codes_seen}; p50 {percentile(times, 0.5):.1f} ms, p95 "
        f"{p95:.1f} ms, max {max(times):.1f} ms; server CPU a send {server_cpu:.1f} ms",
        flush=True,
    )
    return {
        "sends": len(times),
        "http": codes_seen,
        "p50_ms": round(percentile(times, 0.5), 1),
        "p95_ms": round(p95, 1),
        "server_cpu_ms_a_send": round(server_cpu, 1),
        "load": load(),
        "p95": verdict("notice API p95", p95, API_P95_GOAL_MS, "ms"),
    }


def bench_page(args, setup, base: str, server) -> dict:
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from panjereh.identity.models import User
    from panjereh.mailbox.models import Notice

    print(f"\n-- mailbox page (load {load()}) --", flush=True)
    person = User.objects.get(username=setup["box_person"])
    have = Notice.objects.filter(recipient=person.national_code).count()
    client = Client(HTTP_ACCEPT_LANGUAGE="fa")
    client.force_login(person)
    with CaptureQueriesContext(connection) as first:
        answer = client.get("/mailbox/")
    with CaptureQueriesContext(connection) as later:
        client.get("/mailbox/?page=7")
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    pages = max(1, (have + 49) // 50)
    print(
        f"  {person.username}: {have:,} notices, {pages} pages; in process: HTTP "
        f"{answer.status_code}, {len(first.captured_queries)} queries (page 1), "
        f"{len(later.captured_queries)} (page 7)",
        flush=True,
    )
    connection.close()
    rng = random.Random(args.seed)
    headers = {"Accept-Language": "fa", "Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"}
    times, statuses, listed = [], {}, 0
    with LoadClient(base) as http:
        for _ in range(10):
            http.request("GET", "/mailbox/", headers=headers)
        cpu_before = process_cpu(server.pid)
        for n in range(args.pages):
            page = 1 if n % 5 == 0 else rng.randint(1, pages)
            t = time.perf_counter()
            status, body = http.request("GET", f"/mailbox/?page={page}", headers=headers)
            times.append((time.perf_counter() - t) * 1000)
            statuses[status] = statuses.get(status, 0) + 1
            listed += body.count(b"data-state=")
    server_cpu = (process_cpu(server.pid) - cpu_before) * 1000 / max(1, len(times))
    p95 = percentile(times, 0.95)
    print(
        f"  {len(times)} pages {statuses}, {listed / max(1, len(times)):.0f} notices a page; "
        f"p50 {percentile(times, 0.5):.1f} ms, p95 {p95:.1f} ms; server CPU a page "
        f"{server_cpu:.1f} ms",
        flush=True,
    )
    return {
        "notices_of_person": have,
        "pages": len(times),
        "http": statuses,
        "queries_page_1": len(first.captured_queries),
        "queries_page_7": len(later.captured_queries),
        "p50_ms": round(percentile(times, 0.5), 1),
        "p95_ms": round(p95, 1),
        "server_cpu_ms_a_page": round(server_cpu, 1),
        "load": load(),
        "p95": verdict("mailbox page p95", p95, PAGE_P95_GOAL_MS, "ms"),
    }


def bench_booking(args) -> dict:
    print(f"\n-- booking (load {load()}) --", flush=True)
    path = HERE / "booking.py"
    if not path.exists():
        print(
            "  the booking part is missing: benchmarks/mailbox/booking.py is not there", flush=True
        )
        return {"missing": "benchmarks/mailbox/booking.py is not there"}
    spec = importlib.util.spec_from_file_location("mailbox_booking", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    # Its own sizes (this run's --people means the mailbox's addressees, not bookers).
    sizes = {"people": 100, "threads": 10, "capacity": 50} if args.quick else {}
    found = module.run({**sizes, "seed": args.seed, "quick": args.quick})
    print(f"  {json.dumps(found, ensure_ascii=False, default=str)}", flush=True)
    return {"result": found, "load": load()}


if __name__ == "__main__":
    main()
