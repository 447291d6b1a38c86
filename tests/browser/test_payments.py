"""Paying a service's fee in a real Chromium (Persian phone, English desktop): a citizen applies
for a fee-bearing service, pays on the simulated bank's page (the PSP, a real process over
HTTP), comes back to the window and the service goes on to its signed document, with the
signed receipt in the inbox; and a declined card leaves the application waiting until the
citizen pays again.

Every page is checked by checks.py (axe, no sideways scroll at 360 px, one digit script), the
simulated bank's Persian page too (another organisation's process, like the registries).
"""

from __future__ import annotations

import re

import pytest

from panjereh.catalogue import roles
from panjereh.common import httpclient
from panjereh.common.persian import to_latin_digits
from panjereh.payments import operations
from panjereh.services import definitions, documents
from panjereh.services.models import Application, Receipt, State
from tests.factories import UserFactory
from tests.payments.conftest import SECRET, shaba
from tests.payments.test_flow import POOR, SUCCESS
from tests.services.conftest import run_until_settled
from tests.services.test_fees import permit_spec

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="session")
def psp():
    from panjereh.psp.supervisor import PSP

    running = PSP(SECRET, verify_deadline=900).start()
    yield running
    running.stop()


@pytest.fixture
def permit(psp, settings, tmp_path):
    psp.control(reset=True)
    settings.PANJEREH_PAYMENTS_PSP_URL = psp.url
    settings.PANJEREH_PAYMENTS_PSP_SECRET = SECRET
    settings.VAR_DIR = tmp_path
    settings.PANJEREH_TASKS = "inprocess"
    definition, _created = definitions.load_spec(permit_spec())
    operations.save_treasury_account(
        definition.agency, shaba=shaba(), treasury_id="40010", title="درآمد", actor=roles.SYSTEM
    )
    yield definition
    httpclient.close("payments")


def signed_in_page(browser, variant, live_server, person):
    context = variant.signed_in_context(browser, live_server.url, person)
    return context, context.new_page()


def pay_at_the_bank(page, card: str, application_path: str) -> None:
    """On the bank's page: the card, then back to the window (the bank's "return" button)."""
    page.wait_for_url(re.compile(r"/pay/"))
    page.fill("#card", card)
    page.fill("#expiry", "05/08")
    page.fill("#cvv2", "123")
    page.fill("#otp", "123456")
    page.locator("form[action^='/pay/'] button").first.click()
    page.locator("#back button").click()
    page.wait_for_url(re.compile(re.escape(application_path) + "$"))


def apply(page, variant, base: str, permit) -> Application:
    _ = variant.gettext
    page.goto(f"{base}/services/apply/{permit.code}/")
    fee = page.locator("#fee").inner_text()
    assert variant.digits("1,200,000").replace(",", "٬" if variant.lang == "fa" else ",") in fee
    assert page.locator("#fee-notice").is_visible()
    page.fill("#id_kind", "private")
    page.fill("#id_pledge", "yes")
    page.click("#apply-submit")
    page.wait_for_url(re.compile(rf"{variant.prefix}/services/a/[\d-]+/$"))
    application = Application.objects.get()
    assert page.locator("#state").get_attribute("data-state") == "awaiting_payment"
    assert page.locator("#pay-now").inner_text().strip() == _("Pay now")
    return application


def test_a_citizen_pays_the_fee_on_the_bank_page_and_the_service_goes_on(
    browser, variant, live_server, permit, tmp_path
):
    _ = variant.gettext
    person = UserFactory(is_staff=False, national_code="0012345679", assurance_level=3)
    context, page = signed_in_page(browser, variant, live_server, person)
    base = live_server.url + variant.prefix
    try:
        application = apply(page, variant, base, permit)
        path = f"/services/a/{application.tracking_code}/"
        page.click("#pay-now")
        pay_at_the_bank(page, SUCCESS, path)
        # Back in the window: paid, being processed, the receipt there.
        assert page.locator("#fee").get_attribute("data-phase") == "paid"
        assert (
            _("Paid. Your application is being processed.")
            in page.locator("#fee-status").inner_text()
        )
        assert page.locator(".receipt-link").count() == 1
        assert run_until_settled(application).state == State.ISSUED
        page.reload()
        assert page.locator("#state").get_attribute("data-state") == "issued"
        assert page.locator("#download-pdf").count() == 1
        # The signed receipt is in the inbox; its PDF verifies on the public page.
        receipt = Receipt.objects.get(application=application)
        page.goto(f"{base}/inbox/")
        documents_in_inbox = page.locator("#messages li[data-kind='document']")
        assert documents_in_inbox.count() >= 1
        receipt_item = page.locator(
            "#messages li[data-kind='document']",
            has_text=_("Payment receipt") if variant.lang == "en" else "رسید پرداخت",
        )
        receipt_item.locator("a").first.click()
        page.wait_for_selector("#document-pdf")
        with page.expect_download() as download:
            page.click("#document-pdf", no_wait_after=True)
        pdf_path = tmp_path / "receipt.pdf"
        download.value.save_as(pdf_path)
        token = documents.token_from_file(pdf_path.read_bytes())
        assert token == receipt.token
        page.context.clear_cookies()
        page.goto(f"{base}/services/verify/")
        page.fill("#id_token", token)
        page.click("#verify-submit")
        assert page.locator("#verification").get_attribute("data-status") == "valid"
        assert receipt.number in to_latin_digits(page.locator("#verified-number").inner_text())
    finally:
        context.close()


def test_a_declined_card_leaves_it_waiting_and_the_citizen_pays_again(
    browser, variant, live_server, permit
):
    _ = variant.gettext
    person = UserFactory(is_staff=False, national_code="0012345679", assurance_level=3)
    context, page = signed_in_page(browser, variant, live_server, person)
    base = live_server.url + variant.prefix
    try:
        application = apply(page, variant, base, permit)
        path = f"/services/a/{application.tracking_code}/"
        page.click("#pay-now")
        pay_at_the_bank(page, POOR, path)
        # Declined: nothing charged, the application still waits, and it says so.
        assert page.locator("#fee").get_attribute("data-phase") == "failed"
        assert page.locator("#state").get_attribute("data-state") == "awaiting_payment"
        assert page.locator("#pay-now").inner_text().strip() == _("Pay again")
        application.refresh_from_db()
        assert application.state == State.AWAITING_PAYMENT
        assert run_until_settled(application).state == State.AWAITING_PAYMENT
        page.click("#pay-now")
        pay_at_the_bank(page, SUCCESS, path)
        assert page.locator("#fee").get_attribute("data-phase") == "paid"
        assert run_until_settled(application).state == State.ISSUED
        page.reload()
        assert page.locator("#state").get_attribute("data-state") == "issued"
        assert Receipt.objects.filter(application=application).count() == 1
    finally:
        context.close()
