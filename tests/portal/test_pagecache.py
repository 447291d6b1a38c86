"""Public catalogue pages kept in the shared cache for visitors who are not signed in."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from panjereh.catalogue import operations, roles
from panjereh.services.models import ServiceDefinition

pytestmark = pytest.mark.django_db

PAGES = ("/", "/en/", "/search/?q=ولادت", "/life-events/")


def _queries(client, path: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200
    return len(ctx.captured_queries), response.content.decode()


@pytest.mark.parametrize("path", PAGES)
def test_a_public_page_is_served_from_the_cache_the_second_time(client, catalogue, path):
    first, html = _queries(client, path)
    again, html_again = _queries(client, path)
    assert first > 0
    assert again == 0, "a kept page should need no database query"
    assert html_again == html


def test_service_and_agency_pages_are_kept_too(client, catalogue):
    for path in (
        f"/services/{catalogue.birth_certificate.service_id}/",
        f"/agencies/{catalogue.birth_certificate.agency.code}/",
    ):
        _queries(client, path)
        assert _queries(client, path)[0] == 0


def test_a_changed_card_shows_on_the_next_request(
    client, catalogue, django_capture_on_commit_callbacks
):
    service = catalogue.birth_certificate
    page = f"/services/{service.service_id}/"
    _, before = _queries(client, page)
    assert "<h1>صدور گواهی ولادت</h1>" in before
    with django_capture_on_commit_callbacks(execute=True):
        operations.save_service(service, {"title_fa": "گواهی ولادت نوزاد"}, author=roles.SYSTEM)
    _, after = _queries(client, page)
    assert "<h1>گواهی ولادت نوزاد</h1>" in after
    # Search and the home page follow the same generation.
    assert "گواهی ولادت نوزاد" in client.get("/search/?q=ولادت").content.decode()


def test_a_new_service_definition_changes_the_start_button_at_once(client, catalogue):
    service = catalogue.birth_certificate
    page = f"/services/{service.service_id}/"
    client.get(page)
    ServiceDefinition.objects.create(
        code="newborn-x",
        version=1,
        service=service,
        agency=service.agency,
        smart=True,
        title_fa="گواهی",
        assurance_level=2,
        target_minutes=5,
        spec={},
        digest="x",
        active=True,
    )
    assert "/services/apply/newborn-x/" in client.get(page).content.decode()


def test_a_signed_in_person_never_gets_a_kept_page(client, catalogue, django_user_model):
    client.get("/")
    user = django_user_model.objects.create_user("someone", password="a long password 1")
    client.force_login(user)
    count, _ = _queries(client, "/")
    assert count > 0


def test_a_page_that_sets_a_cookie_is_not_kept(client, catalogue):
    # The language switch sets a cookie; it is no public page and must never be shared.
    client.get("/i18n/en/?next=/en/")
    assert client.get("/i18n/en/?next=/en/").cookies.get("django_language") is not None
