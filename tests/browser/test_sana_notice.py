"""Issue 17's first journey in a real Chromium (Persian phone, English desktop): a person
registers for SANA from the judicial e-services page (checks through the exchange to the civil,
Shahkar and judiciary registry processes); a court of the judiciary sends a notice through the
mailbox API over HTTP, signed as the judiciary's exchange member system; the person gets the
SMS alert, opens the notice, and the court's API then reports it served at that time; the proof
of service downloads and verifies offline with the window's published keys."""

from __future__ import annotations

import datetime as dt
import json
import os
import re

import httpx
import pytest

from panjereh.common import messaging
from panjereh.exchange.client import generate_key, make_assertion, public_jwks
from panjereh.inbox import notify
from panjereh.judiciary import sana
from panjereh.judiciary.models import SanaAccount
from panjereh.mailbox import operations
from panjereh.mailbox.models import Notice
from panjereh.services import documents
from tests.judiciary.test_sana import (  # noqa: F401  (fixtures used by name)
    citizen,
    person_of,
    sana_exchange,
    sana_population,
    sana_registries,
)

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_sana_then_a_court_notice_served_and_proved(browser, variant, live_server, request):
    # The SANA tests' fixtures, imported above, are taken by name.
    request.getfixturevalue("sana_exchange")
    population = request.getfixturevalue("sana_population")
    found = person_of(population, start=2000)
    person = citizen(found)

    # The judiciary's court system joins the official mailbox with its own key pair.
    court_key = generate_key()
    system = sana.join_mailbox(public_jwks(court_key))
    judiciary = system.agency

    context = variant.signed_in_context(browser, live_server.url, person)
    context.set_default_timeout(60_000)  # a loaded shared machine answers slowly
    page = context.new_page()
    base = live_server.url + variant.prefix
    try:
        # 1. From the judicial e-services, register for SANA: without the consent box the
        # error summary comes first and takes the focus; then it registers.
        page.goto(f"{base}/judiciary/")
        page.locator("#service-sana").click()
        page.wait_for_url(re.compile(r"/judiciary/sana/$"))
        page.locator("#sana-submit").click()
        page.wait_for_selector("#sana-errors")
        assert page.evaluate("document.activeElement.id") == "sana-errors"
        assert not SanaAccount.objects.exists()
        page.locator("#id_consent").check()
        page.locator("#sana-submit").click()
        page.wait_for_selector("#sana-account")
        account = SanaAccount.objects.get(user=person)
        assert page.locator("#sana-id").inner_text().strip() == variant.digits(account.sana_id)

        # 2. A court sends a notice through the API, over HTTP, as the judiciary's system.
        def headers(idempotency: str | None = None) -> dict[str, str]:
            found_headers = {
                "X-Road-Client": system.client_id,
                "Authorization": "Bearer "
                + make_assertion(court_key, system.client_id, "urn:panjereh:nix"),
                "Accept-Language": variant.lang,
            }
            if idempotency:
                found_headers["Idempotency-Key"] = idempotency
            return found_headers

        api = f"{live_server.url}/api/mailbox/v1"
        sent = httpx.post(
            f"{api}/notices",
            content=json.dumps(
                {
                    "to": {"national_code": person.national_code},
                    "subject": "اخطاریه جلسه رسیدگی شعبه دوازدهم",
                    "body": "جلسه رسیدگی به پرونده شما در شعبه دوازدهم دادگاه عمومی برگزار می‌شود.",
                },
                ensure_ascii=False,
            ).encode(),
            headers={**headers(f"court-list-{variant.lang}"), "Content-Type": "application/json"},
            timeout=60,
            trust_env=False,
        )
        assert sent.status_code == 201, sent.text
        reference = sent.json()["id"]
        assert Notice.objects.get(reference=reference).agency_id == judiciary.pk

        # 3. The SMS alert names the sender, never the content.
        notify.deliver_pending()
        texts = [m["text"] for m in messaging.sent_sms(person.mobile)]
        alerts = [t for t in texts if judiciary.name_fa in t]
        assert len(alerts) == 1 and not any("جلسه رسیدگی" in t for t in texts)

        # 4. From the SANA account to the mailbox, and the notice opened.
        page.goto(f"{base}/judiciary/sana/")
        page.locator("#to-mailbox").click()
        page.wait_for_url(re.compile(rf"{variant.prefix}/mailbox/$"))
        row = page.locator("#notices li").first
        assert "اخطاریه جلسه رسیدگی" in row.inner_text()
        assert Notice.objects.get(reference=reference).opened_at is None
        row.get_by_role("link").first.click()
        page.wait_for_url(re.compile(rf"{variant.prefix}/mailbox/{reference}/$"))
        assert "شعبه دوازدهم دادگاه عمومی" in page.locator("#notice-body").inner_text()

        # 5. The court's API reports it served, at the time it was opened.
        notice = Notice.objects.get(reference=reference)
        assert notice.opened_at is not None
        status = httpx.get(
            f"{api}/notices/{reference}", headers=headers(), timeout=60, trust_env=False
        ).json()
        assert status["status"] == "served" and status["served_by"] == "opened"
        assert status["served_at"] == notice.opened_at.isoformat()
        served = dt.datetime.fromisoformat(status["served_at"])
        assert abs((served - notice.made_available_at).total_seconds()) < 600

        # 6. The proof of service, downloaded, verifies offline with the published keys.
        # (The PDF is drawn by WeasyPrint: allow a loaded machine its time.)
        with page.expect_download(timeout=90_000) as download_info:
            page.locator("#proof-pdf").click(timeout=90_000)
        pdf = download_info.value.path().read_bytes()
        assert pdf.startswith(b"%PDF")
        token = documents.token_from_file(pdf)
        published = httpx.get(
            f"{live_server.url}/services/jwks.json", timeout=60, trust_env=False
        ).json()
        result = operations.verify_proof(token, published)
        assert result.ok and result.claims["ref"] == reference
        assert result.claims["opened_at"] == int(notice.opened_at.timestamp())
        assert result.claims["sender"]
        # A changed byte does not verify.
        head, body, signature = token.split(".")
        forged = ".".join(
            [head, body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1], signature]
        )
        assert not operations.verify_proof(forged, published).ok
    finally:
        context.close()
