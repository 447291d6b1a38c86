"""Applying for a permit: registered first with the person and the company, then issued at once,
queued for a portal, or sent to the authority's queue; the fee; bad input; acting for a company
re-checked with the registry at the decision."""

# ruff: noqa: F811  (fixtures imported from applying_support are used as arguments)
from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone, translation

from panjereh.catalogue import roles
from panjereh.identity.models import CompanyDelegation, LegalPerson
from panjereh.payments.models import Payment
from panjereh.permits import applying
from panjereh.permits.models import (
    IssuedPermit,
    PermitApplication,
    TraceEvent,
)
from tests.factories import UserFactory

from .applying_support import (  # noqa: F401  (fixtures)
    COMPANY_ID,
    COMPANY_NAME,
    DETAILS,
    OTHER_COMPANY_ID,
    _fresh_cache,
    accountant,
    board_member,
    capture,
    ceo,
    fee_permit,
    home_permit,
    portal_authority,
    portal_permit,
    registry,
    stranger,
    treasury,
    window_permit,
)

pytestmark = pytest.mark.django_db


def kinds(application) -> list[str]:
    return list(application.trace.order_by("at", "id").values_list("kind", flat=True))


def test_a_registration_based_permit_is_issued_at_once(ceo, home_permit):
    application = applying.apply(ceo, home_permit, title="شیرینی مریم", details=DETAILS)
    assert application.state == "issued"
    assert application.reference.startswith("PRM-14") and len(application.reference) == 17
    issued = IssuedPermit.objects.get(application=application)
    assert issued.holder == ceo and issued.company is None and issued.province == "تهران"
    assert kinds(application) == ["registered", "issued"]
    registered = application.trace.get(kind="registered")
    assert registered.source == "window" and registered.by == ceo
    assert registered.detail["person"] == "مریم رضایی" and registered.detail["company"] == ""
    assert application.trace.get(kind="issued").detail["number"] == issued.number
    assert application.details == {
        "province_code": "tehran",
        "province": "تهران",
        "address": "خیابان آزادی",
        "description": "پخت شیرینی در منزل",
    }


def test_a_company_applies_and_both_person_and_company_are_recorded(ceo, registry, home_permit):
    application = applying.apply(
        ceo, home_permit, title="شیرینی پارس", details=DETAILS, company=COMPANY_ID
    )
    assert application.applicant == ceo
    assert application.company.national_id == COMPANY_ID
    registered = application.trace.get(kind="registered")
    assert registered.detail["company"] == COMPANY_NAME
    assert registered.detail["company_id"] == COMPANY_ID
    assert registered.detail["role"] == "ceo"
    issued = application.issued_permit
    assert issued.company.national_id == COMPANY_ID and issued.holder_name == COMPANY_NAME


def test_approval_with_a_portal_is_queued_for_it(ceo, portal_permit):
    before = timezone.now()
    application = applying.apply(ceo, portal_permit, title="کارگاه", details=DETAILS)
    assert application.state == "routing" and application.portal == "behinyab"
    assert application.next_try_at is not None and application.next_try_at >= before
    assert kinds(application) == ["registered", "queued_for_portal"]
    assert application.due_by - application.submitted_at == dt.timedelta(days=15)
    assert not IssuedPermit.objects.filter(application=application).exists()


def test_approval_without_a_portal_goes_to_the_authority_queue(ceo, window_permit):
    application = applying.apply(ceo, window_permit, title="نانوایی", details=DETAILS)
    assert application.state == "under_review" and application.portal == ""
    assert kinds(application) == ["registered", "sent_to_authority_queue"]
    assert application.due_by - application.submitted_at == dt.timedelta(days=10)


def test_the_same_form_sent_twice_makes_one_application(ceo, window_permit):
    first = applying.apply(ceo, window_permit, title="نانوایی", details=DETAILS, token="k" * 32)
    again = applying.apply(ceo, window_permit, title="نانوایی", details=DETAILS, token="k" * 32)
    assert first.pk == again.pk
    assert PermitApplication.objects.count() == 1
    assert TraceEvent.objects.filter(kind="registered").count() == 1
    other = applying.apply(ceo, window_permit, title="نانوایی", details=DETAILS, token="j" * 32)
    assert other.pk != first.pk


def test_a_token_of_another_person_makes_their_own_application(ceo, stranger, window_permit):
    mine = applying.apply(ceo, window_permit, title="الف", details=DETAILS, token="t" * 20)
    theirs = applying.apply(stranger, window_permit, title="ب", details=DETAILS, token="t" * 20)
    assert mine.pk != theirs.pk and theirs.applicant == stranger


# -- the fee ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("texts", "fee"),
    [
        (["هزینه صدور: ۵۰۰٬۰۰۰ ریال، فقط پرداخت الکترونیکی"], 500_000),
        (["صدور رایگان"], 0),
        (["هزینه: 1,200,000 ریال", "هزینه بازدید ۳۰۰۰۰۰ ریال"], 1_500_000),
    ],
)
def test_the_fee_is_the_amounts_written_in_fee_conditions(authority, texts, fee):
    from panjereh.permits import operations

    from .conftest import condition

    version = operations.create_permit_type(
        roles.SYSTEM,
        authority=authority,
        kind="guild",
        fields={"title_fa": "پروانه", "registration_based": True, "legal_days": 0},
        conditions=[condition(text, kind="fee") for text in texts],
    )
    assert applying.fee_of(version) == fee


def test_the_english_text_gives_the_fee_when_the_persian_has_none(authority):
    from panjereh.permits import operations

    from .conftest import condition

    version = operations.create_permit_type(
        roles.SYSTEM,
        authority=authority,
        kind="guild",
        fields={"title_fa": "پروانه", "registration_based": True, "legal_days": 0},
        conditions=[condition("هزینه صدور", kind="fee", text_en="issue fee: 150,000 rials")],
    )
    assert applying.fee_of(version) == 150_000


def test_a_fee_waits_for_payment_then_the_permit_is_issued(ceo, fee_permit, agency):
    treasury(agency)
    application = applying.apply(ceo, fee_permit, title="خیاطی", details=DETAILS)
    assert application.state == "awaiting_payment" and application.fee_rials == 500_000
    payment = Payment.objects.get(purpose_kind="permit", purpose_id=application.reference)
    assert payment.idempotency_key == f"permit-fee:{application.reference}"
    assert payment.payer == ceo and payment.agency == agency and payment.amount == 500_000
    assert not IssuedPermit.objects.filter(application=application).exists()
    capture(payment)
    application.refresh_from_db()
    assert application.state == "issued"
    assert kinds(application) == ["registered", "awaiting_payment", "fee_paid", "issued"]
    # Told again (the outbox runs at least once): nothing more happens.
    applying.paid(payment)
    assert IssuedPermit.objects.filter(application=application).count() == 1
    assert kinds(application).count("issued") == 1


def test_a_paid_fee_routes_an_approval_permit(ceo, portal_authority):
    from .applying_support import publish

    permit = publish(
        portal_authority,
        title_fa="جواز",
        registration_based=False,
        fee_text="هزینه ۲۰۰٬۰۰۰ ریال",
    )
    treasury(portal_authority.agency)
    application = applying.apply(ceo, permit, title="کارگاه", details=DETAILS)
    capture(Payment.objects.get(purpose_id=application.reference))
    application.refresh_from_db()
    assert application.state == "routing" and application.next_try_at is not None
    assert kinds(application)[-1] == "queued_for_portal"


def test_no_treasury_account_keeps_it_waiting_and_says_so(ceo, fee_permit):
    application = applying.apply(ceo, fee_permit, title="خیاطی", details=DETAILS)
    assert application.state == "awaiting_payment"
    assert kinds(application) == ["registered", "awaiting_payment", "no_treasury"]
    assert applying.fee_status(application)["phase"] == "no_treasury"
    assert not Payment.objects.exists()


def test_no_agency_keeps_it_waiting_and_paying_is_refused_plainly(ceo, db):
    from panjereh.permits.models import IssuingAuthority

    from .applying_support import publish

    lone = IssuingAuthority.objects.create(code="lone", name_fa="مرجع بی‌دستگاه")
    permit = publish(lone, title_fa="مجوز", registration_based=True, fee_text="۱۰۰۰ ریال")
    application = applying.apply(ceo, permit, title="کار", details=DETAILS)
    assert application.state == "awaiting_payment"
    assert kinds(application)[-1] == "no_treasury"
    with translation.override("en"), pytest.raises(applying.ApplicationError) as refused:
        applying.pay(application, actor=ceo, absolute=lambda path: path)
    assert "treasury account" in refused.value.problems[""]


def test_withdrawing_before_paying_cancels_the_payment(ceo, fee_permit, agency):
    treasury(agency)
    application = applying.apply(ceo, fee_permit, title="خیاطی", details=DETAILS)
    applying.withdraw(ceo, application)
    application.refresh_from_db()
    assert application.state == "withdrawn" and application.decided_at is not None
    assert Payment.objects.get(purpose_id=application.reference).state == "cancelled"
    assert kinds(application)[-1] == "withdrawn"
    with pytest.raises(applying.ApplicationError):
        applying.withdraw(ceo, application)


def test_an_issued_permit_cannot_be_withdrawn(ceo, home_permit):
    application = applying.apply(ceo, home_permit, title="شیرینی", details=DETAILS)
    assert not applying.can_withdraw(application)
    with pytest.raises(applying.ApplicationError):
        applying.withdraw(ceo, application)


def test_a_stranger_cannot_withdraw(ceo, stranger, window_permit):
    application = applying.apply(ceo, window_permit, title="نان", details=DETAILS)
    with pytest.raises(roles.NotPermitted):
        applying.withdraw(stranger, application)
    application.refresh_from_db()
    assert application.state == "under_review"


def test_routing_already_tried_is_the_portals(ceo, portal_permit):
    application = applying.apply(ceo, portal_permit, title="کارگاه", details=DETAILS)
    assert applying.can_withdraw(application)
    PermitApplication.objects.filter(pk=application.pk).update(send_attempts=1)
    application.refresh_from_db()
    assert not applying.can_withdraw(application)


# -- refused, changing nothing ------------------------------------------------------------------


BAD_TITLES = [
    ("", "Enter the business name."),
    ("a\x00b", "control character"),
    ("\u202eevil", "control character"),
    ("\ud800", "control character"),
    ("\ue000private", "control character"),
    ("x" * 201, "200 characters or fewer"),
    ("x" * 100_000, "200 characters or fewer"),
    (["not", "text"], "must be text"),
]


@pytest.mark.parametrize(("title", "message"), BAD_TITLES)
def test_bad_titles_are_refused_with_a_message_and_nothing_stored(ceo, home_permit, title, message):
    with translation.override("en"), pytest.raises(applying.ApplicationError) as refused:
        applying.apply(ceo, home_permit, title=title, details=DETAILS)
    assert message in refused.value.problems["title"]
    assert not PermitApplication.objects.exists() and not TraceEvent.objects.exists()


def test_persian_messages(ceo, home_permit):
    with translation.override("fa"), pytest.raises(applying.ApplicationError) as refused:
        applying.apply(ceo, home_permit, title="a\x00", details={**DETAILS, "province": "x"})
    assert set(refused.value.problems) == {"title", "province"}
    assert all(any("\u0600" <= c <= "\u06ff" for c in m) for m in refused.value.problems.values())


@pytest.mark.parametrize(
    ("details", "field"),
    [
        ({**DETAILS, "province": "atlantis"}, "province"),
        ({**DETAILS, "province": None}, "province"),
        ({**DETAILS, "description": ""}, "description"),
        ({**DETAILS, "description": "x" * 1001}, "description"),
        ({**DETAILS, "address": "a\x07b"}, "address"),
        ({**DETAILS, "extra": "1"}, ""),
        ("not a mapping", "province"),
    ],
)
def test_bad_details_are_refused(ceo, home_permit, details, field):
    with pytest.raises(applying.ApplicationError) as refused:
        applying.apply(ceo, home_permit, title="نام", details=details)
    assert field in refused.value.problems
    assert not PermitApplication.objects.exists()


def test_zwnj_and_persian_marks_are_kept(ceo, home_permit):
    application = applying.apply(
        ceo, home_permit, title="کسب‌وکار  خانگی", details={**DETAILS, "description": "نان‌ پزی"}
    )
    assert application.title == "کسب‌وکار خانگی"


def test_an_unpublished_permit_is_refused(ceo, home_permit):
    home_permit.published_version = None
    with pytest.raises(applying.ApplicationError):
        applying.apply(ceo, home_permit, title="x", details=DETAILS)


def test_only_a_signed_in_person_applies(home_permit, db):
    staff_without_code = UserFactory()
    for actor in (None, roles.SYSTEM, staff_without_code):
        with pytest.raises(roles.NotPermitted):
            applying.apply(actor, home_permit, title="x", details=DETAILS)
    assert not PermitApplication.objects.exists()


def test_a_bad_token_is_refused(ceo, home_permit):
    with pytest.raises(applying.ApplicationError):
        applying.apply(ceo, home_permit, title="x", details=DETAILS, token="x" * 65)
    with pytest.raises(applying.ApplicationError):
        applying.apply(ceo, home_permit, title="x", details=DETAILS, token="کلید")


# -- acting for a company, asked of the registry at the decision -------------------------------


def test_a_company_that_does_not_name_the_person_is_refused(stranger, registry, home_permit):
    with translation.override("en"), pytest.raises(applying.ApplicationError) as refused:
        applying.apply(stranger, home_permit, title="x", details=DETAILS, company=COMPANY_ID)
    assert "does not name you" in refused.value.problems[""]
    assert not PermitApplication.objects.exists()


def test_a_board_member_may_read_but_not_apply(board_member, registry, home_permit):
    with translation.override("en"), pytest.raises(applying.ApplicationError) as refused:
        applying.apply(board_member, home_permit, title="x", details=DETAILS, company=COMPANY_ID)
    assert "outside what you are authorised" in refused.value.problems[""]


def test_a_director_no_longer_named_is_refused_at_once(ceo, registry, home_permit):
    first = applying.apply(ceo, home_permit, title="x", details=DETAILS, company=COMPANY_ID)
    assert first.company is not None
    registry.remove(COMPANY_ID, ceo.national_code)
    with pytest.raises(applying.ApplicationError):
        applying.apply(ceo, home_permit, title="y", details=DETAILS, company=COMPANY_ID)
    assert PermitApplication.objects.count() == 1


def test_the_registry_down_refuses_acting_for_a_company(ceo, registry, home_permit):
    registry.down = True
    with translation.override("en"), pytest.raises(applying.ApplicationError) as refused:
        applying.apply(ceo, home_permit, title="x", details=DETAILS, company=COMPANY_ID)
    assert "not answering" in refused.value.problems[""]


def _delegate(ceo, accountant, scopes, days=30):
    company = LegalPerson.objects.get(national_id=COMPANY_ID)
    return CompanyDelegation.objects.create(
        company=company,
        granted_by=ceo,
        delegate_national_code=accountant.national_code,
        scopes=scopes,
        created_at=timezone.now(),
        expires_at=timezone.now() + dt.timedelta(days=days),
    )


def test_a_delegate_with_apply_scope_applies(ceo, accountant, registry, home_permit):
    applying.apply(ceo, home_permit, title="x", details=DETAILS, company=COMPANY_ID)  # copies
    _delegate(ceo, accountant, ["apply", "read"])
    application = applying.apply(
        accountant, home_permit, title="y", details=DETAILS, company=COMPANY_ID
    )
    assert application.applicant == accountant and application.company.national_id == COMPANY_ID
    assert application.trace.get(kind="registered").detail["role"] == "delegate"


def test_a_delegation_without_apply_scope_is_refused(ceo, accountant, registry, home_permit):
    applying.apply(ceo, home_permit, title="x", details=DETAILS, company=COMPANY_ID)
    _delegate(ceo, accountant, ["read"])
    with pytest.raises(applying.ApplicationError):
        applying.apply(accountant, home_permit, title="y", details=DETAILS, company=COMPANY_ID)


def test_an_expired_delegation_is_refused(ceo, accountant, registry, home_permit):
    applying.apply(ceo, home_permit, title="x", details=DETAILS, company=COMPANY_ID)
    delegation = _delegate(ceo, accountant, ["apply"])
    CompanyDelegation.objects.filter(pk=delegation.pk).update(
        created_at=timezone.now() - dt.timedelta(days=2),
        expires_at=timezone.now() - dt.timedelta(seconds=1),
    )
    with pytest.raises(applying.ApplicationError):
        applying.apply(accountant, home_permit, title="y", details=DETAILS, company=COMPANY_ID)


def test_another_companys_id_is_refused(ceo, registry, home_permit):
    with pytest.raises(applying.ApplicationError):
        applying.apply(ceo, home_permit, title="x", details=DETAILS, company=OTHER_COMPANY_ID)


# -- who sees it --------------------------------------------------------------------------------


def test_visibility(ceo, board_member, stranger, registry, window_permit, agency, other_authority):
    from tests.factories import make_agency_staff

    application = applying.apply(ceo, window_permit, title="x", details=DETAILS, company=COMPANY_ID)
    assert applying.visible_to(ceo, application)
    assert applying.visible_to(board_member, application)  # reads for the company
    assert not applying.visible_to(stranger, application)
    assert applying.visible_to(make_agency_staff(agency, "viewer"), application)
    assert not applying.visible_to(make_agency_staff(other_authority.agency, "admin"), application)
    registry.remove(COMPANY_ID, board_member.national_code)
    from django.core.cache import cache

    cache.clear()
    assert not applying.visible_to(board_member, application)


def test_the_permit_purpose_is_registered():
    from panjereh.payments import purposes

    assert purposes.registered("permit").paid is applying.paid


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"),
    reason="threads share one in-memory SQLite database; run on PostgreSQL (make test)",
)
def test_two_sends_at_once_make_one_application(ceo, window_permit):
    """The same form sent twice at the same moment (two requests racing): the unique reference
    derived from the token lets one insert win; the other returns it."""
    import threading

    from django.db import connections

    barrier = threading.Barrier(2)
    results, errors = [], []

    def send():
        try:
            barrier.wait()
            results.append(
                applying.apply(ceo, window_permit, title="نان", details=DETAILS, token="race")
            )
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert len({r.pk for r in results}) == 1
    assert PermitApplication.objects.count() == 1
    assert TraceEvent.objects.filter(kind="registered").count() == 1


def test_a_fee_paid_after_a_withdrawal_is_given_back(ceo, fee_permit, agency):
    """The bank was slower than the applicant: the money captured for a withdrawn application
    goes back, and nothing is issued."""
    treasury(agency)
    application = applying.apply(ceo, fee_permit, title="خیاطی", details=DETAILS)
    applying.withdraw(ceo, application)
    payment = Payment.objects.get(purpose_id=application.reference)
    capture(payment)
    application.refresh_from_db()
    assert application.state == "withdrawn"
    assert not IssuedPermit.objects.filter(application=application).exists()
    assert payment.refunds.get().amount == 500_000
    assert kinds(application)[-1] == "fee_refunded"
