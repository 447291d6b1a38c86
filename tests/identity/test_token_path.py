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
def test_id_tokens_are_signed_with_the_published_key(client, settings):
    pem = settings.OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"]
    key, kid = oidc._signing_key(pem)
    (published,) = client.get("/oidc/jwks/").json()["keys"]
    assert kid == published["kid"]
    token = jwt.encode({"alg": "RS256", "kid": kid}, {"sub": "x"}, key)
    decoded = jwt.decode(token, KeySet.import_key_set({"keys": [published]}))
    assert decoded.claims == {"sub": "x"} and decoded.header["kid"] == kid
