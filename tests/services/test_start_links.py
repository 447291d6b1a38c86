"""A "Start now" that leaves the national window says where it goes, and is a link only when
that address answers (the status monitor's last check); a service with a definition here
starts here."""

from __future__ import annotations

import pytest
from django.utils import timezone

from panjereh.services import definitions
from panjereh.status.models import System, SystemKind
from tests.factories import make_agency, make_service

pytestmark = pytest.mark.django_db


def _page(client, service) -> str:
    response = client.get(f"/en/services/{service.service_id}/")
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def outside():
    agency = make_agency(own_window_url="https://window.agency-x.ir")
    return make_service(agency, online_url="https://my.gov.ir/services/1234")


def test_a_start_address_that_does_not_answer_is_named_but_not_linked(client, outside):
    page = _page(client, outside)
    assert 'href="https://my.gov.ir' not in page
    assert 'id="outside-unavailable"' in page and "my.gov.ir" in page
    assert 'href="https://window.agency-x.ir' not in page


def test_a_start_address_that_answers_is_linked_with_a_leaving_notice(client, outside):
    System.objects.create(
        key="my-gov",
        kind=SystemKind.AGENCY_WINDOW,
        name_fa="میز",
        check_url="https://my.gov.ir/health",
        last_ok=True,
        last_checked_at=timezone.now(),
    )
    page = _page(client, outside)
    assert 'href="https://my.gov.ir/services/1234"' in page
    assert 'id="leaving-notice"' in page and "you leave the national window" in page


def test_a_service_with_a_definition_starts_inside_the_window(client):
    definitions.load()
    service = definitions.active("no-criminal-record").service
    page = _page(client, service)
    assert 'id="apply-start"' in page and "/services/apply/no-criminal-record/" in page


def test_the_agency_page_links_its_window_only_when_it_answers(client, outside):
    agency = outside.agency
    page = client.get(f"/en/agencies/{agency.code}/").content.decode()
    assert 'href="https://window.agency-x.ir' not in page and "window.agency-x.ir" in page
