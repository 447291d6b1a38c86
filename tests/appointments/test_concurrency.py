"""No double booking under concurrency (issue 17's Done-when): 200 people, each in a thread
with its own PostgreSQL connection, book the last 50 places at once; exactly 50 bookings are
made, no slot holds more than its capacity, and the 150 others are told the times are taken."""

from __future__ import annotations

import random
import threading

import pytest
from django.db import connection

from panjereh.appointments import operations
from panjereh.appointments.models import Booking, Slot, State

from .conftest import make_citizen, make_office, make_slot

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="concurrency is tested on PostgreSQL"
    ),
]

PEOPLE = 200
PLACES = 50


def test_200_people_booking_the_last_50_places_get_exactly_50_bookings():
    office = make_office()
    # 12 slots of 5 places; the first two already booked by 10 people: the last 50 are left.
    slots = [make_slot(office, hour=8 + i // 3, minute=(i % 3) * 20, capacity=5) for i in range(12)]
    for i in range(10):
        person = make_citizen()
        operations.confirm(person, operations.hold(person, slots[i // 5]))
    assert sum(s.free for s in Slot.objects.filter(office=office)) == PLACES

    people = [make_citizen() for _ in range(PEOPLE)]
    barrier = threading.Barrier(PEOPLE)
    outcomes: list[str] = []
    lock = threading.Lock()
    slot_list = list(Slot.objects.filter(office=office))

    def book(person, seed):
        from django.db import connection as thread_connection

        order = slot_list[:]
        random.Random(seed).shuffle(order)
        result = "full"
        try:
            barrier.wait(timeout=120)
            for slot in order:
                try:
                    booking = operations.hold(person, slot)
                except operations.SlotFull:
                    continue
                operations.confirm(person, booking)
                result = "booked"
                break
        except Exception as exc:  # noqa: BLE001 - any other outcome fails the test below
            result = f"error: {exc!r}"
        finally:
            with lock:
                outcomes.append(result)
            thread_connection.close()

    threads = [threading.Thread(target=book, args=(p, i)) for i, p in enumerate(people)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert len(outcomes) == PEOPLE, outcomes
    assert [o for o in outcomes if o.startswith("error")] == []
    assert outcomes.count("booked") == PLACES
    assert outcomes.count("full") == PEOPLE - PLACES
    new = Booking.objects.filter(person__in=people)
    assert new.filter(state=State.BOOKED).count() == PLACES
    assert not new.exclude(state=State.BOOKED).exists()
    for slot in Slot.objects.filter(office=office):
        booked = Booking.objects.filter(slot=slot, state=State.BOOKED).count()
        assert booked == slot.taken == slot.capacity == 5
