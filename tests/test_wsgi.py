"""The production WSGI application sends gateway calls through a handler without middleware
and everything else through the portal's full stack."""

from __future__ import annotations

import io
import json
import sys

import pytest
from django.core import signals
from django.db import close_old_connections

from panjereh.conf import wsgi


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """A real request ends by closing old database connections, which would close the test's
    own (inside its transaction); Django's test client disconnects the same handlers."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def _call(path: str, headers: dict[str, str] | None = None) -> tuple[str, dict, bytes]:
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "HTTP_HOST": "testserver",
        **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in (headers or {}).items()},
    }
    seen: dict = {}

    def start_response(status, response_headers, exc_info=None):
        seen["status"] = status
        seen["headers"] = dict(response_headers)

    body = b"".join(wsgi.application(environ, start_response))
    return seen["status"], seen["headers"], body


@pytest.mark.django_db
def test_gateway_calls_skip_the_portal_middleware():
    status, headers, body = _call("/r1/IR/GOV/1/sub/svc/123", {"X-Road-Client": "nope"})
    assert status.startswith("400")
    payload = json.loads(body)
    assert payload["fault"] == "consumer" and payload["code"] == "missing_client"
    assert headers["X-Content-Type-Options"] == "nosniff"
    # No session, CSRF, locale or clickjacking middleware ran for it.
    assert "Set-Cookie" not in headers and "X-Frame-Options" not in headers
    assert "Content-Language" not in headers


@pytest.mark.django_db
def test_portal_pages_keep_the_full_middleware_stack():
    status, headers, _body = _call("/en/")
    assert status.startswith("200")
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Content-Language"] == "en"
