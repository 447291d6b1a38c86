"""Proof of service (offline check, tampering), callbacks retried, bulk sends."""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from django.test import Client, override_settings
from django.utils import timezone

from panjereh.mailbox import operations
from panjereh.mailbox.models import Batch, BatchItem, Callback, Notice
from panjereh.services import documents, keys
from tests.factories import UserFactory

from .conftest import national_code

pytestmark = pytest.mark.django_db


def _claims(token: str) -> dict:
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_proof_of_service_verifies_offline_and_fails_when_tampered(sender, citizen, client):
    reference = sender.send(citizen.national_code).json()["id"]
    client.force_login(citizen)
    client.get(f"/mailbox/{reference}/")
    token = client.get(f"/mailbox/{reference}/proof/?format=jws").content.decode()
    jwks = json.loads(json.dumps(keys.jwks()))  # what an offline verifier saved earlier
    result = operations.verify_proof(token, jwks)
    assert result.ok
    notice = Notice.objects.get(reference=reference)
    assert result.claims["ref"] == reference
    assert result.claims["opened_at"] == int(notice.opened_at.timestamp())
    assert result.claims["served_by"] == "opened"
    # The agency gets the same proof through the API.
    api_token = sender.get(f"notices/{reference}/proof").content.decode()
    assert (
        operations.verify_proof(api_token, jwks).claims["served_at"] == result.claims["served_at"]
    )
    # Tampered: the opening moved a day later.
    header, payload, signature = token.split(".")
    claims = _claims(token)
    claims["opened_at"] += 86400
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert operations.verify_proof(f"{header}.{forged_payload}.{signature}", jwks).status == (
        "invalid"
    )
    # A notice (or any other signed document) is not a proof of service.
    assert operations.verify_proof(notice.token, jwks).status == "invalid"


def test_the_proof_pdf_carries_the_token_and_the_public_page_checks_it(sender, citizen, client):
    reference = sender.send(citizen.national_code).json()["id"]
    client.force_login(citizen)
    pdf = client.get(f"/mailbox/{reference}/proof/")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    token = documents.token_from_file(pdf.content)
    assert operations.verify_proof(token, keys.jwks()).ok
    anyone = Client()
    page = anyone.post("/en/mailbox/verify/", {"token": token})
    assert b'data-status="valid"' in page.content
    bad = anyone.post("/en/mailbox/verify/", {"token": token[:-4] + "AAAA"})
    assert b'data-status="invalid"' in bad.content


class _Agency(BaseHTTPRequestHandler):
    fail_first = 2
    received: list[bytes] = []
    calls = 0

    def do_POST(self):  # noqa: N802
        type(self).calls += 1
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if type(self).calls <= type(self).fail_first:
            self.send_response(503)
            self.end_headers()
            return
        type(self).received.append(body)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def agency_server():
    _Agency.calls = 0
    _Agency.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Agency)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


def test_callbacks_are_signed_and_retried_until_delivered(sender, citizen, client, agency_server):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        reference = sender.send(citizen.national_code, callback_url=agency_server).json()["id"]
        assert operations.send_callbacks() == 0  # 503: tried again later
        assert operations.send_callbacks() == 0  # not due yet: nothing posted
    assert _Agency.calls == 1
    with time_machine.travel(start + dt.timedelta(seconds=31), tick=False):
        assert operations.send_callbacks() == 0  # second failure, the pause doubles
    callback = Callback.objects.get(state="made_available")
    assert callback.attempts == 2 and callback.last_error == "HTTP 503"
    assert callback.next_try_at == start + dt.timedelta(seconds=31 + 60)
    with time_machine.travel(start + dt.timedelta(seconds=95), tick=False):
        assert operations.send_callbacks() == 1
        client.force_login(citizen)
        client.get(f"/mailbox/{reference}/")
        assert operations.send_callbacks() == 2  # opened, served
    events = []
    for body in _Agency.received:
        result = documents.verify_signature(body.decode(), keys.jwks())
        assert result.ok
        events.append((result.claims["event"], result.claims["id"]))
    assert events == [
        ("made_available", reference),
        ("opened", reference),
        ("served", reference),
    ]
    assert not Callback.objects.filter(delivered_at__isnull=True).exists()


def _citizens(n: int) -> list[str]:
    codes = [national_code() for _ in range(n)]
    UserFactory._meta.model.objects.bulk_create(
        [UserFactory._meta.model(username=f"bulk-{code}", national_code=code) for code in codes]
    )
    return codes


@override_settings(PANJEREH_MAILBOX_BULK_CHUNK=150)
def test_a_bulk_send_of_500_loses_and_duplicates_nothing(sender, monkeypatch):
    codes = _citizens(499)
    items = [
        {"to": {"national_code": c}, "subject": f"دادنامه {i}", "body": "متن"}
        for i, c in enumerate(codes)
    ]
    items.append({"to": {"national_code": national_code()}, "subject": "s", "body": "b"})
    response = sender.post("batches", {"items": items}, key="daily-1404-01-01")
    assert response.status_code == 202, response.content
    reference = response.json()["id"]
    assert response.json()["pending"] == 500
    again = sender.post("batches", {"items": items}, key="daily-1404-01-01")
    assert again.status_code == 200 and again.json()["id"] == reference
    # A failing dependency: signing fails for a while; those items wait and are tried again.
    real_sign = documents.sign
    failures = {"left": 40}

    def flaky(*args, **kwargs):
        if failures["left"] > 0:
            failures["left"] -= 1
            raise ConnectionError("key store unavailable")
        return real_sign(*args, **kwargs)

    monkeypatch.setattr(documents, "sign", flaky)
    handled = operations.process_items()
    assert handled == 150
    status = sender.get(f"batches/{reference}").json()
    assert status["status"] == "queued" and status["pending"] == 350 + 40
    later = timezone.now()
    for _round in range(10):
        later += dt.timedelta(minutes=5)
        with time_machine.travel(later, tick=False):
            operations.process_items()
    status = sender.get(f"batches/{reference}").json()
    assert status["status"] == "done", status
    assert (status["made_available"], status["failed"], status["pending"]) == (499, 1, 0)
    assert (
        status["failures"][0]["item"] == 500
        and "unknown_addressee" in status["failures"][0]["error"]
    )
    batch = Batch.objects.get(reference=reference)
    notices = Notice.objects.filter(batch=batch)
    assert notices.count() == 499
    assert sorted(notices.values_list("recipient", flat=True)) == sorted(codes)
    assert BatchItem.objects.filter(batch=batch, notice__isnull=False).count() == 499


def test_a_bad_item_refuses_the_whole_batch(sender, citizen):
    items = [
        {"to": {"national_code": citizen.national_code}, "subject": "s", "body": "b"},
        {"to": {"national_code": "1234567890"}, "subject": "s", "body": "b"},
    ]
    response = sender.post("batches", {"items": items}, key="b-2")
    assert response.status_code == 400 and "2" in response.json()["message"]
    assert Batch.objects.count() == 0
