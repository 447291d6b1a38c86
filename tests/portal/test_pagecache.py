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


def test_a_kept_page_runs_no_query_and_keeps_the_security_headers(
    client, catalogue, django_assert_num_queries
):
    first = client.get("/search/?q=ولادت")
    with django_assert_num_queries(0):
        again = client.get("/search/?q=ولادت")
    assert again.content == first.content
    for header in ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options"):
        assert again[header] == first[header]
    assert again["Content-Language"] == "fa"
    assert not again.cookies


def test_a_hit_takes_one_cache_round_trip(client, catalogue, monkeypatch):
    from django.core.cache import cache

    client.get("/")
    calls, depth = [], [0]

    def counted(name, original):
        def call(*args, **kwargs):
            if not depth[0]:  # the local cache's get_many calls its own get
                calls.append(name)
            depth[0] += 1
            try:
                return original(*args, **kwargs)
            finally:
                depth[0] -= 1

        return call

    for name in ("get", "get_many", "set", "add", "incr"):
        monkeypatch.setattr(cache, name, counted(name, getattr(cache, name)))
    assert client.get("/").status_code == 200
    assert calls == ["get_many"]


def test_persian_and_english_pages_are_kept_apart(client, catalogue):
    fa = client.get("/search/?q=ولادت").content.decode()
    en = client.get("/en/search/?q=ولادت").content.decode()
    assert fa != en
    assert client.get("/search/?q=ولادت").content.decode() == fa
    assert client.get("/en/search/?q=ولادت").content.decode() == en
    assert '<html lang="en"' in en
    assert '<html lang="fa"' in fa


def test_a_signed_in_person_never_gets_the_kept_anonymous_page(
    client, catalogue, django_user_model
):
    anonymous = client.get("/").content.decode()
    user = django_user_model.objects.create_user("reader", password="a long password 1")
    client.force_login(user)
    signed_in = client.get("/").content.decode()
    assert signed_in != anonymous


def test_a_page_that_is_not_public_is_never_looked_up(client, catalogue, monkeypatch):
    from django.core.cache import cache

    looked = []
    original = cache.get_many
    monkeypatch.setattr(cache, "get_many", lambda keys, **k: looked.append(keys) or original(keys))
    client.get("/status/")
    client.get("/api/catalogue/services/")
    assert looked == []


def test_a_changed_agency_shows_on_the_next_request(
    client, catalogue, django_capture_on_commit_callbacks
):
    agency = catalogue.birth_certificate.agency
    page = f"/agencies/{agency.code}/"
    client.get(page)
    with django_capture_on_commit_callbacks(execute=True):
        operations.save_agency(agency, {"name_fa": "سازمان تازه‌نام"}, author=roles.SYSTEM)
    assert "سازمان تازه‌نام" in client.get(page).content.decode()
