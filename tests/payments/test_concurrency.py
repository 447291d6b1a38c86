"""Two at once, on PostgreSQL (row locks): a payment is created once per purpose, captured once,
and refunded within its capture, whoever races."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from django.utils import timezone

from panjereh.catalogue import roles
from panjereh.payments import operations
from panjereh.payments.models import Payment, PaymentEvent, PaymentState, Refund, RefundState
from tests.payments.conftest import bank_page, new_payment, start

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="SQLite has no row locks (FOR UPDATE)"
    ),
]
SUCCESS = "6037990000000006"


def together(*calls):
    """Run ``calls`` in threads released at the same moment; their results or exceptions."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait()
            results[i] = call()
        except Exception as exc:  # noqa: BLE001 -- the test inspects it
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def captures(payment) -> int:
    return PaymentEvent.objects.filter(payment=payment, to_state=PaymentState.CAPTURED).count()


def test_two_callbacks_at_once_capture_once(agency, citizen):
    payment = new_payment(agency, citizen)
    fields = bank_page(start(payment), SUCCESS).fields
    results = together(*[lambda: operations.handle_callback(fields)] * 4)
    assert all(isinstance(r, Payment) for r in results), results
    payment.refresh_from_db()
    assert payment.state == PaymentState.CAPTURED and payment.captured_amount == payment.amount
    assert captures(payment) == 1
    assert PaymentEvent.objects.filter(payment=payment, to_state="authorised").count() == 1


def test_a_callback_and_the_reconciliation_job_at_once_capture_once(agency, citizen):
    payment = new_payment(agency, citizen)
    fields = bank_page(start(payment), SUCCESS).fields
    Payment.objects.filter(pk=payment.pk).update(next_check_at=timezone.now())
    together(lambda: operations.handle_callback(fields), operations.reconcile_due)
    payment.refresh_from_db()
    assert payment.state == PaymentState.CAPTURED and captures(payment) == 1


def test_two_creations_for_one_purpose_make_one_payment(agency, citizen):
    results = together(*[lambda: new_payment(agency, citizen, purpose_id="RACE-1")] * 4)
    assert all(isinstance(r, Payment) for r in results), results
    assert len({r.pk for r in results}) == 1
    assert Payment.objects.filter(purpose_id="RACE-1").count() == 1


def test_two_refunds_at_once_never_pass_the_capture(agency, citizen):
    payment = new_payment(agency, citizen, amount=1_000_000)
    payment = operations.handle_callback(bank_page(start(payment), SUCCESS).fields)

    def refund():
        return operations.request_refund(
            payment, amount=600_000, reason="دو بار", actor=roles.SYSTEM
        )

    results = together(refund, refund)
    done = [r for r in results if isinstance(r, Refund)]
    refused = [r for r in results if isinstance(r, operations.PaymentError)]
    assert len(done) == 1 and len(refused) == 1, results
    assert done[0].state == RefundState.REFUNDED
    payment.refresh_from_db()
    assert payment.refunded_amount == 600_000


def test_two_settlements_of_one_day_at_once_settle_each_payment_once(agency, citizen, psp):
    import datetime as dt

    from panjereh.common.jalali import TEHRAN
    from panjereh.payments.models import FinanceCase

    paid = [
        operations.handle_callback(bank_page(start(new_payment(agency, citizen)), SUCCESS).fields)
        for _ in range(3)
    ]
    psp.control(tamper={"extra": [{"kind": "payment", "token": "not-ours", "amount": 9}]})
    day: dt.date = timezone.now().astimezone(TEHRAN).date()
    results = together(*[lambda: operations.reconcile_settlement(day, actor=roles.SYSTEM)] * 3)
    assert not [r for r in results if isinstance(r, Exception)], results
    for payment in paid:
        payment.refresh_from_db()
        assert payment.state == PaymentState.SETTLED
        assert payment.settlement is not None  # the one file of the day
        assert [e.to_state for e in payment.history()].count("settled") == 1
    assert FinanceCase.objects.count() == 1  # the unknown line, queued once
