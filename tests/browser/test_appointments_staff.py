"""The office's times and the waiting list in a real Chromium (Persian on a 360×780 phone,
English on a desktop): an editor adds times with places (a bad Jalali date first gets the error
summary, focused) and closes one; a person joins the waiting list of a full day and, when the
place is cancelled, finds it held for them and confirms it."""

from __future__ import annotations

import datetime as dt
import os
import re

import pytest
from django.utils import timezone

from panjereh.appointments import operations
from panjereh.appointments.models import Booking, Slot, State
from panjereh.common import jalali
from tests.appointments.conftest import make_citizen, make_office, make_slot
from tests.factories import make_agency_staff

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_editor_adds_and_closes_times(browser, variant, live_server):
    office = make_office()
    editor = make_agency_staff(office.agency, "editor")
    day = operations.tehran_day(timezone.now()) + dt.timedelta(days=4)
    base = f"{live_server.url}{variant.prefix}"
    context = variant.signed_in_context(browser, live_server.url, editor)
    page = context.new_page()
    try:
        page.goto(f"{base}/appointments/staff/")
        page.locator("#office-times").click()
        page.wait_for_selector("#add-form")
        page.locator("#id_day").fill("1405/13/40")
        page.locator("#add-form button[type=submit]").click()
        page.wait_for_selector(".error-summary")
        assert page.evaluate("document.activeElement.classList.contains('error-summary')")
        assert not Slot.objects.filter(office=office).exists()
        page.locator("#id_day").fill(variant.digits(jalali.iso(day).replace("-", "/")))
        page.locator("#id_start").fill(variant.digits("09:00"))
        page.locator("#id_end").fill(variant.digits("10:00"))
        page.locator("#id_minutes").fill("30")
        page.locator("#id_capacity").fill("3")
        page.locator("#add-form button[type=submit]").click()
        page.wait_for_selector("#done-panel")
        slots = list(Slot.objects.filter(office=office, day=day))
        assert [s.capacity for s in slots] == [3, 3]
        assert variant.digits("09:30") in page.locator("#slots").inner_text()
        page.locator(f"#slot-{slots[0].pk} button[value=close]").click()
        page.wait_for_selector(f"#slot-{slots[0].pk}[data-closed='1']")
        slots[0].refresh_from_db()
        assert slots[0].closed_at is not None
    finally:
        context.close()


def test_a_person_waits_for_a_full_day_and_gets_the_place(browser, variant, live_server):
    office = make_office()
    slot = make_slot(office, days=3, hour=11)
    holder = make_citizen()
    taken = operations.confirm(holder, operations.hold(holder, slot))
    person = make_citizen(first_name="مریم", last_name="احمدی")
    base = f"{live_server.url}{variant.prefix}"
    context = variant.signed_in_context(browser, live_server.url, person)
    page = context.new_page()
    try:
        page.goto(f"{base}/appointments/o/{office.code}/?day={slot.day:%Y-%m-%d}")
        page.locator("#join-waitlist").click()
        page.wait_for_selector("#waiting-panel")
        assert page.locator("#waiting li[data-status=waiting]").count() == 1
        operations.cancel(holder, taken)  # someone cancels: the place is held for her
        offered = Booking.objects.get(person=person, slot=slot)
        assert offered.state == State.HELD
        page.goto(f"{base}/appointments/mine/")
        page.locator("#waiting li[data-status=offered] a").click()
        page.wait_for_url(re.compile(rf"/appointments/b/{offered.reference}/"))
        page.locator("#confirm").click()
        page.wait_for_selector("#booked-panel")
        offered.refresh_from_db()
        assert offered.state == State.BOOKED
    finally:
        context.close()
