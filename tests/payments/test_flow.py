"""The payment flow against the simulated PSP, a real process over HTTP: token → bank page →
callback → verify; and every way it can go wrong. Each test counts the money the bank holds
against what the window recorded."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import time

import httpx
import pytest
from django.utils import timezone, translation

from panjereh.catalogue import roles
from panjereh.payments import operations, providers
from panjereh.payments.models import Payment, PaymentEvent, PaymentState
from tests.payments.conftest import SECRET, bank_page, new_payment, start

pytestmark = [pytest.mark.slow, pytest.mark.django_db]
S = PaymentState
SUCCESS, POOR, TIMEOUT, SILENT, TWICE = (
    "6037990000000006",
    "6037990000000014",
    "6037990000000022",
    "6037990000000030",
    "6037990000000048",
)


def bank_says(payment: Payment) -> dict:
    return providers.get().inquire(payment).__dict__


def assert_books_balance(*payments: Payment) -> None:
    """Money the bank kept (verified, less refunds) equals money the window holds as paid."""
    for payment in payments:
        payment.refresh_from_db()
        at_bank = providers.get().inquire(payment) if payment.provider_token else None
        kept = at_bank.amount if at_bank and at_bank.state == providers.VERIFIED else 0
        assert payment.captured_amount == kept, (payment.reference, payment.state, at_bank)


def events(payment: Payment) -> list[tuple[str, str]]:
    return list(PaymentEvent.objects.filter(payment=payment).values_list("from_state", "to_state"))


def test_a_payment_goes_to_the_bank_comes_back_and_is_verified(agency, citizen):
    payment = new_payment(agency, citizen)
    redirect = start(payment)
    assert redirect.startswith(providers.get().__class__.__module__ and "http://127.0.0.1:")
    assert payment.state == S.STARTED
    result = bank_page(redirect, SUCCESS)
    assert result.repeat == 1 and result.fields["status"] == "paid"
    paid = operations.handle_callback(result.fields)
    assert paid.state == S.CAPTURED and paid.captured_amount == 1_200_000
    assert paid.provider_ref and paid.card_mask == "603799******0006"
    assert events(paid) == [
        ("", "created"),
        ("created", "started"),
        ("started", "authorised"),
        ("authorised", "captured"),
    ]
    assert bank_says(paid)["state"] == providers.VERIFIED
    assert_books_balance(paid)


def test_starting_twice_gives_the_same_bank_page(agency, citizen):
    payment = new_payment(agency, citizen)
    assert start(payment) == start(payment)
    assert Payment.objects.get(pk=payment.pk).state == S.STARTED


def test_a_declined_card_fails_and_the_payer_can_pay_again(agency, citizen):
    first = new_payment(agency, citizen, purpose_id="APP-1")
    result = bank_page(start(first), POOR)
    assert result.fields["status"] == "failed" and result.fields["code"] == "insufficient_funds"
    failed = operations.handle_callback(result.fields)
    assert failed.state == S.FAILED and failed.failure_code == "insufficient_funds"
    second = new_payment(agency, citizen, purpose_id="APP-1")
    assert second.pk != first.pk  # the failed attempt does not block the purpose
    paid = operations.handle_callback(bank_page(start(second), SUCCESS).fields)
    assert paid.state == S.CAPTURED
    assert_books_balance(failed, paid)


def test_a_bank_timeout_fails_and_cancel_at_the_bank_cancels(agency, citizen):
    timed_out = operations.handle_callback(
        bank_page(start(new_payment(agency, citizen)), TIMEOUT).fields
    )
    assert (timed_out.state, timed_out.failure_code) == (S.FAILED, "timeout")
    payment = new_payment(agency, citizen)
    with httpx.Client(trust_env=False) as client:
        from tests.payments.conftest import read_result

        result = read_result(client.post(start(payment) + "/cancel"))
    assert operations.handle_callback(result.fields).state == S.CANCELLED
    assert_books_balance(timed_out, payment)


def test_the_bank_page_refuses_a_wrong_card_number_and_reads_persian_digits(agency, citizen, psp):
    redirect = start(new_payment(agency, citizen))
    with httpx.Client(trust_env=False) as client:
        wrong = client.post(
            redirect,
            data={"card": "6037990000000007", "expiry": "05/08", "cvv2": "123", "otp": "12345"},
        )
        assert wrong.status_code == 400 and "شماره کارت درست نیست" in wrong.text
        right = client.post(
            redirect,
            data={"card": "۶۰۳۷ ۹۹۰۰ ۰۰۰۰ ۰۰۰۶", "expiry": "۰۵/۰۸", "cvv2": "۱۲۳", "otp": "۱۲۳۴۵"},
        )
    assert right.status_code == 200 and "پرداخت انجام شد" in right.text


def test_a_duplicated_callback_captures_once(agency, citizen):
    payment = new_payment(agency, citizen)
    result = bank_page(start(payment), TWICE)
    assert result.repeat == 2
    answers = [operations.handle_callback(result.fields) for _ in range(result.repeat)]
    assert [a.state for a in answers] == [S.CAPTURED, S.CAPTURED]
    assert [to for _f, to in events(payment)].count("captured") == 1
    assert_books_balance(payment)


def _signed(fields: dict) -> dict:
    body = "\n".join(f"{k}={fields[k]}" for k in sorted(fields) if k != "sig").encode()
    return {**fields, "sig": hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()}


@pytest.mark.parametrize(
    "tamper",
    [
        lambda f: {**f, "sig": "0" * 64},  # forged signature
        lambda f: {**f, "amount": "1"},  # amount changed, signature kept
        lambda f: _signed({**f, "amount": "1"}),  # amount changed and signed (a faulty bank)
        lambda f: _signed({**f, "token": "no-such-token"}),  # unknown payment
        lambda f: _signed({**f, "order_id": "999999999999"}),  # another reference
        lambda f: _signed({**f, "ts": str(int(time.time()) - 7200)}),  # replayed, too old
        lambda f: {k: v for k, v in f.items() if k != "sig"},  # unsigned
        lambda f: _signed({**f, "status": "maybe"}),
    ],
    ids=[
        "forged",
        "amount",
        "amount-signed",
        "unknown",
        "reference",
        "replay",
        "unsigned",
        "status",
    ],
)
def test_a_bad_callback_is_refused_and_changes_nothing(agency, citizen, tamper):
    payment = new_payment(agency, citizen)
    result = bank_page(start(payment), SUCCESS)
    before = (Payment.objects.get(pk=payment.pk).state, PaymentEvent.objects.count())
    with pytest.raises(operations.CallbackRefused):
        operations.handle_callback(tamper(result.fields))
    assert (Payment.objects.get(pk=payment.pk).state, PaymentEvent.objects.count()) == before
    # The bank still holds the money unverified; the real callback still works.
    assert operations.handle_callback(result.fields).state == S.CAPTURED


def test_a_callback_that_never_comes_is_resolved_by_asking_the_bank(agency, citizen):
    payment = new_payment(agency, citizen)
    result = bank_page(start(payment), SILENT)
    assert result.repeat == 0 and not result.fields
    assert operations.reconcile_due() == 0  # not due yet: the payer may still be at the bank
    Payment.objects.filter(pk=payment.pk).update(next_check_at=timezone.now())
    assert operations.reconcile_due() == 1
    payment.refresh_from_db()
    assert payment.state == S.CAPTURED
    assert [e.source for e in payment.events.all()][-2:] == ["reconciliation", "reconciliation"]
    assert_books_balance(payment)


def test_an_unpaid_payment_is_asked_again_later_with_backoff(agency, citizen):
    payment = new_payment(agency, citizen)
    start(payment)
    waits = []
    for _ in range(3):
        Payment.objects.filter(pk=payment.pk).update(next_check_at=timezone.now())
        before = timezone.now()
        operations.reconcile_due()
        payment.refresh_from_db()
        waits.append(round((payment.next_check_at - before).total_seconds()))
    assert payment.state == S.STARTED
    assert waits == [60, 120, 240]  # doubling from PANJEREH_PAYMENTS_CHECK_AFTER


def test_an_expired_token_expires_the_payment(agency, citizen, psp):
    payment = new_payment(agency, citizen)
    start(payment)
    psp.control(token_life=0)
    Payment.objects.filter(pk=payment.pk).update(next_check_at=timezone.now())
    operations.reconcile_due()
    payment.refresh_from_db()
    assert payment.state == S.EXPIRED


def test_the_provider_down_at_creation_charges_nothing(agency, citizen, psp):
    payment = new_payment(agency, citizen)
    psp.control(mode="down")
    with translation.override("fa"):
        with pytest.raises(operations.PaymentUnavailable) as refused:
            start(payment)
        assert "هیچ مبلغی کسر نشد" in str(refused.value.messages[0])  # said in Persian
    payment.refresh_from_db()
    assert payment.state == S.CREATED and payment.provider_token is None
    psp.control(mode="normal")
    assert operations.handle_callback(bank_page(start(payment), SUCCESS).fields).state == S.CAPTURED


def test_killed_between_callback_and_verify_then_verified_by_reconciliation(
    agency, citizen, monkeypatch
):
    """The process dies after recording the authorisation and before the verify call: the
    reconciliation job verifies it once, and only once."""
    payment = new_payment(agency, citizen)
    result = bank_page(start(payment), SUCCESS)

    def die(*_a, **_k):
        raise SystemExit("killed")

    monkeypatch.setattr(operations, "_verify", die)
    with pytest.raises(SystemExit):
        operations.handle_callback(result.fields)
    monkeypatch.undo()
    payment.refresh_from_db()
    assert payment.state == S.AUTHORISED and payment.next_check_at is not None
    assert bank_says(payment)["state"] == providers.PAID
    Payment.objects.filter(pk=payment.pk).update(next_check_at=timezone.now())
    operations.reconcile_due()
    operations.handle_callback(result.fields)  # the browser's retry after the restart
    payment.refresh_from_db()
    assert payment.state == S.CAPTURED
    assert [to for _f, to in events(payment)].count("captured") == 1
    assert_books_balance(payment)


def test_killed_and_back_after_the_deadline_the_bank_reversed_it(agency, citizen, psp, monkeypatch):
    payment = new_payment(agency, citizen)
    result = bank_page(start(payment), SUCCESS)
    monkeypatch.setattr(operations, "_verify", lambda *a, **k: None)
    operations.handle_callback(result.fields)
    monkeypatch.undo()
    psp.control(clock_offset=1000)  # the bank's 900 s deadline has passed
    Payment.objects.filter(pk=payment.pk).update(next_check_at=timezone.now())
    operations.reconcile_due()
    payment.refresh_from_db()
    assert payment.state == S.REVERSED
    assert bank_says(payment)["state"] == providers.REVERSED
    assert_books_balance(payment)


def test_an_unverified_authorisation_is_reversed_before_the_deadline(
    agency, citizen, psp, settings, monkeypatch
):
    payment = new_payment(agency, citizen)
    result = bank_page(start(payment), SUCCESS)
    psp.control(mode="down")  # verify cannot be made
    operations.handle_callback(result.fields)
    payment.refresh_from_db()
    assert payment.state == S.AUTHORISED
    psp.control(mode="normal")
    # Now within the margin before the deadline: the window reverses instead of verifying.
    Payment.objects.filter(pk=payment.pk).update(
        verify_by=timezone.now() + dt.timedelta(seconds=60), next_check_at=timezone.now()
    )
    operations.reconcile_due()
    payment.refresh_from_db()
    assert (payment.state, payment.failure_code) == (S.REVERSED, "not_verified_in_time")
    at_bank = providers.get().inquire(payment)
    assert at_bank.state == providers.REVERSED
    assert_books_balance(payment)


def test_a_reversal_answered_verified_captures_instead(agency, citizen, psp):
    """The verify call reached the bank but its answer was lost: at the reversal point the bank
    says it is verified, and the window captures (the bank's word wins)."""
    payment = new_payment(agency, citizen)
    result = bank_page(start(payment), SUCCESS)
    psp.control(mode="down")
    operations.handle_callback(result.fields)
    psp.control(mode="normal")
    providers.get().verify(payment)  # the lost answer
    Payment.objects.filter(pk=payment.pk).update(
        verify_by=timezone.now() + dt.timedelta(seconds=60), next_check_at=timezone.now()
    )
    operations.reconcile_due()
    payment.refresh_from_db()
    assert payment.state == S.CAPTURED
    assert_books_balance(payment)


def test_a_payment_never_sent_to_the_bank_expires(agency, citizen, settings):
    payment = new_payment(agency, citizen)
    life = (payment.next_check_at - payment.created_at).total_seconds()
    assert life == 3600  # PANJEREH_PAYMENTS_CREATED_LIFE
    assert operations.reconcile_due() == 0
    an_hour_ago = dt.timedelta(seconds=life + 1)
    Payment.objects.filter(pk=payment.pk).update(
        created_at=payment.created_at - an_hour_ago,
        next_check_at=payment.next_check_at - an_hour_ago,
    )
    assert operations.reconcile_due() == 1
    payment.refresh_from_db()
    assert (payment.state, payment.failure_code) == (S.EXPIRED, "never_started")


def test_the_payer_cancels_before_the_bank(agency, citizen):
    payment = new_payment(agency, citizen, actor=citizen)
    operations.cancel_payment(payment, actor=citizen)
    assert payment.state == S.CANCELLED
    with pytest.raises(operations.PaymentError):
        operations.start_payment(payment, actor=citizen, callback_url="http://testserver/x/")
    with pytest.raises(operations.PaymentError):
        operations.cancel_payment(payment, actor=roles.SYSTEM)
