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


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("prefix", "lang", "title"),
    [("", "fa", "این کار از شما پذیرفته نیست"), ("/en", "en", "You cannot do this here")],
)
def test_a_refused_action_shows_the_windows_localised_403_page_with_its_reason(
    client, prefix, lang, title
):
    """A right refused in an operation (``roles.NotPermitted``, a 403) shows the window's page
    in the page's language, with the operation's reason, not Django's bare English one."""
    from tests.factories import UserFactory

    client.force_login(UserFactory())  # a citizen, not the judiciary's staff
    response = client.get(f"{prefix}/assets/letters/")
    assert response.status_code == 403
    html = response.content.decode()
    assert f'<html lang="{lang}"' in html and 'class="site-header"' in html
    assert title in html and 'id="forbidden"' in html
    assert "403 Forbidden" not in html
    with translation.override(lang):
        from django.utils.html import escape
        from django.utils.translation import gettext

        assert escape(gettext("Only the judiciary's staff handle freeze letters.")) in html
