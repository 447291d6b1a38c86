"""Closing and resizing an office's times, and the waiting list: a person joins when a day is
full; a freed place is held for the first person waiting and they are told (inbox and SMS,
with the time), exactly once; the next person gets the next freed place."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from panjereh.appointments import operations, queries
from panjereh.appointments.models import Booking, Slot, State, WaitlistEntry
from panjereh.common import statemachine
from panjereh.inbox.models import Delivery, Message

from .conftest import make_citizen, make_slot

pytestmark = pytest.mark.django_db


def full_day(office, capacity: int = 1):
    slot = make_slot(office, days=3, capacity=capacity)
    bookers = [make_citizen() for _ in range(capacity)]
    bookings = [operations.confirm(p, operations.hold(p, slot)) for p in bookers]
    return slot, bookings


def test_a_closed_time_takes_no_hold_and_is_not_offered(office, citizen):
    slot = make_slot(office, capacity=3)
    operations.close_slot(operations.roles.SYSTEM, slot)
    with pytest.raises(operations.Refused):
        operations.hold(citizen, slot)
    assert slot not in queries.free_slots(office, slot.day)
    assert queries.free_days(office) == []
    operations.reopen_slot(operations.roles.SYSTEM, slot)
    assert operations.hold(citizen, slot).state == State.HELD


def test_places_never_fall_below_those_taken(office):
    slot, _bookings = full_day(office, capacity=2)
    with pytest.raises(operations.Refused):
        operations.set_capacity(operations.roles.SYSTEM, slot, 1)
    slot.refresh_from_db()
    assert (slot.capacity, slot.taken) == (2, 2)
    with pytest.raises(operations.Refused):
        operations.set_capacity(operations.roles.SYSTEM, slot, 0)


def test_joining_only_when_the_day_is_full_and_once(office, citizen):
    slot = make_slot(office, days=3)
    with pytest.raises(operations.Refused):
        operations.join_waitlist(citizen, office, slot.day)  # a place is free
    operations.hold(make_citizen(), slot)
    operations.join_waitlist(citizen, office, slot.day)
    with pytest.raises(operations.AlreadyBooked):
        operations.join_waitlist(citizen, office, slot.day)
    assert WaitlistEntry.objects.filter(person=citizen).count() == 1


def test_a_cancelled_place_is_held_for_the_first_waiting_and_told_once(office):
    slot, (booking,) = full_day(office)
    first, second = make_citizen(), make_citizen()
    operations.join_waitlist(first, office, slot.day)
    operations.join_waitlist(second, office, slot.day)

    operations.cancel(booking.person, booking)

    offered = Booking.objects.get(person=first, slot=slot)
    assert offered.state == State.HELD and offered.held_until > timezone.now()
    slot.refresh_from_db()
    assert slot.taken == 1  # held for the first person, not free for anyone else
    entry = WaitlistEntry.objects.get(person=first)
    assert entry.status == "offered" and entry.offered == offered
    assert WaitlistEntry.objects.get(person=second).status == "waiting"
    message = Message.objects.get(user=first)
    when_fa, when_en = operations.when_texts(offered)
    assert when_fa in message.subject_fa and when_en in message.subject_en
    assert message.link_url == f"/appointments/b/{offered.reference}/"
    assert Delivery.objects.filter(message=message, channel="sms").count() == 1
    assert not Message.objects.filter(user=second).exists()

    # The first person lets the hold go: the next waiting person is offered it.
    operations.cancel(first, offered)
    assert Booking.objects.get(person=second, slot=slot).state == State.HELD
    assert Message.objects.filter(user=first).count() == 1  # never offered twice


def test_an_offer_not_confirmed_in_time_goes_to_the_next(office, settings):
    settings.PANJEREH_APPOINTMENTS_OFFER_HOLD_MINUTES = 30
    slot, (booking,) = full_day(office)
    first, second = make_citizen(), make_citizen()
    operations.join_waitlist(first, office, slot.day)
    operations.join_waitlist(second, office, slot.day)
    operations.cancel(booking.person, booking)
    offered = Booking.objects.get(person=first)
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=31), tick=False):
        assert operations.expire_holds() == 1
        with pytest.raises((operations.HoldExpired, statemachine.InvalidTransition)):
            operations.confirm(first, offered)
    assert Booking.objects.get(person=first).state == State.EXPIRED
    assert Booking.objects.get(person=second).state == State.HELD
    slot.refresh_from_db()
    assert slot.taken == 1


def test_the_offered_person_confirms_like_any_hold(office):
    slot, (booking,) = full_day(office)
    waiting = make_citizen()
    operations.join_waitlist(waiting, office, slot.day)
    operations.cancel(booking.person, booking)
    offered = Booking.objects.get(person=waiting)
    assert operations.confirm(waiting, offered).state == State.BOOKED


def test_more_places_go_to_the_waiting_list_first(office):
    slot, _bookings = full_day(office)
    people = [make_citizen() for _ in range(3)]
    for person in people:
        operations.join_waitlist(person, office, slot.day)
    operations.set_capacity(operations.roles.SYSTEM, slot, 3)
    slot.refresh_from_db()
    assert slot.taken == 3
    assert [e.status for e in WaitlistEntry.objects.order_by("pk")] == [
        "offered",
        "offered",
        "waiting",
    ]


def test_a_person_who_booked_meanwhile_is_passed_over(office):
    slot, (booking,) = full_day(office)
    first, second = make_citizen(), make_citizen()
    operations.join_waitlist(first, office, slot.day)
    operations.join_waitlist(second, office, slot.day)
    other_slot = make_slot(office, days=3, hour=11)  # the office adds a time that day
    operations.confirm(first, operations.hold(first, other_slot))  # a place came free elsewhere
    operations.cancel(booking.person, booking)
    assert WaitlistEntry.objects.get(person=first).status == "left"
    assert Booking.objects.get(person=second, slot=slot).state == State.HELD
    assert Slot.objects.get(pk=slot.pk).taken == 1
