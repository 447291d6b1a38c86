"""Appointments benchmark (issue 17): booking throughput with the concurrency guarantee held.

``--people`` people (default 400), ``--threads`` at a time (default 40, each thread with its own
database connection), book ``--capacity`` places (default 200, in slots of 5) of one office at
once: each person reads the times with a free place (as the page shows them) and picks one
at random, again after a "just taken" answer, until none is left; holding a seat
(``appointments.operations.hold``, one conditional update) and confirming it
(``operations.confirm``, the state machine's locked move). The run is valid only if exactly
``--capacity`` bookings are made and every slot holds exactly its capacity; the figure is
bookings per second (and attempts per second, refusals included) from the first attempt to the
last answer.

Standalone::

    DATABASE_URL=postgres://… .venv/bin/python benchmarks/mailbox/booking.py [--quick]

On SQLite (no ``DATABASE_URL``: a fresh file in a temporary folder) it runs with one thread
(SQLite has one writer). ``benchmarks/mailbox/run.py`` imports :func:`run` with its own
arguments (Django already set up); missing attributes take the defaults here.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULTS = {"people": 400, "threads": 40, "capacity": 200, "seed": 17}


def _arg(args, name: str):
    for key in (f"booking_{name}", name):
        value = getattr(args, key, None) if not isinstance(args, dict) else args.get(key)
        if value is not None:
            return value
    return DEFAULTS[name]


def _people(n: int, tag: str) -> list:
    from panjereh.identity.models import User
    from panjereh.registries.population import national_code_check_digit

    base = random.Random(tag).randrange(100_000_000, 800_000_000)
    rows = []
    for i in range(n):
        body = f"{base + i:09d}"
        rows.append(
            User(
                username=f"bench-appt-{tag}-{i}",
                national_code=body + str(national_code_check_digit(body)),
                mobile=f"0912{(base + i) % 10_000_000:07d}",
            )
        )
    User.objects.bulk_create(rows, batch_size=1000)
    return list(User.objects.filter(username__startswith=f"bench-appt-{tag}-").order_by("pk"))


def run(args) -> dict:
    """One measured run (Django set up, database migrated); the figures as a dict."""
    import datetime as dt

    from django.db import connection
    from django.db.models import F
    from django.utils import timezone

    from panjereh.appointments import operations
    from panjereh.appointments.models import Booking, Slot, State
    from panjereh.catalogue import operations as catalogue
    from panjereh.catalogue import roles
    from panjereh.catalogue.models import Agency
    from panjereh.common import jalali

    people_n, threads_n = int(_arg(args, "people")), int(_arg(args, "threads"))
    capacity = int(_arg(args, "capacity"))
    if connection.vendor == "sqlite":
        threads_n = 1
    tag = secrets.token_hex(3)
    agency = Agency.objects.filter(code="bench-appointments").first() or catalogue.save_agency(
        Agency(),
        {
            "code": "bench-appointments",
            "name_fa": "سازمان آزمون نوبت‌دهی",
            "name_en": "Appointments benchmark agency",
            "kind": "organisation",
            "connection_status": "connected",
            "connection_form": "direct",
            "member_code": "19999017",
        },
        author=catalogue.SYSTEM,
    )
    office = operations.open_office(
        roles.SYSTEM, agency, code=f"bench-{tag}", kind="specialty", name_fa=f"درمانگاه {tag}"
    )
    day = operations.tehran_day(timezone.now()) + dt.timedelta(days=2)
    per_slot = 5
    slots = []
    for i in range((capacity + per_slot - 1) // per_slot):
        starts = dt.datetime.combine(day, dt.time(7), tzinfo=jalali.TEHRAN) + dt.timedelta(
            minutes=5 * i
        )
        seats = min(per_slot, capacity - i * per_slot)
        slots.append(
            Slot.objects.create(
                office=office,
                day=day,
                starts_at=starts,
                ends_at=starts + dt.timedelta(minutes=5),
                capacity=seats,
            )
        )
    people = _people(people_n, tag)
    queue = list(enumerate(people))
    lock = threading.Lock()
    outcomes: dict[str, int] = {"booked": 0, "full": 0, "error": 0}
    attempts = [0]
    errors: list[str] = []
    barrier = threading.Barrier(threads_n)

    def worker() -> None:
        from django.db import connection as thread_connection

        try:
            barrier.wait()
            while True:
                with lock:
                    if not queue:
                        return
                    index, person = queue.pop()
                pick = random.Random(index)
                result, tries = "full", 0
                try:
                    while True:
                        # As the page does: the times with a free place, then one of them.
                        free = list(Slot.objects.filter(office=office, taken__lt=F("capacity")))
                        if not free:
                            break
                        tries += 1
                        try:
                            booking = operations.hold(person, pick.choice(free))
                        except operations.SlotFull:
                            continue
                        operations.confirm(person, booking)
                        result = "booked"
                        break
                except Exception as exc:  # noqa: BLE001 - counted, and the run is invalid
                    result = "error"
                    errors.append(repr(exc))
                with lock:
                    outcomes[result] += 1
                    attempts[0] += tries
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=worker) for _ in range(threads_n)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    booked_rows = Booking.objects.filter(office=office, state=State.BOOKED).count()
    held = all(
        s.taken == s.capacity == Booking.objects.filter(slot=s, state=State.BOOKED).count()
        for s in Slot.objects.filter(office=office)
    )
    guarantee = held and booked_rows == capacity == outcomes["booked"] and not errors
    return {
        "database": connection.vendor,
        "people": people_n,
        "threads": threads_n,
        "capacity": capacity,
        "bookings": booked_rows,
        "refused_full": outcomes["full"],
        "errors": outcomes["error"],
        "first_errors": errors[:3],
        "seconds": round(elapsed, 3),
        "bookings_per_s": round(booked_rows / elapsed, 1) if elapsed else 0.0,
        "attempts_per_s": round(attempts[0] / elapsed, 1) if elapsed else 0.0,
        "guarantee_held": guarantee,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=DEFAULTS["people"])
    parser.add_argument("--threads", type=int, default=DEFAULTS["threads"])
    parser.add_argument("--capacity", type=int, default=DEFAULTS["capacity"])
    parser.add_argument("--quick", action="store_true", help="100 people, 10 threads, 50 places")
    args = parser.parse_args()
    if args.quick:
        args.people, args.threads, args.capacity = 100, 10, 50
    try:
        import panjereh  # noqa: F401 - installed (the venv) or on PYTHONPATH
    except ImportError:
        sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("PANJEREH_VAR", tempfile.mkdtemp(prefix="panjereh-bench-booking-"))
    os.environ.setdefault("PANJEREH_MODE", "test")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "panjereh.conf.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    result = run(args)
    print(json.dumps(result, indent=2))
    if not result["guarantee_held"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
