"""The OpenID provider against RFC 6749's error table (5.2), RFC 7636 (PKCE, S256 only, as
discovery says) and RFC 6749 4.1.2 (a code used twice revokes its first tokens).

The client here is written for this test with plain ``requests`` and the standard library: it
is neither django-oauth-toolkit's nor Authlib's code, so the provider is judged against the
RFCs' text and not against the library that implements it.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
import requests

from panjereh.identity.clients import register_agency_client

from .conftest import PERSON_CODE, PERSON_MOBILE
from .oidc_helpers import consent, op_sign_in

pytestmark = pytest.mark.django_db(transaction=True)

CALLBACK = "http://127.0.0.1:8765/callback"  # never contacted: the test reads the redirect
OTHER_CALLBACK = "http://127.0.0.1:8765/other"


@pytest.fixture
def rp():
    application, secret = register_agency_client(
        "پنجره آزمایشی",
        [CALLBACK, OTHER_CALLBACK],
        client_id="rfc-rp",
        backchannel_logout_uri="",
    )
    return application.client_id, secret


@pytest.fixture
def browser(live_server, citizen):
    http = requests.Session()
    op_sign_in(http, live_server.url, PERSON_CODE, PERSON_MOBILE)
    return http


@pytest.fixture
def meta(live_server):
    return requests.get(f"{live_server.url}/.well-known/openid-configuration", timeout=10).json()


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def _authorize(browser, meta, client_id, **params) -> requests.Response:
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": CALLBACK,
        "scope": "openid profile",
        "state": "st-1",
        "nonce": "n-1",
        **params,
    }
    query = {k: v for k, v in query.items() if v is not None}
    return browser.get(
        f"{meta['authorization_endpoint']}?{urlencode(query)}", allow_redirects=False
    )


def _code(browser, meta, client_id, redirect_uri=CALLBACK) -> tuple[str, str]:
    verifier, challenge = _pkce()
    page = _authorize(
        browser,
        meta,
        client_id,
        redirect_uri=redirect_uri,
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    if page.status_code == 200:  # the consent screen, the first time
        page = consent(browser, page)
    query = parse_qs(urlparse(page.headers["Location"]).query)
    return query["code"][0], verifier


def _token(meta, client_id, secret, **data) -> requests.Response:
    return requests.post(meta["token_endpoint"], data=data, auth=(client_id, secret), timeout=10)


def _redeem(meta, client_id, secret, code, verifier, redirect_uri=CALLBACK):
    return _token(
        meta,
        client_id,
        secret,
        grant_type="authorization_code",
        code=code,
        redirect_uri=redirect_uri,
        code_verifier=verifier,
    )


def _error(response: requests.Response, status: int = 400) -> str:
    """RFC 6749 5.2: a JSON body with ``error``, not cached."""
    assert response.status_code == status, response.text[:300]
    assert response.headers["Content-Type"].startswith("application/json")
    assert "no-store" in response.headers.get("Cache-Control", "")
    return response.json()["error"]


@pytest.mark.parametrize("method", ["plain", None, "S512"])
def test_only_s256_challenges_get_a_code(browser, meta, rp, method):
    client_id, _secret = rp
    assert meta["code_challenge_methods_supported"] == ["S256"]
    verifier = secrets.token_urlsafe(48)
    response = _authorize(
        browser, meta, client_id, code_challenge=verifier, code_challenge_method=method
    )
    # RFC 7636 4.4.1: the authorization error response, invalid_request, and no code.
    assert response.status_code == 302
    location = urlparse(response.headers["Location"])
    query = parse_qs(location.query)
    assert f"{location.scheme}://{location.netloc}{location.path}" == CALLBACK
    assert query["error"] == ["invalid_request"]
    assert query["state"] == ["st-1"]
    assert "code" not in query


def test_a_code_issued_for_a_plain_challenge_is_not_redeemed(browser, meta, rp):
    from oauth2_provider.models import Grant

    client_id, secret = rp
    code, _verifier = _code(browser, meta, client_id)
    # As a code issued before plain was refused: the challenge is the verifier itself.
    Grant.objects.filter(code=code).update(code_challenge="v" * 43, code_challenge_method="plain")
    response = _redeem(meta, client_id, secret, code, "v" * 43)
    assert _error(response) == "invalid_grant"
    assert "access_token" not in response.text


def test_a_redirect_uri_other_than_the_authorization_requests_is_invalid_grant(browser, meta, rp):
    client_id, secret = rp
    code, verifier = _code(browser, meta, client_id, redirect_uri=CALLBACK)
    # Both addresses are registered for the client; the code was issued for CALLBACK only.
    response = _redeem(meta, client_id, secret, code, verifier, redirect_uri=OTHER_CALLBACK)
    assert _error(response) == "invalid_grant"


def test_a_code_used_twice_revokes_the_tokens_of_its_first_use(browser, meta, rp):
    client_id, secret = rp
    code, verifier = _code(browser, meta, client_id)
    first = _redeem(meta, client_id, secret, code, verifier)
    assert first.status_code == 200, first.text[:300]
    tokens = first.json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert requests.get(meta["userinfo_endpoint"], headers=bearer, timeout=10).status_code == 200

    again = _redeem(meta, client_id, secret, code, verifier)
    assert _error(again) == "invalid_grant"

    # The first tokens stop working: the access token at userinfo and introspection, the
    # refresh token at the token endpoint.
    assert requests.get(meta["userinfo_endpoint"], headers=bearer, timeout=10).status_code == 401
    introspected = requests.post(
        meta["introspection_endpoint"],
        data={"token": tokens["access_token"]},
        auth=(client_id, secret),
        timeout=10,
    )
    assert introspected.json()["active"] is False
    refreshed = _token(
        meta, client_id, secret, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    )
    assert _error(refreshed) == "invalid_grant"


def test_tokens_refreshed_before_the_reuse_are_revoked_too(browser, meta, rp):
    client_id, secret = rp
    code, verifier = _code(browser, meta, client_id)
    tokens = _redeem(meta, client_id, secret, code, verifier).json()
    refreshed = _token(
        meta, client_id, secret, grant_type="refresh_token", refresh_token=tokens["refresh_token"]
    ).json()
    assert "access_token" in refreshed
    assert _error(_redeem(meta, client_id, secret, code, verifier)) == "invalid_grant"
    bearer = {"Authorization": f"Bearer {refreshed['access_token']}"}
    assert requests.get(meta["userinfo_endpoint"], headers=bearer, timeout=10).status_code == 401
    again = _token(
        meta,
        client_id,
        secret,
        grant_type="refresh_token",
        refresh_token=refreshed["refresh_token"],
    )
    assert _error(again) == "invalid_grant"


def test_the_error_table_of_rfc_6749_section_5_2(browser, meta, rp):
    client_id, secret = rp
    code, verifier = _code(browser, meta, client_id)
    # invalid_request: a required parameter is missing.
    response = _token(
        meta, client_id, secret, grant_type="authorization_code", redirect_uri=CALLBACK
    )
    assert _error(response) == "invalid_request"
    # invalid_client: client authentication failed (HTTP Basic: 401 with WWW-Authenticate).
    wrong = _token(
        meta,
        client_id,
        "not-the-secret",
        grant_type="authorization_code",
        code=code,
        redirect_uri=CALLBACK,
        code_verifier=verifier,
    )
    assert _error(wrong, status=401) == "invalid_client"
    assert wrong.headers.get("WWW-Authenticate", "").startswith("Basic")
    # unsupported_grant_type: a grant type the server does not support.
    response = _token(meta, client_id, secret, grant_type="password", username="x", password="y")
    assert _error(response) == "unsupported_grant_type"
    response = _token(meta, client_id, secret, grant_type="client_credentials")
    assert _error(response) == "unsupported_grant_type"
    # invalid_grant: an unknown code, and a wrong PKCE verifier.
    unknown = _redeem(meta, client_id, secret, "no-such-code", verifier)
    assert _error(unknown) == "invalid_grant"
    wrong_verifier = _redeem(meta, client_id, secret, code, secrets.token_urlsafe(48))
    assert _error(wrong_verifier) == "invalid_grant"
    # The code survives the refused attempts above and is redeemed once.
    redeemed = _redeem(meta, client_id, secret, code, verifier)
    assert redeemed.status_code == 200
    # invalid_scope: a refresh may not widen the scope granted (RFC 6749 section 6).
    wider = _token(
        meta,
        client_id,
        secret,
        grant_type="refresh_token",
        refresh_token=redeemed.json()["refresh_token"],
        scope="openid profile phone",
    )
    assert _error(wider) == "invalid_scope"
