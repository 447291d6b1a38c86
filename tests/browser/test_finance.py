"""The finance page and the payer's history in a real Chromium (Persian phone, English desktop):
an agency's decider reads the figures by day and by month, finds the Finance link in the menu,
gets the error summary (focus moved, form kept) when closing a case without saying how, then
closes it; the payer reads their payments with the refund and the link to what was paid for.
Every page is checked by checks.py (axe, no sideways scroll at 360 px, one digit script)."""

from __future__ import annotations

import os
import re

import pytest
from django.utils import timezone

from panjereh.catalogue import roles
from panjereh.payments import operations, purposes
from panjereh.payments.models import FinanceCase, Payment, PaymentState, Refund
from tests.factories import UserFactory, make_agency, make_agency_staff
from tests.payments.conftest import shaba

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def money(monkeypatch):
    monkeypatch.setattr(operations, "submit_refund", lambda refund: refund)
    monkeypatch.setitem(
        purposes._PURPOSES,
        "application",
        purposes.Purpose(paid=lambda p: None, page=lambda p: "/services/"),
    )
    agency = make_agency(code="finance-browser", name_fa="سازمان مالی آزمون", name_en="Test Agency")
    operations.save_treasury_account(
        agency, shaba=shaba(), treasury_id="4001", title="درآمد", actor=roles.SYSTEM
    )
    payer = UserFactory(is_staff=False, national_code="0012345679")
    payer.save()
    paid = []
    for n, amount in enumerate((1_200_000, 350_000)):
        payment = operations.create_payment(
            purpose_kind="application",
            purpose_id=f"B-{n}",
            amount=amount,
            agency=agency,
            description="هزینه خدمت آزمایشی",
            payer=payer,
            actor=roles.SYSTEM,
        )
        Payment.objects.filter(pk=payment.pk).update(
            state=PaymentState.CAPTURED, captured_amount=amount, captured_at=timezone.now()
        )
        paid.append(Payment.objects.get(pk=payment.pk))
    refund = operations.request_refund(paid[1], amount=350_000, reason="رد شد", actor=roles.SYSTEM)
    Refund.objects.filter(pk=refund.pk).update(state="refunded", ended_at=timezone.now())
    case = FinanceCase.objects.create(
        kind="amount", line_key="browser", agency=agency, payment=paid[0],
        expected_amount=1_200_000, reported_amount=1_000_000,
    )  # fmt: skip
    return agency, payer, paid, case


def _signed_in(browser, variant, live_server, user):
    context = variant.signed_in_context(browser, live_server.url, user)
    return context


def test_a_decider_reads_the_figures_and_closes_a_case(browser, variant, live_server, money):
    _ = variant.gettext
    agency, _payer, _paid, case = money
    editor = make_agency_staff(agency, "editor")
    context = _signed_in(browser, variant, live_server, editor)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}{variant.prefix}/")
        if variant.mobile:
            page.get_by_text(_("Menu"), exact=True).click()
        page.get_by_role("link", name=_("Finance"), exact=True).click()
        page.locator("#figures").wait_for()
        assert _("Observed by the window") in page.locator("#basis").inner_text()
        collected = page.locator('[data-figure="collected"]').inner_text()
        assert variant.digits("1,550,000").replace(",", "٬" if variant.lang == "fa" else ",") in (
            collected
        )
        page.get_by_role("link", name=_("By month")).click()
        page.wait_for_url(re.compile(r"by=month"))
        assert page.locator("#figures tbody tr").count() == 12
        if variant.lang == "fa":
            assert not re.search(r"[0-9]", page.locator("main").inner_text())

        page.get_by_role("button", name=_("Close the case")).click()
        summary = page.locator(".error-summary")
        summary.wait_for()
        assert summary.evaluate("el => el === document.activeElement")  # the focus moved
        assert _("Say how the difference was resolved.") in summary.inner_text()
        assert FinanceCase.objects.get(pk=case.pk).state == "open"
        page.get_by_label(_("How was it resolved?")).fill("بانک مبلغ را اصلاح کرد")
        page.get_by_role("button", name=_("Close the case")).click()
        page.get_by_text(_("No open differences.")).wait_for()
        assert FinanceCase.objects.get(pk=case.pk).state == "resolved"
    finally:
        context.close()


def test_the_payer_reads_their_payments_and_refunds(browser, variant, live_server, money):
    _ = variant.gettext
    _agency, payer, paid, _case = money
    context = _signed_in(browser, variant, live_server, payer)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}{variant.prefix}/")
        if variant.mobile:
            page.get_by_text(_("Menu"), exact=True).click()
        page.get_by_role("link", name=_("My payments"), exact=True).click()
        page.locator("#payments").wait_for()
        assert page.locator("#payments > li").count() == 2
        assert page.locator('.refund[data-state="refunded"]').count() == 1
        if variant.lang == "fa":
            assert not re.search(r"[0-9]", page.locator("main").inner_text())
        page.locator(f'a[href$="/payments/{paid[1].reference}/"]').click()
        page.locator("#refunds").wait_for()
        assert page.locator("#paid-for").get_attribute("href") == "/services/"
    finally:
        context.close()
