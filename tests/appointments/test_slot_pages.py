"""The staff's page of an office's times (add, change places, close, reopen), its rights per
role, bad input, and the waiting list from the person's pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from panjereh.appointments import operations
from panjereh.appointments.models import Slot, WaitlistEntry
from panjereh.common import jalali
from panjereh.common.persian import to_persian_digits

from .conftest import make_citizen, make_slot
from .test_pages import LATIN, visible

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def coming_day() -> dt.date:
    return operations.tehran_day(timezone.now()) + dt.timedelta(days=5)


def add(client, office, **fields):
    data = {
        "office": office.code,
        "action": "add",
        "day": to_persian_digits(jalali.iso(coming_day()).replace("-", "/")),
        "start": "08:00",
        "end": "09:00",
        "minutes": "20",
        "capacity": "2",
    }
    data.update(fields)
    return client.post("/appointments/staff/slots/", data)


def test_an_editor_adds_times_with_places_on_a_persian_page(office, staff):
    editor = signed_in(staff["editor"])
    answer = add(editor, office)
    assert answer.status_code == 302
    slots = list(Slot.objects.filter(office=office, day=coming_day()))
    assert [(s.capacity, f"{s.starts_at.astimezone(jalali.TEHRAN):%H:%M}") for s in slots] == [
        (2, "08:00"),
        (2, "08:20"),
        (2, "08:40"),
    ]
    page = editor.get(answer["Location"])
    html = page.content.decode()
    assert page.status_code == 200 and 'id="done-panel"' in html
    text = visible(html)
    assert jalali.format_fa(coming_day()) in text and "۰۸:۲۰" in text
    assert not LATIN.search(text.split('id="add-form"')[0] if 'id="add-form"' in text else text)


def test_bad_input_changes_nothing_and_is_said_first(office, staff):
    editor = signed_in(staff["editor"])
    for fields in ({"day": "1405/13/40"}, {"start": "8h"}, {"minutes": "2"}, {"end": "07:00"}):
        page = add(editor, office, **fields)
        assert page.status_code == 400, fields
        assert 'class="error-summary"' in page.content.decode()
    # A NUL byte is refused, localised, by the window's bad-input guard before the page.
    assert add(editor, office, day="a\x00b").status_code == 400
    assert not Slot.objects.filter(office=office).exists()
    slot = make_slot(office, capacity=2)
    operations.hold(make_citizen(), slot)
    operations.hold(make_citizen(), slot)
    below = editor.post(
        "/en/appointments/staff/slots/",
        {"office": office.code, "slot": slot.pk, "action": "capacity", "capacity": "1"},
    )
    assert below.status_code == 400 and "already taken" in below.content.decode()
    slot.refresh_from_db()
    assert slot.capacity == 2


def test_close_reopen_and_resize_from_the_page(office, staff):
    editor = signed_in(staff["admin"])
    slot = make_slot(office, capacity=2)

    def act(action, **extra):
        data = {"office": office.code, "slot": slot.pk, "action": action, **extra}
        return editor.post("/appointments/staff/slots/", data)

    assert act("close").status_code == 302
    slot.refresh_from_db()
    assert slot.closed_at is not None
    assert act("reopen").status_code == 302
    assert act("capacity", capacity="5").status_code == 302
    slot.refresh_from_db()
    assert slot.closed_at is None and slot.capacity == 5


def test_rights_on_the_times_page(office, staff):
    slot = make_slot(office)
    viewer = signed_in(staff["viewer"])
    page = viewer.get(f"/appointments/staff/slots/?office={office.code}")
    assert page.status_code == 200 and 'id="add-form"' not in page.content.decode()
    assert add(viewer, office).status_code == 403
    assert (
        viewer.post(
            "/appointments/staff/slots/",
            {"office": office.code, "slot": slot.pk, "action": "close"},
        ).status_code
        == 403
    )
    # Another agency's admin does not see this office at all.
    other = signed_in(staff["other"])
    assert other.get(f"/appointments/staff/slots/?office={office.code}").status_code in (403, 404)
    assert add(other, office).status_code in (403, 404)
    assert signed_in(make_citizen()).get("/appointments/staff/slots/").status_code == 403
    assert Client().get("/appointments/staff/slots/").status_code == 302
    slot.refresh_from_db()
    assert slot.closed_at is None and Slot.objects.filter(office=office).count() == 1


def test_join_and_leave_the_waiting_list_from_the_pages(office, citizen):
    slot = make_slot(office, days=3)
    operations.hold(make_citizen(), slot)
    client = signed_in(citizen)
    page = client.get(f"/appointments/o/{office.code}/?day={slot.day:%Y-%m-%d}")
    assert 'id="join-waitlist"' in page.content.decode()
    joined = client.post(
        f"/appointments/o/{office.code}/", {"day": f"{slot.day:%Y-%m-%d}", "action": "wait"}
    )
    assert joined.status_code == 302 and joined["Location"].endswith("?done=waiting")
    mine = client.get(joined["Location"]).content.decode()
    assert 'id="waiting-panel"' in mine and 'data-status="waiting"' in mine
    again = client.get(f"/appointments/o/{office.code}/?day={slot.day:%Y-%m-%d}")
    assert 'id="on-waitlist"' in again.content.decode()
    entry = WaitlistEntry.objects.get(person=citizen)
    other = signed_in(make_citizen())
    assert other.post(f"/appointments/wait/{entry.pk}/leave/").status_code == 404
    assert client.post(f"/appointments/wait/{entry.pk}/leave/").status_code == 302
    entry.refresh_from_db()
    assert entry.status == "left"


def test_the_admin_reads_waiting_lists_and_closed_times_without_changing_them(office, citizen):
    from tests.factories import UserFactory

    slot = make_slot(office, days=3)
    operations.hold(make_citizen(), slot)
    operations.join_waitlist(citizen, office, slot.day)
    operations.close_slot(operations.roles.SYSTEM, slot)
    root = UserFactory(is_superuser=True, is_staff=True)
    root.save()
    admin = signed_in(root)
    entry = WaitlistEntry.objects.get(person=citizen)
    listing = admin.get("/admin/appointments/waitlistentry/")
    assert listing.status_code == 200
    assert f"/admin/appointments/waitlistentry/{entry.pk}/change/" in listing.content.decode()
    assert admin.get("/admin/appointments/waitlistentry/add/").status_code == 403
    assert admin.get("/admin/appointments/slot/").status_code == 200
