"""Paying a bill in a real Chromium (Persian phone, English desktop): a wrong check digit is
refused with the error summary first and the form kept, the right numbers show the biller's
word and the amount, and once paid the bill's page shows the biller's confirmation. Every page
is checked by checks.py (axe, no sideways scroll at 360 px, one digit script). The bank's own
page is the simulated PSP's, paid outside the browser here (tests/payments covers it)."""

from __future__ import annotations

import os
import re

import pytest
from django.test import Client

from panjereh.common import httpclient
from panjereh.payments.models import BillConfirmation, Payment
from tests.factories import UserFactory
from tests.payments.conftest import SECRET, bank_page
from tests.payments.test_bill_payment import add_bill, billers, window  # noqa: F401 -- fixtures
from tests.payments.test_flow import SUCCESS

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def bank(psp, settings):
    psp.control(reset=True)
    settings.PANJEREH_PAYMENTS_PSP_URL = psp.url
    settings.PANJEREH_PAYMENTS_PSP_SECRET = SECRET
    yield psp
    httpclient.close("payments")


@pytest.fixture(scope="session")
def psp():
    from panjereh.psp.supervisor import PSP

    running = PSP(SECRET, verify_deadline=900).start()
    yield running
    running.stop()


def test_a_person_pays_a_bill_and_sees_the_billers_confirmation(
    browser,
    variant,
    live_server,
    window,  # noqa: F811 -- the fixture imported above
    bank,
):
    _ = variant.gettext
    bill = add_bill(window, 1_250)
    person = UserFactory(is_staff=False, national_code="0012345679")
    person.save()
    context = variant.signed_in_context(browser, live_server.url, person)
    client = Client()  # the second half of the journey posts as the server would see it
    client.force_login(person)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}{variant.prefix}/payments/bills/")
        wrong = bill["bill_id"][:-1] + str((int(bill["bill_id"][-1]) + 1) % 10)
        page.get_by_label(_("Bill ID")).fill(variant.digits(wrong))
        page.get_by_label(_("Payment ID")).fill(variant.digits(bill["payment_id"]))
        page.get_by_role("button", name=_("Continue")).click()
        summary = page.locator(".error-summary")
        summary.wait_for()
        assert summary.evaluate("el => el === document.activeElement")  # the focus moved
        assert _("This bill ID is not valid: check the number on the bill.") in (
            summary.inner_text()
        )
        assert page.get_by_label(_("Bill ID")).input_value() == variant.digits(wrong)
        assert Payment.objects.count() == 0

        page.get_by_label(_("Bill ID")).fill(variant.digits(bill["bill_id"]))
        page.get_by_role("button", name=_("Continue")).click()
        page.locator("#bill-summary").wait_for()
        assert variant.digits("1,250,000").replace(",", "٬" if variant.lang == "fa" else ",") in (
            page.locator("#amount").inner_text()
        )
        assert page.get_by_role("button", name=_("Pay at the bank")).is_visible()

        answer = client.post(
            "/payments/bills/",
            {"bill_id": bill["bill_id"], "payment_id": bill["payment_id"], "action": "pay"},
        )
        result = bank_page(answer["Location"], SUCCESS)
        client.post("/payments/callback/simulated/", result.fields)
        payment = Payment.objects.get()
        confirmation = BillConfirmation.objects.get(payment=payment)
        page.goto(f"{live_server.url}{variant.prefix}/payments/bills/{payment.reference}/")
        assert variant.digits(confirmation.biller_ref) in page.locator("#confirmed").inner_text()
        if variant.lang == "fa":
            assert not re.search(r"[0-9]", page.locator("main").inner_text())
    finally:
        context.close()
