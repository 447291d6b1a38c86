"""A bill template in a real Chromium (Persian on a phone, English on a desktop): a SANA holder
picks the statement of defence, then their case, is told plainly what is missing, answers the
questions, reads the composed text, sends it, and gets the judiciary's signed receipt, which
the public verification page finds valid. The case system is the real registry process behind
the exchange gateway of the live server."""

from __future__ import annotations

import os

import pytest

from panjereh.judiciary.models import Pleading
from tests.judiciary.test_bills import DEFENCE, courts, file_case, person, window  # noqa: F401

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_person_fills_a_bill_template_for_their_case_and_gets_the_receipt(
    browser,
    variant,
    live_server,
    window,  # noqa: F811
):
    _ = variant.gettext
    user = person()
    case = file_case(window, user)
    context = variant.signed_in_context(browser, live_server.url, user)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}{variant.prefix}/judiciary/bills/")
        page.locator("#template-defence a").click()
        # The case, on its own page: asked and not answered, said so first.
        page.locator("#case-continue").click()
        summary = page.locator("#error-summary")
        summary.wait_for()
        assert _("Choose the case the bill is for.") in summary.inner_text()
        page.locator("#case-options input[type=radio]").first.check()
        page.locator("#case-continue").click()
        assert variant.digits(case.number) in page.locator("#bill-case").inner_text()
        # The questions: one left out comes back with the summary focused and the rest kept.
        page.fill("#id_reasons", DEFENCE["reasons"])
        page.locator("#id_ask_0").check()
        page.locator("#bill-preview").click()
        page.locator("#error-summary").wait_for()
        assert page.evaluate("document.activeElement.id") == "error-summary"
        assert _("Answer this question.") in page.locator("#error-summary").inner_text()
        assert page.input_value("#id_reasons") == DEFENCE["reasons"]
        page.locator("#error-summary a").first.click()
        page.fill("#id_claim", DEFENCE["claim"])
        page.fill("#id_evidence", DEFENCE["evidence"])
        page.locator("#bill-preview").click()
        text = page.locator("#bill-text").inner_text()
        assert "لایحه دفاعیه" in text and "صدور حکم بر بطلان دعوای طرف مقابل" in text
        assert Pleading.objects.count() == 0
        page.locator("#bill-confirm").click()
        page.locator("#bill-received").wait_for()
        pleading = Pleading.objects.get()
        assert pleading.state == Pleading.State.SUBMITTED
        assert page.locator("#bill-state").get_attribute("data-state") == "submitted"
        assert page.locator("#bill-receipt").is_visible()
        assert page.locator("#receipt-pdf").get_attribute("href").endswith("receipt.pdf")
        page.locator("#receipt-verify").click()
        page.locator("#verification").wait_for()
        assert page.locator("#verification").get_attribute("data-status") == "valid"
        assert variant.digits(pleading.reference) in page.locator("#verified-number").inner_text()
    finally:
        context.close()
