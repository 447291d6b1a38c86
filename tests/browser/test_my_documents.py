"""Issue 18's "my documents" in a real Chromium (Persian phone 360 x 780, English desktop): a
citizen holding a certificate opens the signed-in home and sees what needs their action first,
opens My documents and the certificate's page (its QR code for a verifier), makes a share
link; a second browser context, signed in as nobody, opens the link and sees the document
verified (signature against the published keys, the agency's status list)."""

from __future__ import annotations

import datetime as dt
import os
import re

import pytest
from django.utils import timezone

from panjereh.personal.models import ShareLink
from tests.factories import UserFactory, issue_certificate

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_my_documents_share_and_verify_in_a_second_context(browser, variant, live_server):
    from panjereh.services.models import Application, State

    person = UserFactory(
        national_code="0012345679",
        first_name="مریم",
        last_name="کریمی",
        is_staff=False,
        assurance_level=3,
    )
    certificate = issue_certificate(person)
    # A second application waits for its fee: the first thing the home shows.
    issued = certificate.application
    waiting = Application.objects.create(
        tracking_code="T-WAIT-0001",
        definition=issued.definition,
        agency=issued.agency,
        user=person,
        subject_code=person.national_code,
        idempotency_key="waiting",
        state=State.AWAITING_PAYMENT,
        fee_rials=150000,
        due_at=timezone.now() + dt.timedelta(days=3),
    )

    context = variant.signed_in_context(browser, live_server.url, person)
    context.set_default_timeout(60_000)  # a loaded shared machine answers slowly
    page = context.new_page()
    base = live_server.url + variant.prefix
    stranger = None
    try:
        # 1. The signed-in home: what needs my action comes first, with the fee to pay.
        page.goto(f"{base}/my/")
        first = page.locator("main section").first
        assert first.get_attribute("id") == "needs-action"
        payment = page.locator('#needs-action [data-action="payment"]')
        assert payment.count() == 1
        assert variant.digits("150,000" if variant.lang == "en" else "۱۵۰٬۰۰۰") in (
            payment.inner_text()
        )
        assert (
            payment.locator("a")
            .get_attribute("href")
            .endswith(f"/services/a/{waiting.tracking_code}/")
        )

        # 2. My documents: the certificate, valid, with its issuer and Jalali date.
        page.locator("#all-documents").click()
        page.wait_for_url(re.compile(r"/my/documents/$"))
        item = page.locator(f"#doc-cert-{certificate.number}")
        assert item.get_attribute("data-status") == "valid"
        assert variant.gettext("Valid") in item.inner_text()
        item.locator("a").click()
        page.wait_for_url(re.compile(rf"/my/documents/cert-{certificate.number}/$"))

        # 3. The document's page presents a QR code a verifier scans.
        assert page.locator("#document-qr svg").is_visible()
        box = page.locator("#document-qr").bounding_box()
        assert box["width"] <= (360 if variant.mobile else 1280)
        assert page.locator("#document-status").inner_text().strip() == variant.gettext("Valid")

        # 4. Share it for a day: the link is shown once.
        page.locator('input[name="lifetime"][value="1d"]').check()
        page.locator("#share-submit").click()
        page.wait_for_selector("#new-link-url")
        link = page.locator("#new-link-url").inner_text().strip()
        # The link is in the holder's language (the English page gives an /en/ address).
        assert re.search(rf"{variant.prefix}/shared/[A-Za-z0-9_-]{{40,}}/$", link)
        assert ShareLink.objects.filter(holder=person).count() == 1

        # 5. A second browser context, signed in as nobody, opens the link: verified.
        stranger = variant.new_context(browser, timeout=60_000)
        other = stranger.new_page()
        answer = other.goto(link)
        assert answer.status == 200
        assert answer.headers.get("referrer-policy") == "no-referrer"
        verdict = other.locator("#verification")
        assert verdict.get_attribute("data-status") == "valid"
        issuer = certificate.agency.name_fa if variant.lang == "fa" else certificate.agency.name_en
        assert issuer in other.locator("#shared-summary").inner_text()
        assert ShareLink.objects.get(holder=person).views == 1

        # 6. The holder revokes the link; the stranger's next look says so (410).
        page.locator('[id^="revoke-"]').first.click()
        page.wait_for_selector('[data-state="revoked"]')
        again = other.goto(link)
        assert again.status == 410
        assert other.locator("#gone-title").get_attribute("data-state") == "revoked"
    finally:
        if stranger is not None:
            stranger.close()
        context.close()
