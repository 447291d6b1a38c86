"""Fixtures of the payments tests: the simulated PSP as a real process over HTTP, an agency with
its treasury account, a citizen, and a helper that pays on the bank's page as a browser would."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape
from itertools import count
from urllib.parse import urlsplit

import httpx
import pytest

from panjereh.catalogue import roles
from panjereh.common import httpclient
from panjereh.payments import operations
from panjereh.psp.supervisor import PSP
from tests.factories import UserFactory, make_agency

SECRET = "test-merchant-secret-of-the-payments-tests"
CALLBACK = "http://testserver/payments/callback/simulated/"
_shaba_numbers = count(1)


def shaba(bban: str | None = None) -> str:
    """A valid Sheba number (check digits computed) for the 22-digit ``bban``."""
    bban = bban or f"0170{next(_shaba_numbers):018d}"
    check = 98 - int(bban + "182700") % 97
    return f"IR{check:02d}{bban}"


@pytest.fixture(scope="session")
def psp():
    bank = PSP(SECRET, verify_deadline=900).start()
    yield bank
    bank.stop()


@pytest.fixture(autouse=True)
def _psp_settings(psp, settings):
    psp.control(reset=True)
    settings.PANJEREH_PAYMENTS_PSP_URL = psp.url
    settings.PANJEREH_PAYMENTS_PSP_SECRET = SECRET
    settings.PANJEREH_PAYMENTS_PSP_TIMEOUT = 3.0
    yield
    psp.control(
        mode="normal", clock_offset=0, verify_deadline=900, token_life=1200, tamper={}, reset=True
    )
    httpclient.close("payments")


@pytest.fixture
def agency(db):
    agency = make_agency()
    operations.save_treasury_account(
        agency, shaba=shaba(), treasury_id="4001000000", title="حساب درآمد", actor=roles.SYSTEM
    )
    return agency


@pytest.fixture
def citizen(db):
    user = UserFactory(is_staff=False, national_code="0012345679")
    user.save()
    return user


_purposes = count(1)


def new_payment(agency, payer, amount: int = 1_200_000, **fields):
    return operations.create_payment(
        purpose_kind=fields.pop("purpose_kind", "application"),
        purpose_id=fields.pop("purpose_id", f"A-{next(_purposes)}"),
        amount=amount,
        agency=agency,
        description="هزینه خدمت آزمایشی",
        payer=payer,
        actor=fields.pop("actor", roles.SYSTEM),
        **fields,
    )


@dataclass
class BankResult:
    status: int
    url: str  # where the page posts the result (the callback address)
    fields: dict[str, str]
    repeat: int
    html: str


def bank_page(redirect_url: str, card: str, *, otp: str = "123456", **extra: str) -> BankResult:
    """Fill the bank's page as a payer would and read the result page it answers with."""
    with httpx.Client(trust_env=False, timeout=5) as client:
        page = client.get(redirect_url)
        assert page.status_code == 200, page.text
        assert 'lang="fa"' in page.text
        form = {"card": card, "expiry": "05/08", "cvv2": "123", "otp": otp, **extra}
        answer = client.post(redirect_url, data=form)
    return read_result(answer)


def read_result(answer: httpx.Response) -> BankResult:
    text = answer.text
    action = re.search(r'<form id="back" method="post" action="([^"]+)" data-repeat="(\d+)"', text)
    fields = {
        unescape(m.group(1)): unescape(m.group(2))
        for m in re.finditer(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', text)
    }
    return BankResult(
        status=answer.status_code,
        url=unescape(action.group(1)) if action else "",
        fields=fields,
        repeat=int(action.group(2)) if action else 0,
        html=text,
    )


def callback_path(result: BankResult) -> str:
    return urlsplit(result.url).path


def start(payment) -> str:
    return operations.start_payment(payment, actor=roles.SYSTEM, callback_url=CALLBACK)
