"""The booking rules: hold → confirm, seats, one active booking per person per office and day,
cancel, rebook (the old one kept until the new one is confirmed), hold expiry with frozen time,
attendance, the no-show job and rule, reminders exactly once through the official mailbox."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from panjereh.appointments import operations, queries
from panjereh.appointments.models import Booking, BookingEvent, Slot, State
from panjereh.catalogue import roles
from panjereh.common import jalali, messaging
from panjereh.common.persian import to_persian_digits
from panjereh.inbox import notify
from panjereh.inbox.models import Message
from panjereh.mailbox.models import Notice

from .conftest import make_citizen, make_office, make_slot

pytestmark = pytest.mark.django_db


def seats(slot: Slot) -> int:
    slot.refresh_from_db()
    return slot.taken


def test_hold_then_confirm_books_and_records_each_step(office, citizen):
    slot = make_slot(office, capacity=2)
    booking = operations.hold(citizen, slot)
    assert booking.state == State.HELD and seats(slot) == 1
    assert booking.held_until > timezone.now()
    operations.confirm(citizen, booking)
    booking.refresh_from_db()
    assert booking.state == State.BOOKED and booking.booked_at is not None
    assert seats(slot) == 1
    steps = list(BookingEvent.objects.filter(booking=booking).values_list("from_state", "to_state"))
    assert steps == [("", "held"), ("held", "booked")]
    assert list(queries.upcoming_of(citizen)) == [booking]


def test_a_full_slot_refuses_and_nothing_is_stored(office):
    slot = make_slot(office, capacity=1)
    first, second = make_citizen(), make_citizen()
    operations.hold(first, slot)
    with pytest.raises(operations.SlotFull):
        operations.hold(second, slot)
    assert seats(slot) == 1
    assert not Booking.objects.filter(person=second).exists()


def test_one_active_booking_per_person_per_office_and_day(office, citizen):
    morning, noon = make_slot(office, hour=9, capacity=3), make_slot(office, hour=12, capacity=3)
    operations.confirm(citizen, operations.hold(citizen, morning))
    with pytest.raises(operations.AlreadyBooked):
        operations.hold(citizen, noon)
    assert seats(noon) == 0
    # Another day, or another office the same day, is fine.
    operations.hold(citizen, make_slot(office, days=3))
    operations.hold(citizen, make_slot(make_office(office.agency), hour=9))


def test_the_database_refuses_a_second_active_booking_even_past_the_check(office, citizen):
    from django.db import IntegrityError, transaction

    slot = make_slot(office, capacity=3)
    booking = operations.hold(citizen, slot)
    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.create(
            reference="APTEST0001",
            slot=slot,
            office=office,
            day=slot.day,
            person=citizen,
            held_until=booking.held_until,
        )


def test_the_database_refuses_more_seats_than_the_capacity(office):
    from django.db import IntegrityError, transaction

    slot = make_slot(office, capacity=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Slot.objects.filter(pk=slot.pk).update(taken=2)


def test_cancel_frees_the_seat_and_a_begun_appointment_cannot_be_cancelled(office, citizen):
    slot = make_slot(office)
    booking = operations.confirm(citizen, operations.hold(citizen, slot))
    operations.cancel(citizen, booking)
    booking.refresh_from_db()
    assert booking.state == State.CANCELLED and seats(slot) == 0
    other = make_citizen()
    later = operations.confirm(other, operations.hold(other, slot))
    with time_machine.travel(slot.starts_at + dt.timedelta(minutes=1), tick=False):
        with pytest.raises(operations.Refused):
            operations.cancel(other, later)
    assert Booking.objects.get(pk=later.pk).state == State.BOOKED


def test_rebook_keeps_the_old_booking_until_the_new_one_is_confirmed(office, citizen):
    old_slot, new_slot = make_slot(office, hour=9), make_slot(office, hour=11)
    old = operations.confirm(citizen, operations.hold(citizen, old_slot))
    new = operations.hold(citizen, new_slot, replaces=old)
    old.refresh_from_db()
    assert old.state == State.BOOKED and new.state == State.HELD
    assert seats(old_slot) == 1 and seats(new_slot) == 1
    operations.confirm(citizen, new)
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.state, new.state) == (State.CANCELLED, State.BOOKED)
    assert seats(old_slot) == 0 and seats(new_slot) == 1
    assert old.events.last().detail == f"rebooked as {new.reference}"


def test_a_rebooking_that_expires_leaves_the_old_booking_alone(office, citizen):
    old_slot, new_slot = make_slot(office, hour=9), make_slot(office, hour=11)
    old = operations.confirm(citizen, operations.hold(citizen, old_slot))
    new = operations.hold(citizen, new_slot, replaces=old)
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=6), tick=False):
        with pytest.raises(operations.HoldExpired):
            operations.confirm(citizen, new)
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.state, new.state) == (State.BOOKED, State.EXPIRED)
    assert seats(old_slot) == 1 and seats(new_slot) == 0


def test_rebook_only_within_the_office_and_only_ones_own(office, citizen):
    old = operations.confirm(citizen, operations.hold(citizen, make_slot(office)))
    with pytest.raises(operations.Refused):
        operations.hold(citizen, make_slot(make_office(office.agency)), replaces=old)
    with pytest.raises(roles.NotPermitted):
        operations.hold(make_citizen(), make_slot(office, hour=13), replaces=old)
    with pytest.raises(operations.Refused):
        operations.hold(citizen, old.slot, replaces=old)


def test_a_hold_expires_at_its_minutes_with_frozen_time(office, citizen):
    slot = make_slot(office)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        booking = operations.hold(citizen, slot)
    assert booking.held_until == start + dt.timedelta(minutes=5)
    with time_machine.travel(start + dt.timedelta(minutes=4, seconds=59), tick=False):
        assert operations.expire_holds() == 0
    with time_machine.travel(start + dt.timedelta(minutes=5), tick=False):
        assert operations.expire_holds() == 1
        assert operations.expire_holds() == 0
    booking.refresh_from_db()
    assert booking.state == State.EXPIRED and not booking.holds_day and seats(slot) == 0


def test_a_full_slot_takes_back_expired_holds_before_refusing(office):
    slot = make_slot(office)
    first, second = make_citizen(), make_citizen()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        held = operations.hold(first, slot)
    with time_machine.travel(start + dt.timedelta(minutes=6), tick=False):
        taken = operations.hold(second, slot)  # no job ran: the hold expires on the spot
    held.refresh_from_db()
    assert held.state == State.EXPIRED and taken.state == State.HELD and seats(slot) == 1


@override_settings(PANJEREH_APPOINTMENTS_HOLD_MINUTES=1)
def test_the_hold_minutes_are_a_setting(office, citizen):
    booking = operations.hold(citizen, make_slot(office))
    assert booking.held_until - booking.created_at == dt.timedelta(minutes=1)


def test_past_and_too_far_slots_are_refused(office, citizen):
    with pytest.raises(operations.Refused):
        operations.hold(citizen, make_slot(office, days=-1))
    with pytest.raises(operations.Refused):
        operations.hold(citizen, make_slot(office, days=90))
    assert not Booking.objects.exists()


def test_attendance_marked_by_the_office_on_the_day(office, citizen, staff):
    slot = make_slot(office, days=1)
    booking = operations.confirm(citizen, operations.hold(citizen, slot))
    with pytest.raises(operations.Refused):
        operations.mark(staff["editor"], booking, attended=True)  # not yet the day
    with time_machine.travel(slot.starts_at, tick=False):
        operations.mark(staff["editor"], booking, attended=True)
    booking.refresh_from_db()
    assert booking.state == State.ATTENDED and booking.events.last().by == staff["editor"]


def test_the_no_show_job_and_the_counts(office, citizen):
    slot = make_slot(office, days=1)
    booking = operations.confirm(citizen, operations.hold(citizen, slot))
    with time_machine.travel(slot.ends_at + dt.timedelta(minutes=59), tick=False):
        assert operations.mark_no_shows() == 0
    with time_machine.travel(slot.ends_at + dt.timedelta(minutes=60), tick=False):
        assert operations.mark_no_shows() == 1
        assert operations.mark_no_shows() == 0
    booking.refresh_from_db()
    assert booking.state == State.NO_SHOW and booking.events.last().by is None
    assert queries.no_shows_of(citizen) == 1
    row = queries.no_shows_by_office().get(office_id=office.pk)
    assert (row["attended"], row["no_shows"]) == (0, 1)


def test_repeated_no_shows_pause_booking_and_the_person_is_told_once(office, citizen):
    slots = [make_slot(office, days=d) for d in (1, 2, 3)]
    for slot in slots:
        operations.confirm(citizen, operations.hold(citizen, slot))
    after = slots[-1].ends_at + dt.timedelta(hours=2)
    with time_machine.travel(after, tick=False):
        assert operations.mark_no_shows() == 3
        operations.mark_no_shows()
        until = operations.pause_until(citizen)
        assert until is not None
        told = Message.objects.filter(user=citizen, dedupe_key__startswith="appointments:rule:")
        assert told.count() == 1 and "شما ۳ نوبت" in told.get().body_fa
        with pytest.raises(operations.Paused):
            operations.hold(citizen, make_slot(office, days=5))
    with time_machine.travel(until + dt.timedelta(seconds=1), tick=False):
        assert operations.pause_until(citizen) is None
        operations.hold(citizen, make_slot(office, days=30))


def test_staff_correct_a_no_show_to_attended(office, citizen, staff):
    slot = make_slot(office, days=1)
    booking = operations.confirm(citizen, operations.hold(citizen, slot))
    with time_machine.travel(slot.ends_at + dt.timedelta(hours=2), tick=False):
        operations.mark_no_shows()
        operations.mark(staff["admin"], booking, attended=True)
    booking.refresh_from_db()
    assert booking.state == State.ATTENDED


def test_reminders_go_once_through_the_mailbox_the_day_before(office, citizen):
    tomorrow = make_slot(office, days=1, capacity=2)
    later = make_slot(office, days=2)
    booked = operations.confirm(citizen, operations.hold(citizen, tomorrow))
    other = make_citizen()
    operations.confirm(other, operations.hold(other, later))
    cancelled = make_citizen()
    operations.cancel(
        cancelled, operations.confirm(cancelled, operations.hold(cancelled, tomorrow))
    )
    sms_before = len(messaging.sent_sms(citizen.mobile))
    assert operations.send_reminders() == 1
    assert operations.send_reminders() == 0
    notices = Notice.objects.filter(agency=office.agency)
    assert list(notices.values_list("recipient", flat=True)) == [citizen.national_code]
    notice = notices.get()
    assert booked.reference in notice.body and notice.state == "made_available"
    booked.refresh_from_db()
    assert booked.reminded_at is not None
    notify.deliver_pending()
    texts = [m["text"] for m in messaging.sent_sms(citizen.mobile)][sms_before:]
    assert len(texts) == 1 and booked.reference not in texts[0]  # the alert, not the content
    # The SMS says when: the Jalali date with its weekday and the time, in Persian digits.
    when_fa, when_en = operations.when_texts(booked)
    assert when_fa in texts[0] and office.name_fa in texts[0]
    start = booked.slot.starts_at.astimezone(jalali.TEHRAN)
    assert to_persian_digits(f"{start:%H:%M}") in texts[0]
    assert jalali.format_fa(booked.day) in texts[0]
    assert not any(c.isascii() and c.isdigit() for c in texts[0])
    assert when_fa in notice.body
    message = Message.objects.get(user=citizen, dedupe_key=f"mailbox:{notice.reference}")
    assert when_en in message.subject_en and when_fa in message.subject_fa
    assert not Notice.objects.filter(recipient=other.national_code).exists()


def test_reminders_reach_tomorrows_bookings_made_after_the_job_ran(office, citizen):
    slot = make_slot(office, days=1, hour=16)
    assert operations.send_reminders() == 0
    operations.confirm(citizen, operations.hold(citizen, slot))
    assert operations.send_reminders() == 1
