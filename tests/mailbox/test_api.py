"""The machine API: authentication as an exchange member, replay, quota, bad input."""

from __future__ import annotations

import json

import pytest
from django.test import override_settings

from panjereh.exchange.client import generate_key, make_assertion
from panjereh.mailbox.models import Attachment, Notice, NoticeEvent
from panjereh.services import documents, keys

from .conftest import AUDIENCE, PDF, PNG, b64, national_code

pytestmark = pytest.mark.django_db


def test_a_notice_is_signed_made_available_and_reported(sender, citizen):
    response = sender.send(
        citizen.national_code,
        attachments=[
            {"name": "رای.pdf", "content": b64(PDF)},
            {"name": "a.png", "content": b64(PNG)},
        ],
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "made_available"
    assert body["made_available_at"] and body["opened_at"] is None and body["served_at"] is None
    notice = Notice.objects.get(reference=body["id"])
    assert notice.user == citizen
    # Signed by the agency: the token verifies offline against the published keys.
    verdict = documents.verify_signature(notice.token, keys.jwks(sender.agency))
    assert verdict.ok and verdict.claims["subject"] == "احضاریه"
    assert [a["type"] for a in verdict.claims["att"]] == ["application/pdf", "image/png"]
    stored = list(Attachment.objects.filter(notice=notice))
    assert [a.content_type for a in stored] == ["application/pdf", "image/png"]
    import hashlib

    assert stored[0].sha256 == hashlib.sha256(PDF).hexdigest()
    assert list(NoticeEvent.objects.filter(notice=notice).values_list("to_state", flat=True)) == [
        "created",
        "made_available",
    ]
    status = sender.get(f"notices/{notice.reference}")
    assert status.status_code == 200 and status.json()["status"] == "made_available"


def test_wrong_credentials_are_refused(sender, citizen, client):
    other = generate_key()
    data = json.dumps({"to": {"national_code": citizen.national_code}, "subject": "s", "body": "b"})
    forged = client.post(
        "/api/mailbox/v1/notices",
        data=data,
        content_type="application/json",
        HTTP_X_ROAD_CLIENT=sender.system.client_id,
        HTTP_AUTHORIZATION="Bearer " + make_assertion(other, sender.system.client_id, AUDIENCE),
        HTTP_IDEMPOTENCY_KEY="x",
    )
    assert forged.status_code == 401 and forged.json()["code"] == "bad_assertion"
    missing = client.post(
        "/api/mailbox/v1/notices",
        data=data,
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="x",
    )
    assert missing.status_code == 400 and missing.json()["code"] == "missing_client"
    assert Notice.objects.count() == 0


def test_a_replayed_assertion_is_refused(sender, citizen):
    headers = sender.headers("k-9")
    data = json.dumps({"to": {"national_code": citizen.national_code}, "subject": "s", "body": "b"})
    first = sender.client.post(
        "/api/mailbox/v1/notices", data=data, content_type="application/json", **headers
    )
    again = sender.client.post(
        "/api/mailbox/v1/notices", data=data, content_type="application/json", **headers
    )
    assert first.status_code == 201
    assert again.status_code == 401 and again.json()["code"] == "replayed_assertion"
    assert Notice.objects.count() == 1


def test_a_replayed_request_gets_the_same_notice_and_other_content_409(sender, citizen):
    first = sender.send(citizen.national_code, key="same")
    second = sender.send(citizen.national_code, key="same")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    other = sender.send(citizen.national_code, key="same", subject="something else")
    assert other.status_code == 409 and other.json()["code"] == "idempotency_conflict"
    assert Notice.objects.count() == 1
    missing = sender.send(citizen.national_code, key=None)
    assert missing.status_code == 400 and missing.json()["code"] == "missing_idempotency_key"


def test_over_quota(sender, citizen):
    with override_settings(PANJEREH_MAILBOX_AGENCY_PER_MINUTE=2):
        codes = [sender.send(citizen.national_code, key=f"q{i}").status_code for i in range(3)]
    assert codes == [201, 201, 429]
    assert Notice.objects.count() == 2


def test_unknown_or_invalid_national_code(sender, citizen):
    unknown = sender.send(national_code())
    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_addressee"
    bad = citizen.national_code[:9] + str((int(citizen.national_code[9]) + 1) % 10)
    invalid = sender.send(bad, key="k-2")
    assert invalid.status_code == 400 and invalid.json()["code"] == "bad_national_code"
    persian = sender.send(citizen.national_code, key="k-3", **{"body": "a\x00b"})
    assert persian.status_code == 400
    assert Notice.objects.count() == 0


def test_errors_speak_persian(sender):
    response = sender.post(
        "notices",
        {"to": {"national_code": national_code()}, "subject": "s", "body": "b"},
        HTTP_ACCEPT_LANGUAGE="fa",
    )
    assert response.status_code == 422
    assert "کد ملی" in response.json()["message"]


def test_oversized_attachment_sends_nothing(sender, citizen):
    with override_settings(PANJEREH_MAILBOX_MAX_ATTACHMENT_BYTES=1000):
        big = PDF + b"0" * 2000
        response = sender.send(
            citizen.national_code,
            attachments=[
                {"name": "ok.pdf", "content": b64(PDF)},
                {"name": "big.pdf", "content": b64(big)},
            ],
        )
    assert response.status_code == 413
    assert response.json()["code"] == "attachment_too_large"
    assert Notice.objects.count() == 0 and Attachment.objects.count() == 0


def test_an_oversized_request_is_refused_before_it_is_read(sender, citizen):
    with override_settings(PANJEREH_MAILBOX_MAX_REQUEST_BYTES=5000):
        response = sender.send(
            citizen.national_code,
            attachments=[{"name": "x.pdf", "content": b64(PDF + b"0" * 6000)}],
        )
    assert response.status_code == 413 and response.json()["code"] == "request_too_large"
    assert Notice.objects.count() == 0


def test_attachments_are_checked_by_content(sender, citizen):
    response = sender.send(
        citizen.national_code, attachments=[{"name": "fake.pdf", "content": b64(b"MZ\x90\x00exe")}]
    )
    assert response.status_code == 400 and response.json()["code"] == "bad_attachment_type"
    assert Notice.objects.count() == 0


def test_status_only_for_the_sending_agency(sender, citizen, client):
    from .conftest import make_sender

    reference = sender.send(citizen.national_code).json()["id"]
    other = make_sender(client)
    assert other.get(f"notices/{reference}").status_code == 404
    assert sender.get(f"notices/{reference}").status_code == 200


def test_a_company_notice(sender):
    from panjereh.identity.models import LegalPerson

    from .conftest import national_id

    company = LegalPerson.objects.create(national_id=national_id(), name="شرکت آزمایشی")
    response = sender.post(
        "notices", {"to": {"national_id": company.national_id}, "subject": "s", "body": "b"}
    )
    assert response.status_code == 201
    assert response.json()["to"] == {"company": company.national_id}
    unknown = sender.post(
        "notices", {"to": {"national_id": national_id()}, "subject": "s", "body": "b"}, key="k2"
    )
    assert unknown.status_code == 422


def test_callbacks_must_be_https_in_production(citizen):
    from panjereh.mailbox import operations

    data = {
        "to": {"national_code": citizen.national_code},
        "subject": "s",
        "body": "b",
        "callback_url": "http://10.0.0.1/hook",
    }
    assert operations.check(data).callback_url == "http://10.0.0.1/hook"
    with override_settings(MODE="production"), pytest.raises(operations.MailboxError) as refused:
        operations.check(data)
    assert refused.value.code == "bad_field"
