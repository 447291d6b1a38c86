"""The installable app's server side: the manifest in both languages, the service worker at the
root, the offline page, the pages a phone may keep and whose they are, and the sign-out that
clears the site's data (docs/pwa.md). The worker's behaviour in a browser: tests/browser/test_pwa.py."""

from __future__ import annotations

import json
import re

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils import translation

from panjereh.portal import pwa, views_pwa
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def citizen():
    return UserFactory(is_staff=False, national_code="0012345679")


@pytest.fixture(autouse=True)
def fresh_worker():
    views_pwa._worker_source.cache_clear()
    yield
    views_pwa._worker_source.cache_clear()


def _manifest(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json; charset=utf-8"
    return json.loads(response.content.decode("utf-8"))


def test_the_persian_manifest_is_persian_right_to_left_and_opens_on_the_signed_in_home(client):
    manifest = _manifest(client, "/manifest.webmanifest")
    with translation.override("fa"):
        assert manifest["name"] == translation.gettext("Panjereh, the national window")
        assert manifest["short_name"] == translation.gettext("Panjereh")
        start = reverse("personal:home")
    assert re.search("[\u0600-\u06ff]", manifest["name"])
    assert manifest["lang"] == "fa" and manifest["dir"] == "rtl"
    assert manifest["start_url"] == start == "/my/"
    assert manifest["id"] == start
    assert manifest["scope"] == "/"
    assert manifest["display"] == "standalone"
    assert manifest["theme_color"] == "#0b4650" and manifest["background_color"] == "#ffffff"


def test_the_english_manifest_is_english_and_opens_on_the_english_home(client):
    manifest = _manifest(client, "/en/manifest.webmanifest")
    assert manifest["name"] == "Panjereh, the national window"
    assert manifest["short_name"] == "Panjereh"
    assert manifest["lang"] == "en" and manifest["dir"] == "ltr"
    assert manifest["start_url"] == manifest["id"] == "/en/my/"
    assert manifest["scope"] == "/"
    assert [s["url"] for s in manifest["shortcuts"]] == [
        "/en/my/documents/",
        "/en/inbox/",
        "/en/services/",
        "/en/appointments/mine/",
    ]


def test_the_theme_colour_is_the_stylesheet_s_brand_colour():
    css = open(finders.find("portal/css/portal.css"), encoding="utf-8").read()
    assert re.search(r"--brand:\s*#0b4650;", css)
    assert re.search(r"--paper:\s*#ffffff;", css)


def test_the_manifest_icons_exist_with_the_sizes_they_claim(client):
    from PIL import Image

    manifest = _manifest(client, "/manifest.webmanifest")
    pngs = [icon for icon in manifest["icons"] if icon["type"] == "image/png"]
    assert {(i["sizes"], i["purpose"]) for i in pngs} == {
        ("192x192", "any"),
        ("512x512", "any"),
        ("512x512", "maskable"),
    }
    for icon in pngs:
        name = icon["src"].removeprefix("/static/")
        with Image.open(finders.find(name)) as image:
            assert f"{image.width}x{image.height}" == icon["sizes"]
            if icon["purpose"] == "maskable":
                # A maskable icon has no transparent corner: launchers crop it to any shape.
                assert image.convert("RGBA").getpixel((0, 0))[3] == 255
        assert client.get(icon["src"]).status_code == 200


def test_every_page_links_the_manifest_of_its_language_and_the_theme_colour(client):
    persian = client.get("/offline/").content.decode()
    english = client.get("/en/offline/").content.decode()
    assert '<link rel="manifest" href="/manifest.webmanifest">' in persian
    assert '<link rel="manifest" href="/en/manifest.webmanifest">' in english
    assert '<meta name="theme-color" content="#0b4650">' in persian


def test_the_service_worker_is_served_from_the_root_never_cached_with_its_settings(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert "no-cache" in response["Cache-Control"]
    body = response.content.decode()
    first, _, code = body.partition("\n")
    config = json.loads(first.removeprefix("self.PANJEREH = ").removesuffix(";"))
    assert config["offline"] == {"fa": "/offline/", "en": "/en/offline/"}
    assert config["kept"] == pwa.kept_page_pattern()
    assert config["keepDays"] == 14
    assert config["holderHeader"] == "X-Panjereh-Holder"
    assert re.fullmatch(r"[0-9a-f]{16}", config["version"])
    assert 'addEventListener("fetch"' in code
    # Registered with the whole site as its scope, which a worker at the root may have.
    portal_js = open(finders.find("portal/js/portal.js"), encoding="utf-8").read()
    assert 'register("/sw.js", { scope: "/" })' in portal_js


def test_the_worker_s_version_changes_with_its_settings(client, settings):
    first = client.get("/sw.js").content.decode().partition("\n")[0]
    views_pwa._worker_source.cache_clear()
    settings.PANJEREH_OFFLINE_KEEP_DAYS = 3
    second = client.get("/sw.js").content.decode().partition("\n")[0]
    assert '"keepDays": 3' in second
    assert json.loads(first[16:-1])["version"] != json.loads(second[16:-1])["version"]


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("personal:home", {}),
        ("personal:documents", {}),
        ("personal:document", {"reference": "cert-1404-000123"}),
        ("inbox:inbox", {}),
        ("inbox:message", {"pk": 12}),
        ("mailbox:mailbox", {}),
        ("mailbox:notice", {"reference": "N-7QH2K"}),
        ("services:mine", {}),
        ("services:detail", {"tracking_code": "A1B2C3"}),
        ("appointments:mine", {}),
    ],
)
@pytest.mark.parametrize("language", ["fa", "en"])
def test_the_person_s_own_pages_are_kept(name, kwargs, language):
    with translation.override(language):
        path = reverse(name, kwargs=kwargs)
    assert re.match(pwa.kept_page_pattern(), path), path


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/en/",
        "/search/",
        "/mailbox/verify/",
        "/mailbox/N-7QH2K/proof/",
        "/services/a/A1B2C3/pay/",
        "/services/documents/123.pdf",
        "/services/apply/passport/",
        "/account/",
        "/appointments/",
        "/inbox/12/x/",
        "/fr/inbox/",
        "/admin/",
        "/my/documents/cert-1404-000123/token.jws",
        "/my/documents/cert-1404-000123/share/",
        "/my/shares/",
    ],
)
def test_no_other_page_is_kept(path):
    assert not re.match(pwa.kept_page_pattern(), path)


def test_the_offline_page_says_what_still_works_in_both_languages(client):
    persian = client.get("/offline/")
    assert persian.status_code == 200
    html = persian.content.decode()
    with translation.override("fa"):
        assert translation.gettext("You are offline") in html
        assert translation.gettext("You are offline") != "You are offline"
    for link in (
        "/my/",
        "/my/documents/",
        "/inbox/",
        "/mailbox/",
        "/services/",
        "/appointments/mine/",
    ):
        assert f'href="{link}"' in html
    english = client.get("/en/offline/").content.decode()
    assert "You are offline" in english and 'href="/en/inbox/"' in english
    # The notice a kept copy shows, with the place of its time, between the worker's markers.
    notice = re.search(r"<!-- kept-copy-notice -->(.*?)<!-- /kept-copy-notice -->", english)
    assert notice and "{when}" in notice.group(1) and 'role="status"' in notice.group(1)
    persian_notice = re.search(r"<!-- kept-copy-notice -->(.*?)<!-- /kept-copy-notice -->", html)
    assert "{when}" in persian_notice.group(1)
    assert re.search("[\u0600-\u06ff]", persian_notice.group(1))


def test_signed_in_pages_carry_an_opaque_mark_of_their_holder(client, citizen):
    assert "X-Panjereh-Holder" not in client.get("/offline/")
    client.force_login(citizen)
    mark = client.get("/inbox/")["X-Panjereh-Holder"]
    assert re.fullmatch(r"[0-9a-f]{32}", mark)
    assert citizen.national_code not in mark and mark == pwa.holder_of(citizen)
    other = UserFactory(is_staff=False, national_code="0012345687")
    assert pwa.holder_of(other) != mark
    # Only pages: a file or JSON answer carries no mark.
    assert "X-Panjereh-Holder" not in client.get("/manifest.webmanifest")


def test_signing_out_clears_the_site_s_data_in_the_browser(client, citizen):
    client.force_login(citizen)
    # Asking to sign out (the page with the button) clears nothing yet.
    assert "Clear-Site-Data" not in client.get("/account/logout/")
    response = client.post("/account/logout/")
    assert response.status_code == 302
    assert response["Clear-Site-Data"] == '"cache", "storage"'
    assert "_auth_user_id" not in client.session
    # Nobody was signed in any more: nothing to clear.
    assert "Clear-Site-Data" not in client.post("/en/account/logout/")
    client.force_login(citizen)
    english = client.post("/en/account/logout/")
    assert english["Clear-Site-Data"] == '"cache", "storage"'


def test_a_sign_out_through_an_agency_window_clears_the_site_s_data_too(client, citizen):
    # The RP-initiated logout of the window's OpenID provider (an agency window's "sign out").
    client.force_login(citizen)
    response = client.post("/oidc/logout/", {"allow": "Yes"})
    assert "_auth_user_id" not in client.session
    assert response["Clear-Site-Data"] == '"cache", "storage"'


def test_in_production_the_manifest_names_fingerprinted_icons_and_the_worker_runs(tmp_path):
    from django.core.cache import cache
    from django.test import Client

    from tests.lighthouse.production_static import production_static

    cache.clear()
    with production_static(tmp_path):
        client = Client()
        manifest = json.loads(client.get("/en/manifest.webmanifest").content)
        for icon in manifest["icons"]:
            assert re.search(r"\.[0-9a-f]{12}\.(png|svg)$", icon["src"]), icon["src"]
            response = client.get(icon["src"])
            assert response.status_code == 200
            response.close()
        worker = client.get("/sw.js")
        assert worker.status_code == 200 and b'addEventListener("fetch"' in worker.content
    cache.clear()
