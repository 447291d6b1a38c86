"""A person turns proactive services on and off on their account page (Persian first), with
the history of their decisions; bad input changes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client

from panjereh.catalogue import roles
from panjereh.proactive import operations, queries
from panjereh.proactive.models import Consent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PAGE = "/account/proactive/"
DAY = dt.datetime(2025, 3, 21, 9, 0, tzinfo=dt.UTC)  # 1 Farvardin 1404


@pytest.fixture
def person(client):
    user = UserFactory(national_code="0012345679")
    client.force_login(user)
    return user


def test_the_page_asks_in_persian_and_records_each_decision(client, person):
    page = client.get(PAGE)
    assert page.status_code == 200
    text = page.content.decode()
    assert 'lang="fa"' in text
    assert "خدمات پیش‌دستانه" in text and "اکنون: خاموش" in text
    assert not queries.consents(person)
    with time_machine.travel(DAY, tick=False):
        answer = client.post(PAGE, {"decision": "give"})
    assert answer.status_code == 302
    assert queries.consents(person)
    text = client.get(PAGE).content.decode()
    assert "اکنون: روشن" in text
    assert "۱۴۰۴" in text and "موافقت کردید" in text  # the history, in Jalali and Persian digits
    with time_machine.travel(DAY + dt.timedelta(days=1), tick=False):
        client.post(PAGE, {"decision": "give"})  # already their decision: no new row
        assert Consent.objects.filter(user=person).count() == 1
        client.post(PAGE, {"decision": "withdraw"})
    assert not queries.consents(person)
    assert list(Consent.objects.filter(user=person).values_list("given", flat=True)) == [
        False,
        True,
    ]
    assert "موافقت را پس گرفتید" in client.get(PAGE).content.decode()


def test_the_english_page(client, person):
    text = client.get("/en" + PAGE).content.decode()
    assert "Proactive services" in text and "Now: off" in text


@pytest.mark.parametrize("value", ["", "maybe", "ﷺ" * 500])
def test_a_bad_answer_changes_nothing_and_says_why(client, person, value):
    answer = client.post(PAGE, {"decision": value})
    assert answer.status_code == 400
    text = answer.content.decode()
    assert "مشکلی هست" in text and "بله یا نه را انتخاب کنید." in text
    assert 'class="error-summary"' in text and 'href="#id_decision"' in text
    assert not Consent.objects.exists()


def test_a_nul_byte_is_refused_by_the_window_and_changes_nothing(client, person):
    answer = client.post(PAGE, {"decision": "give\x00"})
    assert answer.status_code == 400
    assert not Consent.objects.exists()


def test_without_the_csrf_token_nothing_changes(person):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(person)
    assert browser.post(PAGE, {"decision": "give"}).status_code == 403
    assert not Consent.objects.exists()


def test_only_a_signed_in_person_decides(client):
    answer = client.get(PAGE)
    assert answer.status_code == 302 and "login" in answer["Location"]
    assert client.post(PAGE, {"decision": "give"}).status_code == 302
    with pytest.raises(roles.NotPermitted):
        operations.set_consent(roles.SYSTEM, True)
    assert not Consent.objects.exists()


def test_the_account_page_links_it(client, person):
    assert PAGE in client.get("/account/").content.decode()
