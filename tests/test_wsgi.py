"""The production WSGI application sends the calls only programs make (the exchange gateway,
the OIDC token, userinfo, introspection, revocation and JWKS endpoints) through a handler
without middleware, and everything else through the portal's full stack."""

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


def _call(
    path: str, headers: dict[str, str] | None = None, form: dict[str, str] | None = None
) -> tuple[str, dict, bytes]:
    from urllib.parse import urlencode

    body = urlencode(form).encode() if form is not None else b""
    environ = {
        "REQUEST_METHOD": "POST" if form is not None else "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body)),
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
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
def test_the_gateway_answers_a_bare_prefix_and_other_methods_as_json():
    status, headers, body = _call("/r1/")
    assert status.startswith("400") and json.loads(body)["code"] == "bad_address"
    assert headers["Content-Type"].startswith("application/json")
    status, _headers, body = _call("/r1/IR/GOV/1/sub/svc/123", form={"a": "b"})
    assert json.loads(body)["fault"] == "consumer"  # a POST reaches the gateway's own checks


@pytest.mark.django_db
def test_portal_pages_keep_the_full_middleware_stack():
    status, headers, _body = _call("/en/")
    assert status.startswith("200")
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Content-Language"] == "en"


@pytest.mark.django_db
def test_a_code_is_redeemed_on_the_lean_path_and_the_id_token_verifies():
    import base64
    import hashlib
    import secrets

    from django.utils import timezone
    from joserfc import jwt
    from joserfc.jwk import KeySet
    from oauth2_provider.models import Grant

    from panjereh.identity.clients import register_agency_client
    from panjereh.identity.models import CodeSession, SsoSession
    from panjereh.identity.oidc import code_hash
    from tests.factories import UserFactory

    callback = "https://window.example/cb"
    application, secret = register_agency_client("Lean window", [callback])
    user = UserFactory(assurance_level=2)
    session = SsoSession.objects.create(sid="lean-sid", user=user)
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    code = secrets.token_urlsafe(30)
    Grant.objects.create(
        application=application,
        user=user,
        code=code,
        expires=timezone.now() + timezone.timedelta(minutes=1),
        redirect_uri=callback,
        scope="openid profile",
        code_challenge=challenge.decode(),
        code_challenge_method="S256",
        nonce="n-1",
        claims="{}",
    )
    CodeSession.objects.create(code_hash=code_hash(code), sso_session=session)
    basic = base64.b64encode(f"{application.client_id}:{secret}".encode()).decode()
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": callback,
        "code_verifier": verifier,
    }
    status, headers, body = _call("/oidc/token/", {"Authorization": f"Basic {basic}"}, form)
    assert status.startswith("200"), body
    assert "Set-Cookie" not in headers and headers["X-Content-Type-Options"] == "nosniff"
    tokens = json.loads(body)
    _status, _headers, jwks = _call("/oidc/jwks/")
    claims = jwt.decode(tokens["id_token"], KeySet.import_key_set(json.loads(jwks))).claims
    assert claims["acr"] == "2" and claims["sid"] == "lean-sid" and claims["nonce"] == "n-1"
    assert claims["aud"] == application.client_id
    status, _headers, info = _call(
        "/oidc/userinfo/", {"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert status.startswith("200") and json.loads(info)["sub"] == claims["sub"]
    # The same code again is refused (one use), and a wrong client gets nothing.
    status, _headers, _body = _call("/oidc/token/", {"Authorization": f"Basic {basic}"}, form)
    assert status.startswith("400")
    wrong = base64.b64encode(f"{application.client_id}:nope".encode()).decode()
    status, _headers, _body = _call("/oidc/token/", {"Authorization": f"Basic {wrong}"}, form)
    assert status.startswith("401")


@pytest.mark.django_db
def test_userinfo_without_a_token_is_refused_without_a_session():
    status, headers, _body = _call("/oidc/userinfo/")
    assert status.startswith("401") and "Set-Cookie" not in headers


@pytest.mark.django_db
def test_machine_answers_are_one_finished_body_with_its_length():
    """The server gets the answer as a one-item list (written at once, not drained chunk by
    chunk) with its Content-Length, and the response is closed: Django's request_finished ran."""
    finished = []

    def on_finished(**_kwargs):
        finished.append(True)

    signals.request_finished.connect(on_finished)
    try:
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": "/r1/IR/GOV/1/sub/svc/123",
            "QUERY_STRING": "",
            "SERVER_NAME": "testserver",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": sys.stderr,
            "HTTP_HOST": "testserver",
        }
        seen: dict = {}

        def start_response(status, response_headers, exc_info=None):
            seen["headers"] = dict(response_headers)

        answer = wsgi.application(environ, start_response)
    finally:
        signals.request_finished.disconnect(on_finished)
    assert isinstance(answer, list) and len(answer) == 1
    assert seen["headers"]["Content-Length"] == str(len(answer[0]))
    assert finished == [True]


@pytest.mark.django_db
def test_an_exception_the_gateway_lets_through_is_djangos_500(monkeypatch):
    """The last resort of the direct /r1/ path: Django's 500 answer, signalled and logged as its
    handler would, still with the machine headers."""
    seen = []

    def broken(request, path):
        raise RuntimeError("boom")

    def on_exception(**kwargs):
        seen.append(kwargs.get("request"))

    monkeypatch.setattr(wsgi, "gateway", broken)
    signals.got_request_exception.connect(on_exception)
    try:
        status, headers, _body = _call("/r1/IR/GOV/1/sub/svc/123")
    finally:
        signals.got_request_exception.disconnect(on_exception)
    assert status.startswith("500") and len(seen) == 1
    assert headers["X-Content-Type-Options"] == "nosniff"
