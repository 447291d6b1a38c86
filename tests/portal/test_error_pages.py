"""The window's own 404 and 500 pages (issue 12, item 23): localised, with the window's layout,
a viewport and a way home; the 500 page renders without a database or a user."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.utils import translation
from django.views import defaults


@pytest.mark.django_db
def test_an_unknown_address_in_persian_shows_the_windows_404_page(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert '<html lang="fa" dir="rtl">' in html
    assert '<meta name="viewport"' in html
    assert "صفحه پیدا نشد" in html
    assert 'class="site-header"' in html
    assert 'href="/"' in html


@pytest.mark.django_db
def test_an_unknown_address_in_english_shows_the_english_404_page(client):
    response = client.get("/en/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert '<html lang="en" dir="ltr">' in html
    assert "Page not found" in html
    assert 'href="/en/"' in html


@pytest.mark.parametrize(
    ("language", "direction", "home", "title"),
    [
        ("fa", "rtl", 'href="/"', "خطایی پیش آمد"),
        ("en", "ltr", 'href="/en/"', "Something went wrong"),
    ],
)
def test_the_500_page_is_branded_and_needs_no_database(language, direction, home, title):
    # No django_db mark: any query the page made would fail the test.
    request = RequestFactory().get("/")
    with translation.override(language):
        response = defaults.server_error(request)
    assert response.status_code == 500
    html = response.content.decode()
    assert f'<html lang="{language}" dir="{direction}">' in html
    assert '<meta name="viewport"' in html
    assert title in html
    assert home in html
    assert "portal/css/portal" in html
