"""The gateway's HTTP client against a provider that answers badly: oversized, endless, garbled
or dripping answers end in a clear provider fault, logged; good answers reuse one connection."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

import pytest

from panjereh.exchange import gateway
from panjereh.exchange.models import DataService, LogRecord, Outcome
from tests.factories import make_agency

pytestmark = pytest.mark.django_db

RECORD = b'{"national_code": "%s", "first_name": "Sara", "secret": "not granted"}'


class FakeProvider:
    """A provider on a loopback socket that answers each request with ``reply(request_head)``:
    bytes to send, or a list of (delay, bytes) pieces. Counts the connections it accepts."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self.reply: Callable[[bytes], bytes | list] = lambda head: b""
        self.close_after = False
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        self.listener.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _address = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        buffer = b""
        try:
            while not self._stop.is_set():
                while b"\r\n\r\n" not in buffer:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, _sep, buffer = buffer.partition(b"\r\n\r\n")
                answer = self.reply(head)
                pieces = answer if isinstance(answer, list) else [(0, answer)]
                for delay, piece in pieces:
                    time.sleep(delay)
                    conn.sendall(piece)
                if self.close_after:
                    return
        except OSError:
            return
        finally:
            conn.close()

    def stop(self) -> None:
        self._stop.set()
        self.listener.close()


@pytest.fixture
def provider(exchange, settings):
    settings.PANJEREH_EXCHANGE_RETRIES = 0
    settings.PANJEREH_EXCHANGE_MAX_RESPONSE_BYTES = 100_000
    fake = FakeProvider()
    agency = make_agency(member_code="90000001")
    service = DataService.objects.create(
        provider=agency,
        subsystem="fake-registry",
        code="record",
        title_fa="سابقه",
        items=[{"code": "civil.identity", "fields": ["first_name"]}],
        key_fields=["national_code"],
        openapi={
            "operation": {"parameters": [{"name": "national_code", "in": "path", "required": True}]}
        },
        upstream_base_url=f"http://127.0.0.1:{fake.port}/record",
        timeout_ms=3000,  # generous: the suite shares two cores with other work
    )
    exchange.grant(service, ["civil.identity"])
    gateway.close_connections()
    yield fake, service
    gateway.close_connections()
    fake.stop()


def _ok(head: bytes, code: str) -> bytes:
    body = RECORD % code.encode()
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
        len(body),
        body,
    )


def _chunked(body: bytes, size: int = 7) -> bytes:
    out = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    for start in range(0, len(body), size):
        piece = body[start : start + size]
        out += b"%x\r\n%s\r\n" % (len(piece), piece)
    return out + b"0\r\n\r\n"


CODE = "0012345679"


def _refused_as(exchange, service, code: str) -> dict:
    started = time.monotonic()
    response = exchange.call(service, CODE, CODE)
    assert time.monotonic() - started < 12  # bounded by the service's timeout, not the answer
    assert response.status_code in (502, 504), response.content
    body = response.json()
    assert body["fault"] == "provider" and body["code"] == code, body
    record = LogRecord.objects.get(x_road_id=response["X-Road-Id"])
    assert record.outcome == Outcome.PROVIDER_ERROR and record.reason == code
    return body


def test_answers_come_back_filtered_over_one_kept_connection(exchange, provider):
    fake, service = provider
    fake.reply = lambda head: _ok(head, CODE)
    first = exchange.call(service, CODE, CODE)
    assert first.status_code == 200, first.content
    assert first.json() == {"national_code": CODE, "first_name": "Sara"}
    fake.reply = lambda head: _chunked(RECORD % CODE.encode())
    second = exchange.call(service, CODE, CODE)
    assert second.json() == {"national_code": CODE, "first_name": "Sara"}
    assert fake.connections == 1


def test_the_provider_is_asked_for_exactly_the_checked_path(exchange, provider):
    fake, service = provider
    heads = []

    def reply(head: bytes) -> bytes:
        heads.append(head)
        return _ok(head, CODE)

    fake.reply = reply
    exchange.call(service, CODE, CODE, query={"x": "a b/../c"})
    assert heads[0].split(b"\r\n")[0] == b"GET /record/0012345679?x=a+b%2F..%2Fc HTTP/1.1"


def test_a_declared_length_over_the_cap_is_refused_before_reading(exchange, provider):
    fake, service = provider
    fake.reply = lambda head: (
        b"HTTP/1.1 200 OK\r\nContent-Length: 50000000\r\n\r\n" + b"{" + b" " * 1000
    )
    _refused_as(exchange, service, "provider_answer_too_large")


def test_an_endless_chunked_answer_is_cut_at_the_cap(exchange, provider):
    fake, service = provider
    fake.reply = lambda head: _chunked(b"x" * 300_000, size=16_384)
    _refused_as(exchange, service, "provider_answer_too_large")


def test_a_huge_chunk_size_is_cut_at_the_cap(exchange, provider):
    fake, service = provider
    fake.reply = lambda head: (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFF\r\n" + b"x" * 200_000
    )
    _refused_as(exchange, service, "provider_answer_too_large")


def test_an_answer_delimited_by_closing_is_cut_at_the_cap(exchange, provider):
    fake, service = provider
    fake.close_after = True
    fake.reply = lambda head: b"HTTP/1.1 200 OK\r\n\r\n" + b"x" * 300_000
    _refused_as(exchange, service, "provider_answer_too_large")


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
        b"HELLO THERE\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 900\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n{}",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Encoding: gzip\r\n\r\n{}",
        b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nnot json!",
    ],
    ids=[
        "negative-chunk",
        "garbage-chunk",
        "garbage-status",
        "two-lengths",
        "negative-length",
        "unasked-gzip",
        "not-json",
    ],
)
def test_a_garbled_answer_is_a_bad_answer(exchange, provider, answer):
    fake, service = provider
    fake.close_after = True
    fake.reply = lambda head: answer
    _refused_as(exchange, service, "provider_bad_answer")


def test_an_answer_dripping_past_the_timeout_is_a_timeout(exchange, provider):
    fake, service = provider
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n"
    fake.reply = lambda _head: [(0, head)] + [(0.2, b"x")] * 40  # 8 s against a 3 s timeout
    _refused_as(exchange, service, "provider_timeout")


def test_a_provider_that_closes_without_answering_is_unreachable(exchange, provider):
    fake, service = provider
    fake.close_after = True
    fake.reply = lambda head: b""
    _refused_as(exchange, service, "provider_unreachable")


def test_a_service_that_describes_no_parameters_is_asked_only_about_the_subject(exchange, provider):
    fake, service = provider
    service.openapi = {}
    service.save()
    fake.reply = lambda head: _ok(head, CODE)
    assert exchange.call(service, CODE, CODE).status_code == 200
    assert exchange.call(service, "", CODE).status_code == 200
    other = exchange.call(service, "0012345680", CODE)
    assert other.status_code == 403 and other.json()["code"] == "subject_mismatch"
    extra = exchange.call(service, f"{CODE}/more", CODE)
    assert extra.status_code == 400 and extra.json()["code"] == "bad_path"
