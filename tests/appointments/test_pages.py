"""The pages: find an office, a day and a time (Persian digits and Jalali dates on Persian
pages), hold → confirm, my appointments with cancel and rebook, another person's booking
hidden, the GOV.UK error pattern for bad input (NUL bytes included), CSRF, the staff's day
list and attendance."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.test import Client

from panjereh.appointments.models import Booking, State

from .conftest import make_citizen, make_slot

pytestmark = pytest.mark.django_db

LATIN = re.compile(r"[0-9]")


def visible(html: str) -> str:
    """The text of <main> without tags and attributes."""
    main = html.split("<main", 1)[1].split("</main>", 1)[0]
    main = re.sub(r"<script.*?</script>", " ", main, flags=re.S)
    return re.sub(r"<[^>]+>", " ", main.split(">", 1)[1])


def test_find_an_office_in_persian_and_english(client, office):
    make_slot(office)
    page = client.get("/appointments/?q=ونک")
    assert page.status_code == 200 and "دفتر خدمات الکترونیک قضایی ونک" in page.content.decode()
    assert (
        "دفتر خدمات"
        not in client.get("/appointments/?q=بیمارستان").content.decode().split('id="offices"')[1]
    )
    english = client.get("/en/appointments/?q=vanak").content.decode()
    assert "Vanak judicial e-services office" in english


def test_a_nul_byte_anywhere_is_refused_in_words_and_nothing_is_stored(client, office, citizen):
    page = client.get("/appointments/", {"q": "ونک\x00"})
    assert page.status_code == 400 and "UTF-8" in page.content.decode()  # the window's guard
    slot = make_slot(office)
    client.force_login(citizen)
    url = f"/appointments/o/{office.code}/"
    page = client.post(url, {"day": slot.day.isoformat(), "slot": f"{slot.pk}\x00"})
    assert page.status_code == 400 and not Booking.objects.exists()


def test_a_too_long_search_is_refused_with_the_summary(client, office):
    page = client.get("/appointments/", {"q": "ونک" * 50})
    assert page.status_code == 400
    assert 'class="error-summary"' in page.content.decode()


def test_days_and_times_in_persian_digits_and_jalali(client, office):
    make_slot(office, hour=9, capacity=3)
    page = client.get(f"/appointments/o/{office.code}/")
    text = visible(page.content.decode())
    assert page.status_code == 200
    assert "۰۹:۰۰" in text and "۳" in text
    assert not LATIN.search(text), LATIN.findall(text)
    assert re.search(
        r"(آذر|دی|بهمن|اسفند|فروردین|اردیبهشت|خرداد|تیر|مرداد|شهریور|مهر|آبان) ۱۴", text
    )
    english = visible(client.get(f"/en/appointments/o/{office.code}/").content.decode())
    assert "09:00" in english


def test_hold_confirm_cancel_and_rebook_through_the_pages(client, office, citizen):
    first, second = make_slot(office, hour=9), make_slot(office, hour=10)
    client.force_login(citizen)
    held = client.post(
        f"/appointments/o/{office.code}/", {"day": first.day.isoformat(), "slot": first.pk}
    )
    booking = Booking.objects.get(person=citizen)
    assert held.status_code == 302 and held["Location"].endswith(f"/b/{booking.reference}/")
    page = client.get(held["Location"]).content.decode()
    assert 'id="confirm"' in page
    done = client.post(f"/appointments/b/{booking.reference}/confirm/")
    assert done.status_code == 302
    booking.refresh_from_db()
    assert booking.state == State.BOOKED
    mine = client.get("/appointments/mine/").content.decode()
    assert booking.reference in mine and "rebook" in mine
    # Rebook: the new time is held, the old one stays booked until confirmed.
    moved = client.post(
        f"/appointments/o/{office.code}/",
        {"day": second.day.isoformat(), "slot": second.pk, "rebook": booking.reference},
    )
    new = Booking.objects.exclude(pk=booking.pk).get(person=citizen)
    assert moved.status_code == 302 and new.replaces_id == booking.pk
    assert 'id="replaces"' in client.get(moved["Location"]).content.decode()
    booking.refresh_from_db()
    assert booking.state == State.BOOKED
    client.post(f"/appointments/b/{new.reference}/confirm/")
    booking.refresh_from_db()
    new.refresh_from_db()
    assert (booking.state, new.state) == (State.CANCELLED, State.BOOKED)
    gone = client.post(f"/appointments/b/{new.reference}/cancel/")
    assert gone.status_code == 302 and "done=cancelled" in gone["Location"]
    new.refresh_from_db()
    assert new.state == State.CANCELLED


@pytest.mark.parametrize("data", [{}, {"slot": "x"}, {"slot": "999999"}, {"slot": "۱۲"}])
def test_a_bad_time_choice_keeps_the_form_and_stores_nothing(client, office, citizen, data):
    slot = make_slot(office)
    client.force_login(citizen)
    page = client.post(f"/appointments/o/{office.code}/", {"day": slot.day.isoformat(), **data})
    html = page.content.decode()
    assert page.status_code == 400
    assert 'class="error-summary"' in html and 'href="#slot-group"' in html
    assert not Booking.objects.exists()


def test_a_full_time_is_refused_with_the_summary(client, office, citizen):
    slot = make_slot(office)
    from panjereh.appointments import operations

    other = make_citizen()
    operations.hold(other, slot)
    client.force_login(citizen)
    page = client.post(
        f"/appointments/o/{office.code}/", {"day": slot.day.isoformat(), "slot": slot.pk}
    )
    assert page.status_code == 400 and 'class="error-summary"' in page.content.decode()
    assert not Booking.objects.filter(person=citizen).exists()


def test_anonymous_is_sent_to_sign_in_and_nothing_is_held(client, office):
    slot = make_slot(office)
    page = client.post(
        f"/appointments/o/{office.code}/", {"day": slot.day.isoformat(), "slot": slot.pk}
    )
    assert page.status_code == 302 and "login" in page["Location"]
    assert not Booking.objects.exists()


def test_another_persons_booking_is_not_found(client, office, citizen):
    from panjereh.appointments import operations

    booking = operations.hold(citizen, make_slot(office))
    client.force_login(make_citizen())
    assert client.get(f"/appointments/b/{booking.reference}/").status_code == 404
    assert client.post(f"/appointments/b/{booking.reference}/confirm/").status_code == 404
    assert client.post(f"/appointments/b/{booking.reference}/cancel/").status_code == 404
    assert Booking.objects.get(pk=booking.pk).state == State.HELD


def test_writes_need_the_csrf_token(office, citizen):
    slot = make_slot(office)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(citizen)
    page = strict.post(
        f"/appointments/o/{office.code}/", {"day": slot.day.isoformat(), "slot": slot.pk}
    )
    assert page.status_code == 403 and not Booking.objects.exists()


def test_the_staff_day_list_and_attendance(client, office, citizen, staff):
    from panjereh.appointments import operations
    from panjereh.common import jalali

    slot = make_slot(office, days=1)
    booking = operations.confirm(citizen, operations.hold(citizen, slot))
    day = jalali.iso(slot.day).replace("-", "/")
    client.force_login(staff["viewer"])
    page = client.get("/appointments/staff/", {"office": office.code, "day": day})
    html = page.content.decode()
    assert page.status_code == 200 and f"row-{booking.reference}" in html
    assert 'name="attended"' not in html  # a viewer reads only
    assert (
        client.post(f"/appointments/staff/{booking.reference}/mark/", {"attended": "1"}).status_code
        == 403
    )
    with time_machine.travel(slot.starts_at, tick=False):
        client.force_login(staff["editor"])  # a session of that day (sessions time out)
        assert (
            'name="attended"'
            in client.get(
                "/appointments/staff/", {"office": office.code, "day": day}
            ).content.decode()
        )
        marked = client.post(f"/appointments/staff/{booking.reference}/mark/", {"attended": "1"})
    assert marked.status_code == 302
    booking.refresh_from_db()
    assert booking.state == State.ATTENDED
    client.force_login(staff["other"])
    assert (
        client.get("/appointments/staff/", {"office": office.code, "day": day}).status_code == 403
    )
    assert (
        client.post(f"/appointments/staff/{booking.reference}/mark/", {"attended": "0"}).status_code
        == 404
    )
    client.force_login(citizen)
    assert client.get("/appointments/staff/").status_code == 403


@pytest.mark.parametrize("day", ["1405/13/40", "tomorrow", "٬" * 30, "۱۴۰۵/۱۲/۳۱/۱"])
def test_the_staff_day_must_be_a_jalali_date(client, office, staff, day):
    client.force_login(staff["editor"])
    page = client.get("/appointments/staff/", {"office": office.code, "day": day})
    assert page.status_code == 400 and 'class="error-summary"' in page.content.decode()
