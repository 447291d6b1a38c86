"""Appointments in a real Chromium (issue 17's Done-when; Persian on a 360×780 phone, English
on a desktop): a person finds an office, picks a day and a time (the error summary first when
none is chosen), holds and confirms it, cancels it, books again and changes the time; the old
appointment stays booked until the new time is confirmed."""

from __future__ import annotations

import os
import re

import pytest

from panjereh.appointments import operations
from panjereh.appointments.models import Booking, State
from tests.appointments.conftest import make_citizen, make_office, make_slot

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_person_books_cancels_and_rebooks(browser, variant, live_server):
    office = make_office(
        kind="specialty",
        name_fa="بیمارستان نمازی شیراز، درمانگاه قلب و عروق",
        name_en="Namazi Hospital Shiraz, Cardiology clinic",
        specialty_fa="قلب و عروق",
        specialty_en="Cardiology",
    )
    nine, ten = make_slot(office, hour=9), make_slot(office, hour=10)
    person = make_citizen(first_name="مریم", last_name="احمدی")
    base = f"{live_server.url}{variant.prefix}"
    context = variant.signed_in_context(browser, live_server.url, person)
    page = context.new_page()
    try:
        page.goto(f"{base}/appointments/")
        search = "قلب" if variant.lang == "fa" else "cardiology"
        page.locator("#id_q").fill(search)
        page.locator("form[role=search] button").click()
        page.locator("#offices a").first.click()
        page.wait_for_url(re.compile(rf"/appointments/o/{office.code}/"))
        # The GOV.UK pattern: no time chosen, the summary comes first and takes the focus.
        page.locator("#hold").click()
        page.wait_for_selector(".error-summary")
        assert page.evaluate("document.activeElement.classList.contains('error-summary')")
        assert variant.gettext("Choose a time.") in page.locator(".error-summary").inner_text()
        label = page.locator(f"label[for=slot-{nine.pk}]").inner_text()
        assert variant.digits("09:00") in label
        if variant.lang == "fa":
            assert not re.search(r"[0-9]", label)

        def book(slot) -> Booking:
            page.locator(f"#slot-{slot.pk}").check()
            page.locator("#hold").click()
            page.wait_for_selector("#confirm")
            page.locator("#confirm").click()
            page.wait_for_selector("#booked-panel")
            assert page.locator("#booking-state").get_attribute("data-state") == "booked"
            return Booking.objects.filter(person=person, slot=slot).latest("pk")

        first = book(nine)
        assert first.state == State.BOOKED
        # Cancel it from "My appointments".
        page.goto(f"{base}/appointments/mine/")
        page.locator(f"li[data-reference={first.reference}] button.cancel").click()
        page.wait_for_selector("#cancelled-panel")
        first.refresh_from_db()
        assert first.state == State.CANCELLED

        # Book again, then change the time.
        page.goto(f"{base}/appointments/o/{office.code}/")
        second = book(nine)
        page.goto(f"{base}/appointments/mine/")
        page.locator(f"li[data-reference={second.reference}] a.rebook").click()
        page.wait_for_selector("#rebooking")
        page.locator(f"#slot-{ten.pk}").check()
        page.locator("#hold").click()
        page.wait_for_selector("#replaces")
        second.refresh_from_db()
        assert second.state == State.BOOKED  # kept until the new time is confirmed
        page.locator("#confirm").click()
        page.wait_for_selector("#booked-panel")
        second.refresh_from_db()
        third = Booking.objects.get(person=person, slot=ten)
        assert (second.state, third.state) == (State.CANCELLED, State.BOOKED)
        assert variant.digits("10:00") in page.locator("#booking-time").inner_text()
        page.goto(f"{base}/appointments/mine/")
        upcoming = page.locator("#upcoming").inner_text()
        assert variant.digits("10:00") in upcoming and variant.digits("09:00") not in upcoming
        assert operations.pause_until(person) is None
    finally:
        context.close()
