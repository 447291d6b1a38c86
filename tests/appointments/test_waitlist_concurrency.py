"""The waiting list under concurrency (PostgreSQL): ten places freed at once, each cancellation
sent twice (a double click, two workers: twenty threads), with fifteen people waiting: exactly
ten offers, to the first ten people, one message each, one place each; no slot over its
capacity."""

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


FREED, WAITING = 10, 15


def test_places_freed_at_once_are_offered_to_the_first_people_exactly_once():
    office = make_office()
    slots = [make_slot(office, days=3, hour=8 + i) for i in range(FREED)]
    holders = [make_citizen() for _ in slots]
    bookings = [
        operations.confirm(person, operations.hold(person, slot))
        for person, slot in zip(holders, slots, strict=True)
    ]
    waiting = [make_citizen() for _ in range(WAITING)]
    for person in waiting:
        operations.join_waitlist(person, office, slots[0].day)

    calls = [booking for booking in bookings for _twice in range(2)]
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
    assert [statuses[p.pk] for p in waiting] == ["offered"] * FREED + ["waiting"] * (
        WAITING - FREED
    )
    offers = Booking.objects.filter(person__in=waiting)
    assert offers.count() == FREED and set(offers.values_list("state", flat=True)) == {State.HELD}
    assert sorted(b.slot_id for b in offers) == sorted(s.pk for s in slots)
    for person in waiting[:FREED]:
        assert Message.objects.filter(user=person).count() == 1
    assert not Message.objects.filter(user__in=waiting[FREED:]).exists()
    for slot in Slot.objects.filter(pk__in=[s.pk for s in slots]):
        assert slot.taken == 1 <= slot.capacity
