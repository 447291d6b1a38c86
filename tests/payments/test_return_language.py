"""The bank sends the payer back in the language they were using when they went to pay, not
the one the payment was made in (a fee's payment is made when the application is submitted)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from panjereh.catalogue import roles
from panjereh.payments import operations
from panjereh.payments.models import PaymentState
from tests.payments.conftest import bank_page, callback_path, new_payment

pytestmark = [pytest.mark.slow, pytest.mark.django_db]
SUCCESS = "6037990000000006"


def _pay(payment, language: str):
    with translation.override(language):
        callback = "http://testserver" + reverse("payments:callback", args=[payment.provider])
    result = bank_page(
        operations.start_payment(payment, actor=roles.SYSTEM, callback_url=callback), SUCCESS
    )
    return Client(enforce_csrf_checks=True).post(callback_path(result), result.fields)


@pytest.mark.parametrize(("made_in", "paid_in"), [("fa", "en"), ("en", "fa"), ("en", "en")])
def test_the_payer_comes_back_in_the_language_they_paid_in(agency, citizen, made_in, paid_in):
    with translation.override(made_in):
        made = reverse("payments:mine")
    with translation.override(paid_in):
        expected = reverse("payments:mine")
    payment = new_payment(agency, citizen, return_url=made)
    back = _pay(payment, paid_in)
    assert back.status_code == 302 and back["Location"] == expected
    payment.refresh_from_db()
    assert payment.state == PaymentState.CAPTURED


def test_a_return_address_with_a_query_keeps_it_and_an_outside_one_is_not_followed(agency, citizen):
    kept = _pay(new_payment(agency, citizen, return_url="/payments/bills/?from=fee"), "en")
    assert kept["Location"] == "/en/payments/bills/?from=fee"
    outside = new_payment(agency, citizen, return_url="https://elsewhere.example/steal/")
    back = _pay(outside, "en")
    assert back["Location"] == f"/en/payments/{outside.reference}/"
