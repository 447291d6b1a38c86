"""The portals' protocol on its own, over HTTP: only signed calls are answered, a replayed or
stale call is refused, a submission is idempotent on the window's reference, and bad input gets
a clear JSON error and changes nothing."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import socket
import time

import httpx
import pytest

from panjereh.portals.server import App, Office, canonical

from .conftest import SECRETS, application, call, everything, submit

pytestmark = pytest.mark.slow


def test_a_submission_is_received_once_and_repeating_it_changes_nothing(portals):
    first = submit(portals)
    assert first.status_code == 201, first.text
    assert first.json()["state"] == "received" and first.json()["repeated"] is False
    again = submit(portals)
    assert again.status_code == 200 and again.json()["repeated"] is True
    assert again.json()["history"] == first.json()["history"]
    assert [e["type"] for e in everything(portals, "behinyab")] == ["received"]
    assert portals.control()["applications"] == 1


def test_a_reference_cannot_be_reused_for_another_application(portals):
    submit(portals)
    other = submit(portals, title="کارگاه دیگری")
    assert other.status_code == 409 and other.json()["error"] == "reference_reused"
    status = call(portals, "behinyab", "GET", "applications/W-0001").json()
    assert status["state"] == "received" and len(status["history"]) == 1


def test_each_portal_keeps_its_own_applications_and_feed(portals):
    submit(portals, "behinyab")
    submit(portals, "heritage", permit_type="travel_agency")
    assert [e["portal"] for e in everything(portals, "heritage")] == ["heritage"]
    assert call(portals, "health", "GET", "applications/W-0001").status_code == 404
    types = httpx.get(f"{portals.url}/health/api/v1/permit-types", trust_env=False).json()
    assert set(types["permit_types"]) == {"food_production", "pharmacy"}
    assert "شبیه‌سازی" in types["title"]


def test_unsigned_or_forged_calls_are_refused_and_change_nothing(portals):
    body = json.dumps(application()).encode()
    url = f"{portals.url}/behinyab/api/v1/applications"
    bare = httpx.post(url, content=body, trust_env=False)
    assert bare.status_code == 401 and bare.json()["error"] == "signature_required"
    guessed = call(portals, "behinyab", "POST", "applications", application(), secret="guess")
    assert guessed.status_code == 401 and guessed.json()["error"] == "bad_signature"
    # The secret of another portal does not open this one.
    other = call(
        portals, "behinyab", "POST", "applications", application(), secret=SECRETS["health"]
    )
    assert other.status_code == 401 and other.json()["error"] == "bad_signature"
    wrong_key = call(portals, "behinyab", "POST", "applications", application(), key="someone")
    assert wrong_key.status_code == 401
    assert portals.control()["applications"] == 0


def _signed(path: str, body: bytes, *, timestamp: int, nonce: str, method: str = "POST") -> dict:
    text = canonical(str(timestamp), nonce, method, path, body)
    return {
        "X-Portal-Key": "panjereh",
        "X-Portal-Timestamp": str(timestamp),
        "X-Portal-Nonce": nonce,
        "X-Portal-Signature": hmac.new(
            SECRETS["behinyab"].encode(), text, hashlib.sha256
        ).hexdigest(),
    }


def test_a_replayed_call_is_refused_even_when_its_signature_is_good(portals):
    path = "/behinyab/api/v1/applications"
    body = json.dumps(application()).encode()
    headers = _signed(path, body, timestamp=int(time.time()), nonce="n" * 20)
    first = httpx.post(portals.url + path, content=body, headers=headers, trust_env=False)
    assert first.status_code == 201
    replay = httpx.post(portals.url + path, content=body, headers=headers, trust_env=False)
    assert replay.status_code == 401 and replay.json()["error"] == "replayed"
    # A signature over one body does not carry another body, nor another path.
    changed = json.dumps(application("W-0002")).encode()
    swapped = _signed(path, body, timestamp=int(time.time()), nonce="m" * 20)
    answer = httpx.post(portals.url + path, content=changed, headers=swapped, trust_env=False)
    assert answer.status_code == 401 and answer.json()["error"] == "bad_signature"
    elsewhere = "/heritage/api/v1/applications"
    answer = httpx.post(portals.url + elsewhere, content=body, headers=swapped, trust_env=False)
    assert answer.status_code == 401
    assert portals.control()["applications"] == 1


def test_a_stale_timestamp_is_refused(portals):
    path = "/behinyab/api/v1/applications"
    body = json.dumps(application()).encode()
    old = _signed(path, body, timestamp=int(time.time()) - 301, nonce="s" * 20)
    answer = httpx.post(portals.url + path, content=body, headers=old, trust_env=False)
    assert answer.status_code == 401 and answer.json()["error"] == "stale_timestamp"
    assert portals.control()["applications"] == 0


@pytest.mark.parametrize(
    ("change", "error", "field"),
    [
        ({"reference": "W 1/../x"}, "bad_reference", "reference"),
        ({"permit_type": "nuclear_plant"}, "unknown_permit_type", "permit_type"),
        ({"applicant": {"national_code": "0012345678", "name": "x"}}, "bad_national_code", None),
        ({"applicant": {"national_code": "۰۰۱۲۳۴۵۶۷۹", "name": "x"}}, "bad_national_code", None),
        ({"applicant": {"name": "x"}}, "bad_applicant", "applicant"),
        ({"title": "کارگاه\x00"}, "bad_text", "title"),
        ({"title": "کارگاه\u202eسیاه"}, "bad_text", "title"),
        ({"title": "x" * 201}, "bad_text", "title"),
        ({"title": "   "}, "bad_text", "title"),
        ({"details": {"note": "a\x07b"}}, "bad_text", "details.note"),
        ({"details": {"Bad Key": 1}}, "bad_details", "details.Bad Key"),
        ({"details": {"area": 1.5}}, "bad_details", "details.area"),
        ({"details": {"nested": {"a": 1}}}, "bad_details", "details.nested"),
        ({"callback_url": "file:///etc/passwd"}, "bad_callback_url", "callback_url"),
        ({"surprise": 1}, "unknown_field", "surprise"),
    ],
)
def test_bad_fields_are_refused_by_name(portals, change, error, field):
    answer = call(portals, "behinyab", "POST", "applications", {**application(), **change})
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == error and answer.json()["detail"]
    if field:
        assert answer.json()["field"] == field
    assert portals.control()["applications"] == 0


def test_persian_text_with_its_joiners_is_accepted(portals):
    answer = submit(portals, title="کارگاه\u200cهای تولیدی \u200fنمونه")
    assert answer.status_code == 201, answer.text


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"{not json", "bad_json"),
        (b"[1, 2]", "bad_json"),
        (b'{"reference": "\xff\xfe"}', "bad_json"),
        (b"[" * 50_000 + b"]" * 50_000, "too_large"),
        (b'{"a":' * 10_000 + b"1" + b"}" * 10_000, "bad_json"),
        (b'{"n": 1' + b"0" * 5000 + b"}", "bad_json"),
    ],
)
def test_bodies_that_are_not_json_objects_are_refused(portals, body, error):
    answer = call(portals, "behinyab", "POST", "applications", body=body)
    assert answer.status_code == (413 if error == "too_large" else 400)
    assert answer.json()["error"] == error
    assert portals.control()["applications"] == 0


def test_a_lone_surrogate_is_refused_as_text(portals):
    raw = (
        json.dumps(application(), ensure_ascii=False)
        .replace("کارگاه تولید", "\\ud800کارگاه")
        .encode()
    )
    assert "\\ud800" in raw.decode()
    answer = call(portals, "behinyab", "POST", "applications", body=raw)
    assert answer.status_code == 400 and answer.json()["field"] == "title"


def test_a_huge_body_is_refused_before_it_is_read_or_signed(portals):
    body = b'{"x": "' + b"a" * (70 * 1024) + b'"}'
    answer = call(portals, "behinyab", "POST", "applications", body=body)
    assert answer.status_code == 413 and answer.json()["error"] == "too_large"
    # A body that lies about its length beyond the limit gets the same answer, then a close.
    with socket.create_connection(("127.0.0.1", portals.port), timeout=5) as raw:
        raw.sendall(
            b"POST /behinyab/api/v1/applications HTTP/1.1\r\nHost: x\r\n"
            b"Content-Length: 999999999\r\n\r\n{}"
        )
        raw.shutdown(socket.SHUT_WR)
        reply = b""
        while chunk := raw.recv(4096):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 413") and b"too_large" in reply
    assert portals.control()["applications"] == 0


def test_chunked_bodies_are_refused(portals):
    def chunks():
        yield json.dumps(application()).encode()

    answer = httpx.post(
        f"{portals.url}/behinyab/api/v1/applications", content=chunks(), trust_env=False
    )
    assert answer.status_code == 411 and answer.json()["error"] == "length_required"


def test_unknown_addresses_and_references_answer_404_in_json(portals):
    assert httpx.get(f"{portals.url}/nowhere/api/v1/events", trust_env=False).status_code == 404
    assert call(portals, "behinyab", "GET", "applications/NOPE").json()["error"] == (
        "unknown_reference"
    )
    assert call(portals, "behinyab", "DELETE", "applications/NOPE").status_code == 404


def test_the_feed_refuses_a_cursor_it_did_not_give(portals):
    bad = call(portals, "behinyab", "GET", "events?after=abc")
    assert bad.status_code == 400 and bad.json()["error"] == "bad_cursor"
    assert call(portals, "behinyab", "GET", "events?limit=0").json()["error"] == "bad_limit"
    assert call(portals, "behinyab", "GET", "events?limit=9999").status_code == 400


def test_the_control_switch_answers_only_the_loopback_address(tmp_path):
    office = Office(tmp_path / "portals.sqlite3", {"health": {"secret": "s"}}, seed=1)
    app, answers = App(office), []
    environ = {
        "PATH_INFO": "/_control",
        "REQUEST_METHOD": "POST",
        "REMOTE_ADDR": "10.0.0.7",
        "wsgi.input": io.BytesIO(b'{"reset": true}'),
    }
    body = b"".join(app(environ, lambda status, headers: answers.append(status)))
    office.db.close()
    assert answers == ["403 Error"] and json.loads(body)["error"] == "forbidden"
    with pytest.raises(ValueError, match="portals are"):
        Office(tmp_path / "other.sqlite3", {"mimt": {"secret": "s"}}, seed=1)
