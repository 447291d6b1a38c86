"""A person acting for a company (the profile switch) applies in the company's name: the
company registry is asked again when they apply, the application records the company with the
person, and someone the registry no longer names cannot apply for it."""

from __future__ import annotations

import pytest

from panjereh.identity import businesses
from panjereh.identity.models import LegalPerson
from panjereh.services import engine
from panjereh.services.models import Application
from tests.factories import UserFactory
from tests.identity.conftest import PERSON_CODE
from tests.identity.test_businesses import (
    COMPANY_ID,
    FakeCompanies,
    _add,
    _switch,
    registry,  # noqa: F401 -- the fixture
)

from .test_fees import permit, signed_in  # noqa: F401 -- fixtures

pytestmark = pytest.mark.django_db(transaction=True)

FREE = {"kind": "student", "pledge": "yes"}  # the test permit's answers that cost nothing


@pytest.fixture
def person():
    """The chief executive of COMPANY_ID in the fake company registry."""
    return UserFactory(national_code=PERSON_CODE, is_staff=False, assurance_level=3)


def _apply(client, definition, key: str):
    return client.post(
        f"/en/services/apply/{definition.code}/",
        {"idempotency_key": key, **FREE},
    )


def test_acting_for_a_company_the_application_records_it(registry, permit, person):  # noqa: F811
    client = signed_in(person)
    assert _add(client, COMPANY_ID).status_code == 302
    _switch(client, COMPANY_ID)
    answer = _apply(client, permit, "c1")
    assert answer.status_code == 302, answer.content.decode()[:400]
    application = Application.objects.get(user=person)
    assert application.company.national_id == COMPANY_ID
    calls = registry.calls
    page = client.get(f"/en/services/a/{application.tracking_code}/").content.decode()
    assert 'id="on-behalf-of"' in page and registry.names[COMPANY_ID] in page
    assert registry.calls >= calls  # a page that does not act may reuse the registry's answer


def test_for_oneself_no_company_is_recorded(registry, permit, person):  # noqa: F811
    client = signed_in(person)
    assert _add(client, COMPANY_ID).status_code == 302
    assert _apply(client, permit, "c1").status_code == 302
    assert Application.objects.get(user=person).company is None


def test_no_longer_named_by_the_registry_the_application_is_refused(
    registry,  # noqa: F811
    permit,  # noqa: F811
    person,  # noqa: F811
    settings,
):
    settings.PANJEREH_IDENTITY_REPRESENTATION_TTL = 600
    client = signed_in(person)
    assert _add(client, COMPANY_ID).status_code == 302
    _switch(client, COMPANY_ID)
    assert client.session[businesses.SESSION_KEY]["national_id"] == COMPANY_ID
    registry.remove(COMPANY_ID, person.national_code)
    answer = _apply(client, permit, "c2")
    # The acting request asks afresh: the switch is dropped, and nothing is made, neither for
    # the company nor in the person's own name (they meant the company's).
    assert answer.status_code == 403
    assert "You no longer act for this company" in answer.content.decode()
    assert not Application.objects.exists()
    assert businesses.SESSION_KEY not in client.session


def test_the_operation_itself_refuses_a_company_the_person_does_not_act_for(
    registry,  # noqa: F811
    permit,  # noqa: F811
    person,  # noqa: F811
):
    company = LegalPerson.objects.create(national_id=COMPANY_ID, name="x")
    registry.remove(COMPANY_ID, person.national_code)
    with pytest.raises(businesses.CannotAct):
        engine.submit(permit, person, idempotency_key="k", inputs=dict(FREE), company=company)
    assert not Application.objects.exists()
    assert isinstance(registry, FakeCompanies)
