"""Every kind of signed document a person holds, each from its own app, with its status, and
what needs the person's action."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import translation

from panjereh.catalogue import roles
from panjereh.permits import holding
from panjereh.personal import queries, verifying
from tests.factories import issue_certificate, make_agency
from tests.permits.conftest import agency, authority, published, removed  # noqa: F401
from tests.permits.issued_support import make_application

from .conftest import make_bill_receipt, make_notice

pytestmark = pytest.mark.django_db


@pytest.fixture
def court(db):
    return make_agency(code="judiciary", name_fa="قوه قضاییه", name_en="The Judiciary")


@pytest.fixture
def permit(published, holder):  # noqa: F811
    from panjereh.permits import issuing

    return issuing.issue(make_application(published, holder))


def _receipt(certificate):
    """A fee receipt of the certificate's application (``services.fees.issue_receipt``)."""
    from types import SimpleNamespace

    from django.utils import timezone

    from panjereh.services import fees

    payment = SimpleNamespace(reference="PAY-TEST-1", amount=120000, captured_at=timezone.now())
    return fees.issue_receipt(certificate.application, payment)


def test_every_kind_is_listed_newest_first_with_a_verdict(holder, other, permit, court):
    certificate = issue_certificate(holder)
    receipt = _receipt(certificate)
    notice = make_notice(holder, court, state="served")
    unread = make_notice(holder, court, state="made_available", n=2, subject="اخطاریه خوانده‌نشده")
    bill = make_bill_receipt(holder, court)
    with translation.override("en"):
        held = queries.documents_of(holder)
    kinds = {d.kind for d in held}
    assert kinds == {
        "certificate",
        "permit",
        "receipt",
        "notice",
        "proof_of_service",
        "bill_receipt",
    }
    assert f"receipt-{receipt.number}" in {d.reference for d in held}
    refs = {d.reference for d in held}
    assert f"cert-{certificate.number}" in refs and f"permit-{permit.number}" in refs
    assert f"notice-{notice.reference}" in refs and f"proof-{notice.reference}" in refs
    assert f"bill-{bill.reference}" in refs
    # An unopened notice is something to read, not a document held yet.
    assert f"notice-{unread.reference}" not in refs
    assert [d.issued_at for d in held] == sorted((d.issued_at for d in held), reverse=True)
    assert all(d.status == "valid" for d in held)
    # Each verifies against the published keys (and its register or status list).
    for doc in held:
        assert verifying.verify(doc).status == "valid", doc.kind
        assert queries.document_of(holder, doc.reference) is not None
        assert queries.document_of(other, doc.reference) is None
    assert queries.documents_of(other) == []
    action = queries.needs_action(holder)
    assert [n.reference for n in action.notices_unread] == [unread.reference]
    assert action.count == 1


def test_a_suspended_permit_is_not_valid(holder, permit):
    holding.suspend(roles.SYSTEM, permit, reason="inspection")
    (doc,) = [d for d in queries.documents_of(holder) if d.kind == "permit"]
    assert doc.status == "revoked"
    assert verifying.verify(doc).status != "valid"


def test_a_permit_past_its_validity_is_expired(holder, permit):
    later = dt.datetime.combine(permit.valid_until, dt.time(12), tzinfo=dt.UTC) + dt.timedelta(2)
    with time_machine.travel(later, tick=False):
        (doc,) = [d for d in queries.documents_of(holder) if d.kind == "permit"]
    assert doc.status == "expired"


def test_a_fee_to_pay_is_a_payment_due(holder):
    from panjereh.services.models import Application, State

    issue_certificate(holder)
    app = Application.objects.filter(user=holder).first()
    Application.objects.filter(pk=app.pk).update(state=State.AWAITING_PAYMENT, fee_rials=250000)
    action = queries.needs_action(holder)
    assert [(p.reference, p.amount_rials) for p in action.payments_due] == [
        (app.tracking_code, 250000)
    ]
    assert action.applications_waiting == [] and action.count == 1


def test_status_lists_are_read_once_per_agency(holder):
    for key in ("a", "b", "c"):
        issue_certificate(holder, key=key)
    book = queries.StatusBook()
    held = queries.documents_of(holder, book)
    assert len(held) == 3 and book.fetched == 1


def test_every_kind_has_a_page_and_is_shared_verified(client, holder, permit, court):
    from django.test import Client
    from django.urls import reverse

    from panjereh.personal import operations

    _receipt(issue_certificate(holder))
    make_notice(holder, court, state="served")
    make_bill_receipt(holder, court)
    client.force_login(holder)
    stranger = Client()
    held = queries.documents_of(holder)
    assert len({d.kind for d in held}) == 6
    for doc in held:
        page = client.get(reverse("personal:document", args=[doc.reference]))
        assert page.status_code == 200, doc.kind
        assert 'id="document-qr"' in page.content.decode()
        _link, token = operations.create_share(holder, doc.reference, "1h")
        shared = stranger.get(f"/shared/{token}/")
        assert shared.status_code == 200, doc.kind
        assert 'data-status="valid"' in shared.content.decode(), doc.kind
        english = stranger.get(f"/en/shared/{token}/").content.decode()
        assert doc.number in english or doc.number.replace("-", "") in english, doc.kind
