"""The waiting list under concurrency (PostgreSQL): two places freed at once, each cancellation
sent twice (a double click, two workers), with three people waiting: exactly two offers, to the
first two people, one message each; no slot over its capacity."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from panjereh.appointments import operations
from panjereh.appointments.models import Booking, Slot, State, WaitlistEntry
from panjereh.inbox.models import Message

from .conftest import make_citizen, make_office, make_slot

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="concurrency is tested on PostgreSQL"
    ),
]


def test_two_places_freed_at_once_are_offered_to_two_people_exactly_once():
    office = make_office()
    slots = [make_slot(office, days=3, hour=9 + i) for i in range(2)]
    holders = [make_citizen() for _ in slots]
    bookings = [
        operations.confirm(person, operations.hold(person, slot))
        for person, slot in zip(holders, slots, strict=True)
    ]
    waiting = [make_citizen() for _ in range(3)]
    for person in waiting:
        operations.join_waitlist(person, office, slots[0].day)

    calls = [bookings[0], bookings[0], bookings[1], bookings[1]]
    barrier = threading.Barrier(len(calls))
    errors: list[str] = []

    def cancel(booking):
        from django.db import connection as thread_connection

        try:
            barrier.wait(timeout=60)
            operations.cancel(booking.person, booking)
        except operations.statemachine.InvalidTransition:
            pass  # the same cancellation again: already cancelled
        except Exception as exc:  # noqa: BLE001 - any other outcome fails the test below
            errors.append(repr(exc))
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=cancel, args=(b,)) for b in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    statuses = {e.person_id: e.status for e in WaitlistEntry.objects.all()}
    assert [statuses[p.pk] for p in waiting] == ["offered", "offered", "waiting"]
    offers = Booking.objects.filter(person__in=waiting)
    assert offers.count() == 2 and set(offers.values_list("state", flat=True)) == {State.HELD}
    assert {b.slot_id for b in offers} == {s.pk for s in slots}
    for person in waiting[:2]:
        assert Message.objects.filter(user=person).count() == 1
    assert not Message.objects.filter(user=waiting[2]).exists()
    for slot in Slot.objects.filter(pk__in=[s.pk for s in slots]):
        assert slot.taken == 1 <= slot.capacity
