"""Payments benchmark (issue 15): many payments at once through the simulated bank with lost and
duplicated callbacks, none charged twice, the bank's money equal to the window's; creation
latency; the reconciliation of a 1,000,000-line settlement file.

Run with ``DATABASE_URL`` naming an **empty** PostgreSQL database (the run migrates it and
writes into it) and ``REDIS_URL``; ``.venv/bin/python benchmarks/payments/run.py`` (the
issue's sizes: 1,000 payments, a 1,000,000-line file; ``--quick``: 200 and 100,000). On
SQLite it runs too, slower (the set-based settlement's SQLite path). Everything binds 127.0.0.1;
the simulated PSP and the window's server (``panjereh serve``) are child processes stopped by
their PIDs.

1. **Payments.** ``--payments`` payments are created and sent to the bank by ``--threads``
   client threads (``operations.create_payment`` then ``start_payment``: the token over HTTP),
   so that all of them are open at the bank at once; then the same threads pay each on the
   bank's page over HTTP and post the bank's callback to the window's server over HTTP, as the
   payer's browser does. Of the payments, ``--lost`` (5%) use the card whose callback never
   comes, ``--twice`` (2%) the card whose callback comes twice (posted by two threads at
   once), ``--declined`` (3%) a declined card, the rest a good card. Creation is timed alone
   (p50/p95) under that concurrency, and again one at a time (the uncontended cost).
2. **Reconciliation.** ``operations.reconcile_due`` (the job ``payments-reconcile``) runs
   until no payment is open; every payment must end verified (captured), failed or reversed;
   each captured exactly once (its event rows), none captured whose bank says otherwise; the
   bank's money (its inquiry of each payment; its settlement file of the day) equals the
   window's recorded captures; the day's file reconciles with no finance case.
3. **A 1,000,000-line settlement file.** ``--lines`` captured payments are written into the
   database of a day ten days back (one ``INSERT … SELECT``; PostgreSQL only, else
   ``bulk_create``), and the bank is told the same day's ledger (its ``ledger`` switch: the
   file is generated, not held a row each in memory), with one line dropped, one amount
   changed and one unknown line added. ``operations.reconcile_settlement`` of that day is timed
   from the fetch over HTTP to the commit; it must open exactly three cases (missing, amount,
   extra) and settle the other lines' payments, each recording the file that settled it (its
   history shows the move; no event row each). The database server's CPU for it (the
   connection's PostgreSQL process) and the load average are printed with it. Then timed
   again (nothing to move: idempotent).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from html import unescape
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/benchlib.py
from benchlib import free_port, load, machine, percentile, process_cpu, stop_server, wait_http

ROOT = Path(__file__).resolve().parents[2]
CREATE_P95_GOAL_MS = 50.0
SETTLEMENT_GOAL_S = 60.0
SUCCESS, POOR, SILENT, TWICE = (
    "6037990000000006",
    "6037990000000014",
    "6037990000000030",
    "6037990000000048",
)
FORM = re.compile(r'<form id="back" method="post" action="([^"]+)" data-repeat="(\d+)"')
FIELD = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def pay_at_bank(client, redirect: str, card: str) -> tuple[str, dict, int]:
    page = client.get(redirect)
    assert page.status_code == 200, page.status_code
    answer = client.post(
        redirect, data={"card": card, "expiry": "05/08", "cvv2": "123", "otp": "123456"}
    )
    assert answer.status_code == 200, answer.text[:300]
    form = FORM.search(answer.text)
    fields = {unescape(k): unescape(v) for k, v in FIELD.findall(answer.text)}
    if not form:
        return "", {}, 0
    return unescape(form.group(1)), fields, int(form.group(2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=1000)
    parser.add_argument("--threads", type=int, help="default 20 on PostgreSQL, 4 on SQLite")
    parser.add_argument("--lost", type=float, default=0.05)
    parser.add_argument("--twice", type=float, default=0.02)
    parser.add_argument("--declined", type=float, default=0.03)
    parser.add_argument(
        "--lines", type=int, help="default 1,000,000 on PostgreSQL, 100,000 on SQLite"
    )
    parser.add_argument("--sequential", type=int, default=200, help="creations one at a time")
    parser.add_argument("--timeout", type=float, default=600, help="reconciliation: give up")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="200 payments, 100,000 lines")
    parser.add_argument(
        "--only-settlement", action="store_true", help="only part 3, the settlement file"
    )
    args = parser.parse_args()
    if args.quick:
        args.payments, args.lines, args.sequential = 200, 100_000, 50

    info = machine()
    info["load_before"] = load()
    var = Path(tempfile.mkdtemp(prefix="panjereh-bench-payments-"))
    secret = secrets.token_hex(32)
    sys.path.insert(0, str(ROOT / "src"))
    from panjereh.psp.supervisor import PSP

    bank = PSP(secret, verify_deadline=900).start()
    port = free_port()
    os.environ.update(
        {
            "PANJEREH_VAR": str(var),
            "PANJEREH_MODE": "test",
            "DJANGO_SETTINGS_MODULE": "panjereh.conf.settings",
            "PANJEREH_PAYMENTS_PSP_URL": bank.url,
            "PANJEREH_PAYMENTS_PSP_SECRET": secret,
            # The settlement file of a million lines is one answer of about 90 MB.
            "PANJEREH_PAYMENTS_PSP_TIMEOUT": "120",
            # A lost callback is asked about after 2 s, not a minute: the run is short.
            "PANJEREH_PAYMENTS_CHECK_AFTER": "2",
            "PANJEREH_PAYMENTS_CHECK_MAX": "4",
        }
    )
    import django

    django.setup()
    import httpx
    from django.core.management import call_command
    from django.db import connection, connections
    from django.utils import timezone

    from panjereh.catalogue import operations as catalogue
    from panjereh.catalogue import roles
    from panjereh.catalogue.models import Agency
    from panjereh.common.jalali import TEHRAN
    from panjereh.payments import operations, providers
    from panjereh.payments.models import (
        FinanceCase,
        Payment,
        PaymentEvent,
        PaymentState,
    )

    S = PaymentState
    call_command("migrate", verbosity=0, interactive=False)
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()" if connection.vendor == "postgresql" else "SELECT 1")
        info["database"] = (
            cursor.fetchone()[0] if connection.vendor == "postgresql" else "SQLite (embedded)"
        )
    assert not Payment.objects.exists(), "DATABASE_URL must name an empty database"
    postgres = connection.vendor == "postgresql"
    args.threads = args.threads or (20 if postgres else 4)
    args.lines = args.lines or (1_000_000 if postgres else 100_000)
    agency = catalogue.save_agency(
        Agency(),
        {
            "code": "bench-payments",
            "name_fa": "سازمان سنجش پرداخت",
            "name_en": "Payments benchmark organisation",
            "kind": "organisation",
            "connection_status": "connected",
            "connection_form": "direct",
            "member_code": "19990015",
        },
        author=catalogue.SYSTEM,
    )
    bban = "0170000000000000000015"
    operations.save_treasury_account(
        agency,
        shaba=f"IR{98 - int(bban + '182700') % 97:02d}{bban}",
        treasury_id="4001000015",
        title="حساب درآمد سنجش",
        actor=roles.SYSTEM,
    )
    server = None
    if not args.only_settlement:
        server = subprocess.Popen(
            [sys.executable, "-m", "panjereh", "serve", "--bind", f"127.0.0.1:{port}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    results: dict = {"machine": info}
    try:
        if args.only_settlement:
            day = timezone.now().astimezone(TEHRAN).date() - dt.timedelta(days=10)
            info["load_before_settlement"] = load()
            results["settlement"] = settle_million(args.lines, day, agency, bank)
            print(json.dumps(results["settlement"], ensure_ascii=False), flush=True)
            return finish(info, results)
        # A loaded machine starts the server slowly (granian and Django's start-up).
        wait_http(f"http://127.0.0.1:{port}/payments/", timeout=300, any_status=True)
        callback_url = f"http://127.0.0.1:{port}/payments/callback/simulated/"
        rng = random.Random(args.seed)
        n = args.payments
        cards = (
            [SILENT] * round(n * args.lost)
            + [TWICE] * round(n * args.twice)
            + [POOR] * round(n * args.declined)
        )
        cards += [SUCCESS] * (n - len(cards))
        rng.shuffle(cards)
        amounts = [rng.randrange(10_000, 50_000_000, 1000) for _ in range(n)]
        run = secrets.token_hex(4)

        # -- 1. creation, uncontended, then all payments open at once ------------------------
        sequential = []
        for i in range(args.sequential):
            t = time.perf_counter()
            warm = operations.create_payment(
                purpose_kind="permit",
                purpose_id=f"seq-{run}-{i}",
                amount=10_000,
                agency=agency,
                description="سنجش",
                payer=None,
                actor=roles.SYSTEM,
                idempotency_key=f"seq-{run}-{i}",
            )
            sequential.append((time.perf_counter() - t) * 1000)
            operations.cancel_payment(warm, actor=roles.SYSTEM)
        creation: list[float] = [0.0] * n
        payments: list = [None] * n
        redirects: list = [""] * n

        def open_one(i: int) -> None:
            try:
                t = time.perf_counter()
                payment = operations.create_payment(
                    purpose_kind="permit",
                    purpose_id=f"bench-{run}-{i}",
                    amount=amounts[i],
                    agency=agency,
                    description="سنجش پرداخت",
                    payer=None,
                    actor=roles.SYSTEM,
                    idempotency_key=f"bench-{run}-{i}",
                )
                creation[i] = (time.perf_counter() - t) * 1000
                payments[i] = payment
                redirects[i] = operations.start_payment(
                    payment, actor=roles.SYSTEM, callback_url=callback_url
                )
            finally:
                connections.close_all()

        t0 = time.perf_counter()
        with ThreadPoolExecutor(args.threads) as pool:
            list(pool.map(open_one, range(n)))
        open_s = time.perf_counter() - t0
        assert Payment.objects.filter(state=S.STARTED).count() == n, "not all at the bank"

        # -- 2. the payers at the bank, the callbacks to the window's server ---------------
        local = threading.local()
        posted = Counter()
        refused = Counter()
        lock = threading.Lock()

        def client():
            if not hasattr(local, "client"):
                local.client = httpx.Client(trust_env=False, timeout=60)
            return local.client

        def post(url: str, fields: dict) -> None:
            with httpx.Client(trust_env=False, timeout=60) as one:
                answer = one.post(url, data=fields)
            with lock:
                (posted if answer.status_code == 302 else refused)[answer.status_code] += 1

        def pay_one(i: int) -> None:
            url, fields, repeat = pay_at_bank(client(), redirects[i], cards[i])
            if repeat == 1:
                post(url, fields)
            elif repeat > 1:  # the same callback twice, at once
                barrier = threading.Barrier(repeat)

                def again():
                    barrier.wait()
                    post(url, fields)

                twins = [threading.Thread(target=again) for _ in range(repeat)]
                for twin in twins:
                    twin.start()
                for twin in twins:
                    twin.join()

        t0 = time.perf_counter()
        with ThreadPoolExecutor(args.threads) as pool:
            list(pool.map(pay_one, range(n)))
        pay_s = time.perf_counter() - t0

        # -- 3. reconciliation until nothing is open ----------------------------------------
        t0 = time.perf_counter()
        rounds = 0
        while (
            Payment.objects.filter(state__in=(S.CREATED, S.STARTED, S.AUTHORISED))
            .exclude(purpose_id__startswith="seq-")
            .exists()
        ):
            if time.perf_counter() - t0 > args.timeout:
                break
            operations.reconcile_due(limit=n)
            rounds += 1
            time.sleep(0.5)
        reconcile_s = time.perf_counter() - t0
        mine = list(Payment.objects.filter(purpose_id__startswith=f"bench-{run}-"))
        states = Counter(p.state for p in mine)
        captures = Counter(
            PaymentEvent.objects.filter(payment__in=mine, to_state=S.CAPTURED).values_list(
                "payment_id", flat=True
            )
        )
        twice = sum(1 for c in captures.values() if c > 1)
        bank_money = window_money = 0
        disagree = 0
        for payment in mine:
            said = providers.get().inquire(payment)
            at_bank = said.amount if said.state == providers.VERIFIED else 0
            bank_money += at_bank
            window_money += payment.captured_amount
            disagree += at_bank != payment.captured_amount
        today = timezone.now().astimezone(TEHRAN).date()
        t = time.perf_counter()
        day_file = operations.reconcile_settlement(today, actor=roles.SYSTEM)
        day_file_s = time.perf_counter() - t
        _body, lines = providers.get().settlement(today)
        file_money = sum(line.amount for line in lines if line.kind == "payment")
        final = {S.CAPTURED, S.SETTLED, S.FAILED, S.REVERSED}
        results["payments"] = {
            "payments": n,
            "threads": args.threads,
            "cards": dict(
                Counter(
                    {
                        SUCCESS: "paid",
                        POOR: "declined",
                        SILENT: "lost callback",
                        TWICE: "duplicated callback",
                    }[c]
                    for c in cards
                )
            ),
            "open_all_s": round(open_s, 2),
            "pay_all_s": round(pay_s, 2),
            "callbacks_answered": dict(posted),
            "callbacks_refused": dict(refused),
            "reconcile_s": round(reconcile_s, 2),
            "reconcile_rounds": rounds,
            "states": dict(states),
            "all_final": all(p.state in final for p in mine),
            "captured_twice": twice,
            "bank_money": bank_money,
            "window_money": window_money,
            "payments_disagreeing": disagree,
            "settlement_file_money": file_money,
            "day_file": {
                "lines": day_file.lines,
                "matched": day_file.matched,
                "seconds": round(day_file_s, 2),
            },
            "finance_cases": FinanceCase.objects.count(),
            "create_ms_p50": round(percentile(creation, 0.5), 2),
            "create_ms_p95": round(percentile(creation, 0.95), 2),
            "create_ms_max": round(max(creation), 2),
            "create_sequential_ms_p50": round(percentile(sequential, 0.5), 2),
            "create_sequential_ms_p95": round(percentile(sequential, 0.95), 2),
        }
        ok = (
            results["payments"]["all_final"]
            and twice == 0
            and bank_money == window_money == file_money
            and disagree == 0
            and FinanceCase.objects.count() == 0
        )
        results["payments"]["ok"] = ok
        print(json.dumps(results["payments"], ensure_ascii=False), flush=True)

        # -- 4. a settlement file of a million lines -----------------------------------------
        day = today - dt.timedelta(days=10)
        info["load_before_settlement"] = load()
        results["settlement"] = settle_million(args.lines, day, agency, bank)
        print(json.dumps(results["settlement"], ensure_ascii=False), flush=True)
    finally:
        if server is not None:
            stop_server(server)
        bank.stop()
    finish(info, results)


def finish(info: dict, results: dict) -> None:
    info["load_after"] = load()
    p = results.get("payments")
    s = results["settlement"]
    print("\n== payments benchmark ==")
    print(json.dumps(info, ensure_ascii=False))
    if p is None:
        print(settlement_line(s))
        if not s["ok"]:
            sys.exit(1)
        return
    print(
        f"{p['payments']} payments ({p['cards']}) with {p['threads']} threads: all final "
        f"{p['all_final']} {p['states']}; captured twice {p['captured_twice']}; bank "
        f"{p['bank_money']:,} = window {p['window_money']:,} = file "
        f"{p['settlement_file_money']:,} rials: {p['ok']}"
    )
    print(
        f"creation under {p['threads']} threads p50 {p['create_ms_p50']} ms, p95 "
        f"{p['create_ms_p95']} ms (÷ goal {p['create_ms_p95'] / CREATE_P95_GOAL_MS:.2f}); one "
        f"at a time p50 {p['create_sequential_ms_p50']}, p95 {p['create_sequential_ms_p95']} ms "
        f"(÷ goal {p['create_sequential_ms_p95'] / CREATE_P95_GOAL_MS:.2f})"
    )
    print(settlement_line(s))
    if not (p["ok"] and s["ok"]):
        sys.exit(1)


def settlement_line(s: dict) -> str:
    return (
        f"settlement of {s['lines']:,} lines: {s['seconds']} s (÷ goal "
        f"{s['seconds'] / SETTLEMENT_GOAL_S:.2f}; load {s['load_during'][0]} → "
        f"{s['load_during'][1]}; database backend CPU {s['db_backend_cpu_s']} s, this process "
        f"{s['python_cpu_s']} s); steps {s['steps']}; again {s['again_seconds']} s; cases "
        f"{s['cases']}; settled {s['settled']:,} (each recording its file; event rows "
        f"{s['event_rows']}; one's history {s['history_of_one']}): {s['ok']}"
    )


def hot_updates() -> dict:
    """PostgreSQL's count of updates of the payments table, and how many were HOT (no index
    entry written: the row's new version in the same page)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables"
            " WHERE relname = 'payments_payment'"
        )
        row = cursor.fetchone() or (0, 0)
    return {"updates": row[0], "hot": row[1]}


def settle_million(count: int, day: dt.date, agency, bank) -> dict:
    from django.db import connection
    from django.utils import timezone

    from panjereh.catalogue import roles
    from panjereh.common.jalali import TEHRAN
    from panjereh.payments import operations
    from panjereh.payments.models import (
        FinanceCase,
        Payment,
        PaymentEvent,
        PaymentState,
        TreasuryAccount,
    )

    S = PaymentState
    account = TreasuryAccount.objects.get(agency=agency, active=True)
    noon = dt.datetime.combine(day, dt.time(12), tzinfo=TEHRAN)
    prefix, amount = "b1m-", 10_000
    before = FinanceCase.objects.count()
    t = time.perf_counter()
    if connection.vendor == "postgresql":
        table = Payment._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (reference, idempotency_key, purpose_kind, purpose_id,"  # noqa: S608
                " description, amount, agency_id, account_id, payer_id, return_url, state,"
                " provider, provider_token, provider_ref, card_mask, failure_code,"
                " captured_amount, refunded_amount, created_at, started_at, authorised_at,"
                " captured_at, settled_at, ended_at, verify_by, next_check_at, checks,"
                " purpose_told_at)"
                " SELECT '9' || lpad(i::text, 12, '0'), 'b1m:' || i, 'permit', 'b1m-' || i,"
                " 'bench', %s, %s, %s, NULL, '', 'captured', 'simulated', %s || i,"
                " lpad(i::text, 12, '0'), '603799******0006', '', %s, 0, %s, %s, %s, %s,"
                " NULL, NULL, NULL, NULL, 0, %s FROM generate_series(0, %s - 1) AS i",
                [
                    amount,
                    agency.pk,
                    account.pk,
                    prefix,
                    amount,
                    noon,
                    noon,
                    noon,
                    noon,
                    noon,
                    count,
                ],
            )
            cursor.execute(f"ANALYZE {table}")
    else:
        for start in range(0, count, 5000):
            Payment.objects.bulk_create(
                Payment(
                    reference=f"9{i:012d}",
                    idempotency_key=f"b1m:{i}",
                    purpose_kind="permit",
                    purpose_id=f"b1m-{i}",
                    description="bench",
                    amount=amount,
                    agency=agency,
                    account=account,
                    state=S.CAPTURED,
                    provider="simulated",
                    provider_token=f"{prefix}{i}",
                    provider_ref=f"{i:012d}",
                    captured_amount=amount,
                    created_at=noon,
                    captured_at=noon,
                    purpose_told_at=noon,
                )
                for i in range(start, min(start + 5000, count))
            )
    load_s = time.perf_counter() - t
    bank.control(
        ledger={"day": day.isoformat(), "prefix": prefix, "count": count, "amount": amount},
        tamper={
            "drop": [f"{prefix}17"],
            "amount": {f"{prefix}42": amount - 1},
            "extra": [{"kind": "payment", "token": "not-ours", "order_id": "1", "amount": 5}],
        },
    )
    # The database server's share: the CPU seconds of this connection's server process
    # (PostgreSQL: one process a connection, on this machine), beside this process's own.
    backend = None
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]
    db_cpu, own_cpu = process_cpu(backend) if backend else 0.0, time.process_time()
    load_at_start = load()
    t = time.perf_counter()
    record = operations.reconcile_settlement(day, actor=roles.SYSTEM)
    seconds = time.perf_counter() - t
    db_cpu = (process_cpu(backend) - db_cpu) if backend else None
    own_cpu = time.process_time() - own_cpu
    load_at_end = load()
    t = time.perf_counter()
    again = operations.reconcile_settlement(day, actor=roles.SYSTEM)
    again_s = time.perf_counter() - t
    cases = sorted(FinanceCase.objects.filter(settlement=record).values_list("kind", flat=True))
    settled = Payment.objects.filter(purpose_id__startswith="b1m-", state=S.SETTLED).count()
    # Each settled payment records the file that settled it (no event row each), and its
    # history shows the move.
    recorded = Payment.objects.filter(
        purpose_id__startswith="b1m-", state=S.SETTLED, settlement=record
    ).count()
    events = PaymentEvent.objects.filter(payment__purpose_id__startswith="b1m-").count()
    sample = Payment.objects.filter(purpose_id="b1m-0").first()
    shown = [(e.from_state, e.to_state, e.source) for e in sample.history()] if sample else []
    ok = (
        cases == ["amount", "extra", "missing"]
        and FinanceCase.objects.count() - before == 3
        and settled == recorded == count - 2
        and events == 0
        and shown == [(S.CAPTURED, S.SETTLED, "settlement")]
        and record.lines == count
        and record.matched == count - 2
        and again.matched == count - 2
    )
    return {
        "lines": record.lines,
        "matched": record.matched,
        "load_rows_s": round(load_s, 1),
        "seconds": round(seconds, 2),
        "steps": {k: round(v, 2) for k, v in getattr(record, "seconds", {}).items()},
        "again_seconds": round(again_s, 2),
        "again_steps": {k: round(v, 2) for k, v in getattr(again, "seconds", {}).items()},
        "heap_hot_updates": hot_updates(),
        "cases": cases,
        "settled": settled,
        "settled_recorded_on_the_payment": recorded,
        "event_rows": events,
        "history_of_one": shown,
        "load_during": [load_at_start, load_at_end],
        "db_backend_cpu_s": None if db_cpu is None else round(db_cpu, 1),
        "python_cpu_s": round(own_cpu, 1),
        "ok": ok,
        "at": timezone.now().isoformat(timespec="seconds"),
    }


if __name__ == "__main__":
    main()
