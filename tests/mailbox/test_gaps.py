"""The mailbox's closed gaps: a notice to a person the civil registry knows but who has not
signed up is kept and made available at their first sign-in (an unknown code is refused, nothing
stored); a company's notice alerts its representatives by SMS without the content; bulk items
carry attachments within the single send's limits; a large list is accepted above Django's own
body limit; the mailbox page is paginated with a query count that does not grow with the page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from panjereh.common import messaging
from panjereh.identity.models import LegalPerson
from panjereh.inbox import notify
from panjereh.inbox.models import Message
from panjereh.mailbox import operations
from panjereh.mailbox.models import Attachment, Batch, Notice, NoticeEvent
from tests.factories import UserFactory

from .conftest import PDF, PNG, b64, national_code, national_id

pytestmark = pytest.mark.django_db


def _person(mobile: str | None = None, code: str | None = None):
    code = code or national_code()
    mobile = mobile or "0913" + code[-7:]  # one a person in this run
    user = UserFactory(national_code=code, mobile=mobile, is_staff=False)
    user.save()
    return user


# -- a person not signed up yet ---------------------------------------------------------------


def test_a_person_known_to_the_civil_registry_gets_the_notice_at_first_sign_in(
    sender, registries, client, settings
):
    settings.PANJEREH_MAILBOX_DEEMED_DAYS = 10
    code = national_code()
    registries.people.add(code)
    response = sender.send(code, key="held-1", subject="احضاریه", body="متن")
    assert response.status_code == 201, response.content
    status = response.json()
    assert status["status"] == "held"
    assert status["made_available_at"] is None and status["deemed_served_at"] is None
    assert ("civil", code) in registries.calls
    notice = Notice.objects.get(reference=status["id"])
    assert notice.user is None and notice.made_available_at is None
    # Time passes before they sign up: the deemed-served clock has not started.
    assert operations.serve_if_due(notice, notice.created_at + dt.timedelta(days=30)).state == (
        "held"
    )
    assert not Message.objects.exists()

    user = _person(code=code)
    client.force_login(user)  # the first sign-in (user_logged_in)
    notice.refresh_from_db()
    assert notice.state == "made_available" and notice.made_available_at is not None
    assert notice.alerted == 1
    moves = list(NoticeEvent.objects.filter(notice=notice).values_list("to_state", flat=True))
    assert moves == ["created", "held", "made_available"]
    message = Message.objects.get(user=user)
    assert message.kind == "notice"
    assert notify.deliver_pending() >= 1
    texts = [sms["text"] for sms in messaging.sent_sms(user.mobile)]
    assert texts and "احضاریه" not in texts[-1]
    later = sender.get(f"notices/{notice.reference}").json()
    assert later["status"] == "made_available"
    assert (
        later["deemed_served_at"] == (notice.made_available_at + dt.timedelta(days=10)).isoformat()
    )
    # Signing in again makes nothing twice.
    client.force_login(user)
    assert Message.objects.filter(user=user).count() == 1
    page = client.get(f"/en/mailbox/{notice.reference}/")
    assert page.status_code == 200
    notice.refresh_from_db()
    assert notice.state == "served" and notice.served_by == "opened"


def test_the_mailbox_page_delivers_kept_notices_too(sender, registries, client):
    code = national_code()
    registries.people.add(code)
    reference = sender.send(code, key="held-2").json()["id"]
    user = _person(code=code)
    # Signed in by a path that sent no signal (a session made before the notice came).
    client.force_login(user)
    Notice.objects.filter(reference=reference).update(state="held", made_available_at=None)
    page = client.get("/en/mailbox/")
    assert reference.encode() in page.content
    assert Notice.objects.get(reference=reference).state == "made_available"


def test_a_national_code_unknown_to_the_civil_registry_is_refused_nothing_stored(
    sender, registries
):
    code = national_code()
    response = sender.post(
        "notices",
        {"to": {"national_code": code}, "subject": "s", "body": "b"},
        "unknown-1",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 422
    assert response.json()["code"] == "unknown_addressee"
    assert "civil registry" in response.json()["message"]
    assert ("civil", code) in registries.calls
    assert not Notice.objects.exists() and not NoticeEvent.objects.exists()
    assert not Message.objects.exists()


def test_a_registry_that_does_not_answer_stores_nothing_and_a_retry_succeeds(sender, registries):
    code = national_code()
    registries.people.add(code)
    registries.down = True
    response = sender.send(code, key="down-1")
    assert response.status_code == 503
    assert response.json()["code"] == "registry_unavailable"
    assert not Notice.objects.exists()
    registries.down = False
    again = sender.send(code, key="down-1")
    assert again.status_code == 201 and again.json()["status"] == "held"


# -- a company's representatives --------------------------------------------------------------


def test_a_company_notice_alerts_its_representatives_by_sms_without_the_content(sender, registries):
    company = LegalPerson.objects.create(national_id=national_id(), name="شرکت نمونه پارس")
    ceo, board, stranger = _person(), _person(), _person()
    registries.companies[company.national_id] = (
        company.name,
        [(ceo.national_code, "ceo"), (board.national_code, "board"), (national_code(), "ceo")],
    )
    before = {p.pk: len(messaging.sent_sms(p.mobile)) for p in (ceo, board, stranger)}
    response = sender.post(
        "notices",
        {
            "to": {"national_id": company.national_id},
            "subject": "اخطار مالیاتی محرمانه",
            "body": "بدهی شرکت",
        },
        key="co-1",
    )
    assert response.status_code == 201, response.content
    assert response.json()["alerted"] == 2  # the unregistered representative has no mobile here
    assert set(Message.objects.values_list("user_id", flat=True)) == {ceo.pk, board.pk}
    assert notify.deliver_pending() >= 2
    for person in (ceo, board):
        (sms,) = messaging.sent_sms(person.mobile)[before[person.pk] :]  # one SMS each
        assert "شرکت نمونه پارس" in sms["text"] or sender.agency.name_fa in sms["text"]
        assert "مالیاتی" not in sms["text"] and "بدهی" not in sms["text"]
    assert len(messaging.sent_sms(stranger.mobile)) == before[stranger.pk]
    message = Message.objects.get(user=ceo)
    assert "مالیاتی" not in message.subject_fa + message.body_fa


def test_a_company_the_registry_does_not_know_is_refused(sender, registries):
    company = LegalPerson.objects.create(national_id=national_id(), name="شرکت منحل")
    registries.companies[company.national_id] = None
    response = sender.post(
        "notices", {"to": {"national_id": company.national_id}, "subject": "s", "body": "b"}
    )
    assert response.status_code == 422 and response.json()["code"] == "unknown_addressee"
    assert not Notice.objects.exists()


# -- bulk sends ------------------------------------------------------------------------------


def test_bulk_items_carry_attachments_within_the_single_send_limits(sender, settings):
    people = [_person() for _ in range(3)]
    items = [
        {
            "to": {"national_code": p.national_code},
            "subject": f"دادنامه {i}",
            "body": "متن",
            "attachments": [{"name": "رای.pdf", "content": b64(PDF)}] if i != 1 else [],
        }
        for i, p in enumerate(people)
    ]
    items[2]["attachments"].append({"name": "نقشه.png", "content": b64(PNG)})
    response = sender.post("batches", {"items": items}, key="att-1")
    assert response.status_code == 202, response.content
    assert operations.process_items() == 3
    notices = {n.recipient: n for n in Notice.objects.all()}
    assert len(notices) == 3
    assert [a.name for a in notices[people[0].national_code].attachments.all()] == ["رای.pdf"]
    assert notices[people[1].national_code].attachments.count() == 0
    assert list(
        notices[people[2].national_code].attachments.values_list("content_type", flat=True)
    ) == ["application/pdf", "image/png"]
    first = notices[people[0].national_code]
    claims = operations.proof_claims(first)
    assert claims["att"][0]["sha256"] == Attachment.objects.get(notice=first).sha256

    settings.PANJEREH_MAILBOX_MAX_ATTACHMENT_BYTES = 100
    big = dict(items[0], attachments=[{"name": "big.pdf", "content": b64(PDF + b"x" * 200)}])
    refused = sender.post("batches", {"items": [items[1], big]}, key="att-2")
    assert refused.status_code == 413
    assert refused.json()["code"] == "attachment_too_large"
    assert "2" in refused.json()["message"]
    wrong = dict(items[0], attachments=[{"name": "a.pdf", "content": b64(b"MZ not a pdf")}])
    refused = sender.post("batches", {"items": [wrong]}, key="att-3")
    assert refused.status_code == 400 and refused.json()["code"] == "bad_attachment_type"
    assert Batch.objects.count() == 1


def test_a_list_larger_than_django_s_body_limit_is_accepted_up_to_the_batch_limit(sender, settings):
    person = _person()
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_000
    settings.PANJEREH_MAILBOX_MAX_BATCH_BYTES = 20_000
    items = [
        {"to": {"national_code": person.national_code}, "subject": f"ابلاغ {i}", "body": "متن"}
        for i in range(60)
    ]
    response = sender.post("batches", {"items": items}, key="big-1")
    assert response.status_code == 202, response.content
    assert response.json()["total"] == 60
    too_big = sender.post("batches", {"items": items * 4}, key="big-2")
    assert too_big.status_code == 413 and too_big.json()["code"] == "request_too_large"
    assert Batch.objects.count() == 1


def test_a_bulk_item_to_someone_not_signed_up_is_kept_for_them(sender, registries):
    person = _person()
    code = national_code()
    registries.people.add(code)
    items = [
        {"to": {"national_code": person.national_code}, "subject": "s", "body": "b"},
        {"to": {"national_code": code}, "subject": "s", "body": "b"},
    ]
    assert sender.post("batches", {"items": items}, key="mix-1").status_code == 202
    assert operations.process_items() == 2
    states = dict(Notice.objects.values_list("recipient", "state"))
    assert states == {person.national_code: "made_available", code: "held"}


# -- the page --------------------------------------------------------------------------------


def test_the_mailbox_page_is_paginated_without_a_query_per_notice(sender, client):
    person = _person()
    items = [
        {"to": {"national_code": person.national_code}, "subject": f"ابلاغیه {i}", "body": "b"}
        for i in range(120)
    ]
    assert sender.post("batches", {"items": items}, key="page-1").status_code == 202
    assert operations.process_items(limit=200) == 120
    client.force_login(person)
    with CaptureQueriesContext(connection) as first:
        page1 = client.get("/en/mailbox/")
    with CaptureQueriesContext(connection) as last:
        page6 = client.get("/en/mailbox/?page=6")
    assert page1.content.count(b"data-state=") == 20
    assert page6.content.count(b"data-state=") == 20
    assert "ابلاغیه 119" in page1.content.decode()  # newest first
    assert "ابلاغیه 0<" in page6.content.decode() or "ابلاغیه 0" in page6.content.decode()
    assert len(first.captured_queries) == len(last.captured_queries) <= 12
    assert client.get("/en/mailbox/?page=zz").status_code == 200
    assert client.get("/en/mailbox/?page=99999").content.count(b"data-state=") == 20


def test_a_bulk_send_checks_its_own_bad_input(sender):
    """The bad-input middleware leaves bulk sends to the API: NUL bytes, control characters
    and lone surrogates are still refused, nothing queued."""
    person = _person()
    item = '{"to": {"national_code": "%s"}, "subject": "%s", "body": "b"}'
    for subject in ("\\ud800", "a\\u0007b"):
        body = '{"items": [' + item % (person.national_code, subject) + "]}"
        response = sender.post("batches", body, key=f"bad-{subject}")
        assert response.status_code == 400, response.content
        assert response.json()["code"] == "bad_input"
    nul = b'{"items": [{"to": {"national_code": "1"}, "subject": "\x00"}]}'
    response = sender.post("batches", nul, key="bad-nul")
    assert response.status_code == 400 and response.json()["code"] == "bad_input"
    assert Batch.objects.count() == 0
