"""The official mailbox in a real Chromium: a court's system sends a notice through the API
(over HTTP, to the live server, signed as an exchange member), the person gets the SMS alert,
finds the notice in the mailbox from the inbox, opens it, and the court's API then reports it
opened and served at that time; the proof of service downloads and verifies offline."""

from __future__ import annotations

import datetime as dt
import json
import os
import re

import httpx
import pytest

from panjereh.common import messaging
from panjereh.exchange import provision
from panjereh.exchange.client import generate_key, make_assertion, public_jwks
from panjereh.inbox import notify
from panjereh.mailbox import operations
from panjereh.mailbox.models import Notice
from panjereh.registries.population import national_code_check_digit
from panjereh.services import documents, keys
from tests.factories import UserFactory, make_agency

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _code(n: int) -> str:
    body = f"{n:09d}"
    return body + str(national_code_check_digit(body))


def test_a_court_serves_a_notice_and_the_person_opens_it(browser, variant, live_server):
    _ = variant.gettext
    court = make_agency(name_fa="دادگاه عمومی حقوقی تهران", name_en="Tehran Civil Court")
    key = generate_key()
    system = provision.register_consumer(court, "court-system", public_jwks(key))
    person = UserFactory(is_staff=False, national_code=_code(424242), mobile="09125550123")
    person.save()

    def headers(idempotency: str | None = None) -> dict[str, str]:
        found = {
            "X-Road-Client": system.client_id,
            "Authorization": "Bearer " + make_assertion(key, system.client_id, "urn:panjereh:nix"),
            "Accept-Language": variant.lang,
        }
        if idempotency:
            found["Idempotency-Key"] = idempotency
        return found

    api = f"{live_server.url}/api/mailbox/v1"
    sent = httpx.post(
        f"{api}/notices",
        content=json.dumps(
            {
                "to": {"national_code": person.national_code},
                "subject": "اخطاریه جلسه رسیدگی",
                "body": "جلسه رسیدگی به پرونده شما در شعبه دادگاه برگزار می‌شود.",
            },
            ensure_ascii=False,
        ).encode(),
        headers={**headers("court-list-1"), "Content-Type": "application/json"},
    )
    assert sent.status_code == 201, sent.text
    reference = sent.json()["id"]
    assert sent.json()["status"] == "made_available"

    # The SMS alert names the sender, not the content.
    notify.deliver_pending()
    texts = [m["text"] for m in messaging.sent_sms(person.mobile)]
    assert texts and "جلسه رسیدگی" not in texts[-1]

    context = variant.signed_in_context(browser, live_server.url, person)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}{variant.prefix}/inbox/")
        page.locator("#official-mailbox a").click()
        page.wait_for_url(re.compile(rf"{variant.prefix}/mailbox/$"))
        row = page.locator("#notices li").first
        assert "اخطاریه جلسه رسیدگی" in row.inner_text()
        assert Notice.objects.get(reference=reference).opened_at is None  # the list opens nothing
        row.get_by_role("link").click()
        page.wait_for_url(re.compile(rf"{variant.prefix}/mailbox/{reference}/$"))
        assert "جلسه رسیدگی به پرونده شما" in page.locator("#notice-body").inner_text()
        opened_text = page.locator("#opened").inner_text()
        assert opened_text != _("Not yet")
        if variant.lang == "fa":
            assert not re.search(r"[0-9]", opened_text) and "۱۴۰" in opened_text

        notice = Notice.objects.get(reference=reference)
        assert notice.opened_at is not None
        status = httpx.get(f"{api}/notices/{reference}", headers=headers()).json()
        assert status["status"] == "served"
        assert status["opened_at"] == notice.opened_at.isoformat()
        assert status["served_at"] == notice.opened_at.isoformat()
        served = dt.datetime.fromisoformat(status["served_at"])
        assert abs((served - notice.made_available_at).total_seconds()) < 600

        with page.expect_download() as download_info:
            page.locator("#proof-pdf").click()
        pdf = download_info.value.path().read_bytes()
        assert pdf.startswith(b"%PDF")
        token = documents.token_from_file(pdf)
        result = operations.verify_proof(token, keys.jwks())
        assert result.ok and result.claims["ref"] == reference
        assert result.claims["opened_at"] == int(notice.opened_at.timestamp())

        # Anyone can check it on the public page.
        page.goto(f"{live_server.url}{variant.prefix}/mailbox/verify/")
        page.locator("#id_token").fill(token)
        page.get_by_role("button", name=_("Check")).click()
        page.wait_for_selector("#verdict")
        assert page.locator("#verdict").get_attribute("data-status") == "valid"
    finally:
        context.close()
