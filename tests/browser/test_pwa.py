"""The installable app in a real Chromium (issue 18, part 1; Persian phone, English desktop): the
manifest is valid and Chromium finds the site installable, the service worker is active; the
person opens their inbox, a message, their applications, an application, the signed-in home,
their documents and a document; offline, the same
pages are still readable with the notice that they are a copy kept on the device and from when
(Jalali date in Persian digits on Persian pages); a page never opened shows the offline page;
another person signing in on the same phone drops the first one's copies, and signing out
wipes them all (docs/pwa.md)."""

from __future__ import annotations

import os
import re

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone, translation

from panjereh.common import jalali
from panjereh.inbox import notify
from panjereh.personal import queries as personal
from tests.factories import issue_certificate

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SUBJECT = {"fa": "ابلاغ رأی شورای حل اختلاف", "en": "Decision of the dispute council"}


@pytest.fixture
def person(transactional_db):
    from tests.factories import UserFactory

    user = UserFactory(
        national_code="0012345679", is_staff=False, assurance_level=3, mobile="09121234567"
    )
    notify.post(
        user,
        kind="notice",
        dedupe_key="pwa-notice",
        subject_fa=SUBJECT["fa"],
        subject_en=SUBJECT["en"],
        body_fa="رأی شورا صادر شد.",
        body_en="The council has decided.",
    )
    return user


# The paths of the pages kept on the device (and the holder mark), read in the page.
KEPT_PATHS = (
    "caches.open('panjereh-personal').then(c => c.keys())"
    ".then(keys => keys.map(r => new URL(r.url).pathname))"
)


def _kept_on(variant, when) -> str:
    """How the notice names the day a copy was kept: the Jalali date in Persian digits, or
    the English date."""
    if variant.lang == "fa":
        return jalali.format_fa(when)
    return timezone.localtime(when).strftime("%-d %b %Y")


def test_install_then_read_the_inbox_and_applications_offline(
    browser, variant, live_server, person
):
    from panjereh.inbox.models import Message
    from tests.factories import UserFactory

    user = person
    application = issue_certificate(user).application
    message = Message.objects.get(user=user, dedupe_key="pwa-notice")
    with translation.override(variant.lang):
        (document,) = personal.documents_of(user)

    context = variant.signed_in_context(browser, live_server.url, user)
    context.set_default_timeout(60_000)
    page = context.new_page()
    base = live_server.url + variant.prefix
    try:
        # 1. Installable: the manifest of the page's language, valid, and a worker active.
        page.goto(f"{base}/inbox/")
        state = page.evaluate("navigator.serviceWorker.ready.then(r => r.active && r.active.state)")
        assert state == "activated"
        manifest = page.evaluate(
            "fetch(document.querySelector('link[rel=manifest]').href).then(r => r.json())"
        )
        assert manifest["lang"] == variant.lang and manifest["display"] == "standalone"
        cdp = context.new_cdp_session(page)
        found = cdp.send("Page.getAppManifest")
        assert found["errors"] == [], found["errors"]
        assert found["url"].endswith(f"{variant.prefix}/manifest.webmanifest")
        # Chromium's own installability check (name, icons of 192 and 512 pixels, start address,
        # display, a worker with a fetch handler): nothing missing. A Playwright context is
        # Chromium's incognito mode, where no app is installed, which it says too.
        installability = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
        assert {error["errorId"] for error in installability} <= {"in-incognito"}, installability

        # 2. Online, under the worker: the person's own pages, each kept as it is read.
        page.reload()
        assert page.evaluate("!!navigator.serviceWorker.controller")
        page.locator(f"a[href$='/inbox/{message.pk}/']").first.click()
        page.wait_for_url(re.compile(rf"/inbox/{message.pk}/$"))
        page.goto(f"{base}/services/")
        page.goto(f"{base}/services/a/{application.tracking_code}/")
        page.goto(f"{base}/my/")
        page.goto(f"{base}/my/documents/")
        page.locator(f"a[href$='/my/documents/{document.reference}/']").first.click()
        page.wait_for_url(re.compile(rf"/my/documents/{document.reference}/$"))
        kept_at = timezone.now()
        page.wait_for_function(f"{KEPT_PATHS}.then(paths => paths.length === 8)")

        # 3. Offline: the same pages, with the notice that they are a kept copy and from when.
        context.set_offline(True)
        for path, text in [
            ("/inbox/", SUBJECT[variant.lang]),
            (f"/inbox/{message.pk}/", SUBJECT[variant.lang]),
            ("/services/", application.tracking_code),
            (f"/services/a/{application.tracking_code}/", application.tracking_code),
            ("/my/", SUBJECT[variant.lang]),
            ("/my/documents/", document.title),
            (f"/my/documents/{document.reference}/", document.title),
        ]:
            page.goto(f"{base}{path}")
            notice = page.locator("#offline-copy")
            assert notice.is_visible(), path
            assert _kept_on(variant, kept_at) in notice.inner_text(), notice.inner_text()
            assert variant.gettext("You are offline: this is a copy kept on this device.") in (
                notice.inner_text()
            )
            assert variant.digits(text) in page.locator("main").inner_text() or text in (
                page.locator("main").inner_text()
            ), path

        # A page never opened: the offline page, in the page's language.
        page.goto(f"{base}/appointments/mine/")
        assert page.locator("#offline-page").is_visible()
        assert page.locator("h1").inner_text() == variant.gettext("You are offline")
        page.goto(f"{base}/search/?q=passport")
        assert page.locator("#offline-page").is_visible()
        # It lists the pages kept on the device, by their titles.
        kept = page.locator("#offline-kept-here")
        kept.wait_for(state="visible")
        assert kept.locator("li").count() == 7
        inbox = kept.get_by_role("link", name=variant.gettext("My inbox"), exact=True)
        assert inbox.get_attribute("href") == f"{variant.prefix}/inbox/"
        inbox.click()
        page.wait_for_url(re.compile(rf"{variant.prefix}/inbox/$"))
        assert page.locator("#offline-copy").is_visible()

        # 4. Online again, another person signs in on the same phone: the first person's
        # copies go as soon as a page of the second is kept.
        context.set_offline(False)
        other = UserFactory(national_code="0084575948", is_staff=False, mobile="09121234568")
        client = Client()
        client.force_login(other)
        context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                    "url": live_server.url,
                }
            ]
        )
        page.goto(f"{base}/inbox/")
        assert SUBJECT[variant.lang] not in page.locator("main").inner_text()
        page.wait_for_function(f"{KEPT_PATHS}.then(paths => paths.length === 2)")
        assert sorted(page.evaluate(KEPT_PATHS)) == [
            "/__panjereh/holder",
            f"{variant.prefix}/inbox/",
        ]

        # 5. Signing out wipes every kept copy from the device.
        page.goto(f"{base}/account/logout/")
        page.locator("#logout-submit").click()
        page.wait_for_url(re.compile(rf"{variant.prefix}/$"))
        # (The home page registers the worker again, which keeps the offline pages and static
        # files: nobody's own pages.)
        assert "panjereh-personal" not in page.evaluate("caches.keys()")
    finally:
        context.close()
