"""A refused body is read off the connection, so the client's next request on it is answered."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time

import pytest
from django.test import RequestFactory

from panjereh.common.badinput import BadInputMiddleware
from panjereh.common.drain import DRAIN_FACTOR, drain


def _request(size: int):
    return RequestFactory().post(
        "/account/login/",
        b"a=" + b"x" * (size - 2),
        content_type="application/x-www-form-urlencoded",
    )


def test_the_portal_reads_a_refused_oversized_form_off_the_connection(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    request = _request(50_000)
    response = BadInputMiddleware(lambda r: pytest.fail("the view must not run"))(request)
    assert response.status_code == 413
    assert request.read() == b""  # nothing left on the connection
    assert "Connection" not in response


def test_a_form_too_large_to_read_asks_to_close_the_connection(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    request = _request(DRAIN_FACTOR * 1_000 + 10)
    response = BadInputMiddleware(lambda r: pytest.fail("the view must not run"))(request)
    assert response.status_code == 413 and response["Connection"] == "close"


def test_drain_stops_at_a_body_that_ends_early():
    request = _request(5_000)
    request.META["CONTENT_LENGTH"] = "9000"  # the client stopped sending
    assert drain(request, 10_000) is False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_after_an_oversized_post_the_same_connection_answers_the_next_request(tmp_path):
    """Against the real server (Granian, as in production): before, the next request on a
    kept-alive connection after a refused 3 MB form sometimes got no answer at all."""
    port = _free_port()
    env = dict(os.environ, PANJEREH_VAR=str(tmp_path), PANJEREH_ALLOWED_HOSTS="127.0.0.1")
    env.pop("DATABASE_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "panjereh", "serve", "--bind", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
        body = b"a=" + b"x" * 3_000_000
        for _ in range(3):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request(
                "POST",
                "/account/login/",
                body=body,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            refused = connection.getresponse()
            refused.read()
            assert refused.status == 413
            if refused.getheader("Connection", "").lower() == "close":
                continue  # the server said so: a client opens a new connection
            connection.request("GET", "/i18n/en/?next=/en/")
            answer = connection.getresponse()
            answer.read()
            assert answer.status == 302
            connection.close()
    finally:
        server.terminate()
        server.wait(timeout=20)
