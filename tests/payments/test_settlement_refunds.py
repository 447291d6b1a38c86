"""Refund lines of the daily settlement file: a refund the bank made that the window has not
recorded yet is no "extra" line, and a refund the window holds as made that is in no file is a
finance case (as a payment is), with the same day boundary. Against the simulated PSP over
HTTP; the file is narrowed by a wrapper when a test needs one line left out."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.utils import timezone

from panjereh.catalogue import roles
from panjereh.common.jalali import TEHRAN
from panjereh.payments import operations, providers, settlement
from panjereh.payments.models import (
    CaseKind,
    FinanceCase,
    Payment,
    PaymentState,
    Refund,
    RefundState,
)
from tests.payments.conftest import bank_page, new_payment, start

pytestmark = [pytest.mark.slow, pytest.mark.django_db]
SUCCESS = "6037990000000006"
COLUMNS = ("day", "kind", "token", "order_id", "ref", "amount", "at")


def paid(agency, citizen, amount=1_000_000) -> Payment:
    payment = new_payment(agency, citizen, amount=amount)
    return operations.handle_callback(bank_page(start(payment), SUCCESS).fields)


def refund(payment, amount) -> Refund:
    return operations.request_refund(
        payment, amount=amount, reason="درخواست رد شد", actor=roles.SYSTEM
    )


def _today() -> dt.date:
    return timezone.now().astimezone(TEHRAN).date()


def without(monkeypatch, leave_out) -> None:
    """The provider's files, less the lines ``leave_out(line)`` names (the bank's fault)."""
    kind = providers.get().__class__
    original = kind.settlement

    def narrowed(self, day):
        body, _lines = original(self, day)
        rows = [row for row in csv.DictReader(io.StringIO(body.decode())) if not leave_out(row)]
        out = io.StringIO()
        writer = csv.DictWriter(out, COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        text = out.getvalue().encode()
        return text, list(_parse(text))

    monkeypatch.setattr(kind, "settlement", narrowed)


def _parse(body: bytes):
    for number, row in enumerate(csv.DictReader(io.StringIO(body.decode())), start=1):
        yield providers.SettlementLine(
            number=number,
            kind=row["kind"],
            token=row["token"],
            order_id=row["order_id"],
            ref=row["ref"],
            amount=int(row["amount"]) if row["amount"].isdigit() else None,
        )


def test_a_refund_the_bank_made_but_the_window_has_not_recorded_is_no_extra_line(
    agency, citizen, psp
):
    payment = paid(agency, citizen)
    psp.control(mode="down")
    pending = refund(payment, 400_000)
    assert (pending.state, pending.provider_ref) == (RefundState.REQUESTED, "")
    psp.control(mode="normal")
    # The bank makes it (the window's call reached it, its answer was lost): the window still
    # holds the refund as asked, without the bank's reference.
    done = providers.get().refund(pending)
    assert done.ref and Refund.objects.get(pk=pending.pk).provider_ref == ""

    record = operations.reconcile_settlement(_today(), actor=roles.SYSTEM)

    assert not FinanceCase.objects.exists()
    assert record.matched == 2  # the payment line and the refund line
    pending.refresh_from_db()
    assert (pending.state, pending.provider_ref) == (RefundState.REFUNDED, done.ref)
    assert pending.settled_at is not None
    assert list(pending.events.values_list("to_state", "data")) == [
        ("requested", {}),
        ("refunded", {"settlement": _today().isoformat()}),
    ]
    # The refunds job finds nothing left to ask; a second reconciliation changes nothing.
    assert operations.submit_refunds_due() == 0
    operations.reconcile_settlement(_today(), actor=roles.SYSTEM)
    operations.reconcile_settlement(_today() + dt.timedelta(days=1), actor=roles.SYSTEM)
    assert not FinanceCase.objects.exists()
    assert pending.events.count() == 2
    payment.refresh_from_db()
    assert (payment.state, payment.refunded_amount) == (PaymentState.SETTLED, 400_000)


def test_two_unrecorded_refunds_of_one_payment_are_each_matched_once(agency, citizen, psp):
    payment = paid(agency, citizen)
    psp.control(mode="down")
    first, second = refund(payment, 300_000), refund(payment, 300_000)
    psp.control(mode="normal")
    refs = {providers.get().refund(first).ref, providers.get().refund(second).ref}
    operations.reconcile_settlement(_today(), actor=roles.SYSTEM)
    assert not FinanceCase.objects.exists()
    assert set(Refund.objects.values_list("provider_ref", flat=True)) == refs
    assert set(Refund.objects.values_list("state", flat=True)) == {RefundState.REFUNDED}


def test_an_unknown_refund_line_is_still_extra(agency, citizen, psp):
    payment = paid(agency, citizen)
    psp.control(
        tamper={
            "extra": [
                {"kind": "refund", "token": payment.provider_token, "ref": "RF1", "amount": 5}
            ]
        }
    )
    operations.reconcile_settlement(_today(), actor=roles.SYSTEM)
    case = FinanceCase.objects.get()
    assert (case.kind, case.payment_id, case.reported_amount) == (CaseKind.EXTRA, payment.pk, 5)


def test_a_refund_missing_from_the_file_is_a_case_once_the_next_days_file_lacks_it_too(
    agency, citizen, psp, monkeypatch
):
    payment = paid(agency, citizen)
    lost = refund(payment, 250_000)
    kept = refund(payment, 100_000)
    assert lost.state == kept.state == RefundState.REFUNDED
    without(monkeypatch, lambda row: row["ref"] == lost.provider_ref)

    operations.reconcile_settlement(_today(), actor=roles.SYSTEM)
    # Its line may still come in tomorrow's file: not missing yet.
    assert not FinanceCase.objects.exists()
    kept.refresh_from_db()
    assert kept.settled_at is not None

    operations.reconcile_settlement(_today() + dt.timedelta(days=1), actor=roles.SYSTEM)
    case = FinanceCase.objects.get()
    assert (case.kind, case.refund_id, case.payment_id, case.agency_id) == (
        CaseKind.MISSING,
        lost.pk,
        payment.pk,
        agency.pk,
    )
    assert (case.expected_amount, case.reported_amount) == (250_000, 0)
    assert case.detail == {"kind": "refund", "ref": lost.provider_ref}
    assert case.settlement.day == _today()  # the day the window holds it made
    # Again: no second case; the refund settled in its file is never reported.
    operations.reconcile_settlement(_today(), actor=roles.SYSTEM)
    operations.reconcile_settlement(_today() + dt.timedelta(days=1), actor=roles.SYSTEM)
    assert FinanceCase.objects.count() == 1


def test_a_refund_made_before_midnight_and_settled_the_next_day_is_not_missing(
    agency, citizen, psp
):
    payment = paid(agency, citizen)
    late = refund(payment, 200_000)
    yesterday = _today() - dt.timedelta(days=1)
    _start, midnight = settlement.day_bounds(yesterday)
    # The window recorded it a minute before midnight; the bank's line is in today's file.
    Refund.objects.filter(pk=late.pk).update(ended_at=midnight - dt.timedelta(minutes=1))
    operations.reconcile_settlement(yesterday, actor=roles.SYSTEM)
    assert not FinanceCase.objects.exists()
    operations.reconcile_settlement(_today(), actor=roles.SYSTEM)
    operations.reconcile_settlement(_today() + dt.timedelta(days=1), actor=roles.SYSTEM)
    assert not FinanceCase.objects.exists()
    late.refresh_from_db()
    assert late.settled_at is not None


def test_a_refund_in_no_file_whose_next_file_never_comes_is_a_case_after_the_grace(
    agency, citizen, psp, monkeypatch
):
    payment = paid(agency, citizen)
    lost = refund(payment, 250_000)
    long_ago = _today() - dt.timedelta(days=5)
    start_of_day, _end = settlement.day_bounds(long_ago)
    Refund.objects.filter(pk=lost.pk).update(ended_at=start_of_day + dt.timedelta(hours=3))
    operations.reconcile_settlement(long_ago, actor=roles.SYSTEM)
    case = FinanceCase.objects.get()
    assert (case.kind, case.refund_id) == (CaseKind.MISSING, lost.pk)


def test_a_payment_whose_line_is_missing_is_reported_even_if_its_refund_line_is_there(
    agency, citizen, psp, monkeypatch
):
    payment = paid(agency, citizen)
    refund(payment, 100_000)
    yesterday = _today() - dt.timedelta(days=1)
    start_of_day, _end = settlement.day_bounds(yesterday)
    # Captured yesterday (so yesterday's and today's files are its two chances), refunded
    # today: today's file has the refund's line, under the payment's token, and no payment line.
    Payment.objects.filter(pk=payment.pk).update(captured_at=start_of_day + dt.timedelta(hours=9))
    without(monkeypatch, lambda row: row["kind"] == "payment")
    operations.reconcile_settlement(yesterday, actor=roles.SYSTEM)
    assert not FinanceCase.objects.exists()
    operations.reconcile_settlement(_today(), actor=roles.SYSTEM)
    case = FinanceCase.objects.get()
    assert (case.kind, case.payment_id, case.refund_id) == (CaseKind.MISSING, payment.pk, None)
    payment.refresh_from_db()
    assert payment.state == PaymentState.CAPTURED


def test_a_refund_the_window_holds_failed_but_the_bank_settled_is_a_state_case(
    agency, citizen, psp
):
    payment = paid(agency, citizen)
    made = refund(payment, 300_000)
    # The window's row says the refund failed (its reservation given back), the bank paid it.
    Refund.objects.filter(pk=made.pk).update(state=RefundState.FAILED)
    operations.reconcile_settlement(_today(), actor=roles.SYSTEM)
    case = FinanceCase.objects.get()
    assert (case.kind, case.refund_id, case.reported_amount) == (
        CaseKind.STATE,
        made.pk,
        300_000,
    )
    assert case.detail == {"kind": "refund", "window": "failed"}
