# ruff: noqa: S608 (SQL built from numbers and a table name this script read, no input)
"""Observed smartness over ten million journey events, on PostgreSQL.

Run (10 M events, the goal's size; a dedicated, throw-away database: its applications and
journey events are DELETED first)::

    createdb -h 127.0.0.1 -p 55440 -U postgres p5_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:55440/p5_bench \\
        .venv/bin/python benchmarks/oversight/observed.py --events 10000000

1. Migrate; load the window's service definitions (``services load-definitions``: five
   services of their agencies); delete every application (and so its journey events).
2. Build ``--events`` journey events inside PostgreSQL, no Python object per row: ``events /
   7`` applications by one ``INSERT … SELECT … FROM generate_series`` (submitted over the last
   twelve months, one in twelve through an officer, one in eight rejected with a reason, one
   in fifty still open), then seven events per application by one ``INSERT … SELECT`` from
   the applications ``CROSS JOIN generate_series(1, 7)`` (submitted, the state changes, the
   decision or the officer's assignment, the document); then ``ANALYZE``. The same for SSO
   sign-ins (``--sessions``) through 40 agency windows.
3. Time the observed-smartness indicators of the last complete Jalali month: the grouped
   read of ``services.queries.observed_smartness`` (applications of the month, the human
   step as a semi-join on the journey log), ``certified_smart_service_ids`` and
   ``identity.queries.sso_sign_ins_by_agency``, then the four observed indicators and the
   declared-vs-observed comparison computed from them; cold, then the median of repeats.
   Goal: ≤ 1 s. Prints the figure (the sentence explaining the difference, in English), then
   the executed plan of the grouped read (``EXPLAIN ANALYZE`` of the SQL the ORM sends, JIT
   off as the query runs it: the indexes it uses, the aggregation, how many probes of the
   journey log's partial index), and with ``--markdown`` a block for docs/benchmarks.md.

``--reuse`` measures the rows of the last run again (no build: only the query is timed);
``--quick`` builds 1 M events instead of 10 M (building 10 M took 518 s on the shared
machine, its 2 cores loaded by other test runs).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GOAL_S = 1.0
EVENTS_PER_APPLICATION = 7


def setup(load: bool = True) -> None:
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL to a throw-away PostgreSQL database (see the docstring).")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "panjereh.conf.settings")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    if load:  # (``--reuse``: the definitions of the run that built the rows)
        call_command("services", "load-definitions", verbosity=0)


def build(events: int, sessions: int) -> dict:
    from django.db import connection

    from panjereh.catalogue.models import Agency
    from panjereh.identity.models import User
    from panjereh.services.models import Application, ServiceDefinition

    Application.objects.all().delete()
    user, _ = User.objects.get_or_create(
        username="bench-observed", defaults={"national_code": "0000000000", "is_active": False}
    )
    definitions = list(
        ServiceDefinition.objects.filter(active=True).order_by("pk").values_list("pk", "agency_id")
    )
    apps = events // EVENTS_PER_APPLICATION
    defs = "ARRAY[" + ",".join(str(d) for d, _ in definitions) + "]::bigint[]"
    ags = "ARRAY[" + ",".join(str(a) for _, a in definitions) + "]::bigint[]"
    nd = len(definitions)
    started = time.perf_counter()
    with connection.cursor() as c:
        # g % 50 = 7: still open; g % 8 = 1: rejected with a reason (the journey: id % 12 = 0 officer).
        c.execute(
            f"""
            INSERT INTO services_application (
                tracking_code, definition_id, agency_id, user_id, subject_code, origin,
                idempotency_key, inputs, state, waiting_for, review_reason, decision,
                decision_reasons, attempts, submitted_at, due_at, completed_at, rating)
            SELECT 'B-' || g, ({defs})[1 + g %% {nd}], ({ags})[1 + g %% {nd}], %s, '0000000000',
                'citizen', 'b' || g, '{{}}'::jsonb,
                CASE WHEN g %% 50 = 7 THEN 'human_review' WHEN g %% 8 = 1 THEN 'rejected'
                     ELSE 'issued' END,
                '', '', CASE WHEN g %% 8 = 1 THEN 'rejected' ELSE 'approved' END,
                CASE WHEN g %% 8 = 1 THEN '[{{"code": "rule"}}]'::jsonb ELSE '[]'::jsonb END,
                0, t, t + interval '5 minutes',
                CASE WHEN g %% 50 = 7 THEN NULL ELSE t + interval '3 minutes' END, NULL
            FROM (SELECT g, now() - ((g::bigint * 7919) %% 31536000) * interval '1 second' AS t
                  FROM generate_series(1, %s) AS g) AS s
            """,
            [user.pk, apps],
        )
        c.execute(
            """
            INSERT INTO services_journeyevent (application_id, at, kind, from_state, to_state,
                                               text_fa, text_en, data)
            SELECT a.id, a.submitted_at + k * interval '20 seconds',
                CASE k WHEN 1 THEN 'submitted' WHEN 4 THEN
                       (CASE WHEN a.id % 12 = 0 THEN 'assigned' ELSE 'decided' END)
                       WHEN 7 THEN 'issued' ELSE 'state' END,
                CASE k WHEN 2 THEN 'submitted' WHEN 3 THEN 'fetching'
                       WHEN 5 THEN (CASE WHEN a.id % 12 = 0 THEN 'human_review' ELSE 'deciding' END)
                       WHEN 6 THEN 'issuing' ELSE '' END,
                CASE k WHEN 2 THEN 'fetching'
                       WHEN 3 THEN (CASE WHEN a.id % 12 = 0 THEN 'human_review' ELSE 'deciding' END)
                       WHEN 5 THEN 'issuing' WHEN 6 THEN 'issued' ELSE '' END,
                '', '', '{}'::jsonb
            FROM services_application a CROSS JOIN generate_series(1, 7) AS k
            WHERE a.tracking_code LIKE 'B-%%'
            """.replace("%%", "%")
        )
    built = time.perf_counter() - started
    # SSO sign-ins through 40 windows of the definitions' agencies and others.
    from panjereh.identity.clients import Application as Client
    from panjereh.identity.models import ClientProfile, SsoSession

    SsoSession.objects.filter(sid__startswith="bench-").delete()
    agencies = list(Agency.objects.order_by("pk").values_list("pk", flat=True)[:40])
    for pk in agencies:
        client, created = Client.objects.get_or_create(
            client_id=f"bench-window-{pk}",
            defaults={
                "name": f"bench {pk}",
                "client_type": Client.CLIENT_CONFIDENTIAL,
                "authorization_grant_type": Client.GRANT_AUTHORIZATION_CODE,
                "redirect_uris": "https://bench.invalid/cb",
                "client_secret": "x",
                "hash_client_secret": False,
            },
        )
        ClientProfile.objects.get_or_create(application=client, defaults={"agency_id": pk})
    with connection.cursor() as c:
        c.execute(
            """
            INSERT INTO identity_ssosession (sid, user_id, started_at)
            SELECT 'bench-' || g, %s, now() - ((g::bigint * 7919) %% 31536000) * interval '1 second'
            FROM generate_series(1, %s) AS g
            """,
            [user.pk, sessions],
        )
        c.execute(
            f"""
            INSERT INTO {SsoSession.clients.through._meta.db_table} (ssosession_id, application_id)
            SELECT s.id, w.id FROM identity_ssosession s
            JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM oauth2_provider_application
                  WHERE client_id LIKE 'bench-window-%') w ON w.n = s.id % 40
            WHERE s.sid LIKE 'bench-%'
            """
        )
        c.execute("ANALYZE")
    return {"applications": apps, "events": apps * EVENTS_PER_APPLICATION, "build_s": built}


def measure(rounds: int) -> dict:
    from django.utils import timezone
    from django.utils.translation import override

    from panjereh.identity import queries as identity_queries
    from panjereh.oversight import indicators
    from panjereh.oversight.indicators import observed as _unused  # noqa: F401
    from panjereh.services import queries as services_queries

    module = sys.modules["panjereh.oversight.indicators.observed"]
    as_of = timezone.now()
    month, start, end = module.period(as_of)

    def read():
        services_queries.observed_smartness(start, end)
        services_queries.certified_smart_service_ids(as_of)
        identity_queries.sso_sign_ins_by_agency(start, end)

    def observed_indicators():
        snap = indicators.snapshot(as_of)  # catalogue rows; the observed read is lazy
        t = time.perf_counter()
        values = [
            indicators.smart_observed(snap, None),
            indicators.automatic_completion(snap, None),
            indicators.connected_observed(snap, None),
            indicators.smart_certified(snap, None),
        ]
        cmp = indicators.comparison(snap)
        return time.perf_counter() - t, values, cmp

    t = time.perf_counter()
    read()
    cold = time.perf_counter() - t
    repeats = []
    for _ in range(rounds):
        t = time.perf_counter()
        read()
        repeats.append(time.perf_counter() - t)
    full = [observed_indicators() for _ in range(max(1, rounds // 2))]
    seconds, values, cmp = full[-1]
    median = statistics.median(repeats)
    print(f"month {month}; observed read cold {cold:.3f} s, median {median:.3f} s "
          f"(max {max(repeats):.3f} s) over {rounds} repeats")  # fmt: skip
    print(f"four observed indicators + comparison from a fresh snapshot: "
          f"{statistics.median(f[0] for f in full):.3f} s (median)")  # fmt: skip
    print("values:", [(v.value, v.numerator, v.denominator) for v in values])
    with override("en"):
        print(cmp.smart_sentence())
        print(cmp.connected_sentence())
    verdict = "met" if median <= GOAL_S else "NOT met"
    print(f"goal ≤ {GOAL_S:.0f} s: {verdict}")
    return {
        "month": month,
        "cold_s": cold,
        "median_s": median,
        "max_s": max(repeats),
        "rounds": rounds,
        "indicators_s": statistics.median(f[0] for f in full),
        "plan": plan(start, end),
    }


def plan(start, end) -> list[str]:
    """The executed plan of the grouped read (``EXPLAIN ANALYZE`` of the SQL the ORM sent,
    JIT off as the query runs it): which indexes and which aggregation it uses."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from panjereh.services import queries as services_queries

    with CaptureQueriesContext(connection) as captured:
        services_queries.observed_smartness(start, end)
    sql = next(q["sql"] for q in captured.captured_queries if "services_journeyevent" in q["sql"])
    with transaction.atomic(), connection.cursor() as c:
        c.execute("SET LOCAL jit = off")
        c.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) " + sql)
        return [row[0] for row in c.fetchall()]


def counts() -> dict:
    from django.db import connection

    with connection.cursor() as c:
        c.execute("SELECT count(*) FROM services_journeyevent")
        events = c.fetchone()[0]
        c.execute("SELECT count(*) FROM services_application")
        apps = c.fetchone()[0]
    return {"events": events, "applications": apps}


def markdown(size: dict, m: dict, load: tuple) -> str:
    verdict = "**met**" if m["median_s"] <= GOAL_S else "**not met**"
    used = sorted(
        {
            word.strip('",()')
            for line in m["plan"]
            for word in line.split()
            if word.startswith(("services_", "identity_")) and ("_at" in word or "human" in word)
        }
    )
    nodes = []  # the plan's node types, in order, once each
    for line in m["plan"]:
        node = line.strip().lstrip("->").strip().split(" (")[0].split(" on ")[0]
        node = node.split(" using ")[0]
        if node[:1].isupper() and ":" not in node and "Plan" not in node and node not in nodes:
            nodes.append(node)
    probes = sum(
        int(line.split("loops=")[1].rstrip(")"))
        for line in m["plan"]
        if "journey" in line and "Scan" in line and "loops=" in line
    )
    return "\n".join(
        [
            "| measure | goal | measured | |",
            "|---|---|---|---|",
            f"| observed-smartness read of month {m['month']} over {size['events']:,} journey "
            f"events ({size['applications']:,} applications), median of {m['rounds']} | "
            f"≤ {GOAL_S:.0f} s | {m['median_s']:.3f} s (÷ goal {m['median_s'] / GOAL_S:.2f}; "
            f"cold {m['cold_s']:.3f} s, max {m['max_s']:.3f} s) | {verdict} |",
            f"| the four observed indicators and the declared-vs-observed comparison from a "
            f"fresh snapshot | | {m['indicators_s']:.3f} s | |",
            "",
            f"PostgreSQL, {os.cpu_count()} cores, load average after the run "
            f"{', '.join(f'{x:.1f}' for x in load)}. Plan: {', '.join(nodes)}; indexes "
            f"{', '.join(used) or '(none named)'}; {probes:,} probes of the journey log's "
            "index (one per application of the month and per use of the human-step test).",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--sessions", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--reuse", action="store_true", help="Keep the rows of the last run.")
    parser.add_argument("--quick", action="store_true", help="1 M events, 20,000 sessions.")
    parser.add_argument("--markdown", action="store_true", help="Print a docs block.")
    args = parser.parse_args()
    if args.quick:
        args.events, args.sessions = 1_000_000, 20_000
    setup(load=not args.reuse)
    print(f"{platform.node()} · Python {platform.python_version()} · {os.cpu_count()} CPUs")
    if not args.reuse:
        info = build(args.events, args.sessions)
        print(f"built {info['applications']:,} applications, {info['events']:,} journey events "
              f"in {info['build_s']:.1f} s")  # fmt: skip
    result = measure(args.rounds)
    print("plan of the grouped read (EXPLAIN ANALYZE, JIT off):", *result["plan"], sep="\n  ")
    if args.markdown:
        print(markdown(counts(), result, os.getloadavg()))


if __name__ == "__main__":
    main()
