"""The token endpoint's fast paths keep the library's behaviour: clients cached briefly but
cleared by every change, tokens from the OS's random source, ID tokens signed with the key
the JWKS publishes."""

from __future__ import annotations

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from panjereh.identity import oidc
from panjereh.identity.clients import register_agency_client


def test_tokens_are_long_random_and_url_safe():
    tokens = {oidc.generate_token() for _ in range(200)}
    assert len(tokens) == 200
    assert all(len(t) == 40 and t.replace("-", "").replace("_", "").isalnum() for t in tokens)


@pytest.mark.django_db
def test_a_cached_client_is_a_copy_and_a_change_clears_the_cache():
    application, _secret = register_agency_client("Cache window", ["https://a.example/cb"])
    first = oidc._cached_client(application.client_id)
    first.redirect_uris = "https://evil.example/cb"  # a request's changes stay in its copy
    assert oidc._cached_client(application.client_id).redirect_uris == "https://a.example/cb"
    application.redirect_uris = "https://b.example/cb"
    application.save()  # the operator's change clears this process's cache at once
    assert oidc._cached_client(application.client_id).redirect_uris == "https://b.example/cb"
    application.delete()
    assert oidc._cached_client(application.client_id) is None


@pytest.mark.django_db
def test_id_tokens_are_signed_with_the_published_keys(client, settings):
    published = {k["alg"]: k for k in client.get("/oidc/jwks/").json()["keys"]}
    assert set(published) == {"RS256", "ES256"}
    for alg, (key, kid) in {
        "RS256": oidc._signing_key(settings.OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"]),
        "ES256": oidc._ec_signing_key(settings.PANJEREH_OIDC_EC_KEY),
    }.items():
        assert kid == published[alg]["kid"]
        token = jwt.encode({"alg": alg, "kid": kid}, {"sub": "x"}, key)
        decoded = jwt.decode(token, KeySet.import_key_set({"keys": [published[alg]]}))
        assert decoded.claims == {"sub": "x"} and decoded.header["kid"] == kid


# -- the token request's one transaction --------------------------

CALLBACK = "https://window.example/cb"


def _code_for(application, user, *, verifier: str = "v" * 50) -> str:
    import base64
    import hashlib
    import secrets

    from django.utils import timezone
    from oauth2_provider.models import Grant

    code = secrets.token_urlsafe(30)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    Grant.objects.create(
        application=application,
        user=user,
        code=code,
        expires=timezone.now() + timezone.timedelta(minutes=5),
        redirect_uri=CALLBACK,
        scope="openid profile",
        code_challenge=challenge.decode().rstrip("="),
        code_challenge_method="S256",
        nonce="n-1",
        claims="{}",
    )
    return code


def _redeem(client, application, secret, code, verifier="v" * 50):
    import base64

    basic = base64.b64encode(f"{application.client_id}:{secret}".encode()).decode()
    return client.post(
        "/oidc/token/",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "code_verifier": verifier,
        },
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )


def _counts():
    from oauth2_provider.models import AccessToken, Grant, IDToken, RefreshToken

    return tuple(m.objects.count() for m in (Grant, IDToken, AccessToken, RefreshToken))


@pytest.mark.django_db
def test_a_code_redeems_once_into_linked_rows(client):
    from oauth2_provider.models import AccessToken, RefreshToken

    from tests.identity.conftest import make_citizen

    application, secret = register_agency_client("Prepared window", [CALLBACK])
    user = make_citizen()
    code = _code_for(application, user)
    assert _counts() == (1, 0, 0, 0)
    response = _redeem(client, application, secret, code)
    assert response.status_code == 200, response.content
    body = response.json()
    # The grant is used up; one ID token, access token and refresh token, linked.
    assert _counts() == (0, 1, 1, 1)
    access = AccessToken.objects.get()
    assert access.id_token.user == user and access.user == user
    assert access.application == application and access.scope == "openid profile"
    assert RefreshToken.objects.get().access_token == access
    assert AccessToken.objects.get(token_checksum=access.token_checksum).pk == access.pk
    assert body["access_token"] and body["refresh_token"] and body["id_token"]
    # The same code again: refused, no new tokens, and the first ones revoked (RFC 6749
    # 4.1.2): the access token is gone and the refresh token marked revoked.
    again = _redeem(client, application, secret, code)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert _counts() == (0, 1, 0, 1)
    assert RefreshToken.objects.get().revoked is not None


@pytest.mark.django_db
def test_a_code_used_up_by_a_racing_request_rolls_back_this_ones_tokens(client, monkeypatch):
    """Two requests read the same code; the other one deletes it first. This one must not
    hand out tokens: its rows go with the failed transaction."""
    from oauth2_provider.models import Grant

    from tests.identity.conftest import make_citizen

    application, secret = register_agency_client("Race window", [CALLBACK])
    code = _code_for(application, make_citizen())
    original = oidc.PanjerehValidator._save_bearer_token

    def racing(self, token, request, *args, **kwargs):
        saved = original(self, token, request, *args, **kwargs)
        Grant.objects.filter(code=code).delete()  # the other request's delete, first
        return saved

    monkeypatch.setattr(oidc.PanjerehValidator, "_save_bearer_token", racing)
    response = _redeem(client, application, secret, code)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    assert response["Cache-Control"] == "no-store"
    # No ID, access or refresh token. (The simulated delete ran on this request's connection,
    # so it was rolled back with the rest; the other request's would have been committed.)
    assert _counts()[1:] == (0, 0, 0)


@pytest.mark.django_db
@pytest.mark.parametrize("alg", ["ES256", "RS256"])
def test_an_id_token_hint_is_checked_with_its_clients_key_and_algorithm(client, alg):
    """RP-initiated logout reads ``id_token_hint`` with the key the client's ID tokens are
    signed with; a hint in the other algorithm (or signed by anyone else) is not accepted."""
    from oauth2_provider.views.oidc import _load_id_token

    from tests.identity.conftest import make_citizen

    application, secret = register_agency_client(f"Hint window {alg}", [CALLBACK], id_token_alg=alg)
    code = _code_for(application, make_citizen())
    id_token = _redeem(client, application, secret, code).json()["id_token"]
    assert (
        jwt.decode(id_token, KeySet.import_key_set(client.get("/oidc/jwks/").json())).header["alg"]
        == alg
    )
    row, claims = _load_id_token(id_token)
    assert row is not None and claims["aud"] == application.client_id
    # The same claims signed with the provider's other key: refused.
    other = "RS256" if alg == "ES256" else "ES256"
    from django.conf import settings

    key, kid = (
        oidc._signing_key(settings.OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"])
        if other == "RS256"
        else oidc._ec_signing_key(settings.PANJEREH_OIDC_EC_KEY)
    )
    forged = jwt.encode({"alg": other, "kid": kid}, claims, key)
    assert _load_id_token(forged) == (None, None)
