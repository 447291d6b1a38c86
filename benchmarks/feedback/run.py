"""Feedback benchmark: ratings recorded by 100 concurrent clients through the real HTTP
endpoint, none lost (and the participation app's votes through ``votes.run(base_url, ...)``,
in ``votes.py`` beside this file).

Run with ``.venv/bin/python benchmarks/feedback/run.py``. Everything happens in a temporary
directory (SQLite unless ``DATABASE_URL`` is set) removed at the end; the portal is served by
``panjereh serve`` (Granian) on a free 127.0.0.1 port and stopped by its PID.

1. Migrate; create one agency, one service definition, ``--clients`` citizens, each with
   ``--per-client`` finished applications, and a signed-in session per citizen.
2. Ratings: every client (one thread each, all released together) opens the rating page of
   each of its applications (GET, which also gives the CSRF token) and posts a rating
   (ease, satisfaction, comment) to the same endpoint a browser uses. Both requests are timed.
3. Check: one rating row per application, ``Application.rating`` set on each, one RATED
   journey event each, no request failed. Reports throughput and p50/p95 of the posts, and the
   ratio of the post's p95 to the page's p95 in the same run.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/benchlib.py
import votes  # noqa: E402 -- beside this file
from benchlib import free_port, percentile, stop_server, wait_http

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


def setup_data(clients: int, per_client: int) -> tuple[list[dict], list]:
    """Citizens with finished applications and a session each; returns one dict per client,
    and the citizens (for the votes part, with ten not-yet-online cards to vote for)."""
    import datetime as dt
    import uuid

    from django.conf import settings
    from django.test import Client
    from django.utils import timezone

    from panjereh.catalogue.models import Agency, Service
    from panjereh.identity.models import User
    from panjereh.services.models import Application, ServiceDefinition, State

    agency = Agency.objects.create(
        code="bench-agency", name_fa="سازمان سنجش", name_en="Benchmark agency", kind="organisation"
    )
    service = Service.objects.create(agency=agency, title_fa="خدمت سنجش", title_en="Bench")
    for i in range(10):  # not yet online: what the votes part votes for
        Service.objects.create(
            agency=agency, title_fa=f"خدمت برخط‌نشده {i}", title_en=f"Offline {i}"
        )
    definition = ServiceDefinition.objects.create(
        code="bench",
        version=1,
        service=service,
        agency=agency,
        smart=True,
        title_fa="خدمت سنجش",
        title_en="Bench service",
        spec={},
        digest="0" * 64,
    )
    User.objects.bulk_create(
        [
            User(username=f"bench{i}", national_code=f"{7100000000 + i}", assurance_level=3)
            for i in range(clients)
        ]
    )
    users = list(User.objects.filter(username__startswith="bench").order_by("pk"))
    now = timezone.now()
    Application.objects.bulk_create(
        [
            Application(
                tracking_code=f"B{u.pk:06d}-{k:03d}",
                definition=definition,
                agency=agency,
                user=u,
                subject_code=u.national_code,
                idempotency_key=uuid.uuid4().hex,
                state=State.ISSUED,
                submitted_at=now - dt.timedelta(minutes=3),
                due_at=now,
                completed_at=now - dt.timedelta(minutes=1),
            )
            for u in users
            for k in range(per_client)
        ]
    )
    out = []
    for user in users:
        client = Client()
        client.force_login(user)
        out.append(
            {
                "session": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "codes": list(
                    Application.objects.filter(user=user).values_list("tracking_code", flat=True)
                ),
            }
        )
    return out, users


TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def ratings(base_url: str, people: list[dict]) -> dict:
    """Every client rates each of its applications through the HTTP form; timings per request."""
    import httpx
    from django.conf import settings

    barrier = threading.Barrier(len(people))
    lock = threading.Lock()
    posts: list[float] = []
    pages: list[float] = []
    errors: list[str] = []

    def client(n: int, person: dict) -> None:
        mine_posts, mine_pages = [], []
        with httpx.Client(
            base_url=base_url,
            cookies={settings.SESSION_COOKIE_NAME: person["session"]},
            timeout=60,
            trust_env=False,
        ) as http:
            barrier.wait()
            for k, code in enumerate(person["codes"]):
                url = f"/en/feedback/rate/{code}/"
                try:
                    t0 = time.perf_counter()
                    page = http.get(url)
                    mine_pages.append((time.perf_counter() - t0) * 1000)
                    token = TOKEN.search(page.text)
                    if page.status_code != 200 or not token:
                        raise RuntimeError(f"GET {url}: {page.status_code}")
                    form = {
                        "csrfmiddlewaretoken": token.group(1),
                        "ease": str(1 + (n + k) % 5),
                        "satisfaction": str(1 + (n * 3 + k) % 5),
                        "comment": f"بنچمارک {n}-{k}",
                    }
                    t0 = time.perf_counter()
                    response = http.post(url, data=form)
                    mine_posts.append((time.perf_counter() - t0) * 1000)
                    if response.status_code != 302 or "saved=1" not in response.headers.get(
                        "location", ""
                    ):
                        raise RuntimeError(f"POST {url}: {response.status_code}")
                except Exception as exc:  # noqa: BLE001 -- counted and reported
                    with lock:
                        errors.append(repr(exc)[:200])
        with lock:
            posts.extend(mine_posts)
            pages.extend(mine_pages)

    threads = [threading.Thread(target=client, args=(n, p)) for n, p in enumerate(people)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return {"posts": posts, "pages": pages, "errors": errors, "elapsed_s": elapsed}


def run_votes(base_url: str, args, var: Path, users: list) -> dict:
    """The participation app's votes benchmark (``votes.py`` beside this file)."""
    offered = {"users": users, "clients": args.clients, "var": var, "root": ROOT}
    accepted = inspect.signature(votes.run).parameters
    return votes.run(base_url, **{k: v for k, v in offered.items() if k in accepted})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--per-client", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--threads", type=int, default=8, help="threads per server worker")
    parser.add_argument("--markdown", action="store_true", help="Print a docs section.")
    args = parser.parse_args()

    var = Path(tempfile.mkdtemp(prefix="panjereh-bench-feedback-"))
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    os.environ.update(
        {
            "PANJEREH_VAR": str(var),
            "PANJEREH_MODE": "test",
            "PANJEREH_TASKS": "inprocess",
            "DJANGO_SETTINGS_MODULE": "panjereh.conf.settings",
        }
    )
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from panjereh.feedback.models import Rating
    from panjereh.services.models import Application, JourneyEvent

    call_command("migrate", verbosity=0, interactive=False)
    people, users = setup_data(args.clients, args.per_client)
    expected = args.clients * args.per_client
    connection.close()
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
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    voted = None
    try:
        wait_http(f"{base_url}/en/feedback/public/")
        measured = ratings(base_url, people)
        voted = run_votes(base_url, args, var, users)
    finally:
        stop_server(server, timeout=15)

    rows = Rating.objects.count()
    on_applications = Application.objects.filter(rating__isnull=False).count()
    matching = sum(
        1
        for rating, copy in Rating.objects.values_list("satisfaction", "application__rating")
        if rating == copy
    )
    events = JourneyEvent.objects.filter(kind=JourneyEvent.Kind.RATED).count()
    posts, pages = measured["posts"], measured["pages"]
    p95_post, p95_page = percentile(posts, 0.95), percentile(pages, 0.95)
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "database": connection.vendor,
        "server": f"panjereh serve (Granian), {args.workers} workers × {args.threads} threads",
        "clients": args.clients,
        "ratings_expected": expected,
        "ratings_recorded": rows,
        "applications_with_rating": on_applications,
        "application_copy_matches": matching,
        "rated_events": events,
        "lost": expected - rows,
        "errors": len(measured["errors"]),
        "error_samples": measured["errors"][:5],
        "elapsed_s": round(measured["elapsed_s"], 2),
        "ratings_per_s": round(len(posts) / measured["elapsed_s"], 1) if posts else 0,
        "post_ms": {"p50": round(percentile(posts, 0.5), 1), "p95": round(p95_post, 1)},
        "page_ms": {"p50": round(percentile(pages, 0.5), 1), "p95": round(p95_page, 1)},
        "post_to_page_p95_ratio": round(p95_post / p95_page, 2) if p95_page else None,
        "load": [round(x, 1) for x in os.getloadavg()],
    }
    if voted is not None:
        result["votes"] = voted
    shutil.rmtree(var, ignore_errors=True)
    if args.markdown:
        print(markdown(result))
    else:
        print(json.dumps(result, indent=1, ensure_ascii=False, default=str))


def markdown(r: dict) -> str:
    lines = [
        f"### Ratings ({r['database']})",
        "",
        f"{r['machine']}; {r['server']}; load average after the run "
        f"{', '.join(map(str, r['load']))}.",
        "",
        f"- {r['clients']} concurrent clients posted {r['ratings_expected']:,} ratings through "
        f"the rating form over HTTP in {r['elapsed_s']} s (**{r['ratings_per_s']} ratings/s**, "
        f"each post preceded by the page that carries the CSRF token): **{r['ratings_recorded']:,}"
        f" recorded, {r['lost']} lost**, {r['errors']} failed requests, "
        f"{r['application_copy_matches']:,} application copies and {r['rated_events']:,} "
        f"journey events.",
        f"- Post latency p50 {r['post_ms']['p50']} ms, p95 **{r['post_ms']['p95']} ms** with "
        f"{r['clients']} clients waiting on two cores (closed loop: latency ≈ clients ÷ "
        f"throughput); the rating page's p95 {r['page_ms']['p95']} ms in the same run "
        f"(post/page ratio {r['post_to_page_p95_ratio']}).",
    ]
    if "votes" in r:
        lines += ["", votes.markdown_http(r["votes"])]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
