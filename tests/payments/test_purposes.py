"""What a payment pays for is told once it is captured: right after the capture, and again by
the job when the first try did not happen or failed (an outbox)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from panjereh.payments import operations, purposes
from panjereh.payments.models import Payment

from .conftest import bank_page, new_payment, start
from .test_flow import POOR, SUCCESS

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def told(monkeypatch):
    seen: list[str] = []
    state = {"fail": False}

    def paid(payment: Payment) -> None:
        if state["fail"]:
            raise RuntimeError("the application store is down")
        seen.append(payment.purpose_id)

    monkeypatch.setitem(purposes._PURPOSES, "application", purposes.Purpose(paid=paid))
    return seen, state


def pay(agency, citizen, card=SUCCESS):
    payment = new_payment(agency, citizen)
    return operations.handle_callback(bank_page(start(payment), card).fields)


def test_a_captured_payment_tells_what_it_pays_for_once(agency, citizen, told):
    seen, _ = told
    payment = pay(agency, citizen)
    assert seen == [payment.purpose_id]
    payment.refresh_from_db()
    assert payment.purpose_told_at is not None
    assert purposes.tell(payment.pk) is False and purposes.tell_due(grace_seconds=0) == 0
    assert seen == [payment.purpose_id]


def test_a_failed_payment_tells_nothing(agency, citizen, told):
    seen, _ = told
    payment = pay(agency, citizen, POOR)
    assert payment.state == "failed" and seen == []
    assert purposes.tell_due(grace_seconds=0) == 0


def test_a_handler_that_fails_is_told_again_by_the_job(agency, citizen, told):
    seen, state = told
    state["fail"] = True
    payment = pay(agency, citizen)
    payment.refresh_from_db()
    assert payment.state == "captured" and payment.purpose_told_at is None and seen == []
    # Within the grace period the job leaves it to the first try.
    assert purposes.tell_due() == 0
    state["fail"] = False
    Payment.objects.filter(pk=payment.pk).update(
        captured_at=timezone.now() - dt.timedelta(minutes=1)
    )
    assert purposes.tell_due() == 1
    assert seen == [payment.purpose_id]
    assert purposes.tell_due(grace_seconds=0) == 0


def test_a_kind_nobody_registered_is_marked_told(agency, citizen, monkeypatch):
    monkeypatch.setattr(purposes, "_PURPOSES", {})
    payment = pay(agency, citizen)
    payment.refresh_from_db()
    assert payment.purpose_told_at is not None
