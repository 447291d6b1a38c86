"""Every write of the scheduler against every kind of actor, per object: the office's agency
staff by membership role, another agency's admin, a platform supervisor, a superuser, the
window itself (SYSTEM), the booking's person, another person, an anonymous visitor, nobody."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser, Group

from panjereh.appointments import operations
from panjereh.appointments.models import Booking, Office, Slot, State, WaitlistEntry
from panjereh.catalogue import roles
from tests.factories import UserFactory

from .conftest import make_citizen, make_slot

pytestmark = pytest.mark.django_db

ACTORS = [
    "none",
    "anonymous",
    "system",
    "owner",
    "person",
    "viewer",
    "editor",
    "admin",
    "other",
    "aeo",
    "superuser",
]


@pytest.fixture
def cast(office, staff):
    aeo = UserFactory()
    aeo.save()
    roles.ensure_groups()
    aeo.groups.add(Group.objects.get(name=roles.AEO))
    root = UserFactory(is_superuser=True)
    root.save()
    return {
        "none": None,
        "anonymous": AnonymousUser(),
        "system": roles.SYSTEM,
        "owner": make_citizen(),
        "person": make_citizen(),
        "viewer": staff["viewer"],
        "editor": staff["editor"],
        "admin": staff["admin"],
        "other": staff["other"],
        "aeo": aeo,
        "superuser": root,
    }


def outcome(call) -> str:
    try:
        call()
    except roles.NotPermitted:
        return "refused"
    return "done"


STAFF_WRITE = {"system", "editor", "admin", "superuser"}


@pytest.mark.parametrize("who", ACTORS)
def test_open_office(cast, office, who):
    def call():
        operations.open_office(
            cast[who], office.agency, code=f"new-{who}", kind="specialty", name_fa="قلب"
        )

    assert outcome(call) == ("done" if who in STAFF_WRITE else "refused")
    assert Office.objects.filter(code=f"new-{who}").exists() == (who in STAFF_WRITE)


@pytest.mark.parametrize("who", ACTORS)
def test_add_slots(cast, office, who):
    day = dt.date.today() + dt.timedelta(days=3)

    def call():
        operations.add_slots(
            cast[who], office, day, start=dt.time(8), end=dt.time(9), minutes=20, capacity=2
        )

    assert outcome(call) == ("done" if who in STAFF_WRITE else "refused")
    assert Slot.objects.filter(office=office, day=day).count() == (3 if who in STAFF_WRITE else 0)


@pytest.mark.parametrize("who", ACTORS)
def test_hold(cast, office, who):
    slot = make_slot(office, capacity=2)
    allowed = who in {"owner", "person"}
    assert outcome(lambda: operations.hold(cast[who], slot)) == ("done" if allowed else "refused")
    slot.refresh_from_db()
    assert slot.taken == (1 if allowed else 0)


@pytest.fixture
def held(cast, office):
    return operations.hold(cast["owner"], make_slot(office, days=1))


@pytest.mark.parametrize("who", ACTORS)
def test_confirm(cast, held, who):
    assert outcome(lambda: operations.confirm(cast[who], held)) == (
        "done" if who == "owner" else "refused"
    )
    assert Booking.objects.get(pk=held.pk).state == (State.BOOKED if who == "owner" else State.HELD)


@pytest.mark.parametrize("who", ACTORS)
def test_cancel(cast, held, who):
    operations.confirm(cast["owner"], held)
    allowed = who in {"owner"} | STAFF_WRITE
    assert outcome(lambda: operations.cancel(cast[who], held)) == ("done" if allowed else "refused")
    assert Booking.objects.get(pk=held.pk).state == (State.CANCELLED if allowed else State.BOOKED)


@pytest.mark.parametrize("who", ACTORS)
def test_mark_attendance(cast, held, who):
    operations.confirm(cast["owner"], held)
    with time_machine.travel(held.slot.starts_at, tick=False):
        result = outcome(lambda: operations.mark(cast[who], held, attended=True))
    assert result == ("done" if who in STAFF_WRITE else "refused")
    assert Booking.objects.get(pk=held.pk).state == (
        State.ATTENDED if who in STAFF_WRITE else State.BOOKED
    )


@pytest.mark.parametrize("who", ACTORS)
def test_close_and_reopen_a_time(cast, office, who):
    slot = make_slot(office)
    allowed = who in STAFF_WRITE
    assert outcome(lambda: operations.close_slot(cast[who], slot)) == (
        "done" if allowed else "refused"
    )
    slot.refresh_from_db()
    assert (slot.closed_at is not None) == allowed
    operations.close_slot(roles.SYSTEM, slot)
    assert outcome(lambda: operations.reopen_slot(cast[who], slot)) == (
        "done" if allowed else "refused"
    )
    slot.refresh_from_db()
    assert (slot.closed_at is None) == allowed


@pytest.mark.parametrize("who", ACTORS)
def test_change_a_times_places(cast, office, who):
    slot = make_slot(office, capacity=2)
    allowed = who in STAFF_WRITE
    assert outcome(lambda: operations.set_capacity(cast[who], slot, 4)) == (
        "done" if allowed else "refused"
    )
    slot.refresh_from_db()
    assert slot.capacity == (4 if allowed else 2)


@pytest.mark.parametrize("who", ACTORS)
def test_join_a_waiting_list(cast, office, who):
    slot = make_slot(office)
    operations.hold(make_citizen(), slot)  # the day is full
    allowed = who in {"owner", "person"}
    assert outcome(lambda: operations.join_waitlist(cast[who], office, slot.day)) == (
        "done" if allowed else "refused"
    )
    assert WaitlistEntry.objects.count() == (1 if allowed else 0)


@pytest.mark.parametrize("who", ACTORS)
def test_leave_a_waiting_list(cast, office, who):
    slot = make_slot(office)
    operations.hold(make_citizen(), slot)
    entry = operations.join_waitlist(cast["owner"], office, slot.day)
    allowed = who == "owner"
    assert outcome(lambda: operations.leave_waitlist(cast[who], entry)) == (
        "done" if allowed else "refused"
    )
    entry.refresh_from_db()
    assert entry.status == ("left" if allowed else "waiting")
