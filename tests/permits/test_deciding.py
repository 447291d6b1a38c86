"""The authority's queue in the window: who reads it, who decides, per object (role × action)."""

# ruff: noqa: F811  (fixtures imported from applying_support are used as arguments)
from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.utils import translation

from panjereh.catalogue import roles
from panjereh.payments.models import Payment
from panjereh.permits import applying, deciding
from panjereh.permits.models import IssuedPermit, PermitApplication
from tests.factories import UserFactory, make_agency_staff

from .applying_support import (  # noqa: F401  (fixtures)
    DETAILS,
    _fresh_cache,
    browser,
    capture,
    ceo,
    portal_authority,
    portal_permit,
    publish,
    stranger,
    treasury,
    window_permit,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def waiting(ceo, window_permit):
    return applying.apply(ceo, window_permit, title="نانوایی", details=DETAILS)


def actor_of(name, agency, other_authority, ceo):
    if name == "system":
        return roles.SYSTEM
    if name == "superuser":
        return UserFactory(is_superuser=True)
    if name in ("admin", "editor", "viewer"):
        return make_agency_staff(agency, name)
    if name == "other_admin":
        return make_agency_staff(other_authority.agency, "admin")
    if name in (roles.AEO, roles.STEERING_WG):
        user = UserFactory()
        roles.ensure_groups()
        user.groups.add(Group.objects.get(name=name))
        return user
    if name == "applicant":
        return ceo
    if name == "anonymous":
        from django.contrib.auth.models import AnonymousUser

        return AnonymousUser()
    raise AssertionError(name)


# (actor, reads the queue and the application, decides)
MATRIX = [
    ("system", True, True),
    ("superuser", True, True),
    ("admin", True, True),
    ("editor", True, True),
    ("viewer", True, False),
    ("other_admin", False, False),
    (roles.AEO, False, False),
    (roles.STEERING_WG, False, False),
    ("applicant", False, False),
    ("anonymous", False, False),
]


@pytest.mark.parametrize(("name", "reads", "decides"), MATRIX)
def test_role_by_action(name, reads, decides, waiting, agency, other_authority, ceo):
    actor = actor_of(name, agency, other_authority, ceo)
    assert deciding.can_read(actor, waiting) is reads
    assert deciding.can_decide(actor, waiting) is decides
    assert (waiting in list(deciding.queue(actor))) is reads
    if decides:
        issued = deciding.approve(actor, waiting)
        assert issued.application_id == waiting.pk
        waiting.refresh_from_db()
        assert waiting.state == "issued"
    else:
        with pytest.raises(roles.NotPermitted):
            deciding.approve(actor, waiting)
        with pytest.raises(roles.NotPermitted):
            deciding.reject(actor, waiting, reason="نه")
        waiting.refresh_from_db()
        assert waiting.state == "under_review"
        assert not IssuedPermit.objects.exists()


def test_approving_issues_once_and_traces_who(waiting, agency):
    editor = make_agency_staff(agency, "editor")
    issued = deciding.approve(editor, waiting)
    kinds = list(waiting.trace.values_list("kind", flat=True))
    assert kinds == ["registered", "sent_to_authority_queue", "approved", "issued"]
    assert waiting.trace.get(kind="approved").by == editor
    assert waiting.trace.get(kind="issued").detail["number"] == issued.number
    with pytest.raises(applying.ApplicationError):
        deciding.approve(editor, waiting)
    assert IssuedPermit.objects.count() == 1


def test_rejecting_needs_a_reason_and_records_it(waiting, agency):
    editor = make_agency_staff(agency, "editor")
    for bad in ("", "  ", "a\x00b", "x" * 1001):
        with translation.override("en"), pytest.raises(applying.ApplicationError) as refused:
            deciding.reject(editor, waiting, reason=bad)
        assert "reason" in refused.value.problems
    waiting.refresh_from_db()
    assert waiting.state == "under_review"
    deciding.reject(editor, waiting, reason="محل کسب با کاربری مسکونی است")
    waiting.refresh_from_db()
    assert waiting.state == "rejected" and waiting.reason == "محل کسب با کاربری مسکونی است"
    assert waiting.decided_at is not None
    assert waiting.trace.get(kind="rejected").detail["reason"] == waiting.reason
    from panjereh.inbox.models import Message

    message = Message.objects.get(user=waiting.applicant)
    assert message.kind == "decision" and waiting.reason in message.body_fa
    assert waiting.reference in message.link_url
    with pytest.raises(applying.ApplicationError):
        deciding.approve(editor, waiting)


def test_rejecting_gives_a_paid_fee_back(ceo, authority, agency):
    permit = publish(authority, title_fa="پروانه", registration_based=False, fee_text="۹۰۰ ریال")
    treasury(agency)
    application = applying.apply(ceo, permit, title="x", details=DETAILS)
    payment = Payment.objects.get(purpose_id=application.reference)
    capture(payment)
    application.refresh_from_db()
    assert application.state == "under_review"
    deciding.reject(make_agency_staff(agency, "admin"), application, reason="ناقص")
    payment.refresh_from_db()
    assert payment.refunds.count() == 1 and payment.refunds.get().amount == 900
    assert application.trace.filter(kind="fee_refunded").exists()


def test_an_application_at_a_portal_is_not_in_the_window_queue(ceo, portal_permit):
    application = applying.apply(ceo, portal_permit, title="x", details=DETAILS)
    PermitApplication.objects.filter(pk=application.pk).update(state="under_review")
    application.refresh_from_db()
    assert not deciding.in_window_queue(application)
    assert application not in list(deciding.queue(roles.SYSTEM))
    with pytest.raises(applying.ApplicationError):
        deciding.approve(roles.SYSTEM, application)


# -- the pages ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "queue", "page", "approve"),
    [
        ("editor", 200, 200, 302),
        ("viewer", 200, 200, 403),
        ("other_admin", 200, 404, 404),
        ("applicant", 403, 200, 404),
        ("stranger", 403, 404, 404),
    ],
)
def test_pages_by_role(name, queue, page, approve, waiting, agency, other_authority, ceo, stranger):
    actor = stranger if name == "stranger" else actor_of(name, agency, other_authority, ceo)
    client = browser(actor)
    assert client.get("/en/permits/authority/").status_code == queue
    url = f"/en/permits/applications/{waiting.reference}/"
    assert client.get(url).status_code == page
    response = client.post(url + "decide/", {"action": "approve"})
    assert response.status_code == approve
    waiting.refresh_from_db()
    assert (waiting.state == "issued") is (approve == 302)


def test_the_queue_page_lists_and_the_reject_form_keeps_the_reason(waiting, agency):
    editor = make_agency_staff(agency, "editor")
    client = browser(editor)
    listing = client.get("/en/permits/authority/").content.decode()
    assert waiting.reference in listing
    url = f"/en/permits/applications/{waiting.reference}/"
    page = client.get(url).content.decode()
    assert 'id="approve"' in page and 'id="reject"' in page and 'id="withdraw"' not in page
    response = client.post(url + "decide/", {"action": "reject", "reason": "a\u202eb"})
    assert response.status_code == 400
    body = response.content.decode()
    assert 'class="error-summary"' in body and 'href="#id_reason"' in body
    response = client.post(url + "decide/", {"action": "reject", "reason": "ناقص است"})
    assert response.status_code == 302
    waiting.refresh_from_db()
    assert waiting.state == "rejected"
