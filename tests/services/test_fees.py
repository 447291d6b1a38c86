"""Fees: a fee-bearing application waits for its payment, goes on when the simulated PSP (a
real process over HTTP) has verified it, gets a signed receipt in the inbox, and a rejected
one is given its fee back by itself. Money is counted in and out against the bank."""

from __future__ import annotations

import copy
import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone, translation

from panjereh.catalogue import roles
from panjereh.inbox.models import Message
from panjereh.payments import operations, providers, purposes
from panjereh.payments import queries as payment_queries
from panjereh.payments.models import Payment, Refund
from panjereh.services import definitions, documents, engine, fees, workflow
from panjereh.services.models import Application, JourneyEvent, Origin, Receipt, State
from tests.factories import UserFactory, make_agency_staff, next_service_id
from tests.payments.conftest import (  # noqa: F401  (fixtures used by name)
    _psp_settings,
    bank_page,
    callback_path,
    psp,
    shaba,
)
from tests.payments.test_flow import POOR, SUCCESS

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

FISHING = "recreational-fishing-licence"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def permit_spec(**changes) -> dict:
    """A fee-bearing service that runs by itself: its fee depends on what is typed, and a
    typed answer can make it rejected."""
    spec = {
        "code": "fee-test-permit",
        "version": 1,
        "service_id": next_service_id(),
        "agency": {"code": "feeagency", "name_fa": "سازمان آزمایشی هزینه", "name_en": "Fee Agency"},
        "title_fa": "مجوز آزمایشی",
        "title_en": "Test permit",
        "smart": False,
        "assurance_level": 1,
        "target_minutes": 60,
        "fee_rials": 1_200_000,
        "fee_rules": [
            {
                "rule": {"field": "input.kind", "op": "eq", "value": "commercial"},
                "amount_rials": 5_000_000,
                "label_fa": "بهره‌برداری تجاری",
                "label_en": "Commercial use",
            },
            {
                "rule": {"field": "input.kind", "op": "eq", "value": "student"},
                "amount_rials": 0,
                "label_fa": "دانشجویی",
                "label_en": "Students",
            },
        ],
        "data": [],
        "inputs": [
            {
                "code": "kind",
                "source": "user",
                "required": True,
                "label_fa": "نوع",
                "label_en": "Kind",
            },
            {
                "code": "pledge",
                "source": "user",
                "required": True,
                "label_fa": "تعهد",
                "label_en": "Pledge",
            },
        ],
        "steps": [{"code": "issue", "kind": "automatic", "label_fa": "صدور", "label_en": "Issue"}],
        "eligibility": [
            {
                "rule": {"field": "input.pledge", "op": "eq", "value": "yes"},
                "reason": {"code": "pledge", "fa": "تعهد پذیرفته نشد", "en": "No pledge"},
            }
        ],
        "decision": {
            "approved": {"fa": "مجوز صادر شد.", "en": "The permit was issued."},
            "rejected": {"fa": "مجوز صادر نشد.", "en": "The permit was not issued."},
        },
        "document": {
            "type": "fee-test-permit",
            "title_fa": "مجوز آزمایشی",
            "title_en": "Test permit",
            "statement_fa": "دارنده کد ملی {subject} مجاز است.",
            "fields": [{"label_fa": "کد ملی", "label_en": "National code", "value": "{subject}"}],
        },
    }
    spec.update(changes)
    return spec


@pytest.fixture
def permit(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.PANJEREH_TASKS = "inprocess"
    definition, _created = definitions.load_spec(permit_spec())
    operations.save_treasury_account(
        definition.agency, shaba=shaba(), treasury_id="40010", title="درآمد", actor=roles.SYSTEM
    )
    return definition


@pytest.fixture
def person():
    return UserFactory(
        national_code="0012345679", is_staff=False, assurance_level=3, mobile="09120000001"
    )


@pytest.fixture
def stranger():
    return UserFactory(national_code="0084575948", is_staff=False, assurance_level=3)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def submit(definition, user, key="k1", **inputs) -> Application:
    inputs = inputs or {"kind": "private", "pledge": "yes"}
    application, created = engine.submit(definition, user, idempotency_key=key, inputs=inputs)
    assert created
    application.refresh_from_db()
    return application


def pay_in_browser(client: Client, application: Application, card: str, lang: str = ""):
    """ "Pay now" on the application's page, the bank's page, and back (as the browser does)."""
    answer = client.post(f"{lang}/services/a/{application.tracking_code}/pay/")
    assert answer.status_code == 302, answer.content.decode()[:500]
    result = bank_page(answer["Location"], card)
    back = client.post(callback_path(result), result.fields)
    assert back.status_code == 302
    # Back to the application's page (in the language the payment was asked in).
    assert back["Location"].endswith(f"/services/a/{application.tracking_code}/")
    application.refresh_from_db()
    return result


def held_by_bank(payment: Payment) -> int:
    status = providers.get().inquire(payment)
    return status.amount if status.state == providers.VERIFIED else 0


# -- the definition -----------------------------------------------------------------------------


def test_the_fee_is_the_first_rule_that_holds_else_the_fixed_fee():
    spec = permit_spec()
    assert fees.amount(spec, {"kind": "commercial"}) == 5_000_000
    assert fees.amount(spec, {"kind": "student"}) == 0
    assert fees.amount(spec, {"kind": "private"}) == 1_200_000
    assert fees.amount({**spec, "fee_rules": [], "fee_rials": 0}, {}) == 0
    assert fees.amount({k: v for k, v in spec.items() if k != "fee_rials"}, {"kind": "x"}) == 0


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda s: s["fee_rules"][0].update(amount_rials=-5), "fee_rules"),
        (lambda s: s["fee_rules"][0].update(amount_rials="5"), "fee_rules"),
        (lambda s: s["fee_rules"][0].pop("label_fa"), "fee_rules"),
        (lambda s: s["fee_rules"][0].update(colour="red"), "fee_rules"),
        (lambda s: s["fee_rules"][0].update(rule={"field": "input.kind", "op": "??"}), "malformed"),
        (
            lambda s: s["fee_rules"][0].update(rule={"field": "civil.age", "op": "gt", "value": 1}),
            "only what the applicant types",
        ),
        (
            lambda s: s["fee_rules"][0].update(rule={"field": "input.nobody", "op": "empty"}),
            "only what the applicant types",
        ),
        (lambda s: s.update(fee_refundable="yes"), "fee_refundable"),
        (lambda s: s.update(fee_rials=10**14), "at most"),
    ],
)
def test_validate_refuses_bad_fee_rules(change, words):
    spec = copy.deepcopy(permit_spec())
    assert definitions.validate(spec) == []
    change(spec)
    with translation.override("en"):
        problems = definitions.validate(spec)
    assert any(words in problem for problem in problems), problems


# -- waiting for the payment ----------------------------------------------------------------------


def test_a_fee_bearing_application_waits_for_its_payment_and_is_not_processed(permit, person):
    application = submit(permit, person, kind="commercial", pledge="yes")
    assert application.state == State.AWAITING_PAYMENT and application.fee_rials == 5_000_000
    assert application.next_attempt_at is None
    payment = payment_queries.live_payment("application", application.tracking_code)
    assert payment.state == "created" and payment.amount == 5_000_000
    assert payment.payer_id == person.pk and payment.agency_id == permit.agency_id
    assert application.pk not in engine.due()
    assert engine.advance(application.pk) == State.AWAITING_PAYMENT
    kinds = list(application.events.values_list("kind", flat=True))
    assert kinds == ["submitted", "payment"]
    # A free answer makes a free application that runs at once.
    free = submit(permit, person, key="k2", kind="student", pledge="yes")
    assert free.state == State.SUBMITTED and free.fee_rials == 0
    assert payment_queries.live_payment("application", free.tracking_code) is None
    assert engine.advance(free.pk) == State.ISSUED


def test_paid_it_proceeds_to_issued_with_a_signed_receipt_in_the_inbox(permit, person):
    application = submit(permit, person)
    client = signed_in(person)
    page = client.get(f"/services/a/{application.tracking_code}/").content.decode()
    assert 'id="pay-now"' in page and "۱٬۲۰۰٬۰۰۰" in page
    pay_in_browser(client, application, SUCCESS)
    assert application.state == State.SUBMITTED and application.next_attempt_at is not None
    assert application.pk in engine.due()
    assert engine.advance(application.pk) == State.ISSUED
    receipt = Receipt.objects.get(application=application)
    payment = payment_queries.by_reference(receipt.payment_reference)
    assert receipt.amount == payment.captured_amount == 1_200_000 == held_by_bank(payment)
    # Signed by the collecting agency; verifiable online by its text and by its number.
    verdict = documents.verify(receipt.token)
    assert verdict.status == "valid" and verdict.claims["amt"] == 1_200_000
    assert verdict.claims["ref"] == payment.reference
    assert documents.verify_reference(receipt.number).status == "valid"
    forged = receipt.token[:-4] + ("AAAA" if not receipt.token.endswith("AAAA") else "BBBB")
    assert documents.verify(forged).status == "invalid"
    # In the inbox, with its PDF (QR and the signed text inside).
    message = Message.objects.get(user=person, dedupe_key=f"receipt:{payment.reference}")
    assert message.document_url == f"/services/receipts/{receipt.number}.pdf"
    assert "۱٬۲۰۰٬۰۰۰" in message.body_fa and receipt.number in message.body_fa
    pdf = client.get(message.document_url)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert documents.token_from_file(pdf.content) == receipt.token
    # On paper: Persian digits with the Persian thousands separator, the Jalali date.
    text = documents.pdf_html(receipt)
    assert text.count("۱٬۲۰۰٬۰۰۰") >= 2 and "1,200,000" not in text and "۱,۲۰۰" not in text
    page = client.get(f"/services/a/{application.tracking_code}/").content.decode()
    assert 'data-phase="paid"' in page and 'id="pay-now"' not in page
    assert receipt.number in page.replace('<bdi dir="ltr" class="code">', "")
    verify_page = Client().get(f"/en/services/verify/?ref={receipt.number}").content.decode()
    assert 'data-status="valid"' in verify_page and "This receipt is valid" in verify_page
    # Told again (the outbox's job): nothing doubles.
    fees.paid(payment)
    assert Receipt.objects.filter(application=application).count() == 1
    assert Message.objects.filter(user=person, dedupe_key__startswith="receipt:").count() == 1
    assert application.events.filter(to_state=State.SUBMITTED).count() == 1


def test_a_declined_card_leaves_it_waiting_and_paying_again_makes_it_proceed(permit, person):
    application = submit(permit, person)
    client = signed_in(person)
    first = pay_in_browser(client, application, POOR)
    assert first.fields["status"] == "failed"
    assert application.state == State.AWAITING_PAYMENT
    failed = fees.latest_payment(application)
    assert failed.state == "failed" and held_by_bank(failed) == 0
    page = client.get(f"/services/a/{application.tracking_code}/").content.decode()
    assert 'data-phase="failed"' in page and 'id="pay-now"' in page
    assert not Receipt.objects.exists()
    pay_in_browser(client, application, SUCCESS)
    assert application.state == State.SUBMITTED
    second = fees.latest_payment(application)
    assert second.reference != failed.reference and second.state == "captured"
    assert engine.advance(application.pk) == State.ISSUED
    assert [r.payment_reference for r in Receipt.objects.all()] == [second.reference]


def test_a_rejected_application_is_refunded_by_itself_and_told(permit, person):
    application = submit(permit, person, kind="private", pledge="no")
    pay_in_browser(signed_in(person), application, SUCCESS)
    assert engine.advance(application.pk) == State.REJECTED
    application.refresh_from_db()
    assert application.fee_refund_checked_at is not None
    payment = fees.latest_payment(application)
    refund = Refund.objects.get(payment=payment)
    assert refund.state == "refunded" and refund.amount == 1_200_000
    assert refund.idempotency_key == f"reject:{application.tracking_code}"
    assert payment.refunded_amount == payment.captured_amount == 1_200_000
    today = timezone.localdate()
    totals = payment_queries.figures(
        start=today - dt.timedelta(days=1), end=today + dt.timedelta(days=1)
    )
    assert totals.total("collected") == 1_200_000 and totals.total("refunded") == 1_200_000
    notice = Message.objects.get(user=person, dedupe_key=f"decision:{application.tracking_code}")
    assert "بازگردانده" in notice.body_fa and "given back" in notice.body_en
    assert application.events.filter(kind=JourneyEvent.Kind.REFUND).count() == 1
    # Asked again (the job): one refund.
    assert fees.refund_rejected(application.pk) is True
    assert Refund.objects.filter(payment=payment).count() == 1


def test_a_non_refundable_fee_is_kept_and_the_notice_says_so(settings, tmp_path, person):
    settings.VAR_DIR = tmp_path
    definition, _ = definitions.load_spec(permit_spec(fee_refundable=False))
    operations.save_treasury_account(
        definition.agency, shaba=shaba(), treasury_id="40010", title="درآمد", actor=roles.SYSTEM
    )
    application = submit(definition, person, kind="private", pledge="no")
    pay_in_browser(signed_in(person), application, SUCCESS)
    assert engine.advance(application.pk) == State.REJECTED
    assert not Refund.objects.exists()
    application.refresh_from_db()
    assert application.fee_refund_checked_at is not None  # nothing owed: not looked at again
    assert fees.refund_due() == 0
    notice = Message.objects.get(user=person, dedupe_key=f"decision:{application.tracking_code}")
    assert "not refundable" in notice.body_en


def test_an_officers_rejection_refunds_the_fee(settings, tmp_path, person):
    settings.VAR_DIR = tmp_path
    settings.PANJEREH_SERVICES_UPLOAD_STORAGE = None
    assert not definitions.load().refused
    fishing = definitions.active(FISHING)
    operations.save_treasury_account(
        fishing.agency, shaba=shaba(), treasury_id="40011", title="درآمد", actor=roles.SYSTEM
    )
    application, _ = engine.submit(
        fishing,
        person,
        idempotency_key="f1",
        inputs={"fishing_area": "دریای خزر"},
        files={"safety_course": SimpleUploadedFile("c.pdf", PDF, content_type="application/pdf")},
    )
    application.refresh_from_db()
    assert application.state == State.AWAITING_PAYMENT and application.fee_rials == 1_500_000
    pay_in_browser(signed_in(person), application, SUCCESS)
    assert engine.advance(application.pk) == State.HUMAN_REVIEW
    officer = make_agency_staff(fishing.agency, "editor")
    engine.decide_by_officer(application, officer, approved=False, note="گواهی خوانا نیست")
    application.refresh_from_db()
    assert application.state == State.REJECTED
    refund = Refund.objects.get(payment__purpose_id=application.tracking_code)
    assert refund.state == "refunded" and refund.amount == 1_500_000


def test_a_refund_that_does_not_get_through_is_asked_again_by_the_job(permit, person, monkeypatch):
    application = submit(permit, person, kind="private", pledge="no")
    pay_in_browser(signed_in(person), application, SUCCESS)
    real = operations.request_refund

    def down(*args, **kwargs):
        raise RuntimeError("the payments database is away")

    monkeypatch.setattr(operations, "request_refund", down)
    assert engine.advance(application.pk) == State.REJECTED
    application.refresh_from_db()
    assert application.fee_refund_checked_at is None and not Refund.objects.exists()
    monkeypatch.setattr(operations, "request_refund", real)
    assert fees.refund_due() == 0  # within the grace period the first try is not raced
    Application.objects.filter(pk=application.pk).update(
        completed_at=timezone.now() - dt.timedelta(minutes=5)
    )
    assert fees.refund_due() == 1
    refund = Refund.objects.get()
    assert refund.state == "refunded" and refund.amount == 1_200_000
    assert fees.refund_due() == 0


def test_a_refund_while_the_bank_is_down_is_given_by_the_payments_job(permit, person, psp):  # noqa: F811
    application = submit(permit, person, kind="private", pledge="no")
    pay_in_browser(signed_in(person), application, SUCCESS)
    psp.control(mode="down")
    try:
        assert engine.advance(application.pk) == State.REJECTED
    finally:
        psp.control(mode="normal")
    refund = Refund.objects.get()
    assert refund.state == "requested"  # reserved, waiting for the bank
    application.refresh_from_db()
    assert application.fee_refund_checked_at is not None
    operations.submit_refunds_due()
    refund.refresh_from_db()
    assert refund.state == "refunded"


# -- withdrawing, closing unpaid -----------------------------------------------------------------


def test_the_applicant_withdraws_an_unpaid_application_and_its_payment_is_cancelled(
    permit, person, stranger
):
    application = submit(permit, person)
    client = signed_in(person)
    answer = client.post(f"/services/a/{application.tracking_code}/pay/")
    assert answer.status_code == 302  # at the bank, not paid
    assert (
        signed_in(stranger).post(f"/services/a/{application.tracking_code}/withdraw/").status_code
        == 404
    )
    with pytest.raises(roles.NotPermitted):
        fees.withdraw(application, actor=stranger)
    assert client.post(f"/services/a/{application.tracking_code}/withdraw/").status_code == 302
    application.refresh_from_db()
    assert application.state == State.CLOSED and application.completed_at is not None
    assert fees.latest_payment(application).state == "cancelled"
    again = client.post(f"/services/a/{application.tracking_code}/withdraw/")
    assert again.status_code == 409
    assert client.post(f"/services/a/{application.tracking_code}/pay/").status_code == 409


def test_an_application_unpaid_too_long_is_closed_and_the_person_told(permit, person, settings):
    settings.PANJEREH_SERVICES_UNPAID_DAYS = 14
    old = submit(permit, person, key="old")
    fresh = submit(permit, person, key="fresh", kind="commercial", pledge="yes")
    Application.objects.filter(pk=old.pk).update(
        submitted_at=timezone.now() - dt.timedelta(days=15)
    )
    assert fees.close_unpaid() == 1
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.state == State.CLOSED and fresh.state == State.AWAITING_PAYMENT
    assert fees.latest_payment(old).state == "cancelled"
    notice = Message.objects.get(user=person, dedupe_key=f"fee-unpaid:{old.tracking_code}")
    assert "۱۴" in notice.body_fa
    assert fees.close_unpaid() == 0


def test_paid_after_it_was_closed_the_money_goes_back(permit, person):
    application = submit(permit, person)
    client = signed_in(person)
    bank_url = client.post(f"/services/a/{application.tracking_code}/pay/")["Location"]
    result = bank_page(bank_url, SUCCESS)
    # Closed by the job while the payer was at the bank (the payment could not be cancelled
    # here because the test moves the state behind its back).
    workflow.transition(application, State.CLOSED, text_fa="بسته شد", text_en="closed")
    client.post(callback_path(result), result.fields)
    application.refresh_from_db()
    assert application.state == State.CLOSED
    refund = Refund.objects.get()
    assert refund.state == "refunded" and refund.amount == 1_200_000


# -- an agency that cannot take payments yet -----------------------------------------------------


def test_without_a_treasury_account_it_waits_and_the_page_says_why(settings, tmp_path, person):
    settings.VAR_DIR = tmp_path
    definition, _ = definitions.load_spec(permit_spec())
    application = submit(definition, person)
    assert application.state == State.AWAITING_PAYMENT
    assert payment_queries.live_payment("application", application.tracking_code) is None
    assert application.events.filter(data__no_account=True).count() == 1
    client = signed_in(person)
    page = client.get(f"/en/services/a/{application.tracking_code}/").content.decode()
    assert 'data-phase="no_account"' in page and "cannot take payments yet" in page
    answer = client.post(f"/en/services/a/{application.tracking_code}/pay/")
    assert answer.status_code == 503 and 'id="error-summary"' in answer.content.decode()
    operations.save_treasury_account(
        definition.agency, shaba=shaba(), treasury_id="40012", title="درآمد", actor=roles.SYSTEM
    )
    pay_in_browser(client, application, SUCCESS, lang="/en")
    assert application.state == State.SUBMITTED


# -- proactive ------------------------------------------------------------------------------------


def test_a_proactive_fee_bearing_application_waits_and_the_person_is_told(permit, person):
    application, _ = engine.submit(
        permit,
        person,
        idempotency_key="event-1",
        inputs={"kind": "private", "pledge": "yes"},
        origin=Origin.PROACTIVE,
    )
    application.refresh_from_db()
    assert application.state == State.AWAITING_PAYMENT
    notice = Message.objects.get(user=person, dedupe_key=f"fee-due:{application.tracking_code}")
    assert "۱٬۲۰۰٬۰۰۰" in notice.body_fa and notice.link_url.endswith(
        f"/a/{application.tracking_code}/"
    )


# -- who may, and bad input -----------------------------------------------------------------------


def test_another_persons_application_and_receipt_are_not_found(permit, person, stranger):
    application = submit(permit, person)
    pay_in_browser(signed_in(person), application, SUCCESS)
    receipt = Receipt.objects.get()
    other = signed_in(stranger)
    assert other.post(f"/services/a/{application.tracking_code}/pay/").status_code == 404
    assert other.get(f"/services/receipts/{receipt.number}.pdf").status_code == 404
    assert Client().get(f"/services/receipts/{receipt.number}.pdf").status_code == 302  # sign in
    with pytest.raises(roles.NotPermitted):
        fees.pay(application, actor=stranger, absolute=str, return_url="/")


def test_bad_requests_change_nothing(permit, person):
    application = submit(permit, person)
    client = signed_in(person)
    assert client.get(f"/services/a/{application.tracking_code}/pay/").status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(person)
    assert strict.post(f"/services/a/{application.tracking_code}/pay/").status_code == 403
    assert strict.post(f"/services/a/{application.tracking_code}/withdraw/").status_code == 403
    assert client.post("/services/a/%00/pay/").status_code in (400, 404)
    assert client.get("/services/receipts/RCPT-%00.pdf").status_code in (400, 404)
    huge = client.post(f"/services/a/{application.tracking_code}/pay/", {"x": "ی" * 3_000_000})
    assert huge.status_code in (302, 400, 413)
    assert client.post(f"/services/a/{application.tracking_code}x/pay/").status_code == 404
    application.refresh_from_db()
    assert application.state == State.AWAITING_PAYMENT
    assert fees.latest_payment(application).state == "created"


def test_the_apply_page_states_the_fee_and_its_rules(permit, person):
    page = signed_in(person).get(f"/services/apply/{permit.code}/").content.decode()
    assert "۱٬۲۰۰٬۰۰۰" in page and "۵٬۰۰۰٬۰۰۰" in page and "بهره‌برداری تجاری" in page
    assert 'id="fee-notice"' in page


def test_the_purpose_is_registered():
    assert purposes.registered("application").paid is fees.paid


def test_the_application_page_links_to_reporting_a_payment_demanded_elsewhere(permit, person):
    application = submit(permit, person, kind="commercial", pledge="yes")
    client = signed_in(person)
    page = client.get(f"/en/services/a/{application.tracking_code}/")
    report = f"/en/feedback/complaints/payment/?application={application.tracking_code}"
    assert page.status_code == 200 and report in page.content.decode()
    form = client.get(report)
    assert form.status_code == 200 and application.tracking_code in form.content.decode()
    # A free application has no fee section and no such link.
    free = submit(permit, person, key="k2", kind="student", pledge="yes")
    assert "complaints/payment" not in client.get(f"/en/services/a/{free.tracking_code}/").text
