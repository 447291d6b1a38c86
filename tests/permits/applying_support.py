"""Fixtures of the applying tests: people, a company registry stand-in, and published permits of
each path (registration-based, approval at a portal, approval in the window, with a fee).

The company registry is a stand-in here (its subject is the window's rules; tests/identity has
the real one through the exchange): ``registry.remove(...)`` makes it stop naming a director,
``registry.down`` makes it not answer."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from panjereh.catalogue import roles
from panjereh.identity import registry_checks
from panjereh.payments import operations as payments
from panjereh.payments import purposes
from panjereh.payments.models import Payment
from panjereh.permits import operations
from panjereh.permits.models import IssuingAuthority
from panjereh.registries.population import Population
from tests.identity.conftest import make_citizen
from tests.identity.helpers import national_code
from tests.payments.conftest import shaba

from .conftest import condition

POP = Population(seed=1404, size=10_000)
COMPANY_ID = POP.company_id(3)
OTHER_COMPANY_ID = POP.company_id(4)
COMPANY_NAME = "شرکت پارس نوین"
CEO_CODE = national_code("049937089")
BOARD_CODE = national_code("222333444")
STRANGER_CODE = national_code("123456780")
ACCOUNTANT_CODE = national_code("555666777")


class FakeCompanies:
    def __init__(self) -> None:
        self.boards = {
            COMPANY_ID: [(CEO_CODE, "ceo", "2010-01-01"), (BOARD_CODE, "board", "2015-05-05")],
            OTHER_COMPANY_ID: [(STRANGER_CODE, "ceo", "2012-02-02")],
        }
        self.names = {COMPANY_ID: COMPANY_NAME, OTHER_COMPANY_ID: "شرکت البرز سازه"}
        self.down = False
        self.calls = 0

    def company_record(self, national_id):
        self.calls += 1
        if self.down:
            raise registry_checks.RegistryUnavailable("down")
        if national_id not in self.boards:
            return None
        return registry_checks.CompanyRecord(
            national_id=national_id,
            name=self.names[national_id],
            active=True,
            representatives=tuple(self.boards[national_id]),
        )

    def remove(self, national_id, code):
        self.boards[national_id] = [r for r in self.boards[national_id] if r[0] != code]


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def registry(monkeypatch):
    fake = FakeCompanies()
    monkeypatch.setattr(registry_checks, "company_record", fake.company_record)
    return fake


@pytest.fixture
def ceo(db):
    return make_citizen(CEO_CODE, "09121234567")


@pytest.fixture
def board_member(db):
    return make_citizen(BOARD_CODE, "09120000066", first_name="رضا", last_name="محمدی")


@pytest.fixture
def stranger(db):
    return make_citizen(STRANGER_CODE, "09350000001", first_name="علی", last_name="کریمی")


@pytest.fixture
def accountant(db):
    return make_citizen(ACCOUNTANT_CODE, "09120000077", first_name="سارا", last_name="نیکو")


def publish(authority, *, title_fa, registration_based, legal_days=10, fee_text=None, kind=None):
    conditions = [condition("مشخصات محل کسب")]
    if fee_text:
        conditions.append(condition(fee_text, kind="fee", text_en=""))
    version = operations.create_permit_type(
        roles.SYSTEM,
        authority=authority,
        kind=kind or ("home_business" if registration_based else "guild"),
        fields={
            "title_fa": title_fa,
            "title_en": "",
            "registration_based": registration_based,
            "legal_days": legal_days,
        },
        conditions=conditions,
    )
    operations.publish(roles.SYSTEM, version)
    version.permit.refresh_from_db()
    return version.permit


@pytest.fixture
def home_permit(authority):
    """Registration-based and free: issued at once."""
    return publish(
        authority,
        title_fa="مجوز کسب‌وکار خانگی شیرینی‌پزی",
        registration_based=True,
        legal_days=0,
        fee_text="صدور رایگان",
    )


@pytest.fixture
def window_permit(authority):
    """Approval-based, the authority has no portal: decided in the window."""
    return publish(authority, title_fa="پروانه کسب فروش نان", registration_based=False)


@pytest.fixture
def portal_authority(db):
    from tests.factories import make_agency

    agency = make_agency(name_fa="وزارت صمت آزمایشی", name_en="Test MIMT portal")
    return IssuingAuthority.objects.create(
        code="mimt-portal", name_fa="وزارت صمت", name_en="MIMT", agency=agency, portal="behinyab"
    )


@pytest.fixture
def portal_permit(portal_authority):
    return publish(portal_authority, title_fa="جواز تأسیس", registration_based=False, legal_days=15)


@pytest.fixture
def fee_permit(authority):
    """Registration-based with a fee of 500,000 rials."""
    return publish(
        authority,
        title_fa="مجوز خانگی خیاطی",
        registration_based=True,
        legal_days=0,
        fee_text="هزینه صدور: ۵۰۰٬۰۰۰ ریال، فقط پرداخت الکترونیکی",
    )


def treasury(agency):
    payments.save_treasury_account(
        agency, shaba=shaba(), treasury_id="4001", title="درآمد", actor=roles.SYSTEM
    )


def capture(payment: Payment) -> None:
    """The payment captured as the bank's verification would, and its purpose told."""
    # A captured payment is live (no end: payments' check constraint ties ``ended_at`` to the
    # ending states), even one the window had cancelled when the bank took the money.
    Payment.objects.filter(pk=payment.pk).update(
        state="captured", captured_amount=payment.amount, captured_at=timezone.now(), ended_at=None
    )
    assert purposes.tell(payment.pk)


DETAILS = {"province": "tehran", "address": "خیابان آزادی", "description": "پخت شیرینی در منزل"}


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client
