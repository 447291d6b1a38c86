"""Paying a bill: the numbers checked, the biller asked through the exchange (a real registry
process behind the real gateway of a live server), the bank's page, and the biller told once
the payment is captured, with its confirmation kept and the payer told in the inbox."""

from __future__ import annotations

import datetime as dt
import json
import urllib.request

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone, translation

from panjereh.catalogue import operations as catalogue_operations
from panjereh.catalogue import roles
from panjereh.catalogue.models import Agency
from panjereh.common.persian import to_persian_digits
from panjereh.exchange import breaker, gateway, provision
from panjereh.exchange.models import LogRecord
from panjereh.inbox.models import Message
from panjereh.payments import billing, bills, operations, purposes
from panjereh.payments.models import BillConfirmation, Payment, Refund
from panjereh.registries.supervisor import Cluster
from tests.factories import UserFactory

from .conftest import bank_page, shaba
from .test_flow import POOR, SUCCESS, TWICE

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PLATFORM = {
    "code": "ito",
    "name_fa": "سازمان فناوری اطلاعات ایران",
    "name_en": "Information Technology Organization of Iran",
    "kind": "organisation",
    "connection_status": "connected",
    "connection_form": "national_system",
    "member_class": "GOV",
    "member_code": "10103609470",
}


@pytest.fixture(autouse=True)
def _language_back():
    """A request under /en leaves English active in this thread: later tests expect Persian."""
    language = translation.get_language()
    yield
    translation.activate(language)


@pytest.fixture(scope="session")
def billers():
    cluster = Cluster("small", seed=1404, registries=("billers",)).start()
    yield cluster
    cluster.stop()


def add_bill(billers, amount_thousands: int = 250, *, paid: bool = False, body: str = "") -> dict:
    """A new bill at the biller (its control address, not the exchange): its two numbers."""
    add_bill.n += 1
    data = {
        "body": body or f"{31_000_000 + add_bill.n}0452",  # file number, company 045, electricity
        "amount_thousands": amount_thousands,
        "period": 7,
        "paid": paid,
    }
    request = urllib.request.Request(  # noqa: S310 -- the test's own loopback process
        f"{billers.url('billers')}/_bills",
        data=json.dumps(data).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310
        return json.loads(answer.read())


add_bill.n = 0


@pytest.fixture
def window(live_server, billers, settings, tmp_path):
    """The exchange knows the billers; the national window holds grants on their services;
    the billers' agency has a treasury account."""
    settings.VAR_DIR = tmp_path
    settings.PANJEREH_PAYMENTS_EXCHANGE_URL = live_server.url
    settings.PANJEREH_EXCHANGE_SEAL_INTERVAL = 0
    gateway.clear_caches()
    breaker.reset()
    cache.clear()
    provision.register_registries(billers.addresses())
    operator = catalogue_operations.save_agency(
        Agency(), dict(PLATFORM), author=catalogue_operations.SYSTEM
    )
    billing.provision(operator, resolution_number="1404/test")
    operations.save_treasury_account(
        billing.billers_agency(),
        shaba=shaba(),
        treasury_id="4001000099",
        title="حساب درآمد قبوض",
        actor=roles.SYSTEM,
    )
    yield billers
    billers.control("billers", mode="normal")
    breaker.reset()


@pytest.fixture
def person(db):
    user = UserFactory(is_staff=False, national_code="0012345679", mobile="09121234567")
    user.save()
    return user


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def form(client: Client, bill_id: str, payment_id: str, action: str = "check", *, lang="fa"):
    """The bill form posted; ``lang`` is the page's language (English under ``/en``)."""
    prefix = "/en" if lang == "en" else ""
    return client.post(
        f"{prefix}/payments/bills/",
        {"bill_id": bill_id, "payment_id": payment_id, "action": action},
    )


def pay_at_bank(client: Client, bill: dict, card: str = SUCCESS):
    """Pay on the window's page, then on the bank's page; the bank's callback fields."""
    answer = form(client, bill["bill_id"], bill["payment_id"], "pay")
    assert answer.status_code == 302, answer.content.decode()[:2000]
    return bank_page(answer["Location"], card)


def callback(client: Client, fields: dict):
    return client.post("/payments/callback/simulated/", fields)


# -- the numbers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "change"),
    [
        ("bill_id", lambda b, p: (b[:-1] + str((int(b[-1]) + 1) % 10), p)),
        ("payment_id", lambda b, p: (b, p[:-1] + str((int(p[-1]) + 1) % 10))),
    ],
)
def test_a_wrong_check_digit_in_either_number_is_refused_in_persian_and_changes_nothing(
    window, person, field, change
):
    bill = add_bill(window)
    bill_id, payment_id = change(bill["bill_id"], bill["payment_id"])
    calls = LogRecord.objects.count()
    with translation.override("fa"):
        answer = form(signed_in(person), bill_id, payment_id)
    page = answer.content.decode()
    assert answer.status_code == 400
    assert page.index('class="error-summary"') < page.index("<h1")  # the summary first
    assert f'href="#id_{field}"' in page and 'aria-invalid="true"' in page
    assert "معتبر نیست" in page  # "... is not valid", in Persian
    assert f'value="{bill_id}"' in page and f'value="{payment_id}"' in page  # the form kept
    assert Payment.objects.count() == 0
    assert LogRecord.objects.count() == calls  # the biller was not even asked


def test_persian_and_arabic_digits_are_read_as_the_same_numbers(window, person):
    bill = add_bill(window, 480)
    client = signed_in(person)
    persian = (to_persian_digits(bill["bill_id"]), to_persian_digits(bill["payment_id"]))
    arabic_digits = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
    arabic = (bill["bill_id"].translate(arabic_digits), bill["payment_id"].translate(arabic_digits))
    for bill_id, payment_id in (persian, arabic):
        with translation.override("fa"):
            answer = form(client, bill_id, payment_id)
        page = answer.content.decode()
        assert answer.status_code == 200, page
        assert 'id="bill-summary"' in page and "برق" in page
        assert "۴۸۰٬۰۰۰" in page  # 480,000 rials, Persian digits
        assert f'name="bill_id" value="{bill["bill_id"]}"' in page
    assert Payment.objects.count() == 0  # looking is not paying


def test_a_bill_the_biller_does_not_know_is_refused(window, person):
    body = "77000123452"
    bill_id = bills.make_bill_id(body)  # checks, but the biller never issued it
    payment_id = bills.make_payment_id(bill_id, 90, 4, 3)
    answer = form(signed_in(person), bill_id, payment_id, lang="en")
    assert answer.status_code == 400
    assert (
        "The biller has no unpaid bill with this bill ID and payment ID" in answer.content.decode()
    )
    assert Payment.objects.count() == 0


def test_a_bill_already_paid_is_refused(window, person):
    bill = add_bill(window, paid=True)
    answer = form(signed_in(person), bill["bill_id"], bill["payment_id"], "pay", lang="en")
    assert answer.status_code == 400
    assert "The biller says this bill is already paid." in answer.content.decode()
    assert Payment.objects.count() == 0


def test_the_form_needs_its_csrf_token(window, person):
    bill = add_bill(window)
    client = Client(enforce_csrf_checks=True)
    client.force_login(person)
    answer = client.post(
        "/payments/bills/", {"bill_id": bill["bill_id"], "payment_id": bill["payment_id"]}
    )
    assert answer.status_code == 403
    assert Payment.objects.count() == 0


def test_nul_bytes_and_huge_input_are_refused_and_change_nothing(window, person):
    client = signed_in(person)
    assert form(client, "77483178\x0000142", "1770160").status_code == 400
    assert form(client, "7" * 5000, "1770160").status_code == 400
    assert Payment.objects.count() == 0


def test_paying_needs_a_signed_in_person(window):
    answer = Client().get("/payments/bills/")
    assert answer.status_code == 302 and "login" in answer["Location"]


# -- paying and the biller's confirmation -------------------------------------------------------


def test_a_paid_bill_is_confirmed_by_the_biller_and_the_payer_is_told(window, person):
    bill = add_bill(window, 1_250)
    client = signed_in(person)
    with translation.override("fa"):
        answer = form(client, bill["bill_id"], bill["payment_id"])
    assert answer.status_code == 200 and "۱٬۲۵۰٬۰۰۰" in answer.content.decode()
    result = pay_at_bank(client, bill)
    payment = Payment.objects.get()
    assert payment.purpose_kind == "bill"
    assert payment.purpose_id == f"{bill['bill_id']}-{bill['payment_id']}"
    assert payment.amount == 1_250_000 and payment.agency == billing.billers_agency()
    back = callback(client, result.fields)
    assert back.status_code == 302 and back["Location"].endswith(
        f"/payments/bills/back/{payment.purpose_id}/"
    )
    page = client.get(back["Location"], follow=True)
    payment.refresh_from_db()
    assert payment.state == "captured" and payment.purpose_told_at is not None
    confirmation = BillConfirmation.objects.get(payment=payment)
    assert confirmation.biller_ref.isdigit() and confirmation.message_id
    assert 'id="confirmed"' in page.content.decode()
    assert (
        confirmation.biller_ref in page.content.decode()
        or to_persian_digits(confirmation.biller_ref) in page.content.decode()
    )
    notice = Message.objects.get(user=person)
    assert notice.kind == "notice" and to_persian_digits(confirmation.biller_ref) in notice.body_fa
    assert notice.link_url.endswith(f"/payments/bills/{payment.reference}/")
    # The biller keeps it: the bill is now paid for anyone who asks.
    again = form(signed_in(person), bill["bill_id"], bill["payment_id"], lang="en")
    assert "already paid" in again.content.decode()
    # Both calls went through the exchange, about the payer.
    calls = LogRecord.objects.filter(service__subsystem=billing.SUBSYSTEM)
    assert {c.service.code for c in calls} >= {"bill", "bill-payment"}


def test_a_duplicated_callback_gives_one_confirmation(window, person):
    bill = add_bill(window)
    client = signed_in(person)
    result = pay_at_bank(client, bill, TWICE)
    assert result.repeat == 2
    for _time in range(result.repeat):
        callback(client, result.fields)
    payment = Payment.objects.get()
    assert payment.state == "captured"
    assert purposes.tell(payment.pk) is False
    billing.confirm(payment)  # told again by hand: still one
    assert BillConfirmation.objects.filter(payment=payment).count() == 1
    assert Message.objects.filter(user=person).count() == 1
    # A process that stored the confirmation and died before the notice: told again, it
    # posts the notice (still one confirmation).
    Message.objects.filter(user=person).delete()
    billing.confirm(payment)
    assert Message.objects.filter(user=person).count() == 1
    assert BillConfirmation.objects.filter(payment=payment).count() == 1


def test_the_biller_answers_the_same_confirmation_to_the_same_payment(window, person):
    bill = add_bill(window)
    client = signed_in(person)
    callback(client, pay_at_bank(client, bill).fields)
    payment = Payment.objects.get()
    first = BillConfirmation.objects.get(payment=payment)
    first_ref = first.biller_ref
    first.delete()  # as if the window had lost it: the biller is told again
    billing.confirm(payment)
    assert BillConfirmation.objects.get(payment=payment).biller_ref == first_ref


def test_a_biller_down_is_told_again_later_and_the_person_sees_it_pending(window, person):
    bill = add_bill(window)
    client = signed_in(person)
    answer = form(client, bill["bill_id"], bill["payment_id"], "pay")
    window.control("billers", mode="fail", status=503)
    callback(client, bank_page(answer["Location"], SUCCESS).fields)
    payment = Payment.objects.get()
    assert payment.state == "captured" and payment.purpose_told_at is None
    assert not BillConfirmation.objects.exists()
    page = client.get(f"/en/payments/bills/{payment.reference}/").content.decode()
    assert 'id="pending"' in page and "confirmation is pending" in page
    assert not Message.objects.filter(user=person).exists()
    # The biller is back; the job tells it.
    window.control("billers", mode="normal")
    breaker.reset()
    Payment.objects.filter(pk=payment.pk).update(
        captured_at=timezone.now() - dt.timedelta(minutes=2)
    )
    assert purposes.tell_due() == 1
    assert BillConfirmation.objects.filter(payment=payment).count() == 1
    payment.refresh_from_db()
    assert payment.purpose_told_at is not None
    assert 'id="confirmed"' in client.get(f"/payments/bills/{payment.reference}/").content.decode()


def test_a_bill_paid_elsewhere_meanwhile_is_given_back(window, person, billers):
    bill = add_bill(window)
    client = signed_in(person)
    answer = form(client, bill["bill_id"], bill["payment_id"], "pay")
    # Paid at a bank's counter while the person was on the bank's page.
    billers_url = billers.url("billers")
    request = urllib.request.Request(  # noqa: S310
        f"{billers_url}/_bills",
        data=json.dumps(
            {"bill_id": bill["bill_id"], "amount_thousands": 250, "period": 7, "paid": True}
        ).encode(),
    )
    urllib.request.urlopen(request, timeout=5).close()  # noqa: S310
    callback(client, bank_page(answer["Location"], SUCCESS).fields)
    payment = Payment.objects.get()
    assert payment.state == "captured" and payment.purpose_told_at is not None
    refund = Refund.objects.get(payment=payment)
    assert refund.amount == payment.amount
    assert not BillConfirmation.objects.exists()
    page = client.get(f"/en/payments/bills/{payment.reference}/").content.decode()
    assert 'id="given-back"' in page


def test_a_declined_card_tells_the_biller_nothing(window, person):
    bill = add_bill(window)
    client = signed_in(person)
    callback(client, pay_at_bank(client, bill, POOR).fields)
    assert Payment.objects.get().state == "failed"
    assert not BillConfirmation.objects.exists()
    # And the bill can be paid again.
    callback(client, pay_at_bank(client, bill).fields)
    assert BillConfirmation.objects.count() == 1


def test_another_persons_bill_payment_page_is_not_found(window, person):
    bill = add_bill(window)
    client = signed_in(person)
    callback(client, pay_at_bank(client, bill).fields)
    payment = Payment.objects.get()
    other = UserFactory(is_staff=False, national_code="0012345687")
    other.save()
    stranger = signed_in(other)
    assert stranger.get(f"/payments/bills/{payment.reference}/").status_code == 404
    assert stranger.get(f"/payments/bills/back/{payment.purpose_id}/").status_code == 404
    assert client.get(f"/payments/bills/{payment.reference}/").status_code == 200


def test_a_bill_someone_else_is_paying_is_refused(window, person):
    bill = add_bill(window)
    form(signed_in(person), bill["bill_id"], bill["payment_id"], "pay")  # at the bank now
    other = UserFactory(is_staff=False, national_code="0012345687")
    other.save()
    answer = form(signed_in(other), bill["bill_id"], bill["payment_id"], "pay", lang="en")
    assert answer.status_code == 400
    assert "being paid by someone else" in answer.content.decode()
    assert Payment.objects.count() == 1


def test_the_biller_down_when_asked_refuses_with_a_clear_message(window, person):
    bill = add_bill(window)
    window.control("billers", mode="drop")
    answer = form(signed_in(person), bill["bill_id"], bill["payment_id"], lang="en")
    assert answer.status_code == 503
    assert "The biller cannot be reached now" in answer.content.decode()
    assert Payment.objects.count() == 0
