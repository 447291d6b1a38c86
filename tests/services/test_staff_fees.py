"""The agency's staff see each application's fee and where its payment is, in plain words
(paid, awaiting payment, given back), in the queue and on the application's page; Persian
digits with the Persian thousands separator on Persian pages."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation

from panjereh.catalogue import roles
from panjereh.payments import operations
from panjereh.payments.models import Payment
from panjereh.services import definitions, engine, fees
from tests.factories import UserFactory, make_agency_staff
from tests.payments.conftest import shaba

from .test_fees import permit_spec

pytestmark = pytest.mark.django_db


@pytest.fixture
def permit(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.PANJEREH_TASKS = "inprocess"
    definition, _created = definitions.load_spec(permit_spec(fee_refundable=False))
    operations.save_treasury_account(
        definition.agency, shaba=shaba(), treasury_id="40010", title="درآمد", actor=roles.SYSTEM
    )
    return definition


def _applied(definition, national_code: str, kind: str = "private"):
    user = UserFactory(national_code=national_code, is_staff=False, assurance_level=3)
    application, _created = engine.submit(
        definition, user, idempotency_key=national_code, inputs={"kind": kind, "pledge": "yes"}
    )
    application.refresh_from_db()
    if application.fee_rials:
        fees.ask(application)  # after the submission commits (idempotent; here at once)
    return application


def _paid(application, refunded: int = 0) -> Payment:
    payment = Payment.objects.get(purpose_id=application.tracking_code)
    Payment.objects.filter(pk=payment.pk).update(
        state="captured", captured_amount=payment.amount, refunded_amount=refunded
    )
    return payment


def test_the_queue_and_the_page_show_the_fee_and_its_payment(permit):
    waiting = _applied(permit, "0012345679")
    paid = _applied(permit, "0084575948")
    given_back = _applied(permit, "0013542419", kind="commercial")
    halfway = _applied(permit, "0010350829")
    assert waiting.fee_rials == 1_200_000 and given_back.fee_rials == 5_000_000
    paid_payment = _paid(paid)
    _paid(given_back, refunded=5_000_000)
    _paid(halfway, refunded=200_000)
    client = Client()
    client.force_login(make_agency_staff(permit.agency, "viewer"))
    with translation.override("fa"):
        queue = client.get("/services/agency/").content.decode()
    assert 'data-fee-phase="awaiting"' in queue and "۱٬۲۰۰٬۰۰۰ ریال — در انتظار پرداخت" in queue
    assert "۱٬۲۰۰٬۰۰۰ ریال — پرداخت شد" in queue
    assert "۵٬۰۰۰٬۰۰۰ ریال — پرداخت و بازگردانده شد" in queue
    assert "پرداخت شد؛ ۲۰۰٬۰۰۰ ریال بازگردانده شد" in queue
    page = client.get(f"/services/agency/a/{paid.tracking_code}/").content.decode()
    assert 'id="fee"' in page and "۱٬۲۰۰٬۰۰۰ ریال — پرداخت شد" in page
    assert paid_payment.reference not in page  # in Persian digits, not the raw code
    assert "در صورت رد درخواست بازگردانده نمی‌شود" in page
    english = client.get(f"/en/services/agency/a/{waiting.tracking_code}/").content.decode()
    assert "1,200,000 rials — awaiting payment" in english
    assert "Payment reference" not in english  # nothing paid yet


def test_a_free_application_says_free_and_another_agencys_is_not_shown(permit):
    spec = permit_spec(code="free-test", fee_rials=0, service_id=permit_spec()["service_id"])
    spec.pop("fee_rules", None)
    free_definition, _created = definitions.load_spec(spec)
    free = _applied(free_definition, "0012345679")
    assert free.fee_rials == 0
    client = Client()
    client.force_login(make_agency_staff(permit.agency, "viewer"))
    page = client.get(f"/en/services/agency/a/{free.tracking_code}/").content.decode()
    assert 'data-fee-phase="free"' in page
    stranger = Client()
    stranger.force_login(UserFactory(national_code="0084575948", is_staff=False))
    assert stranger.get("/services/agency/").status_code == 403
