"""The simulated PSP on its own, over HTTP: it answers only the merchant it knows, its token is
idempotent per order, it keeps its verify deadline, and its settlement file is signed."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx
import pytest

from tests.payments.conftest import SECRET, bank_page

pytestmark = pytest.mark.slow


def call(psp, name: str, data: dict, *, secret: str = SECRET, merchant: str = "panjereh"):
    body = json.dumps(data).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return httpx.post(
        f"{psp.url}/api/v1/{name}",
        content=body,
        headers={"X-PSP-Merchant": merchant, "X-PSP-Signature": signature},
        trust_env=False,
    )


def token(psp, order="100000000001", amount=5000):
    answer = call(
        psp, "token", {"order_id": order, "amount": amount, "callback_url": "http://w/cb"}
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["token"]


def test_calls_signed_with_another_secret_or_merchant_are_refused(psp):
    assert call(psp, "inquiry", {"token": "x"}, secret="guess").status_code == 401
    assert call(psp, "inquiry", {"token": "x"}, merchant="someone").status_code == 401


def test_a_token_is_idempotent_per_order_and_an_order_cannot_change_its_amount(psp):
    first = token(psp)
    assert token(psp) == first
    answer = call(
        psp, "token", {"order_id": "100000000001", "amount": 1, "callback_url": "http://w/cb"}
    )
    assert answer.status_code == 409 and answer.json()["error"] == "order_id_reused"


def test_verify_after_the_deadline_finds_the_payment_reversed(psp):
    paid = token(psp)
    bank_page(f"{psp.url}/pay/{paid}", "6037990000000006")
    psp.control(clock_offset=901)
    answer = call(psp, "verify", {"token": paid})
    assert answer.status_code == 409 and answer.json()["status"] == "reversed"


def test_refunds_are_idempotent_and_never_exceed_the_payment(psp):
    paid = token(psp, amount=1000)
    bank_page(f"{psp.url}/pay/{paid}", "6037990000000006")
    assert call(psp, "verify", {"token": paid}).json()["status"] == "verified"
    one = call(psp, "refund", {"token": paid, "refund_id": "r1", "amount": 700})
    again = call(psp, "refund", {"token": paid, "refund_id": "r1", "amount": 700})
    assert one.json()["ref"] == again.json()["ref"] and again.json()["repeated"] is True
    over = call(psp, "refund", {"token": paid, "refund_id": "r2", "amount": 301})
    assert over.status_code == 409 and over.json() == {
        "error": "exceeds_payment",
        "refundable": 300,
    }


def test_the_settlement_file_is_signed_and_lists_verified_payments(psp):
    paid = token(psp, amount=2000)
    bank_page(f"{psp.url}/pay/{paid}", "6037990000000006")
    call(psp, "verify", {"token": paid})
    import datetime as dt
    from zoneinfo import ZoneInfo

    day = dt.datetime.now(ZoneInfo("Asia/Tehran")).date().isoformat()
    answer = call(psp, "settlement", {"day": day})
    body = answer.content
    assert (
        answer.headers["X-PSP-Signature"]
        == hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    )
    lines = body.decode().splitlines()
    assert lines[0] == "day,kind,token,order_id,ref,amount,at"
    assert len(lines) == 2 and f",payment,{paid}," in lines[1] and ",2000," in lines[1]
    assert call(psp, "settlement", {"day": "yesterday"}).status_code == 400


def test_the_bank_page_is_persian_and_an_unknown_token_is_not_found(psp):
    page = httpx.get(f"{psp.url}/pay/{token(psp)}", trust_env=False)
    assert page.status_code == 200
    assert 'lang="fa" dir="rtl"' in page.text and 'name="viewport"' in page.text
    assert "۵٬۰۰۰ ریال" in page.text
    assert httpx.get(f"{psp.url}/pay/nothing", trust_env=False).status_code == 404
