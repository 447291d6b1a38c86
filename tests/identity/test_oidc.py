"""The OpenID Connect provider, driven by a standard client library not written for this
project (Authlib's OAuth 2.0 client, joserfc for the JWKS), against the running server."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.jwk import KeySet

from panjereh.identity.clients import register_agency_client
from panjereh.identity.models import AuthEvent, SsoSession, User

from .conftest import OTHER_CODE, PERSON_CODE, PERSON_MOBILE, make_citizen
from .oidc_helpers import consent, op_sign_in

pytestmark = pytest.mark.django_db(transaction=True)

CALLBACK = "http://127.0.0.1:8765/callback"  # never contacted: the test reads the redirect


@pytest.fixture
def rp():
    application, secret = register_agency_client(
        "پنجره آزمایشی", [CALLBACK], client_id="test-rp", backchannel_logout_uri=""
    )
    return application, secret


@pytest.fixture
def signed_in(live_server, citizen):
    http = requests.Session()
    op_sign_in(http, live_server.url, PERSON_CODE, PERSON_MOBILE)
    return http


def discover(base: str) -> dict:
    return requests.get(f"{base}/.well-known/openid-configuration", timeout=10).json()


def authorize(http, meta, client: OAuth2Session, **extra):
    verifier = generate_token(48)
    nonce = generate_token(16)
    url, state = client.create_authorization_url(
        meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce, **extra
    )
    return http.get(url, allow_redirects=False), verifier, nonce, state


def code_flow(http, meta, client_id, secret, scope="openid profile"):
    client = OAuth2Session(
        client_id, secret, scope=scope, redirect_uri=CALLBACK, code_challenge_method="S256"
    )
    page, verifier, nonce, _state = authorize(http, meta, client)
    assert page.status_code == 200, page.text[:300]  # the consent screen
    redirect = consent(http, page)
    location = redirect.headers["Location"]
    assert location.startswith(CALLBACK + "?")
    token = client.fetch_token(
        meta["token_endpoint"], authorization_response=location, code_verifier=verifier
    )
    return client, token, nonce


def verify_id_token(meta, token, client_id, nonce: str | None, alg: str = "ES256") -> dict:
    """Verify with the published keys, accepting only the client's registered algorithm; a
    refreshed ID token carries no nonce (OIDC Core 12.2)."""
    keys = KeySet.import_key_set(requests.get(meta["jwks_uri"], timeout=10).json())
    decoded = jwt.decode(token["id_token"], keys, algorithms=[alg])
    expected = {
        "iss": {"essential": True, "value": meta["issuer"]},
        "aud": {"essential": True, "value": client_id},
        "sub": {"essential": True},
        "exp": {"essential": True},
    }
    if nonce is not None:
        expected["nonce"] = {"essential": True, "value": nonce}
    else:
        assert "nonce" not in decoded.claims
    jwt.JWTClaimsRegistry(**expected).validate(decoded.claims)
    assert decoded.header["alg"] == alg
    return decoded.claims


def test_discovery_document(live_server):
    meta = discover(live_server.url)
    assert meta["issuer"] == live_server.url
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["subject_types_supported"] == ["pairwise"]
    assert meta["backchannel_logout_supported"] is True
    assert meta["acr_values_supported"] == ["1", "2", "3", "4"]
    for endpoint in ("revocation_endpoint", "introspection_endpoint", "end_session_endpoint"):
        assert meta[endpoint].startswith(live_server.url)
    assert "registration_endpoint" not in meta
    assert set(meta["id_token_signing_alg_values_supported"]) == {"ES256", "RS256"}
    keys = requests.get(meta["jwks_uri"], timeout=10).json()["keys"]
    assert {(k["kty"], k["alg"]) for k in keys} == {("RSA", "RS256"), ("EC", "ES256")}
    assert all("d" not in k for k in keys)  # public halves only


def test_a_window_registered_for_rs256_gets_rs256_id_tokens(live_server, signed_in, citizen):
    application, secret = register_agency_client(
        "پنجره قدیمی", [CALLBACK], client_id="legacy-rp", id_token_alg="RS256"
    )
    meta = discover(live_server.url)
    _client, token, nonce = code_flow(signed_in, meta, application.client_id, secret)
    claims = verify_id_token(meta, token, application.client_id, nonce, alg="RS256")
    assert claims["acr"] == "1"
    with pytest.raises(Exception):  # noqa: B017 (joserfc raises its own error types)
        verify_id_token(meta, token, application.client_id, nonce, alg="ES256")


def test_code_flow_with_pkce_and_standard_client(live_server, rp, signed_in, citizen):
    application, secret = rp
    meta = discover(live_server.url)
    client, token, nonce = code_flow(signed_in, meta, application.client_id, secret)
    claims = verify_id_token(meta, token, application.client_id, nonce)
    assert claims["acr"] == "1"
    assert claims["sub"] != str(citizen.pk) and len(claims["sub"]) >= 40  # pairwise, opaque
    assert SsoSession.objects.filter(sid=claims["sid"], user=citizen).exists()
    assert "national_code" not in claims
    userinfo = client.get(meta["userinfo_endpoint"]).json()
    assert userinfo["sub"] == claims["sub"]
    assert userinfo["name"] == "مریم رضایی" and "national_code" not in userinfo
    # Introspection, refresh, revocation.
    introspected = client.introspect_token(
        meta["introspection_endpoint"], token=token["access_token"]
    ).json()
    assert introspected["active"] is True
    assert introspected["sub"] == claims["sub"] and "username" not in introspected
    # Another agency's window learns nothing about this window's token.
    _other, other_secret = register_agency_client("دیگری", [CALLBACK], client_id="other-rp")
    other = OAuth2Session("other-rp", other_secret)
    foreign = other.introspect_token(meta["introspection_endpoint"], token=token["access_token"])
    assert foreign.json() == {"active": False}
    refreshed = client.refresh_token(meta["token_endpoint"], refresh_token=token["refresh_token"])
    assert refreshed["access_token"] != token["access_token"]
    refreshed_claims = verify_id_token(meta, refreshed, application.client_id, None)
    assert refreshed_claims["sub"] == claims["sub"] and refreshed_claims["sid"] == claims["sid"]
    client.revoke_token(meta["revocation_endpoint"], token=refreshed["access_token"])
    response = requests.get(
        meta["userinfo_endpoint"],
        headers={"Authorization": f"Bearer {refreshed['access_token']}"},
        timeout=10,
    )
    assert response.status_code == 401
    assert AuthEvent.objects.filter(user=citizen, kind="consent").exists()


def test_id_token_passes_authlibs_oidc_core_validation(live_server, rp, signed_in):
    """Authlib's own OpenID Connect Core checks (iss, aud, exp, iat, nonce, at_hash, auth_time)
    on the ID token, with the keys from the published JWKS."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # authlib.jose is deprecated in favour of joserfc
        from authlib.jose import JsonWebKey
        from authlib.jose import jwt as authlib_jwt
        from authlib.oidc.core import CodeIDToken

    application, secret = rp
    meta = discover(live_server.url)
    _client, token, nonce = code_flow(signed_in, meta, application.client_id, secret)
    keys = JsonWebKey.import_key_set(requests.get(meta["jwks_uri"], timeout=10).json())
    claims = authlib_jwt.decode(
        token["id_token"],
        keys,
        claims_cls=CodeIDToken,
        claims_options={"iss": {"essential": True, "value": meta["issuer"]}},
        claims_params={
            "nonce": nonce,
            "client_id": application.client_id,
            "access_token": token["access_token"],
        },
    )
    claims.validate(leeway=30)
    assert claims["at_hash"]


def test_pkce_is_required(live_server, rp, signed_in):
    application, secret = rp
    meta = discover(live_server.url)
    plain = OAuth2Session(application.client_id, secret, scope="openid", redirect_uri=CALLBACK)
    url, _state = plain.create_authorization_url(meta["authorization_endpoint"], nonce="n")
    response = signed_in.get(url, allow_redirects=False)
    assert "code=" not in response.headers.get("Location", "")
    # A code obtained with PKCE cannot be redeemed with the wrong verifier.
    client = OAuth2Session(
        application.client_id,
        secret,
        scope="openid",
        redirect_uri=CALLBACK,
        code_challenge_method="S256",
    )
    page, _verifier, _nonce, _state = authorize(signed_in, meta, client)
    location = consent(signed_in, page).headers["Location"]
    code = parse_qs(urlparse(location).query)["code"][0]
    response = requests.post(
        meta["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "code_verifier": generate_token(48),
        },
        auth=(application.client_id, secret),
        timeout=10,
    )
    assert response.status_code == 400 and "id_token" not in response.text


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "http://127.0.0.1:8766/callback",  # same loopback host, another port
        "http://evil.example/callback",
        "http://127.0.0.1:8765/callback/extra",
        "http://127.0.0.1:8765/callback?x=1",
    ],
)
def test_unregistered_redirect_uri_gets_no_code(live_server, rp, signed_in, redirect_uri):
    from oauth2_provider.models import Grant

    application, secret = rp
    meta = discover(live_server.url)
    client = OAuth2Session(
        application.client_id,
        secret,
        scope="openid",
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
    )
    response, *_ = authorize(signed_in, meta, client)
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "authorizationForm" not in response.text  # no consent form to press either
    assert not Grant.objects.exists()


def test_pairwise_subjects_and_national_code_only_when_allowed(live_server, signed_in, citizen):
    meta = discover(live_server.url)
    a, secret_a = register_agency_client("الف", [CALLBACK], client_id="rp-a")
    b, secret_b = register_agency_client(
        "ب", [CALLBACK], client_id="rp-b", may_receive_national_code=True
    )
    _client_a, token_a, nonce_a = code_flow(signed_in, meta, a.client_id, secret_a)
    client_b, token_b, nonce_b = code_flow(
        signed_in, meta, b.client_id, secret_b, scope="openid profile national_code"
    )
    sub_a = verify_id_token(meta, token_a, a.client_id, nonce_a)["sub"]
    claims_b = verify_id_token(meta, token_b, b.client_id, nonce_b)
    assert sub_a != claims_b["sub"]
    assert claims_b["national_code"] == PERSON_CODE
    assert client_b.get(meta["userinfo_endpoint"]).json()["national_code"] == PERSON_CODE
    # Client A is not allowed the national code: the request is refused, nothing issued.
    client = OAuth2Session(
        a.client_id,
        secret_a,
        scope="openid national_code",
        redirect_uri=CALLBACK,
        code_challenge_method="S256",
    )
    response, *_ = authorize(signed_in, meta, client)
    location = response.headers.get("Location", "")
    assert "error=invalid_scope" in location and "code=" not in location


def test_consent_lists_claims_in_persian_first(live_server, rp, signed_in):
    application, secret = rp
    meta = discover(live_server.url)
    client = OAuth2Session(
        application.client_id,
        secret,
        scope="openid profile phone",
        redirect_uri=CALLBACK,
        code_challenge_method="S256",
    )
    page, *_ = authorize(signed_in, meta, client)
    assert '<html lang="fa" dir="rtl">' in page.text
    for claim in ("sub", "acr", "name", "phone_number"):
        assert f'data-claim="{claim}"' in page.text
    assert 'data-claim="national_code"' not in page.text


def test_low_level_is_sent_to_step_up_not_an_error(live_server, rp, signed_in):
    application, secret = rp
    meta = discover(live_server.url)
    client = OAuth2Session(
        application.client_id,
        secret,
        scope="openid",
        redirect_uri=CALLBACK,
        code_challenge_method="S256",
    )
    response, *_ = authorize(signed_in, meta, client, acr_values="2")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/step-up/?level=2&next=")


def test_agency_windows_cannot_create_accounts(live_server, rp):
    application, secret = rp
    meta = discover(live_server.url)
    before = User.objects.count()
    http = requests.Session()
    client = OAuth2Session(
        application.client_id,
        secret,
        scope="openid",
        redirect_uri=CALLBACK,
        code_challenge_method="S256",
    )
    # prompt=create: the OIDC way to ask the provider for an account, refused.
    make_citizen(OTHER_CODE, "09350000001")
    op_sign_in(http, live_server.url, OTHER_CODE, "09350000001")
    response, *_ = authorize(http, meta, client, prompt="create")
    assert response.status_code == 400 and "code=" not in response.headers.get("Location", "")
    # No dynamic client registration, no self-service applications, no password grant.
    for path in ("/oidc/register/", "/o/applications/register/", "/oidc/applications/register/"):
        assert requests.post(live_server.url + path, json={}, timeout=10).status_code == 404
    response = requests.post(
        meta["token_endpoint"],
        data={"grant_type": "password", "username": PERSON_CODE, "password": "x"},
        auth=(application.client_id, secret),
        timeout=10,
    )
    assert response.status_code in (400, 401) and "access_token" not in response.text
    # A registration attempt with an agency's token and no browser session is refused.
    response = requests.post(
        f"{live_server.url}/account/register/",
        data={"national_code": PERSON_CODE, "birth_date": "1370/06/31", "mobile": PERSON_MOBILE},
        headers={"Authorization": "Bearer anything"},
        timeout=10,
    )
    assert response.status_code == 403
    assert User.objects.count() == before + 1  # only the account made by this test's setup


def test_silent_authentication_with_prompt_none(live_server, rp, citizen):
    application, secret = rp
    meta = discover(live_server.url)

    def silent(http):
        client = OAuth2Session(
            application.client_id,
            secret,
            scope="openid profile",
            redirect_uri=CALLBACK,
            code_challenge_method="S256",
        )
        response, *_ = authorize(http, meta, client, prompt="none")
        assert response.status_code == 302
        return parse_qs(urlparse(response.headers["Location"]).query)

    anonymous = requests.Session()
    answer = silent(anonymous)
    assert answer["error"] == ["login_required"] and "state" in answer
    http = requests.Session()
    op_sign_in(http, live_server.url, PERSON_CODE, PERSON_MOBILE)
    assert silent(http)["error"] == ["consent_required"]
    code_flow(http, meta, application.client_id, secret)  # consent once, interactively
    assert "code" in silent(http)  # from now on the window can sign the person in silently


def test_access_token_row_points_at_the_id_token_issued_with_it(live_server, rp, signed_in):
    """The validator links the access token to the ID token row saved in the same request
    (without re-reading it from the signed JWT); the link must be that token's, on the code
    exchange and on refresh."""
    import hashlib

    from oauth2_provider.models import AccessToken

    def check(issued, nonce):
        claims = verify_id_token(meta, issued, application.client_id, nonce)
        checksum = hashlib.sha256(issued["access_token"].encode()).hexdigest()
        row = AccessToken.objects.select_related("id_token").get(token_checksum=checksum)
        assert row.id_token is not None and str(row.id_token.jti) == claims["jti"]
        assert row.application_id == application.pk
        assert row.id_token.application_id == application.pk

    application, secret = rp
    meta = discover(live_server.url)
    client, token, nonce = code_flow(signed_in, meta, application.client_id, secret)
    check(token, nonce)
    # Refresh rotates: the first access token is revoked, the new one has its own ID token.
    refreshed = client.refresh_token(meta["token_endpoint"], refresh_token=token["refresh_token"])
    check(refreshed, None)


def test_app_authorized_is_still_sent_to_listeners(live_server, rp, signed_in):
    """The token view skips reading the token back only when nothing listens to the signal."""
    from oauth2_provider.signals import app_authorized

    received = []

    def listener(sender, request, token, **kwargs):
        received.append(token)

    app_authorized.connect(listener)
    try:
        application, secret = rp
        meta = discover(live_server.url)
        _client, token, _nonce = code_flow(signed_in, meta, application.client_id, secret)
    finally:
        app_authorized.disconnect(listener)
    assert len(received) == 1
    assert received[0].application_id == application.pk and received[0].id_token_id is not None
