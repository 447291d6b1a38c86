"""Refunds (never past the capture) and the daily settlement file (line by line, mismatches to
the finance queue), against the simulated PSP over HTTP."""

from __future__ import annotations

import datetime as dt

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
    RefundEvent,
    RefundState,
    SettlementFile,
)
from tests.payments.conftest import bank_page, new_payment, start

pytestmark = [pytest.mark.slow, pytest.mark.django_db]
SUCCESS = "6037990000000006"


def paid(agency, citizen, amount=1_000_000, **fields) -> Payment:
    payment = new_payment(agency, citizen, amount=amount, **fields)
    return operations.handle_callback(bank_page(start(payment), SUCCESS).fields)


def refund(payment, amount, **fields):
    return operations.request_refund(
        payment, amount=amount, reason="درخواست رد شد", actor=roles.SYSTEM, **fields
    )


def test_refunds_add_up_to_the_capture_and_no_further(agency, citizen):
    payment = paid(agency, citizen)
    first = refund(payment, 400_000)
    assert first.state == RefundState.REFUNDED and first.provider_ref.startswith("RF")
    second = refund(payment, 600_000)
    assert second.state == RefundState.REFUNDED
    payment.refresh_from_db()
    assert (payment.refunded_amount, payment.refundable) == (1_000_000, 0)
    with pytest.raises(operations.PaymentError) as refused:
        refund(payment, 1)
    assert "amount" in refused.value.message_dict
    assert Refund.objects.filter(payment=payment).count() == 2
    assert list(RefundEvent.objects.filter(refund=first).values_list("to_state", flat=True)) == [
        "requested",
        "refunded",
    ]


@pytest.mark.parametrize("amount", [0, -5, 1_000_001, 2.5, True, "100"])
def test_a_bad_refund_amount_is_refused_and_changes_nothing(agency, citizen, amount):
    payment = paid(agency, citizen)
    with pytest.raises(operations.PaymentError):
        refund(payment, amount)
    payment.refresh_from_db()
    assert payment.refunded_amount == 0 and not Refund.objects.exists()


def test_an_unpaid_payment_cannot_be_refunded(agency, citizen):
    payment = new_payment(agency, citizen)
    with pytest.raises(operations.PaymentError):
        refund(payment, 10)


def test_a_refund_is_idempotent_by_its_key(agency, citizen):
    payment = paid(agency, citizen)
    one = refund(payment, 300_000, idempotency_key="reject-42")
    again = refund(payment, 300_000, idempotency_key="reject-42")
    assert one.pk == again.pk
    payment.refresh_from_db()
    assert payment.refunded_amount == 300_000


def test_a_refund_asked_while_the_bank_is_down_is_made_later(agency, citizen, psp):
    payment = paid(agency, citizen)
    psp.control(mode="down")
    pending = refund(payment, 250_000)
    assert pending.state == RefundState.REQUESTED
    payment.refresh_from_db()
    assert payment.refundable == 750_000  # reserved: a second refund cannot take it again
    psp.control(mode="normal")
    assert operations.submit_refunds_due() == 1
    pending.refresh_from_db()
    assert pending.state == RefundState.REFUNDED


def test_a_refund_the_bank_refuses_gives_the_reservation_back(agency, citizen, psp):
    payment = paid(agency, citizen)
    # The bank already gave part back outside the window: it refuses the window's full refund.
    providers.get().refund(Refund(payment=payment, idempotency_key="outside", amount=500_000))
    failed = refund(payment, 1_000_000)
    assert (failed.state, failed.failure_code) == (RefundState.FAILED, "exceeds_payment")
    payment.refresh_from_db()
    assert payment.refunded_amount == 0


def _today() -> dt.date:
    return timezone.now().astimezone(TEHRAN).date()


def test_the_settlement_file_with_a_missing_an_extra_and_a_wrong_line_opens_three_cases(
    agency, citizen, psp
):
    kept, dropped, changed, refunded = (paid(agency, citizen, 100_000 * n) for n in (1, 2, 3, 4))
    refund(refunded, 50_000)
    psp.control(
        tamper={
            "drop": [dropped.provider_token],
            "amount": {changed.provider_token: 299_000},
            "extra": [{"kind": "payment", "token": "not-ours", "order_id": "1", "amount": 7}],
        }
    )
    record = operations.reconcile_settlement(_today(), actor=roles.SYSTEM)
    # The dropped payment may still come in tomorrow's file (the bank's day is its own):
    # not missing yet.
    assert sorted(FinanceCase.objects.values_list("kind", flat=True)) == sorted(
        [CaseKind.EXTRA, CaseKind.AMOUNT]
    )
    psp.control(tamper={})
    operations.reconcile_settlement(_today() + dt.timedelta(days=1), actor=roles.SYSTEM)
    cases = {case.kind: case for case in FinanceCase.objects.all()}
    assert sorted(cases) == sorted([CaseKind.MISSING, CaseKind.EXTRA, CaseKind.AMOUNT])
    assert cases[CaseKind.MISSING].payment == dropped
    assert cases[CaseKind.AMOUNT].payment == changed
    assert (cases[CaseKind.AMOUNT].expected_amount, cases[CaseKind.AMOUNT].reported_amount) == (
        300_000,
        299_000,
    )
    assert cases[CaseKind.EXTRA].reported_amount == 7 and cases[CaseKind.EXTRA].payment is None
    assert record.lines == 5 and record.matched == 3  # kept, refunded and its refund line
    states = dict(Payment.objects.values_list("pk", "state"))
    assert states[kept.pk] == states[refunded.pk] == PaymentState.SETTLED
    assert states[dropped.pk] == states[changed.pk] == PaymentState.CAPTURED
    # Reconciling the same files again opens no new case and settles nothing twice.
    psp.control(
        tamper={
            "drop": [dropped.provider_token],
            "amount": {changed.provider_token: 299_000},
            "extra": [{"kind": "payment", "token": "not-ours", "order_id": "1", "amount": 7}],
        }
    )
    operations.reconcile_settlement(_today(), actor=roles.SYSTEM)
    psp.control(tamper={})
    operations.reconcile_settlement(_today() + dt.timedelta(days=1), actor=roles.SYSTEM)
    assert FinanceCase.objects.count() == 3
    kept.refresh_from_db()
    assert [e.to_state for e in kept.history()].count("settled") == 1


def test_a_clean_settlement_file_opens_no_case(agency, citizen):
    payments = [paid(agency, citizen, 10_000) for _ in range(3)]
    record = operations.reconcile_settlement(_today(), actor=roles.SYSTEM)
    assert not FinanceCase.objects.exists()
    assert record.matched == record.lines == 3
    assert all(Payment.objects.get(pk=p.pk).state == PaymentState.SETTLED for p in payments)


def test_a_crash_mid_file_leaves_nothing_half_done_and_the_rerun_settles_once(
    agency, citizen, psp, monkeypatch
):
    """The process dies after the moves, before the file is finished: nothing of the file is
    kept (no payment settled, no case, no file); reconciling it again settles each payment
    once, with its history, and opens the file's case once."""
    payments = [paid(agency, citizen, 10_000) for _ in range(3)]
    psp.control(tamper={"extra": [{"kind": "payment", "token": "x", "amount": 1}]})

    def crash(self):
        raise RuntimeError("killed")

    with monkeypatch.context() as patch:
        patch.setattr(settlement._Matcher, "missing", crash)
        with pytest.raises(RuntimeError):
            operations.reconcile_settlement(_today(), actor=roles.SYSTEM)
    assert set(Payment.objects.values_list("state", "settlement")) == {
        (PaymentState.CAPTURED, None)
    }
    assert not FinanceCase.objects.exists() and not SettlementFile.objects.exists()
    for _ in range(2):
        record = operations.reconcile_settlement(_today(), actor=roles.SYSTEM)
        assert (record.lines, record.matched) == (4, 3)
    assert list(FinanceCase.objects.values_list("kind", flat=True)) == [CaseKind.EXTRA]
    for payment in payments:
        payment.refresh_from_db()
        assert (payment.state, payment.settlement) == (PaymentState.SETTLED, record)
        moves = [(e.from_state, e.to_state) for e in payment.history()]
        assert moves[-1] == (PaymentState.CAPTURED, PaymentState.SETTLED)
        assert [to for _f, to in moves].count(PaymentState.SETTLED) == 1


def test_a_settlement_line_for_a_payment_the_window_holds_unpaid_is_a_case(agency, citizen, psp):
    payment = new_payment(agency, citizen)
    bank_page(start(payment), "6037990000000030")  # paid, no callback
    providers.get().verify(payment)  # verified at the bank, the window not told yet
    operations.reconcile_settlement(_today(), actor=roles.SYSTEM)
    assert list(FinanceCase.objects.values_list("kind", flat=True)) == [CaseKind.STATE]


def test_a_finance_case_is_resolved_once(agency, citizen, psp):
    paid(agency, citizen)
    psp.control(tamper={"extra": [{"kind": "payment", "token": "x", "amount": 1}]})
    operations.reconcile_settlement(_today(), actor=roles.SYSTEM)
    case = FinanceCase.objects.get()
    operations.resolve_case(case, actor=roles.SYSTEM, resolution="خطای بانک؛ اصلاح شد")
    assert case.state == "resolved"
    with pytest.raises(operations.PaymentError):
        operations.resolve_case(case, actor=roles.SYSTEM, resolution="again")


def _captured_at(payment: Payment, moment: dt.datetime) -> None:
    Payment.objects.filter(pk=payment.pk).update(captured_at=moment)


def test_a_payment_captured_before_midnight_and_settled_the_next_day_is_not_missing(
    agency, citizen
):
    """The window captured it at 23:59:30 Tehran time; the bank counts it in the next day's
    file. Yesterday's file alone is no reason to open a case."""
    late = paid(agency, citizen, 500_000)
    yesterday = _today() - dt.timedelta(days=1)
    _start, midnight = settlement.day_bounds(yesterday)
    _captured_at(late, midnight - dt.timedelta(seconds=30))
    first = operations.reconcile_settlement(yesterday, actor=roles.SYSTEM)
    assert first.lines == 0 and not FinanceCase.objects.exists()
    second = operations.reconcile_settlement(_today(), actor=roles.SYSTEM)
    assert (second.lines, second.matched) == (1, 1)
    assert not FinanceCase.objects.exists()
    late.refresh_from_db()
    assert late.state == PaymentState.SETTLED
    assert [(e.source, e.data) for e in late.history() if e.to_state == "settled"] == [
        ("settlement", {"day": _today().isoformat()})
    ]


def test_a_payment_in_neither_its_days_file_nor_the_next_is_missing(agency, citizen, psp):
    lost = paid(agency, citizen, 500_000)
    yesterday = _today() - dt.timedelta(days=1)
    _start, midnight = settlement.day_bounds(yesterday)
    _captured_at(lost, midnight - dt.timedelta(seconds=30))
    operations.reconcile_settlement(yesterday, actor=roles.SYSTEM)
    assert not FinanceCase.objects.exists()
    psp.control(tamper={"drop": [lost.provider_token]})
    operations.reconcile_settlement(_today(), actor=roles.SYSTEM)
    case = FinanceCase.objects.get()
    assert (case.kind, case.payment_id, case.expected_amount) == (
        CaseKind.MISSING,
        lost.pk,
        500_000,
    )
    assert case.settlement.day == yesterday  # the day it was captured


def test_a_missing_payment_whose_next_file_never_comes_is_a_case_after_the_grace(agency, citizen):
    old = paid(agency, citizen, 700_000)
    long_ago = _today() - dt.timedelta(days=5)
    start, _end = settlement.day_bounds(long_ago)
    _captured_at(old, start + dt.timedelta(hours=12))
    operations.reconcile_settlement(long_ago, actor=roles.SYSTEM)
    case = FinanceCase.objects.get()
    assert (case.kind, case.payment_id) == (CaseKind.MISSING, old.pk)


def test_settlement_lines_with_nul_bytes_and_odd_amounts_change_nothing_else(agency, citizen, psp):
    kept = paid(agency, citizen, 100_000)
    psp.control(
        tamper={
            "extra": [
                {"kind": "payment", "token": "bad\x00token" + "x" * 500, "amount": "12a"},
                {"kind": "refund", "token": kept.provider_token, "ref": "", "amount": 5},
                {"kind": "payment", "token": "huge", "amount": str(10**30)},
            ]
        }
    )
    record = operations.reconcile_settlement(_today(), actor=roles.SYSTEM)
    assert (record.lines, record.matched) == (4, 1)
    assert sorted(FinanceCase.objects.values_list("kind", flat=True)) == [CaseKind.EXTRA] * 3
    assert Payment.objects.get(pk=kept.pk).state == PaymentState.SETTLED
