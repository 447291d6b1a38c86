"""Every write of the appointments scheduler: offices and slots, hold → confirm, cancel,
rebook, attendance, and the jobs (expired holds, no-shows, reminders the day before).

The seat guarantee is the database's: a hold takes a seat by one conditional update
(``taken < capacity``, atomic under concurrency: PostgreSQL re-reads the row after waiting for
its lock, SQLite has one writer), and a check constraint forbids ``taken > capacity``. Every
booking moves through :data:`MACHINE` (``common.statemachine``), each move a
:class:`BookingEvent`; a move that frees a seat gives it back in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from typing import Any

import jdatetime
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from panjereh.catalogue import roles
from panjereh.catalogue.models import Agency
from panjereh.common import jalali, statemachine
from panjereh.common.persian import to_persian_digits
from panjereh.common.uniquecode import insert_with_unique_code
from panjereh.inbox import notify
from panjereh.mailbox import operations as mailbox

from . import conf
from .models import ACTIVE, Booking, BookingEvent, Office, Slot, State, WaitlistEntry

WEEKDAYS_FA = ["شنبه", "یکشنبه", "دوشنبه", "سه‌شنبه", "چهارشنبه", "پنجشنبه", "جمعه"]

log = logging.getLogger(__name__)
REMINDER_CLIENT = "panjereh-appointments"
MAX_CAPACITY = 500


class Refused(ValidationError):
    """A booking step the rules refuse; its message is for the person (localised)."""


class SlotFull(Refused):
    pass


class AlreadyBooked(Refused):
    pass


class HoldExpired(Refused):
    pass


class Paused(Refused):
    pass


# -- the state machine ------------------------------------------------------------------------


def _record(locked: Booking, from_state: str, to_state: str, *, by=None, changes=None, **event):
    BookingEvent.objects.create(
        booking=locked,
        from_state=from_state,
        to_state=to_state,
        by=roles.person(by) if by is not None else None,
        detail=str(event.get("detail", ""))[:300],
    )


def _refusal(booking: Booking, to: str) -> str:
    return _("This appointment cannot be changed that way now (it is “%(state)s”).") % {
        "state": State(booking.state).label
    }


MACHINE = statemachine.Machine(
    {
        State.HELD: {State.BOOKED, State.CANCELLED, State.EXPIRED},
        State.BOOKED: {State.ATTENDED, State.NO_SHOW, State.CANCELLED},
        # The office corrects a no-show the job recorded before it marked the person.
        State.NO_SHOW: {State.ATTENDED},
    },
    record=_record,
    message=_refusal,
)


# -- helpers ------------------------------------------------------------------------------------


def tehran_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(jalali.TEHRAN).date()


def _new_reference() -> str:
    return "AP" + secrets.token_hex(4).upper()


def _release(slot_id: int) -> None:
    Slot.objects.filter(pk=slot_id, taken__gt=0).update(taken=F("taken") - 1)


def _require_person(actor) -> None:
    if (
        actor is None
        or roles.is_system(actor)
        or not getattr(actor, "is_authenticated", False)
        or not getattr(actor, "is_active", False)
        or not getattr(actor, "national_code", "")
    ):
        raise roles.NotPermitted(_("Sign in with your national code to book an appointment."))


def _owner_or_staff(actor, booking: Booking, *, staff_too: bool) -> None:
    if actor is None:
        raise roles.NotPermitted()
    if getattr(actor, "pk", None) is not None and actor.pk == booking.person_id:
        return
    if staff_too and roles.can(actor, roles.APPOINTMENTS, booking.office.agency_id):
        return
    raise roles.NotPermitted()


def _active_that_day(person, office_id: int, day: dt.date, *, but: int | None = None) -> bool:
    rows = Booking.objects.filter(person=person, office_id=office_id, day=day, holds_day=True)
    if but is not None:
        rows = rows.exclude(pk=but)
    return rows.exists()


def _date_text(day: dt.date) -> str:
    return jalali.format_fa(day)


def pause_until(person, now: dt.datetime | None = None) -> dt.datetime | None:
    """The no-show rule: after ``NO_SHOW_LIMIT`` no-shows within ``NO_SHOW_WINDOW_DAYS`` days,
    no new booking until ``NO_SHOW_PAUSE_DAYS`` days after the last one (None: may book)."""
    limit = int(conf.get("NO_SHOW_LIMIT"))
    if limit <= 0 or person is None or getattr(person, "pk", None) is None:
        return None
    now = now or timezone.now()
    since = now - dt.timedelta(days=int(conf.get("NO_SHOW_WINDOW_DAYS")))
    ends = list(
        Booking.objects.filter(person=person, state=State.NO_SHOW, slot__ends_at__gte=since)
        .order_by("-slot__ends_at")
        .values_list("slot__ends_at", flat=True)[:limit]
    )
    if len(ends) < limit:
        return None
    until = ends[0] + dt.timedelta(days=int(conf.get("NO_SHOW_PAUSE_DAYS")))
    return until if until > now else None


# -- offices and slots (the agency's staff) ----------------------------------------------------


def open_office(actor, agency: Agency, **fields: Any) -> Office:
    """A bookable office or specialty of ``agency`` (``roles.APPOINTMENTS`` there)."""
    roles.require(actor, roles.APPOINTMENTS, agency)
    office = Office(agency=agency, **fields)
    office.full_clean()
    office.save()
    return office


def add_slots(
    actor,
    office: Office,
    day: dt.date,
    *,
    start: dt.time,
    end: dt.time,
    minutes: int,
    capacity: int = 1,
) -> int:
    """Slots of ``minutes`` from ``start`` to ``end`` (Tehran time) on ``day``, each with
    ``capacity`` seats; slots already there are kept as they are. The number added."""
    roles.require(actor, roles.APPOINTMENTS, office.agency_id)
    if not 5 <= int(minutes) <= 480:
        raise Refused(_("A slot lasts from 5 minutes to 8 hours."))
    if not 1 <= int(capacity) <= MAX_CAPACITY:
        raise Refused(_("A slot has from 1 to 500 seats."))
    first = dt.datetime.combine(day, start, tzinfo=jalali.TEHRAN)
    last = dt.datetime.combine(day, end, tzinfo=jalali.TEHRAN)
    if last <= first:
        raise Refused(_("The last slot must end after the first begins."))
    rows, at, step = [], first, dt.timedelta(minutes=int(minutes))
    while at + step <= last:
        rows.append(
            Slot(office=office, day=day, starts_at=at, ends_at=at + step, capacity=capacity)
        )
        at += step
    with transaction.atomic():
        before = Slot.objects.filter(office=office, day=day).count()
        Slot.objects.bulk_create(rows, ignore_conflicts=True)
        added = Slot.objects.filter(office=office, day=day).count() - before
        # New places on a day people wait for go to them first, in their order.
        if added:
            now = timezone.now()
            for slot_id in Slot.objects.filter(
                office=office, day=day, starts_at__gt=now, taken__lt=F("capacity")
            ).values_list("pk", flat=True):
                while offer_freed(slot_id, now):
                    pass
    return added


def close_slot(actor, slot: Slot) -> Slot:
    """The office closes a time: no new holds; the bookings already made stay (the staff
    cancel them one by one from the day list if the office cannot receive them)."""
    slot = Slot.objects.select_related("office").get(pk=slot.pk)
    roles.require(actor, roles.APPOINTMENTS, slot.office.agency_id)
    Slot.objects.filter(pk=slot.pk, closed_at__isnull=True).update(closed_at=timezone.now())
    slot.refresh_from_db()
    return slot


def reopen_slot(actor, slot: Slot) -> Slot:
    slot = Slot.objects.select_related("office").get(pk=slot.pk)
    roles.require(actor, roles.APPOINTMENTS, slot.office.agency_id)
    Slot.objects.filter(pk=slot.pk).update(closed_at=None)
    slot.refresh_from_db()
    return slot


def set_capacity(actor, slot: Slot, capacity: int) -> Slot:
    """A time's number of seats, never below the seats already taken (one conditional
    update: a hold racing the change either counts or is refused)."""
    slot = Slot.objects.select_related("office").get(pk=slot.pk)
    roles.require(actor, roles.APPOINTMENTS, slot.office.agency_id)
    if not 1 <= int(capacity) <= MAX_CAPACITY:
        raise Refused(_("A slot has from 1 to 500 seats."))
    with transaction.atomic():
        if not Slot.objects.filter(pk=slot.pk, taken__lte=int(capacity)).update(
            capacity=int(capacity)
        ):
            slot.refresh_from_db()
            raise Refused(
                _("%(n)s places of this time are already taken: the capacity cannot be less.")
                % {"n": to_persian_digits(str(slot.taken)) if _fa() else slot.taken}
            )
        # More seats: the waiting list is offered them first.
        for _seat in range(int(capacity)):
            if not offer_freed(slot.pk, timezone.now()):
                break
    slot.refresh_from_db()
    return slot


def _fa() -> bool:
    return (translation.get_language() or "fa").startswith("fa")


# -- the waiting list ---------------------------------------------------------------------------


def day_is_full(office: Office, day: dt.date, now: dt.datetime | None = None) -> bool:
    """The day has open times still to come and none has a free seat."""
    now = now or timezone.now()
    slots = Slot.objects.filter(office=office, day=day, starts_at__gt=now, closed_at__isnull=True)
    return slots.exists() and not slots.filter(taken__lt=F("capacity")).exists()


def join_waitlist(actor, office: Office, day: dt.date) -> WaitlistEntry:
    """Wait for a place at ``office`` on a full ``day``; the first freed seat is offered to
    the first person waiting."""
    _require_person(actor)
    now = timezone.now()
    if not office.active:
        raise Refused(_("This office takes no bookings now."))
    if not day_is_full(office, day, now):
        raise Refused(_("This day has free places (or no times): choose a time instead."))
    if _active_that_day(actor, office.pk, day):
        raise AlreadyBooked(_("You already have an appointment at this office on this day."))
    until = pause_until(actor, now)
    if until is not None:
        raise Paused(
            _("You cannot book until %(date)s (missed appointments).")
            % {"date": _date_text(tehran_day(until))}
        )
    try:
        with transaction.atomic():
            return WaitlistEntry.objects.create(office=office, day=day, person=actor)
    except IntegrityError:
        raise AlreadyBooked(_("You are already on the waiting list for this day.")) from None


def leave_waitlist(actor, entry: WaitlistEntry) -> WaitlistEntry:
    if actor is None or getattr(actor, "pk", None) != entry.person_id:
        raise roles.NotPermitted()
    if not WaitlistEntry.objects.filter(pk=entry.pk, status=WaitlistEntry.Status.WAITING).update(
        status=WaitlistEntry.Status.LEFT, ended_at=timezone.now(), detail="left"
    ):
        raise Refused(_("You are no longer waiting for this day."))
    entry.refresh_from_db()
    return entry


def offer_freed(slot_id: int, now: dt.datetime) -> bool:
    """A seat of ``slot_id`` was just freed (in the caller's transaction): offer it to the
    first person waiting for that office and day, as a hold of ``OFFER_HOLD_MINUTES`` made for
    them, told by inbox and SMS. Exactly once: the entry is locked (``SKIP LOCKED``: two
    freed seats go to two people), moves from waiting to offered under that lock, and its
    message has a dedupe key. True if an offer was made."""
    slot = Slot.objects.select_related("office").filter(pk=slot_id).first()
    if slot is None or slot.closed_at is not None or slot.starts_at <= now:
        return False
    queue = WaitlistEntry.objects.filter(
        office_id=slot.office_id, day=slot.day, status=WaitlistEntry.Status.WAITING
    ).order_by("created_at", "pk")
    with transaction.atomic():
        while True:
            entry = queue.select_for_update(skip_locked=True).select_related("person").first()
            if entry is None:
                return False
            person = entry.person
            if _active_that_day(person, slot.office_id, slot.day) or pause_until(person, now):
                entry.status, entry.ended_at = WaitlistEntry.Status.LEFT, now
                entry.detail = "booked or paused meanwhile"
                entry.save(update_fields=["status", "ended_at", "detail"])
                continue
            if not Slot.objects.filter(
                pk=slot.pk, taken__lt=F("capacity"), closed_at__isnull=True
            ).update(taken=F("taken") + 1):
                return False  # the seat went to someone else meanwhile: still waiting

            def insert(reference: str, person=person) -> Booking:
                return Booking.objects.create(
                    reference=reference,
                    slot=slot,
                    office_id=slot.office_id,
                    day=slot.day,
                    person=person,
                    state=State.HELD,
                    created_at=now,
                    held_until=now + dt.timedelta(minutes=int(conf.get("OFFER_HOLD_MINUTES"))),
                )

            def taken_meanwhile(_exc: IntegrityError, person=person) -> Booking | None:
                if _active_that_day(person, slot.office_id, slot.day):
                    raise _BookedMeanwhile
                return None

            try:
                booking = insert_with_unique_code(
                    _new_reference, insert, on_conflict=taken_meanwhile
                )
            except _BookedMeanwhile:
                _release(slot.pk)
                entry.status, entry.ended_at = WaitlistEntry.Status.LEFT, now
                entry.detail = "booked or paused meanwhile"
                entry.save(update_fields=["status", "ended_at", "detail"])
                continue
            _record(booking, "", State.HELD, detail="offered from the waiting list")
            entry.status, entry.offered, entry.ended_at = (
                WaitlistEntry.Status.OFFERED,
                booking,
                now,
            )
            entry.save(update_fields=["status", "offered", "ended_at"])
            _tell_offer(entry, booking)
            return True


class _BookedMeanwhile(Exception):
    pass


def _tell_offer(entry: WaitlistEntry, booking: Booking) -> None:
    office = booking.office
    when_fa, when_en = when_texts(booking)
    until = booking.held_until.astimezone(jalali.TEHRAN)
    with translation.override("fa"):
        url = reverse("appointments:booking", args=[booking.reference])
    name_en = office.name_en or office.name_fa
    notify.post(
        entry.person,
        kind="decision",
        dedupe_key=f"appointments:offer:{entry.pk}",
        subject_fa=f"نوبت آزاد شد: {when_fa}، {office.name_fa}",
        subject_en=f"A place is free: {when_en}, {name_en}",
        body_fa=(
            f"در فهرست انتظار «{office.name_fa}» بودید. نوبت {when_fa} برای شما نگه داشته شد "
            f"تا ساعت {to_persian_digits(f'{until:%H:%M}')}؛ اگر آن را می‌خواهید تأیید کنید، "
            "وگرنه به نفر بعدی می‌رسد."
        ),
        body_en=(
            f"You were on the waiting list of {name_en}. The time {when_en} is held for you "
            f"until {until:%H:%M}; confirm it if you want it, or it goes to the next person."
        ),
        link_url=url,
        link_label_fa="تأیید نوبت",
        link_label_en="Confirm the appointment",
    )


# -- the person's booking ---------------------------------------------------------------------


def hold(actor, slot: Slot, *, replaces: Booking | None = None) -> Booking:
    """Take a seat of ``slot`` for ``actor`` for ``HOLD_MINUTES``; confirmed by
    :func:`confirm`. ``replaces``: the person's upcoming booking this one will replace (a
    rebooking: the old one stays booked until the new one is confirmed)."""
    _require_person(actor)
    now = timezone.now()
    slot = Slot.objects.select_related("office").get(pk=slot.pk)
    if not slot.office.active:
        raise Refused(_("This office takes no bookings now."))
    if slot.closed_at is not None:
        raise Refused(_("The office has closed this time. Choose another."))
    if slot.starts_at <= now:
        raise Refused(_("This time has passed; choose another."))
    if slot.starts_at > now + dt.timedelta(days=int(conf.get("BOOK_AHEAD_DAYS"))):
        raise Refused(_("This time is too far ahead to book yet."))
    if slot.taken >= slot.capacity and not _stale_holds(slot, now).exists():
        # Full as read: answered at once (the conditional update below is the guarantee).
        raise SlotFull(_("This time was just taken. Choose another time."))
    until = pause_until(actor, now)
    if until is not None:
        raise Paused(
            _(
                "You missed %(n)s appointments without cancelling, so you cannot book until "
                "%(date)s."
            )
            % {"n": conf.get("NO_SHOW_LIMIT"), "date": _date_text(tehran_day(until))}
        )
    if replaces is not None:
        if replaces.person_id != actor.pk:
            raise roles.NotPermitted()
        replaces.refresh_from_db()
        if replaces.state != State.BOOKED or replaces.slot.starts_at <= now:
            raise Refused(_("Only an upcoming booked appointment can be changed."))
        if replaces.office_id != slot.office_id:
            raise Refused(_("An appointment is changed to another time of the same office."))
        if replaces.slot_id == slot.pk:
            raise Refused(_("This is the time you already have."))
    busy = _active_that_day(
        actor, slot.office_id, slot.day, but=replaces.pk if replaces is not None else None
    )
    if busy:
        raise AlreadyBooked(_("You already have an appointment at this office on this day."))

    def insert(reference: str) -> Booking:
        return Booking.objects.create(
            reference=reference,
            slot=slot,
            office_id=slot.office_id,
            day=slot.day,
            person=actor,
            state=State.HELD,
            holds_day=replaces is None,
            replaces=replaces,
            created_at=now,
            held_until=now + dt.timedelta(minutes=int(conf.get("HOLD_MINUTES"))),
        )

    def raced(_exc: IntegrityError) -> Booking | None:
        if _active_that_day(actor, slot.office_id, slot.day):
            raise AlreadyBooked(_("You already have an appointment at this office on this day."))
        return None

    with transaction.atomic():
        if not _take_seat(slot, now):
            raise SlotFull(_("This time was just taken. Choose another time."))
        booking = insert_with_unique_code(_new_reference, insert, on_conflict=raced)
        _record(booking, "", State.HELD, by=actor, detail=replaces.reference if replaces else "")
    return booking


def _take_seat(slot: Slot, now: dt.datetime) -> bool:
    """One seat of ``slot`` by a conditional update; a full slot first frees its holds that
    expired (so a seat never waits for the job)."""
    open_seat = Slot.objects.filter(pk=slot.pk, taken__lt=F("capacity"), closed_at__isnull=True)
    if open_seat.update(taken=F("taken") + 1):
        return True
    if not any(_expire(b, now) for b in _stale_holds(slot, now)[:20]):
        return False
    return bool(open_seat.update(taken=F("taken") + 1))


def _stale_holds(slot: Slot, now: dt.datetime):
    return Booking.objects.filter(slot=slot, state=State.HELD, held_until__lte=now)


def _expire(booking: Booking, now: dt.datetime) -> bool:
    def check(locked, changes, event):
        if locked.held_until > now:
            raise HoldExpired("not yet expired")

    try:
        with transaction.atomic():
            MACHINE.move(booking, State.EXPIRED, check=check, holds_day=False)
            _release(booking.slot_id)
            offer_freed(booking.slot_id, now)
    except (statemachine.InvalidTransition, HoldExpired):
        return False
    return True


def confirm(actor, booking: Booking) -> Booking:
    """The person confirms their hold: booked. A rebooking cancels the booking it replaces in
    the same transaction (its seat freed), never before."""
    _owner_or_staff(actor, booking, staff_too=False)
    now = timezone.now()
    booking.refresh_from_db()
    if booking.state == State.HELD and booking.held_until <= now:
        _expire(booking, now)
        raise HoldExpired(_("Your hold expired before you confirmed it. Choose a time again."))

    def check(locked, changes, event):
        if locked.held_until <= now:
            raise HoldExpired(_("Your hold expired before you confirmed it. Choose a time again."))

    try:
        with transaction.atomic():
            old = booking.replaces
            if old is not None and old.state == State.BOOKED:
                MACHINE.move(
                    old,
                    State.CANCELLED,
                    by=actor,
                    event={"detail": f"rebooked as {booking.reference}"},
                    holds_day=False,
                    cancelled_at=now,
                )
                _release(old.slot_id)
                offer_freed(old.slot_id, now)
            MACHINE.move(
                booking, State.BOOKED, by=actor, check=check, holds_day=True, booked_at=now
            )
    except IntegrityError as exc:
        raise AlreadyBooked(
            _("You already have an appointment at this office on this day.")
        ) from exc
    return booking


def cancel(actor, booking: Booking) -> Booking:
    """The person cancels their hold or upcoming booking (the office's staff may cancel too);
    the seat is free at once."""
    booking = Booking.objects.select_related("office", "slot").get(pk=booking.pk)
    _owner_or_staff(actor, booking, staff_too=True)
    now = timezone.now()
    if booking.state == State.BOOKED and booking.slot.starts_at <= now:
        raise Refused(_("This appointment has begun; it can no longer be cancelled."))
    with transaction.atomic():
        MACHINE.move(booking, State.CANCELLED, by=actor, holds_day=False, cancelled_at=now)
        _release(booking.slot_id)
        offer_freed(booking.slot_id, now)
    return booking


def mark(actor, booking: Booking, *, attended: bool) -> Booking:
    """The office marks whether the person came (from the appointment's day on)."""
    booking = Booking.objects.select_related("office", "slot").get(pk=booking.pk)
    roles.require(actor, roles.APPOINTMENTS, booking.office.agency_id)
    now = timezone.now()
    if booking.day > tehran_day(now):
        raise Refused(_("Attendance is marked on the appointment's day or later."))
    to = State.ATTENDED if attended else State.NO_SHOW
    MACHINE.move(booking, to, by=actor, holds_day=False, marked_at=now)
    if to == State.NO_SHOW:
        _tell_rule_if_reached(booking, now)
    return booking


# -- jobs ---------------------------------------------------------------------------------------


def expire_holds(limit: int = 1000) -> int:
    """The job ``appointments-expire-holds``: holds past their time give their seat back."""
    now = timezone.now()
    due = Booking.objects.filter(state=State.HELD, held_until__lte=now).order_by("held_until")
    return sum(1 for booking in due[:limit] if _expire(booking, now))


def mark_no_shows(limit: int = 1000) -> int:
    """The job ``appointments-no-shows``: booked slots ended ``NO_SHOW_GRACE_MINUTES`` ago
    that nobody marked are no-shows."""
    now = timezone.now()
    before = now - dt.timedelta(minutes=int(conf.get("NO_SHOW_GRACE_MINUTES")))
    due = Booking.objects.filter(state=State.BOOKED, slot__ends_at__lte=before).select_related(
        "office"
    )
    done = 0
    for booking in due[:limit]:
        try:
            MACHINE.move(
                booking,
                State.NO_SHOW,
                by=roles.SYSTEM,
                event={"detail": "not marked by the office"},
                holds_day=False,
                marked_at=now,
            )
        except statemachine.InvalidTransition:
            continue
        done += 1
        _tell_rule_if_reached(booking, now)
    return done


def _tell_rule_if_reached(booking: Booking, now: dt.datetime) -> None:
    """Tell the person, once per no-show that reaches the rule, that they cannot book for a
    while and why (inbox message, with its SMS)."""
    until = pause_until(booking.person, now)
    if until is None:
        return
    if not Booking.objects.filter(pk=booking.pk, told_rule_at__isnull=True).update(
        told_rule_at=now
    ):
        return
    limit, pause = conf.get("NO_SHOW_LIMIT"), conf.get("NO_SHOW_PAUSE_DAYS")
    window = conf.get("NO_SHOW_WINDOW_DAYS")
    with translation.override("fa"):
        url = reverse("appointments:mine")
    date_fa = _date_text(tehran_day(until))
    notify.post(
        booking.person,
        kind="decision",  # the window decides: booking paused (inbox kinds are fixed)
        dedupe_key=f"appointments:rule:{booking.reference}",
        subject_fa="نوبت‌گیری شما موقتاً بسته شد",
        subject_en="You cannot book appointments for a while",
        body_fa=to_persian_digits(
            f"شما {limit} نوبت را در {window} روز گذشته بدون لغو از دست داده‌اید. طبق قاعده "
            f"نوبت‌دهی، تا {date_fa} ({pause} روز پس از آخرین غیبت) نمی‌توانید نوبت تازه "
            "بگیرید. نوبت‌های فعلی شما به جای خود باقی است. اگر نمی‌توانید بیایید، نوبت را "
            "لغو کنید تا به دیگری برسد."
        ),
        body_en=(
            f"You missed {limit} appointments in the last {window} days without cancelling. "
            f"Under the booking rule you cannot book a new appointment until "
            f"{tehran_day(until):%d %b %Y} ({pause} days after the last one). Your current "
            "appointments stay. If you cannot come, cancel so that someone else can have it."
        ),
        link_url=url,
        link_label_fa="نوبت‌های من",
        link_label_en="My appointments",
    )


def send_reminders(limit: int = 500) -> int:
    """The job ``appointments-remind``: the day before an appointment (Tehran days), one
    notice from the office's agency through the official mailbox, whose SMS alert tells the
    person. Claimed by ``reminded_at`` first and sent under an idempotency key: exactly once."""
    now = timezone.now()
    tomorrow = tehran_day(now) + dt.timedelta(days=1)
    due = Booking.objects.filter(
        state=State.BOOKED, day=tomorrow, reminded_at__isnull=True
    ).select_related("office__agency", "slot", "person")
    sent = 0
    for booking in due[:limit]:
        try:
            with transaction.atomic():
                claimed = Booking.objects.filter(
                    pk=booking.pk, state=State.BOOKED, reminded_at__isnull=True
                ).update(reminded_at=now)
                if not claimed:
                    continue
                _remind(booking)
        except mailbox.MailboxError as exc:
            # The mailbox refuses this person for good (no longer registered): not again.
            log.warning("reminder of %s not sent: %s", booking.reference, exc.code)
            Booking.objects.filter(pk=booking.pk).update(reminded_at=now)
            continue
        except Exception:
            log.exception("reminder of %s failed; tried again at the next run", booking.reference)
            continue
        sent += 1
    return sent


def when_texts(booking: Booking) -> tuple[str, str]:
    """The appointment's time for people: («دوشنبه ۱۷ آذر ۱۴۰۵ ساعت ۰۹:۳۰», "Mon 08 Dec 2026
    at 09:30"), Tehran time, Persian digits in the Persian one."""
    start = booking.slot.starts_at.astimezone(jalali.TEHRAN)
    weekday = WEEKDAYS_FA[jdatetime.date.fromgregorian(date=booking.day).weekday()]
    fa = f"{weekday} {_date_text(booking.day)} ساعت {to_persian_digits(f'{start:%H:%M}')}"
    return fa, f"{start:%a %d %b %Y} at {start:%H:%M}"


def _remind(booking: Booking) -> None:
    office = booking.office
    when_fa, when_en = when_texts(booking)
    body = (
        f"یادآوری نوبت: نوبت شما در «{office.name_fa}» فردا، {when_fa} است. "
        f"کد نوبت: {booking.reference}."
    )
    if office.address_fa:
        body += f" نشانی: {office.address_fa}."
    body += " اگر نمی‌توانید بیایید، نوبت را در پنجره ملی (نوبت‌های من) لغو کنید تا به دیگری برسد."
    subject = f"یادآوری نوبت فردا در {office.name_fa}"[:300]
    data = {
        "to": {"national_code": booking.person.national_code},
        "subject": subject,
        "body": body,
    }
    draft = mailbox.check(data, with_attachments=False)
    # The alert (and its SMS) says the time: a reminder is not a confidential notice.
    name_en = office.name_en or office.name_fa
    mailbox.send(
        office.agency,
        REMINDER_CLIENT,
        draft,
        idempotency_key=f"appointment-reminder:{booking.reference}",
        digest=mailbox.request_hash(data),
        alert={
            "subject_fa": f"یادآوری نوبت فردا، {when_fa}، {office.name_fa}",
            "subject_en": f"Appointment tomorrow, {when_en}, {name_en}",
            "body_fa": f"نوبت شما در «{office.name_fa}» فردا، {when_fa} است (کد نوبت "
            f"{booking.reference}). متن یادآوری در صندوق ابلاغیه‌های رسمی شماست.",
            "body_en": f"Your appointment at {name_en} is tomorrow, {when_en} (reference "
            f"{booking.reference}). The reminder is in your official mailbox.",
        },
    )


__all__ = [
    "ACTIVE",
    "MACHINE",
    "AlreadyBooked",
    "HoldExpired",
    "Paused",
    "Refused",
    "SlotFull",
    "add_slots",
    "cancel",
    "close_slot",
    "day_is_full",
    "join_waitlist",
    "leave_waitlist",
    "offer_freed",
    "reopen_slot",
    "set_capacity",
    "confirm",
    "expire_holds",
    "hold",
    "mark",
    "mark_no_shows",
    "open_office",
    "pause_until",
    "send_reminders",
]
