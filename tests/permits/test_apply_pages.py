"""The pages: apply (the form, its errors, acting for a company), my submissions, one
application with its trace in plain words, withdrawing, and who may see what."""

# ruff: noqa: F811  (fixtures imported from applying_support are used as arguments)
from __future__ import annotations

import re

import pytest
from django.test import Client

from panjereh.identity import businesses
from panjereh.permits import applying
from panjereh.permits.labels import LABELS
from panjereh.permits.models import PermitApplication, TraceEvent

from .applying_support import (  # noqa: F401  (fixtures)
    COMPANY_ID,
    COMPANY_NAME,
    DETAILS,
    _fresh_cache,
    board_member,
    browser,
    ceo,
    home_permit,
    registry,
    stranger,
    window_permit,
)

pytestmark = pytest.mark.django_db

FORM = {"title": "شیرینی مریم", **DETAILS}


def apply_url(permit, lang="fa"):
    return f"{'' if lang == 'fa' else '/' + lang}/permits/{permit.public_id}/apply/"


def _switch(client, national_id):
    response = client.post("/account/companies/switch/", {"national_id": national_id})
    assert response.status_code in (302, 303), response.status_code


def test_the_permit_page_has_an_apply_button(home_permit):
    body = Client().get(f"/permits/{home_permit.public_id}/").content.decode()
    assert f'href="/permits/{home_permit.public_id}/apply/"' in body


def test_apply_needs_sign_in(home_permit):
    response = Client().get(apply_url(home_permit))
    assert (
        response.status_code == 302
        and "/login" in response["Location"]
        or "login" in (response["Location"])
    )


def test_applying_as_oneself_issues_and_shows_the_trace(ceo, home_permit):
    client = browser(ceo)
    page = client.get(apply_url(home_permit)).content.decode()
    assert 'name="csrfmiddlewaretoken"' in page and 'id="applying-as"' in page
    response = client.post(
        apply_url(home_permit),
        {**FORM, "idempotency_key": re.search(r'name="idempotency_key" value="(\w+)"', page)[1]},
    )
    assert response.status_code == 302
    application = PermitApplication.objects.get()
    assert response["Location"] == f"/permits/applications/{application.reference}/"
    body = client.get(response["Location"]).content.decode()
    issued = application.issued_permit
    from panjereh.common.persian import to_persian_digits

    assert to_persian_digits(issued.number) in body
    assert 'id="withdraw"' not in body  # issued: nothing to withdraw
    # The trace in words, never its codes; Jalali dates in Persian digits.
    assert 'data-kind="registered"' in body and 'data-kind="issued"' in body
    text = re.sub(r"<[^>]+>", " ", body)
    for code in ("registered", "sent_to_authority_queue", "queued_for_portal", "under_review"):
        assert code not in text
    assert "۱۴" in text


def test_double_submit_makes_one_application(ceo, window_permit):
    client = browser(ceo)
    page = client.get(apply_url(window_permit)).content.decode()
    key = re.search(r'name="idempotency_key" value="(\w+)"', page)[1]
    first = client.post(apply_url(window_permit), {**FORM, "idempotency_key": key})
    second = client.post(apply_url(window_permit), {**FORM, "idempotency_key": key})
    assert first["Location"] == second["Location"]
    assert PermitApplication.objects.count() == 1
    # The next form is a new application.
    page = client.get(apply_url(window_permit)).content.decode()
    assert re.search(r'name="idempotency_key" value="(\w+)"', page)[1] != key


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "a\u202eb"),
        ("title", "x" * 5000),
        ("province", "mars"),
        ("description", ""),
        ("address", "\ue000"),
    ],
)
def test_bad_input_gets_the_error_summary_and_keeps_the_form(ceo, home_permit, field, value):
    client = browser(ceo)
    response = client.post(apply_url(home_permit, "en"), {**FORM, field: value})
    assert response.status_code == 400
    body = response.content.decode()
    assert body.index('class="error-summary"') < body.index('id="apply-form"')
    assert f'href="#id_{field}"' in body
    assert 'aria-invalid="true"' in body
    assert "خیابان آزادی" in body or field == "address"  # the form is kept
    assert not PermitApplication.objects.exists()


def test_a_nul_byte_is_refused_and_nothing_stored(ceo, home_permit):
    response = browser(ceo).post(apply_url(home_permit, "en"), {**FORM, "title": "a\x00b"})
    assert response.status_code == 400
    assert not PermitApplication.objects.exists()


def test_csrf_is_checked(ceo, home_permit):
    client = Client(enforce_csrf_checks=True)
    client.force_login(ceo)
    assert client.post(apply_url(home_permit), FORM).status_code == 403
    assert not PermitApplication.objects.exists()


def test_unknown_permit_is_404(ceo):
    assert browser(ceo).get("/permits/9999999999/apply/").status_code == 404


def test_acting_for_the_company_applies_in_its_name(ceo, registry, home_permit):
    client = browser(ceo)
    _switch(client, COMPANY_ID)
    page = client.get(apply_url(home_permit)).content.decode()
    assert COMPANY_NAME in page
    client.post(apply_url(home_permit), FORM)
    application = PermitApplication.objects.get()
    assert application.company.national_id == COMPANY_ID and application.applicant == ceo
    listing = client.get("/permits/applications/").content.decode()
    assert application.reference in listing or "PRM" in listing


def test_a_director_no_longer_named_is_refused_on_the_next_request(ceo, registry, home_permit):
    client = browser(ceo)
    _switch(client, COMPANY_ID)
    registry.remove(COMPANY_ID, ceo.national_code)
    response = client.post(apply_url(home_permit, "en"), FORM)
    assert response.status_code == 403
    assert "no longer act for this company" in response.content.decode()
    assert not PermitApplication.objects.exists()
    assert businesses.SESSION_KEY not in client.session


def test_who_sees_an_application(ceo, board_member, stranger, registry, window_permit):
    application = applying.apply(ceo, window_permit, title="x", details=DETAILS, company=COMPANY_ID)
    url = f"/permits/applications/{application.reference}/"
    assert browser(ceo).get(url).status_code == 200
    assert browser(board_member).get(url).status_code == 200
    assert browser(stranger).get(url).status_code == 404
    assert Client().get(url).status_code == 302
    assert browser(stranger).get("/permits/applications/PRM-1405-NOPE0000/").status_code == 404
    assert browser(stranger).get("/permits/applications/" + "X" * 300 + "/").status_code == 404
    # Not in a stranger's list; in the applicant's.
    assert (
        application.reference
        not in browser(stranger).get("/permits/applications/").content.decode()
    )
    assert application.reference in browser(ceo).get("/permits/applications/").content.decode()


def test_a_board_member_cannot_withdraw(ceo, board_member, registry, window_permit):
    application = applying.apply(ceo, window_permit, title="x", details=DETAILS, company=COMPANY_ID)
    page = f"/permits/applications/{application.reference}/"
    assert 'id="withdraw"' not in browser(board_member).get(page).content.decode()
    assert 'id="withdraw"' in browser(ceo).get(page).content.decode()
    url = f"/permits/applications/{application.reference}/withdraw/"
    assert browser(board_member).post(url).status_code == 403
    application.refresh_from_db()
    assert application.state == "under_review"


def test_withdrawing_from_the_page(ceo, window_permit):
    application = applying.apply(ceo, window_permit, title="x", details=DETAILS)
    client = browser(ceo)
    url = f"/en/permits/applications/{application.reference}/"
    assert 'id="withdraw"' in client.get(url).content.decode()
    assert client.get(url + "withdraw/").status_code == 405
    response = client.post(url + "withdraw/")
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.state == "withdrawn"
    body = client.get(url).content.decode()
    assert "Withdrawn by the applicant" in body and 'id="withdraw"' not in body
    assert client.post(url + "withdraw/").status_code == 409


def test_an_unknown_trace_kind_gets_a_generic_label(ceo, window_permit):
    application = applying.apply(ceo, window_permit, title="x", details=DETAILS)
    TraceEvent.objects.create(application=application, source="portal", kind="zz_new_kind")
    body = browser(ceo).get(f"/en/permits/applications/{application.reference}/").content.decode()
    text = re.sub(r"<[^>]+>", " ", body)
    assert "zz_new_kind" not in text
    assert "A step at the issuing authority’s specialised portal" in body or "specialised" in body


def test_every_window_kind_has_a_label():
    for kind in (
        applying.REGISTERED,
        applying.AWAITING_PAYMENT,
        applying.NO_TREASURY,
        applying.FEE_PAID,
        applying.FEE_REFUNDED,
        applying.ISSUED,
        applying.QUEUED_FOR_PORTAL,
        applying.SENT_TO_AUTHORITY_QUEUE,
        applying.APPROVED,
        applying.REJECTED,
        applying.WITHDRAWN,
    ):
        assert kind in LABELS


def test_every_routing_kind_has_a_label():
    from panjereh.permits import routing

    for kind in (
        routing.SENT,
        routing.UNREACHABLE,
        routing.REFUSED,
        routing.RESENT,
        routing.ANSWERED,
        routing.OVERDUE,
        routing.ISSUED,
    ):
        assert kind in LABELS


def test_the_page_asks_for_the_answer_and_offers_a_violation_report(ceo, stranger, window_permit):
    application = applying.apply(ceo, window_permit, title="x", details=DETAILS)
    url = f"/en/permits/applications/{application.reference}/"
    body = browser(ceo).get(url).content.decode()
    assert 'id="information-form"' not in body
    assert f"/en/feedback/complaints/permit/?application={application.reference}" in body
    PermitApplication.objects.filter(pk=application.pk).update(
        state="information_requested", requested="A map of the premises"
    )
    TraceEvent.objects.create(
        application=application,
        source="portal",
        kind="more_information_requested",
        portal_event_id="t-1",
        detail={"requested": "A map of the premises"},
    )
    body = browser(ceo).get(url).content.decode()
    assert 'id="information-form"' in body and "A map of the premises" in body
    assert f"/en/permits/applications/{application.reference}/information/" in body


def test_a_failed_hand_off_says_why_in_words(ceo, window_permit):
    application = applying.apply(ceo, window_permit, title="x", details=DETAILS)
    TraceEvent.objects.create(
        application=application,
        source="window",
        kind="portal_unreachable",
        detail={"error": "timeout", "attempt": 1},
    )
    body = browser(ceo).get(f"/en/permits/applications/{application.reference}/").content.decode()
    assert "The portal did not answer in time." in body
    assert ">timeout<" not in body


def test_my_submissions_paginate(ceo, window_permit):
    for n in range(23):
        applying.apply(ceo, window_permit, title=f"x{n}", details=DETAILS)
    client = browser(ceo)
    first = client.get("/en/permits/applications/").content.decode()
    assert first.count("/en/permits/applications/PRM-") == 20
    second = client.get("/en/permits/applications/?page=2").content.decode()
    assert second.count("/en/permits/applications/PRM-") == 3
    assert client.get("/en/permits/applications/?page=abc").status_code == 200
    assert client.get("/en/permits/applications/?page=99999999999").status_code == 200
