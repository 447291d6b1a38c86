"""The app's public client at the OpenID provider: PKCE without a secret, the ``citizen``
scope for this client only, refresh-token rotation and reuse detection (a rotated refresh token
presented again revokes its whole family, on PostgreSQL too, where the token view's error answer
rolls its own transaction back)."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
import requests

from panjereh.citizenapi.client import APP_CLIENT_ID, APP_REDIRECT_URI, ensure_app_client
from panjereh.identity.clients import register_agency_client
from tests.identity.conftest import (  # noqa: F401  (fixtures used by name)
    PERSON_CODE,
    PERSON_MOBILE,
    citizen,
    var_dir,
)
from tests.identity.oidc_helpers import op_sign_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def browser(live_server, citizen):  # noqa: F811
    ensure_app_client()
    http = requests.Session()
    op_sign_in(http, live_server.url, PERSON_CODE, PERSON_MOBILE)
    return http


@pytest.fixture
def meta(live_server):
    return requests.get(f"{live_server.url}/.well-known/openid-configuration", timeout=10).json()


def _pkce():
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _authorize(browser, meta, client_id=APP_CLIENT_ID, redirect_uri=APP_REDIRECT_URI, **extra):
    verifier, challenge = _pkce()
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": "openid profile citizen",
        "state": "s",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    response = browser.get(
        f"{meta['authorization_endpoint']}?{urlencode(query)}", allow_redirects=False
    )
    return response, verifier


def _tokens(browser, meta) -> dict:
    response, verifier = _authorize(browser, meta)
    assert response.status_code == 302, response.text[:300]
    location = response.headers["Location"]
    assert location.startswith(APP_REDIRECT_URI + "?")  # no consent page: the window's own app
    code = parse_qs(urlparse(location).query)["code"][0]
    redeemed = requests.post(
        meta["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": APP_REDIRECT_URI,
            "client_id": APP_CLIENT_ID,
            "code_verifier": verifier,
        },
        timeout=10,
    )
    assert redeemed.status_code == 200, redeemed.text[:300]
    return redeemed.json()


def _refresh(meta, refresh_token: str) -> requests.Response:
    return requests.post(
        meta["token_endpoint"],
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": APP_CLIENT_ID,
        },
        timeout=10,
    )


def _profile(live_server, access_token: str) -> int:
    return requests.get(
        f"{live_server.url}/api/me/v1/profile/",
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=10,
    ).status_code


def test_discovery_names_public_clients_and_the_citizen_scope(meta):
    assert "none" in meta["token_endpoint_auth_methods_supported"]
    assert "citizen" in meta["scopes_supported"]
    assert meta["code_challenge_methods_supported"] == ["S256"]


def test_the_app_signs_in_with_pkce_and_no_secret(live_server, browser, meta):
    tokens = _tokens(browser, meta)
    assert set(tokens["scope"].split()) == {"openid", "profile", "citizen"}
    assert tokens["refresh_token"] and tokens["id_token"]
    assert _profile(live_server, tokens["access_token"]) == 200


def test_without_pkce_or_with_another_redirect_there_is_no_code(browser, meta):
    response = browser.get(
        meta["authorization_endpoint"]
        + "?"
        + urlencode(
            {
                "response_type": "code",
                "client_id": APP_CLIENT_ID,
                "redirect_uri": APP_REDIRECT_URI,
                "scope": "openid citizen",
            }
        ),
        allow_redirects=False,
    )
    assert "code=" not in response.headers.get("Location", "")
    # A loopback address on any port is not the app's (exact match only).
    other, _verifier = _authorize(browser, meta, redirect_uri="http://127.0.0.1:9999/cb")
    assert "code=" not in other.headers.get("Location", "")


def test_a_wrong_verifier_gets_no_tokens(browser, meta):
    response, _verifier = _authorize(browser, meta)
    code = parse_qs(urlparse(response.headers["Location"]).query)["code"][0]
    refused = requests.post(
        meta["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": APP_REDIRECT_URI,
            "client_id": APP_CLIENT_ID,
            "code_verifier": secrets.token_urlsafe(48),
        },
        timeout=10,
    )
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"


def test_an_agency_window_cannot_ask_for_the_citizen_scope(live_server, browser, meta):
    register_agency_client("پنجره دستگاه", ["https://window.example/cb"], client_id="win")
    response, _verifier = _authorize(
        browser, meta, client_id="win", redirect_uri="https://window.example/cb"
    )
    location = response.headers.get("Location", "")
    assert "error=invalid_scope" in location and "code=" not in location


def test_a_refresh_rotates_and_the_old_refresh_token_stops_working(live_server, browser, meta):
    first = _tokens(browser, meta)
    second = _refresh(meta, first["refresh_token"])
    assert second.status_code == 200, second.text[:300]
    second = second.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert _profile(live_server, second["access_token"]) == 200
    third = _refresh(meta, second["refresh_token"])
    assert third.status_code == 200
    assert _refresh(meta, second["refresh_token"]).json()["error"] == "invalid_grant"


def test_reusing_a_rotated_refresh_token_revokes_the_family(live_server, browser, meta):
    """A stolen refresh token used after the app has rotated it: the thief gets nothing, and the
    app's own current tokens are revoked as well (RFC 9700 4.14.2), so both sign in again."""
    from oauth2_provider.models import RefreshToken

    first = _tokens(browser, meta)
    current = _refresh(meta, first["refresh_token"]).json()
    assert _profile(live_server, current["access_token"]) == 200

    stolen = _refresh(meta, first["refresh_token"])
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"

    assert _profile(live_server, current["access_token"]) == 401
    assert _refresh(meta, current["refresh_token"]).json()["error"] == "invalid_grant"
    assert not RefreshToken.objects.filter(revoked__isnull=True).exists()
