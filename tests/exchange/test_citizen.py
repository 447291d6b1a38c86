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
