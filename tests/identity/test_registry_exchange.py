"""The identity checks go through the exchange to the real (simulated) registry processes."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from django.test import Client

from panjereh.common import jalali
from panjereh.exchange.models import LogRecord
from panjereh.identity import registry_checks
from panjereh.identity.models import User

from .conftest import adult_with_mobile
from .helpers import last_code

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_checks_through_the_gateway(through_exchange, population):
    person = adult_with_mobile(population)
    other = adult_with_mobile(population, person["index"] + 1)
    record = registry_checks.match_identity(person["national_code"], person["birth_date"])
    assert record is not None and record.first_name == person["first_name"]
    wrong_day = person["birth_date"] + dt.timedelta(days=1)
    assert registry_checks.match_identity(person["national_code"], wrong_day) is None
    assert registry_checks.mobile_belongs_to(person["national_code"], person["mobile"])
    assert not registry_checks.mobile_belongs_to(person["national_code"], other["mobile"])
    photo = population.civil_photo(person["index"])["photo"].split(",", 1)[1]
    assert registry_checks.photo_matches(person["national_code"], base64.b64decode(photo))
    assert not registry_checks.photo_matches(person["national_code"], b"<svg/>")
    # Every check is in the exchange's message log, under the person it was about.
    logged = LogRecord.objects.filter(subject=person["national_code"])
    assert logged.count() >= 6
    assert set(logged.values_list("client", flat=True)) == {through_exchange.client_id}


def test_registration_end_to_end_through_the_exchange(through_exchange, population):
    person = adult_with_mobile(population, 40)
    browser = Client()
    response = browser.post(
        "/account/register/",
        {
            "national_code": person["national_code"],
            "birth_date": jalali.format_fa(person["birth_date"], with_month_name=False),
            "mobile": person["mobile"],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    browser.post("/account/register/verify/", {"code": last_code(person["mobile"])})
    page = browser.get("/account/register/confirm/").content.decode()
    assert person["first_name"] in page
    browser.post("/account/register/confirm/")
    user = User.objects.get(national_code=person["national_code"])
    assert user.assurance_level == 1 and user.last_name == person["last_name"]


def test_exchange_down_refuses_cleanly(through_exchange, population, settings):
    settings.PANJEREH_IDENTITY_EXCHANGE_URL = "http://127.0.0.1:9"  # nothing listens there
    person = adult_with_mobile(population)
    with pytest.raises(registry_checks.RegistryUnavailable):
        registry_checks.match_identity(person["national_code"], person["birth_date"])
