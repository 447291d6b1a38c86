"""The callback endpoint and the pages (Persian first), and the finance figures by day and by
Jalali month, counted from the rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from panjereh.catalogue import roles
from panjereh.common.jalali import TEHRAN, Month
from panjereh.payments import operations, queries
from panjereh.payments.models import FinanceCase, Payment, PaymentState
from tests.factories import UserFactory, make_agency, make_agency_staff
from tests.payments.conftest import bank_page, callback_path, new_payment, start

pytestmark = pytest.mark.django_db
SUCCESS = "6037990000000006"


@pytest.mark.slow
def test_the_bank_posts_back_through_the_browser_and_the_payer_lands_on_the_payment(
    client, agency, citizen
):
    payment = new_payment(agency, citizen, actor=citizen)
    client.force_login(citizen)
    page = client.get(f"/payments/{payment.reference}/")
    assert page.status_code == 200 and "۱٬۲۰۰٬۰۰۰" in page.content.decode()
    to_bank = client.post(f"/payments/{payment.reference}/", {"action": "pay"})
    assert to_bank.status_code == 302 and "/pay/" in to_bank["Location"]
    result = bank_page(to_bank["Location"], SUCCESS)
    assert callback_path(result) == "/payments/callback/simulated/"
    from django.test import Client

    # The bank's POST is cross-site: no session cookie (SameSite=Lax) and no CSRF token.
    back = Client(enforce_csrf_checks=True).post(callback_path(result), result.fields)
    assert back.status_code == 302 and back["Location"] == f"/payments/{payment.reference}/"
    shown = client.get(back["Location"]).content.decode()
    assert 'data-state="captured"' in shown
    assert Payment.objects.get(pk=payment.pk).state == PaymentState.CAPTURED


@pytest.mark.slow
def test_a_forged_callback_gets_a_localised_refusal_page(client, agency, citizen):
    payment = new_payment(agency, citizen)
    result = bank_page(start(payment), SUCCESS)
    answer = client.post(callback_path(result), {**result.fields, "amount": "1"})
    assert answer.status_code == 400
    assert 'class="error-summary"' in answer.content.decode()
    assert Payment.objects.get(pk=payment.pk).state == PaymentState.STARTED


def test_the_callback_takes_only_post_and_an_unknown_provider_is_not_found(client):
    assert client.get("/payments/callback/simulated/").status_code == 405
    assert client.post("/payments/callback/nobody/", {}).status_code == 404


def test_a_payment_page_is_only_the_payers(client, agency, citizen):
    payment = new_payment(agency, citizen)
    stranger = UserFactory(is_staff=False, national_code="0000000019")
    stranger.save()
    client.force_login(stranger)
    assert client.get(f"/payments/{payment.reference}/").status_code == 404
    assert client.post(f"/payments/{payment.reference}/", {"action": "cancel"}).status_code == 404
    assert Payment.objects.get(pk=payment.pk).state == PaymentState.CREATED


def test_the_pay_button_needs_the_csrf_token(agency, citizen):
    from django.test import Client

    payment = new_payment(agency, citizen)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(citizen)
    assert strict.post(f"/payments/{payment.reference}/", {"action": "cancel"}).status_code == 403


@pytest.mark.slow
def test_the_bank_down_shows_a_clear_message_and_charges_nothing(client, agency, citizen, psp):
    payment = new_payment(agency, citizen)
    client.force_login(citizen)
    psp.control(mode="down")
    answer = client.post(f"/payments/{payment.reference}/", {"action": "pay"})
    assert answer.status_code == 503
    assert "error-summary" in answer.content.decode()
    assert Payment.objects.get(pk=payment.pk).state == PaymentState.CREATED


def test_my_payments_lists_only_mine(client, agency, citizen):
    mine = new_payment(agency, citizen)
    other = UserFactory(is_staff=False, national_code="0000000027")
    other.save()
    theirs = new_payment(agency, other)
    client.force_login(citizen)
    text = client.get("/payments/").content.decode()
    assert f"/payments/{mine.reference}/" in text and theirs.reference not in text
    assert list(queries.history(citizen)) == [mine]


def test_the_finance_page_is_for_staff_of_the_agency_and_supervisors(client, agency, citizen):
    client.force_login(citizen)
    assert client.get("/payments/finance/").status_code == 403
    viewer = make_agency_staff(agency, "viewer")
    client.force_login(viewer)
    page = client.get("/payments/finance/")
    assert page.status_code == 200 and 'id="figures"' in page.content.decode()
    assert client.get("/payments/finance/?by=month").status_code == 200


def _paid_at(agency, citizen, amount, when):
    payment = new_payment(agency, citizen, amount=amount)
    Payment.objects.filter(pk=payment.pk).update(
        state=PaymentState.CAPTURED, captured_amount=amount, captured_at=when
    )
    return payment


def test_figures_by_day_and_by_jalali_month_add_up_from_the_rows(agency, citizen, monkeypatch):
    other = make_agency()
    operations.save_treasury_account(
        other,
        shaba="IR"
        + f"{98 - int('0170999999999999999999' + '182700') % 97:02d}"
        + "0170999999999999999999",
        treasury_id="x",
        title="x",
        actor=roles.SYSTEM,
    )
    # 1404-09-30 and 1404-10-01 (Tehran): two days, two Jalali months.
    last_of_azar = dt.datetime(2025, 12, 21, 12, tzinfo=TEHRAN)
    first_of_dey = dt.datetime(2025, 12, 22, 0, 30, tzinfo=TEHRAN)
    _paid_at(agency, citizen, 100_000, last_of_azar)
    refunded = _paid_at(agency, citizen, 300_000, first_of_dey)
    _paid_at(other, citizen, 7_000, first_of_dey)
    monkeypatch.setattr(operations, "submit_refund", lambda refund: refund)
    refund = operations.request_refund(refunded, amount=50_000, reason="r", actor=roles.SYSTEM)
    refund.__class__.objects.filter(pk=refund.pk).update(state="refunded", ended_at=first_of_dey)
    pending = new_payment(agency, citizen, amount=9_000)
    Payment.objects.filter(pk=pending.pk).update(created_at=first_of_dey)
    case = FinanceCase.objects.create(
        kind="amount", line_key="k", agency=agency, expected_amount=10, reported_amount=4
    )
    FinanceCase.objects.filter(pk=case.pk).update(opened_at=first_of_dey)

    days = queries.figures(
        start=dt.date(2025, 12, 21), end=dt.date(2025, 12, 22), agency_ids=[agency.pk]
    )
    assert [(r.period, r.collected, r.refunded, r.pending, r.mismatch) for r in days.rows] == [
        (dt.date(2025, 12, 21), 100_000, 0, 0, 0),
        (dt.date(2025, 12, 22), 300_000, 50_000, 9_000, 6),
    ]
    months = queries.figures(
        start=dt.date(2025, 12, 21), end=dt.date(2025, 12, 22), agency_ids=[agency.pk], by="month"
    )
    assert [(r.period, r.collected, r.net) for r in months.rows] == [
        (Month(1404, 9), 100_000, 100_000),
        (Month(1404, 10), 300_000, 250_000),
    ]
    everyone = queries.figures(start=dt.date(2025, 12, 21), end=dt.date(2025, 12, 22))
    assert everyone.total("collected") == 407_000
    assert timezone.now()  # figures never depend on the clock
