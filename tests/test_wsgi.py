"""Two WSGI applications: the portal (Django's handler with the full middleware stack, the
whole URL map: the demo is one process) and the gateway process's (``panjereh serve --app
gateway``: the endpoints only programs call, under ``gateway_settings``: their URL map and the
security and common middleware only, so the transport rules are the portal's)."""

from __future__ import annotations

import io
import json
import sys

import pytest
from django.conf import settings
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from django.test import override_settings

from panjereh.conf import gateway_settings, wsgi


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """A real request ends by closing old database connections, which would close the test's
    own (inside its transaction); Django's test client disconnects the same handlers."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def gateway_app():
    """The gateway process's application: Django's handler under the gateway's settings."""
    with override_settings(
        ROOT_URLCONF=gateway_settings.ROOT_URLCONF, MIDDLEWARE=gateway_settings.MIDDLEWARE
    ):
        yield WSGIHandler()


def _call(
    app,
    path: str,
    headers: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    scheme: str = "http",
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
        "SERVER_PORT": "443" if scheme == "https" else "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": scheme,
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "HTTP_HOST": "testserver",
        **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in (headers or {}).items()},
    }
    seen: dict = {}

    def start_response(status, response_headers, exc_info=None):
        seen["status"] = status
        seen["headers"] = dict(response_headers)

    answer = app(environ, start_response)
    try:
        body = b"".join(answer)
    finally:
        if hasattr(answer, "close"):
            answer.close()  # as the server does: Django's request_finished
    return seen["status"], seen["headers"], body


@pytest.mark.django_db
def test_the_gateway_process_answers_programs_without_the_portals_middleware(gateway_app):
    status, headers, body = _call(gateway_app, "/r1/IR/GOV/1/sub/svc/123", {"X-Road-Client": "x"})
    assert status.startswith("400")
    payload = json.loads(body)
    assert payload["fault"] == "consumer" and payload["code"] == "missing_client"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Length"] == str(len(body))
    # No session, CSRF, locale or clickjacking middleware ran for it.
    assert "Set-Cookie" not in headers and "X-Frame-Options" not in headers
    assert "Content-Language" not in headers


@pytest.mark.django_db
def test_the_gateway_answers_a_bare_prefix_and_other_methods_as_json(gateway_app):
    status, headers, body = _call(gateway_app, "/r1/")
    assert status.startswith("400") and json.loads(body)["code"] == "bad_address"
    assert headers["Content-Type"].startswith("application/json")
    status, _headers, body = _call(gateway_app, "/r1/IR/GOV/1/sub/svc/123", form={"a": "b"})
    assert json.loads(body)["fault"] == "consumer"  # a POST reaches the gateway's own checks


@pytest.mark.django_db
def test_the_gateway_process_serves_no_page_and_no_browser_endpoint(gateway_app):
    for path in ("/en/", "/", "/admin/"):
        status, headers, body = _call(gateway_app, path)
        assert status.startswith("404"), path
        assert headers["Content-Type"] == "application/json" and json.loads(body)["detail"]
    for path in ("/oidc/authorize/", "/oidc/logout/"):  # a browser is sent to the portal
        status, headers, _body = _call(gateway_app, path)
        assert status.startswith("302"), path
        assert headers["Location"] == settings.PUBLIC_BASE_URL.rstrip("/") + path


@pytest.mark.django_db
def test_the_gateway_process_serves_the_discovery_document(gateway_app):
    status, _headers, body = _call(gateway_app, "/.well-known/openid-configuration")
    assert status.startswith("200")
    document = json.loads(body)
    assert document["token_endpoint"].endswith("/oidc/token/")
    assert document["authorization_endpoint"].endswith("/oidc/authorize/")


@pytest.mark.django_db
def test_the_portal_keeps_the_full_stack_and_serves_the_gateway_too():
    status, headers, _body = _call(wsgi.application, "/en/")
    assert status.startswith("200")
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Content-Language"] == "en"
    # The demo is one process: the portal's URL map has the gateway (no bypass around Django).
    status, _headers, body = _call(wsgi.application, "/r1/IR/GOV/1/sub/svc/123")
    assert status.startswith("400") and json.loads(body)["fault"] == "consumer"


@pytest.mark.django_db
def test_program_endpoints_follow_the_portals_transport_rules():
    """Plain HTTP to a program endpoint is redirected to HTTPS as for the portal, and answers
    over HTTPS carry HSTS (production turns both on)."""
    with override_settings(SECURE_SSL_REDIRECT=True, SECURE_HSTS_SECONDS=3600):
        portal = WSGIHandler()  # the middleware reads these settings when it is made
        with override_settings(
            ROOT_URLCONF=gateway_settings.ROOT_URLCONF, MIDDLEWARE=gateway_settings.MIDDLEWARE
        ):
            gateway_app = WSGIHandler()
            for path in ("/oidc/jwks/", "/r1/IR/GOV/1/sub/svc/123"):
                for app in (gateway_app, portal):
                    status, headers, _body = _call(app, path)
                    assert status.startswith("301"), (path, status)
                    assert headers["Location"] == f"https://testserver{path}"
            status, headers, _body = _call(gateway_app, "/oidc/jwks/", scheme="https")
            assert status.startswith("200")
            assert headers["Strict-Transport-Security"] == "max-age=3600"
            status, headers, _body = _call(gateway_app, "/oidc/token/", form={}, scheme="https")
            assert status.startswith("400") and "Strict-Transport-Security" in headers


@pytest.mark.django_db
def test_a_code_is_redeemed_in_the_gateway_process_and_the_id_token_verifies(gateway_app):
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
    application, secret = register_agency_client("Gateway window", [callback])
    user = UserFactory(assurance_level=2)
    session = SsoSession.objects.create(sid="gateway-sid", user=user)
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
    status, headers, body = _call(
        gateway_app, "/oidc/token/", {"Authorization": f"Basic {basic}"}, form
    )
    assert status.startswith("200"), body
    assert "Set-Cookie" not in headers and headers["X-Content-Type-Options"] == "nosniff"
    tokens = json.loads(body)
    _status, _headers, jwks = _call(gateway_app, "/oidc/jwks/")
    claims = jwt.decode(tokens["id_token"], KeySet.import_key_set(json.loads(jwks))).claims
    assert claims["acr"] == "2" and claims["sid"] == "gateway-sid" and claims["nonce"] == "n-1"
    assert claims["aud"] == application.client_id
    status, _headers, info = _call(
        gateway_app, "/oidc/userinfo/", {"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert status.startswith("200") and json.loads(info)["sub"] == claims["sub"]
    # The same code again is refused (one use), and a wrong client gets nothing.
    status, _headers, _body = _call(
        gateway_app, "/oidc/token/", {"Authorization": f"Basic {basic}"}, form
    )
    assert status.startswith("400")
    wrong = base64.b64encode(f"{application.client_id}:nope".encode()).decode()
    status, _headers, _body = _call(
        gateway_app, "/oidc/token/", {"Authorization": f"Basic {wrong}"}, form
    )
    assert status.startswith("401")


@pytest.mark.django_db
def test_userinfo_without_a_token_is_refused_without_a_session(gateway_app):
    status, headers, _body = _call(gateway_app, "/oidc/userinfo/")
    assert status.startswith("401") and "Set-Cookie" not in headers


@pytest.mark.django_db
def test_an_exception_the_gateway_lets_through_is_djangos_500(gateway_app, monkeypatch):
    """The gateway answers its own errors as JSON; what it lets through is Django's 500 answer,
    signalled and logged by the handler, still with the transport headers."""
    from panjereh.exchange import gateway

    seen = []

    def broken(request, path):
        raise RuntimeError("boom")

    def on_exception(**kwargs):
        seen.append(kwargs.get("request"))

    monkeypatch.setattr(gateway, "_gateway", broken)
    signals.got_request_exception.connect(on_exception)
    try:
        status, headers, _body = _call(gateway_app, "/r1/IR/GOV/1/sub/svc/123")
    finally:
        signals.got_request_exception.disconnect(on_exception)
    assert status.startswith("500") and len(seen) == 1
    assert headers["X-Content-Type-Options"] == "nosniff"
