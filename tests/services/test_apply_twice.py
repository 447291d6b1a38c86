"""Going Back and sending the same application form again makes no second application (and
so no second certificate): the form's key survives Back, and a second identical application
made with a fresh form is asked about first."""

from __future__ import annotations

import re

import pytest

from panjereh.services import definitions
from panjereh.services.models import Application, State
from tests.factories import UserFactory, sign_in

pytestmark = pytest.mark.django_db
URL = "/services/apply/no-criminal-record/"


def _key(page) -> str:
    return re.search(r'name="idempotency_key" value="([0-9a-f]+)"', page.content.decode()).group(1)


@pytest.fixture
def applicant(client):
    definitions.load()
    user = UserFactory(national_code="0012345679", assurance_level=3)
    sign_in(client, user)
    return user


def test_back_and_submit_again_makes_no_second_application_and_asks_first(client, applicant):
    form = client.get(URL)
    first_key = _key(form)
    assert _key(client.get(URL)) == first_key  # a reload shows the same key
    response = client.post(URL, {"idempotency_key": first_key, "purpose": "بانک ملی"})
    assert response.status_code == 302
    first = Application.objects.get(user=applicant)
    Application.objects.filter(pk=first.pk).update(state=State.ISSUED)

    # Back to the page the browser kept, and submit: the same key, the same application.
    again = client.post(URL, {"idempotency_key": first_key, "purpose": "بانک ملی"})
    assert again.status_code == 302 and again.url.endswith(f"/a/{first.tracking_code}/")
    assert Application.objects.filter(user=applicant).count() == 1

    # Back to a page the browser fetched again (a new key): asked first, nothing made.
    fresh_key = _key(client.get(URL))
    assert fresh_key != first_key
    asked = client.post(URL, {"idempotency_key": fresh_key, "purpose": "بانک ملی"})
    assert asked.status_code == 409
    page = asked.content.decode()
    assert 'id="duplicate-warning"' in page and first.tracking_code in page
    assert 'name="confirm_duplicate" value="1"' in page
    assert Application.objects.filter(user=applicant).count() == 1

    # The citizen says yes: a second application, once.
    for _twice in range(2):
        confirmed = client.post(
            URL, {"idempotency_key": fresh_key, "purpose": "بانک ملی", "confirm_duplicate": "1"}
        )
        assert confirmed.status_code == 302
    assert Application.objects.filter(user=applicant).count() == 2


def test_a_different_application_of_the_same_service_is_not_asked_about(client, applicant):
    client.post(URL, {"idempotency_key": _key(client.get(URL)), "purpose": "بانک ملی"})
    other = client.post(URL, {"idempotency_key": _key(client.get(URL)), "purpose": "سفارت"})
    assert other.status_code == 302
    assert Application.objects.filter(user=applicant).count() == 2
