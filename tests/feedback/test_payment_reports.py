"""A payment demanded outside the window, reported from an application's page: the person's own
application only, the agency, service and kind filled in, filed through the one complaint
operation; and these reports count in oversight (received and upheld), checked against an
independent count of the rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from panjereh.feedback import operations
from panjereh.feedback.models import Complaint, ComplaintKind, ComplaintState
from panjereh.oversight import indicators

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _url(**query) -> str:
    base = reverse("feedback:report-payment")
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_the_form_from_an_application_is_filled_in_with_its_agency_service_and_kind(world):
    application = world.finished()
    client = _client(world.citizen)
    page = client.get(_url(application=application.tracking_code))
    assert page.status_code == 200
    text = page.content.decode()
    service_id = world.definition.service.service_id
    assert f'value="{service_id}"' in text
    assert f'<option value="{world.agency.pk}" selected>' in text
    assert 'id="kind-payment" value="payment" checked' in text
    assert application.tracking_code in text  # the description starts with it


def test_someone_elses_application_or_an_unknown_one_is_not_found(world):
    theirs = world.finished(user=world.stranger)
    client = _client(world.citizen)
    assert client.get(_url(application=theirs.tracking_code)).status_code == 404
    assert client.get(_url(application="000000-00000000")).status_code == 404
    # Posting through someone else's application files nothing either.
    answer = client.post(
        _url(application=theirs.tracking_code),
        {"agency": str(world.agency.pk), "kind": "payment", "description": "x"},
    )
    assert answer.status_code == 404
    assert not Complaint.objects.exists()


def test_anonymous_visitors_are_sent_to_sign_in(world):
    application = world.finished()
    answer = Client().get(_url(application=application.tracking_code))
    assert answer.status_code == 302 and "login" in answer["Location"]


def test_filing_from_the_application_makes_one_payment_complaint(world):
    application = world.finished()
    client = _client(world.citizen)
    answer = client.post(
        _url(application=application.tracking_code),
        {
            "agency": str(world.agency.pk),
            "service": world.definition.service.service_id,
            "kind": "payment",
            "description": f"درخواست {application.tracking_code}: گفتند پول را نقد بدهید",
        },
    )
    assert answer.status_code == 302
    complaint = Complaint.objects.get()
    assert answer["Location"] == reverse("feedback:complaint", args=[complaint.tracking_code])
    assert (complaint.kind, complaint.agency, complaint.service, complaint.user) == (
        ComplaintKind.OFF_PORTAL_PAYMENT,
        world.agency,
        world.definition.service,
        world.citizen,
    )


def test_bad_input_is_refused_with_the_form_kept_and_nothing_filed(world):
    application = world.finished()
    client = _client(world.citizen)
    url = _url(application=application.tracking_code)
    empty = client.post(url, {"agency": str(world.agency.pk), "kind": "payment"})
    assert empty.status_code == 400
    text = empty.content.decode()
    assert 'id="kind-payment" value="payment" checked' in text and 'aria-invalid="true"' in text
    nul = client.post(
        url, {"agency": str(world.agency.pk), "kind": "payment", "description": "\x00"}
    )
    assert nul.status_code == 400 and 'lang="fa"' in nul.content.decode()
    assert not Complaint.objects.exists()


def test_the_csrf_token_is_needed(world):
    application = world.finished()
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(world.citizen)
    answer = strict.post(
        _url(application=application.tracking_code),
        {"agency": str(world.agency.pk), "kind": "payment", "description": "x"},
    )
    assert answer.status_code == 403 and not Complaint.objects.exists()


def test_a_service_page_can_link_to_the_form_too(world):
    service = world.other_definition.service
    client = _client(world.citizen)
    text = client.get(_url(service=service.service_id)).content.decode()
    assert f'<option value="{world.other.pk}" selected>' in text
    assert client.get(_url(service="9999999999")).status_code == 404


def _file(world, agency, kind=ComplaintKind.OFF_PORTAL_PAYMENT):
    return operations.file_complaint(world.citizen, agency=agency, kind=kind, description="d")


def test_payment_demands_count_in_oversight_received_and_upheld(world):
    steering = world.ministry_officer  # the ministry is agency A's supervising body
    a1, a2, a3 = (_file(world, world.agency) for _ in range(3))
    _file(world, world.other)
    _file(world, world.agency, kind=ComplaintKind.IN_PERSON)  # another kind: not counted
    operations.move(a1, ComplaintState.UNDER_REVIEW, steering, "")
    operations.move(a1, ComplaintState.UPHELD, steering, "پرداخت بیرون از پنجره تأیید شد")
    operations.move(a2, ComplaintState.UNDER_REVIEW, steering, "")
    operations.move(a2, ComplaintState.NOT_UPHELD, steering, "نادرست")
    assert a3.state == ComplaintState.RECEIVED

    snap = indicators.snapshot(timezone.now() + dt.timedelta(seconds=1))
    # Independently: count the rows by hand.
    rows = list(Complaint.objects.all())
    for agency in (world.agency, world.other):
        received = [c for c in rows if c.agency_id == agency.pk and c.kind == "payment"]
        upheld = [c for c in received if c.state == ComplaintState.UPHELD]
        got_received = indicators.registry["payment_demands_reported"].compute(snap, agency.pk)
        got_upheld = indicators.registry["payment_demands_upheld"].compute(snap, agency.pk)
        assert got_received.value == len(received)
        assert (got_upheld.value, got_upheld.denominator) == (len(upheld), len(received))
    national = indicators.registry["payment_demands_reported"].compute(snap, None)
    assert national.value == len([c for c in rows if c.kind == "payment"]) == 4
    assert indicators.registry["payment_demands_upheld"].compute(snap, None).value == 1
    assert indicators.registry["payment_demands_upheld"].basis == indicators.OBSERVED

    # As of a moment before any was filed: none.
    before = indicators.snapshot(timezone.now() - dt.timedelta(days=1))
    assert indicators.registry["payment_demands_reported"].compute(before, None).value == 0
