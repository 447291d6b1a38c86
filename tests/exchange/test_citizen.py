"""“Who read my data”: a citizen sees the accesses to their own data and nobody else's."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_citizen_sees_own_accesses_only(exchange, population):
    service = exchange.service("civil", "identity")
    exchange.grant(service, ["civil.identity"])
    mine, theirs = population.national_code(100), population.national_code(200)
    assert exchange.call(service, mine, mine, **{"X-Road-Issue": "CASE-MINE-1"}).status_code == 200
    assert (
        exchange.call(service, theirs, theirs, **{"X-Road-Issue": "CASE-THEIRS-9"}).status_code
        == 200
    )
    # A refused call read nothing and is not an access.
    exchange.call(exchange.service("ssi", "insurance-record"), mine, mine)

    citizen = UserFactory(username="citizen", national_code=mine, is_staff=False)
    browser = Client()
    browser.force_login(citizen)
    page = browser.get("/en/exchange/my-data/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "CASE-MINE-1" in html
    assert "CASE-THEIRS-9" not in html
    assert exchange.consumer.name_en in html
    assert "Identity particulars" in html
    assert exchange.purpose.title_en in html
    assert html.count("<tr>") == 2  # header and one access


def test_persian_page_shows_jalali_dates(exchange, population):
    service = exchange.service("civil", "identity")
    exchange.grant(service, ["civil.identity"])
    code = population.national_code(100)
    exchange.call(service, code, code)
    browser = Client()
    browser.force_login(UserFactory(national_code=code, is_staff=False))
    html = browser.get("/exchange/my-data/").content.decode()
    assert "مشخصات هویتی" in html
    assert any(
        month in html
        for month in (
            "آذر",
            "آبان",
            "دی",
            "مهر",
            "بهمن",
            "اسفند",
            "فروردین",
            "اردیبهشت",
            "خرداد",
            "تیر",
            "مرداد",
            "شهریور",
        )
    )


def test_signed_out_visitor_is_sent_to_sign_in(db):
    response = Client().get("/en/exchange/my-data/")
    assert response.status_code == 302


def test_account_without_national_code_sees_nothing(exchange, population):
    service = exchange.service("civil", "identity")
    exchange.grant(service, ["civil.identity"])
    code = population.national_code(100)
    exchange.call(service, code, code)
    browser = Client()
    browser.force_login(UserFactory(national_code=None))
    html = browser.get("/en/exchange/my-data/").content.decode()
    assert "<tbody>" not in html


def test_a_read_made_for_another_person_shows_to_both_and_to_no_third(exchange, population):
    """``X-Panjereh-For`` names the person a read was made for (a credit check's reader): the
    one logged read is in the subject's list as theirs and in the reader's as read for them."""
    from panjereh.exchange import log
    from panjereh.exchange.models import LogRecord
    from panjereh.exchange.queries import accesses_to, my_data_reads

    service = exchange.service("civil", "identity")
    exchange.grant(service, ["civil.identity"])
    subject, reader, third = (population.national_code(i) for i in (100, 200, 300))
    answer = exchange.call(
        service, subject, subject, **{"X-Road-Issue": "CR-TEST-0001", "X-Panjereh-For": reader}
    )
    assert answer.status_code == 200
    record = LogRecord.objects.get()
    assert (record.subject, record.made_for) == (subject, reader)
    assert list(my_data_reads(subject)) == [record] == list(my_data_reads(reader))
    assert not my_data_reads(third).exists()
    # "About this person" stays the subject's only.
    assert not accesses_to(reader).exists()
    pages = {}
    for code in (subject, reader, third):
        browser = Client()
        browser.force_login(UserFactory(national_code=code, is_staff=False))
        pages[code] = browser.get("/en/exchange/my-data/").content.decode()
    assert "CR-TEST-0001" in pages[subject] and "CR-TEST-0001" in pages[reader]
    assert "CR-TEST-0001" not in pages[third]
    assert "read for you</td>" in pages[reader]
    assert "read for you</td>" not in pages[subject]
    assert "<td>Yours</td>" in pages[subject]
    # The field is inside the chained content: changing it breaks the chain.
    assert log.verify().ok
    LogRecord.objects.filter(pk=record.pk).update(made_for=third)
    assert not log.verify().ok


@pytest.mark.parametrize("made_for", ["12345", "subject", "00123456789", "abcdefghij"])
def test_a_bad_made_for_is_refused_and_shown_to_no_one(exchange, population, made_for):
    from panjereh.exchange.queries import my_data_reads

    service = exchange.service("civil", "identity")
    exchange.grant(service, ["civil.identity"])
    subject = population.national_code(100)
    value = subject if made_for == "subject" else made_for
    answer = exchange.call(service, subject, subject, **{"X-Panjereh-For": value})
    assert answer.status_code == 400 and answer.json()["code"] == "bad_made_for"
    assert not my_data_reads(subject).exists()
