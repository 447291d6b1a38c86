"""Votes benchmark: 100 concurrent clients voting over HTTP, none lost; and the weekly list
computed over 1,000,000 votes.

Run alone with ``.venv/bin/python benchmarks/feedback/votes.py`` (SQLite in a temporary
directory unless ``DATABASE_URL`` is set; ``panjereh serve`` on 127.0.0.1, port ``--port``,
stopped by its PID; the directory is removed at the end). Or call :func:`run` from another
benchmark that already has a server and Django set up on the same database.

1. HTTP: ``--clients`` threads, each a signed-in citizen with its own HTTP connection, each
   votes once for each of ``--items`` not-yet-online cards and once more for the first (which
   must be refused with 409). Afterwards the vote rows of these citizens are counted and
   compared with the 201 answers, and the weekly tally with the rows: nothing lost, nothing
   doubled. Throughput and p50/p95 of the vote requests are reported, and the ratio to a read
   (the live standings as JSON) by the same clients on the same server, as a baseline.
2. Scale: ``--bulk`` votes (default 1,000,000; 0 skips this part) are loaded into one
   completed week (COPY on PostgreSQL, executemany on SQLite). Then each read is repeated
   (``--reads``, default 200; a tenth of that, 30 s at most, for the GROUP BY) and reported as
   throughput and p50/p95/max: the weekly list counted from the vote rows (GROUP BY over the
   (week, item) index), the live standings read from the roll-up, and the published list
   with its items' moderation status. The roll-up rebuild and the publication run once.

``--markdown`` prints markdown tables (for the docs) instead of JSON; :func:`markdown`,
:func:`markdown_http` and :func:`markdown_scale` render a result dict the same way for a caller.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/benchlib.py
from benchlib import percentile, stop_server, wait_http

ROOT = Path(__file__).resolve().parents[2]


def _session_for(user) -> str:
    """A signed-in session for ``user``, as the sign-in would leave it."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "panjereh.identity.backends.RateLimitedModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


def run(base_url: str, users: list, *, items: int = 10, clients: int = 100) -> dict:
    """Votes over HTTP by up to ``clients`` concurrent citizens from ``users`` (identity.User
    rows with a national code, in the database the server at ``base_url`` uses; Django must be
    set up in this process). Returns the figures."""
    import httpx
    from django.conf import settings
    from django.db import connection

    from panjereh.participation import queries, weeks
    from panjereh.participation.models import Vote, WeeklyTally

    voters = [u for u in users if u.national_code][:clients]
    cards = list(queries.not_online_services().values_list("pk", flat=True)[:items])
    if not voters or not cards:
        raise RuntimeError("need citizens and not-yet-online service cards")
    sessions = [_session_for(u) for u in voters]
    week = weeks.current_week()
    rows_before = Vote.objects.filter(user__in=voters, jalali_week=week).count()
    connection.close()

    def hammer(kind: str) -> tuple[list[float], dict[int, int], list[str], float]:
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        errors: list[str] = []
        lock = threading.Lock()
        barrier = threading.Barrier(len(voters))

        def client(session_key: str) -> None:
            csrf = secrets.token_hex(16)  # a 32-character secret: cookie and header agree
            mine: list[tuple[float, int]] = []
            cookies = {settings.SESSION_COOKIE_NAME: session_key, settings.CSRF_COOKIE_NAME: csrf}
            headers = {"Accept": "application/json", "X-CSRFToken": csrf}
            with httpx.Client(
                base_url=base_url, trust_env=False, timeout=60, cookies=cookies, headers=headers
            ) as http:
                barrier.wait()
                for card in [*cards, cards[0]]:
                    start = time.perf_counter()
                    try:
                        if kind == "vote":
                            response = http.post("/en/participate/vote/", data={"service": card})
                        else:
                            response = http.get("/en/participate/weekly/current.json")
                    except httpx.HTTPError as exc:
                        with lock:
                            errors.append(repr(exc))
                        continue
                    mine.append(((time.perf_counter() - start) * 1000, response.status_code))
            with lock:
                for latency, status in mine:
                    latencies.append(latency)
                    statuses[status] = statuses.get(status, 0) + 1

        threads = [threading.Thread(target=client, args=(s,)) for s in sessions]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return latencies, statuses, errors, time.perf_counter() - started

    latencies, statuses, errors, elapsed = hammer("vote")
    read_latencies, read_statuses, _read_errors, read_elapsed = hammer("read")

    rows = Vote.objects.filter(user__in=voters, jalali_week=week).count() - rows_before
    tally = sum(
        WeeklyTally.objects.filter(jalali_week=week, suggestion__service_id__in=cards).values_list(
            "votes", flat=True
        )
    )
    all_rows = Vote.objects.filter(jalali_week=week, suggestion__service_id__in=cards).count()
    accepted = statuses.get(201, 0)
    return {
        "clients": len(voters),
        "items": len(cards),
        "requests": len(latencies),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "transport_errors": errors[:5],
        "accepted_201": accepted,
        "rows_written": rows,
        "lost": accepted - rows,
        "expected_accepted": len(voters) * len(cards),
        "tally_equals_rows": tally == all_rows,
        "elapsed_s": round(elapsed, 2),
        "throughput_per_s": round(len(latencies) / elapsed, 1) if elapsed else 0,
        "p50_ms": round(percentile(latencies, 0.5), 1),
        "p95_ms": round(percentile(latencies, 0.95), 1),
        "baseline_read": {
            "what": "GET /en/participate/weekly/current.json by the same clients",
            "statuses": {str(k): v for k, v in sorted(read_statuses.items())},
            "throughput_per_s": round(len(read_latencies) / read_elapsed, 1),
            "p95_ms": round(percentile(read_latencies, 0.95), 1),
        },
        "vote_vs_read_throughput_ratio": round(
            (len(latencies) / elapsed) / (len(read_latencies) / read_elapsed), 2
        )
        if read_latencies and elapsed
        else None,
    }


def _bulk_load(n_votes: int, n_items: int, per_user: int, week: dt.date) -> dict:
    """``n_votes`` votes in ``week``: skewed over ``n_items`` suggestions, ``per_user`` each."""
    from django.db import connection, transaction

    from panjereh.catalogue.models import Agency
    from panjereh.identity.models import User
    from panjereh.participation.models import Origin, Suggestion, Vote

    rng = random.Random(1404)  # noqa: S311 -- benchmark data, not security
    started = time.perf_counter()
    agency = Agency.objects.create(code="bench-bulk", name_fa="دستگاه آزمون حجم", kind="ministry")
    Suggestion.objects.bulk_create(
        Suggestion(
            origin=Origin.CITIZEN,
            goal="smart",
            agency=agency,
            text=f"پیشنهاد {i}",
            status="approved",
        )
        for i in range(n_items)
    )
    ids = list(Suggestion.objects.filter(agency=agency).order_by("pk").values_list("pk", flat=True))
    n_users = -(-n_votes // per_user)
    User.objects.bulk_create(
        (User(username=f"bulk{i}", national_code=f"9{i:09d}") for i in range(n_users)),
        batch_size=5000,
    )
    user_ids = list(
        User.objects.filter(username__startswith="bulk").order_by("pk").values_list("pk", flat=True)
    )
    weights = [1 / (rank + 1) ** 0.8 for rank in range(n_items)]  # a few popular items
    cast_at = dt.datetime.combine(week, dt.time(12), tzinfo=dt.UTC)
    table = Vote._meta.db_table

    def rows():
        left = n_votes
        for uid in user_ids:
            k = min(per_user, left)
            if k <= 0:
                return
            chosen: set[int] = set()
            while len(chosen) < k:
                chosen.update(rng.choices(ids, weights=weights, k=k - len(chosen)))
            for sid in chosen:
                yield (uid, sid, week, cast_at)
            left -= k

    prepared = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            copy_sql = f"COPY {table} (user_id, suggestion_id, jalali_week, cast_at) FROM STDIN"
            with cursor.cursor.copy(copy_sql) as copy:
                for row in rows():
                    copy.write_row(row)
        else:
            columns = "(user_id, suggestion_id, jalali_week, cast_at) VALUES (%s, %s, %s, %s)"
            sql = f"INSERT INTO {table} {columns}"  # noqa: S608 -- the model's own table name
            batch: list = []
            for uid, sid, wk, at in rows():
                batch.append((uid, sid, wk.isoformat(), at.strftime("%Y-%m-%d %H:%M:%S")))
                if len(batch) >= 50_000:
                    cursor.executemany(sql, batch)
                    batch.clear()
            if batch:
                cursor.executemany(sql, batch)
    loaded = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE" if connection.vendor == "sqlite" else f"ANALYZE {table}")
    return {
        "votes": Vote.objects.filter(jalali_week=week).count(),
        "users": n_users,
        "items": n_items,
        "setup_s": round(prepared - started, 1),
        "load_s": round(loaded - prepared, 1),
        "load_rows_per_s": round(n_votes / (loaded - prepared)),
    }


def repeated_reads(fn, *, reads: int, seconds: float | None = None) -> dict:
    """Call ``fn`` ``reads`` times in a row (stopping early after ``seconds`` if given, but
    after at least 5 calls): throughput and latency percentiles of the repeated reads."""
    latencies: list[float] = []
    started = time.perf_counter()
    for _ in range(reads):
        start = time.perf_counter()
        fn()
        latencies.append((time.perf_counter() - start) * 1000)
        if seconds is not None and len(latencies) >= 5 and time.perf_counter() - started > seconds:
            break
    elapsed = time.perf_counter() - started
    return {
        "reads": len(latencies),
        "throughput_per_s": round(len(latencies) / elapsed, 1) if elapsed else 0,
        "p50_ms": round(percentile(latencies, 0.5), 1),
        "p95_ms": round(percentile(latencies, 0.95), 1),
        "max_ms": round(max(latencies), 1) if latencies else 0.0,
    }


def scale(
    n_votes: int = 1_000_000, n_items: int = 1000, per_user: int = 50, reads: int = 200
) -> dict:
    """The weekly list over ``n_votes`` votes of one completed week: load, then repeated reads
    (throughput, p50/p95) of the top 10 counted from the vote rows, of the live standings from
    the roll-up and of the published list, plus the one-off roll-up rebuild and publication."""
    from django.utils import timezone

    from panjereh.participation import operations, queries, weeks

    week = weeks.last_completed_week() - dt.timedelta(days=7)  # a completed week of its own
    result = _bulk_load(n_votes, n_items, per_user, week)
    from_rows = queries.standings_from_votes(week)

    # The GROUP BY over the 1 M rows is a few hundred ms: a tenth of the reads, 30 s at most.
    result["top10_from_rows"] = repeated_reads(
        lambda: queries.standings_from_votes(week), reads=max(5, reads // 10), seconds=30
    )
    start = time.perf_counter()
    counted = operations.recount(week)
    result["rollup_rebuild_ms"] = round((time.perf_counter() - start) * 1000, 1)
    result["rollup_items"] = counted
    from_rollup = queries.standings(week)
    result["top10_from_rollup"] = repeated_reads(lambda: queries.standings(week), reads=reads)
    result["rollup_equals_rows"] = [(s.suggestion.pk, s.votes) for s in from_rows] == [
        (s.suggestion.pk, s.votes) for s in from_rollup
    ]
    start = time.perf_counter()
    weekly = operations.publish_week(week, now=timezone.now())
    result["publish_ms"] = round((time.perf_counter() - start) * 1000, 1)
    result["published_list"] = repeated_reads(
        lambda: [e.withdrawn for e in queries.published_entries(weekly)], reads=reads
    )
    result["published_votes"] = weekly.total_votes
    result["top3"] = list(weekly.entries.values_list("votes", flat=True)[:3])
    return result


def _cell(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "**no**"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,}"  # already rounded by the benchmark
    if value is None:
        return "—"
    return str(value).replace("|", "\\|")


def _table(header: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def markdown_http(h: dict) -> str:
    """The HTTP part (what :func:`run` returns) as a markdown table."""
    read = h.get("baseline_read") or {}
    statuses = ", ".join(f"{k}: {v:,}" for k, v in h.get("statuses", {}).items()) or "—"
    rows = [
        ["concurrent clients × items", f"{h['clients']:,} × {h['items']:,}"],
        ["vote requests", h["requests"]],
        ["HTTP statuses", statuses],
        [
            "votes accepted (201) / rows written / lost",
            f"{h['accepted_201']:,} / {h['rows_written']:,} / **{h['lost']:,}**",
        ],
        ["expected accepted", h["expected_accepted"]],
        ["roll-up = rows", h["tally_equals_rows"]],
        ["transport errors", len(h.get("transport_errors") or [])],
        ["elapsed", f"{h['elapsed_s']:,} s"],
        ["vote throughput", f"{h['throughput_per_s']:,} /s"],
        ["vote latency p50 / p95", f"{h['p50_ms']:,} / {h['p95_ms']:,} ms"],
        [
            "baseline read (standings JSON) throughput, p95",
            f"{read.get('throughput_per_s', 0):,} /s, {read.get('p95_ms', 0):,} ms",
        ],
        ["vote / read throughput ratio", h.get("vote_vs_read_throughput_ratio")],
    ]
    return "\n".join(_table(["votes over HTTP", "value"], rows))


def markdown_scale(b: dict) -> str:
    """The bulk part (what :func:`scale` returns) as markdown tables."""
    lines = _table(
        ["weekly list over the bulk votes", "value"],
        [
            ["votes loaded (people, items)", f"{b['votes']:,} ({b['users']:,}, {b['items']:,})"],
            ["load", f"{b['load_s']:,} s ({b['load_rows_per_s']:,} rows/s)"],
            ["roll-up rebuilt from the rows (`recount`, once)", f"{b['rollup_rebuild_ms']:,} ms"],
            ["publish the week (once)", f"{b['publish_ms']:,} ms"],
            ["roll-up = rows", b["rollup_equals_rows"]],
            [
                "votes in the published list; top 3",
                f"{b['published_votes']:,}; " + ", ".join(f"{v:,}" for v in b["top3"]),
            ],
        ],
    )
    reads = [
        ("top 10 counted from the vote rows", "top10_from_rows"),
        ("top 10 from the roll-up (live standings)", "top10_from_rollup"),
        ("published list with its moderation status", "published_list"),
    ]
    lines += [""]
    lines += _table(
        ["repeated reads", "reads", "throughput", "p50", "p95", "max"],
        [
            [
                label,
                b[key]["reads"],
                f"{b[key]['throughput_per_s']:,} /s",
                f"{b[key]['p50_ms']:,} ms",
                f"{b[key]['p95_ms']:,} ms",
                f"{b[key]['max_ms']:,} ms",
            ]
            for label, key in reads
            if key in b
        ],
    )
    return "\n".join(lines)


def markdown(result: dict) -> str:
    """A docs section: the machine, then one table per part (never raw JSON)."""
    lines = [f"### Votes ({result.get('database', '?')})", ""]
    facts = [result.get(k) for k in ("machine", "server") if result.get(k)]
    if result.get("load"):
        facts.append("load average after the run " + ", ".join(map(str, result["load"])))
    if facts:
        lines += ["; ".join(facts) + ".", ""]
    if result.get("http"):
        lines += [markdown_http(result["http"]), ""]
    if result.get("scale"):
        lines += [markdown_scale(result["scale"]), ""]
    return "\n".join(lines).rstrip() + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--items", type=int, default=10)
    parser.add_argument("--bulk", type=int, default=1_000_000, help="0: skip the bulk part")
    parser.add_argument("--bulk-items", type=int, default=1000)
    parser.add_argument("--reads", type=int, default=200, help="repeated reads per query")
    parser.add_argument("--markdown", action="store_true", help="Print markdown tables.")
    parser.add_argument("--port", type=int, default=8621)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()

    var = Path(tempfile.mkdtemp(prefix="panjereh-bench-votes-"))
    os.environ.update(
        {
            "PANJEREH_VAR": str(var),
            "PANJEREH_MODE": "test",
            "DJANGO_SETTINGS_MODULE": "panjereh.conf.settings",
        }
    )
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from panjereh.catalogue.models import Agency, Service
    from panjereh.identity.models import User

    # With DATABASE_URL, use a throwaway database: the benchmark adds rows and leaves them.
    call_command("migrate", verbosity=0, interactive=False)
    agency = Agency.objects.create(code="bench-votes", name_fa="دستگاه آزمون", kind="ministry")
    Service.objects.bulk_create(
        Service(agency=agency, title_fa=f"خدمت {i}", connected=False) for i in range(args.items)
    )
    User.objects.bulk_create(
        User(username=f"voter{i}", national_code=f"8{i:09d}") for i in range(args.clients)
    )
    users = list(User.objects.filter(username__startswith="voter").order_by("pk"))
    base = f"http://127.0.0.1:{args.port}"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "panjereh",
            "serve",
            "--bind",
            f"127.0.0.1:{args.port}",
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_http(f"{base}/en/participate/weekly/current.json")
        http = run(base, users, items=args.items, clients=args.clients)
    finally:
        stop_server(server, timeout=20)
    bulk = (
        scale(
            args.bulk, n_items=args.bulk_items, per_user=min(50, args.bulk_items), reads=args.reads
        )
        if args.bulk
        else None
    )
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "database": connection.vendor,
        "server": f"panjereh serve, {args.workers} workers x {args.threads} threads",
        "http": http,
        "scale": bulk,
        "load": [round(x, 1) for x in os.getloadavg()],
    }
    shutil.rmtree(var, ignore_errors=True)
    if args.markdown:
        print(markdown(result))
    else:
        print(json.dumps(result, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
