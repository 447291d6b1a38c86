"""The OpenID Connect provider's policy on top of django-oauth-toolkit.

- Subjects are pairwise: each agency (sector) sees its own stable identifier for a person,
  so two agencies cannot join their records on ``sub``.
- The ID token's ``acr`` is the person's assurance level ("1".."4"), and ``sid`` names the
  sign-on session so that back-channel logout can reach each agency window used under it.
- The national code is a claim of its own scope, available only to clients that the
  platform operator has allowed to receive it.
- The ``org`` scope gives the ``org`` claim: the company the person acts for at the national
  window when the window signs them in (``{"national_id", "name", "role", "scopes"}``), re-checked
  with the company registry when each token is issued, absent when they act as themselves
  (docs/identity.md).
"""

from __future__ import annotations

import base64
import contextvars
import copy
import hashlib
import hmac
import json
import secrets
import threading
import time
import uuid
from functools import lru_cache

from django.conf import settings
from django.db import router, transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from joserfc import jwt as jose_jwt
from joserfc.jwk import ECKey, RSAKey
from oauth2_provider.models import AccessToken, Application, Grant, IDToken, RefreshToken
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.scopes import SettingsScopes
from oauthlib.oauth2.rfc6749 import errors
from oauthlib.oauth2.rfc6749.grant_types.authorization_code import code_challenge_method_s256
from oauthlib.openid import Server as OpenIDServer

from panjereh.common.conf import setting

from .models import ClientProfile, CodeSession, OrgClaim, RedeemedCode, SsoSession

SID_SESSION_KEY = "panjereh_sid"
# Set while the token view holds the request's transaction (see ``oidc_views.TokenView``).
IN_TOKEN_TRANSACTION: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "panjereh_in_token_transaction", default=False
)
# While set (a list), codes presented again are collected here and their first tokens revoked
# by the token view after its own transaction (which an error response rolls back).
REUSED_CODES: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "panjereh_reused_codes", default=None
)
# While set (a list), refresh-token families whose revoked token was presented again are
# collected here and revoked by the token view after its own (rolled-back) transaction.
REUSED_FAMILIES: contextvars.ContextVar[list | None] = contextvars.ContextVar(
    "panjereh_reused_families", default=None
)
BASE_SCOPES = ["openid", "profile", "phone"]
NATIONAL_CODE_SCOPE = "national_code"
# The citizen API (panjereh.citizenapi): only the window's own mobile app, a public client
# created by citizenapi's migration 0001, may ask for it.
CITIZEN_SCOPE = "citizen"
FIRST_PARTY_CLIENT_ID = "panjereh-app"
ORG_SCOPE = "org"
ORG_SCOPE_DESCRIPTION = "The company the person acts for"
ACR_VALUES = ["1", "2", "3", "4"]


def _pairwise_salt() -> bytes:
    # Not django.utils.crypto.salted_hmac, on purpose: this key makes every pairwise ``sub`` that
    # agency windows have stored for their users, so its derivation must never change (a
    # different one would give everyone a new identity at every agency window).
    salt = setting("PANJEREH_PAIRWISE_SALT", "") or settings.SECRET_KEY
    return hashlib.sha256(b"panjereh-pairwise:" + salt.encode()).digest()


def client_profile(application) -> ClientProfile | None:
    if application is None:
        return None
    try:
        return application.panjereh_profile
    except ClientProfile.DoesNotExist:
        return None


def sector_of(application) -> str:
    profile = client_profile(application)
    return profile.sector() if profile else f"client:{application.client_id}"


def pairwise_subject(user, application) -> str:
    """The person's subject identifier as seen by ``application``'s sector."""
    digest = hmac.new(
        _pairwise_salt(), f"{sector_of(application)}|{user.pk}".encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _unique(queryset):
    """The row of a lookup on a unique column, or None: like ``first()`` without the
    ``ORDER BY`` it adds (nothing to order with at most one row, and cheaper to compile)."""
    rows = list(queryset[:1])
    return rows[0] if rows else None


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


class ClientScopes(SettingsScopes):
    """Scopes a client may ask for: the national code only when its profile allows it."""

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        if application is None:
            return list(self.get_all_scopes())
        if application.client_id == FIRST_PARTY_CLIENT_ID:
            return [*BASE_SCOPES, CITIZEN_SCOPE]
        profile = client_profile(application)
        if profile is not None and profile.may_receive_national_code:
            return [*BASE_SCOPES, NATIONAL_CODE_SCOPE, ORG_SCOPE]
        return [*BASE_SCOPES, ORG_SCOPE]

    def get_all_scopes(self):
        return {**settings.OAUTH2_PROVIDER["SCOPES"], ORG_SCOPE: ORG_SCOPE_DESCRIPTION}

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        return ["openid"]


class _SecretCheckCache:
    """Remembers recent successful client-secret checks for a short time.

    Client secrets are long random strings, hashed at rest with the slow password hasher
    (Argon2). Re-running Argon2 on every token request would cap the token endpoint at a few
    dozen requests per second per core; a secret that verified a minute ago against the same
    stored hash is known good, so the check is skipped. Only a hash of the presented secret is
    kept, in process memory, never the secret.
    """

    ttl = 300.0

    def __init__(self) -> None:
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def _key(self, provided: str, stored: str) -> str:
        return hashlib.sha256(f"{stored}\x00{provided}".encode()).hexdigest()

    def hit(self, provided: str, stored: str) -> bool:
        key = self._key(provided, stored)
        with self._lock:
            expiry = self._seen.get(key)
            return expiry is not None and expiry > time.monotonic()

    def remember(self, provided: str, stored: str) -> None:
        with self._lock:
            if len(self._seen) > 10_000:
                self._seen.clear()
            self._seen[self._key(provided, stored)] = time.monotonic() + self.ttl


_secret_cache = _SecretCheckCache()


def generate_token(request=None) -> str:
    """Access and refresh tokens: 240 random bits from the OS (``secrets``), URL-safe.

    oauthlib's default draws each of 30 characters with ``SystemRandom.choice`` in Python,
    which costs more than the rest of the token's generation."""
    return secrets.token_urlsafe(30)


# -- clients ------------------------------------------------------------------------------
# Every token request loads its client (with the Panjereh profile). Clients change rarely (the
# operator edits them in the back office), so a process keeps them for CLIENT_TTL seconds;
# a change made in this process clears the cache at once, other processes see it within the
# TTL. Each request gets its own copy of the cached row.

CLIENT_TTL = 2.0
_clients: dict[str, tuple[float, Application | None]] = {}


def _clear_clients(**_kwargs) -> None:
    _clients.clear()


for _model in (Application, ClientProfile):
    post_save.connect(_clear_clients, sender=_model, dispatch_uid=f"oidc-clients-{_model.__name__}")
    post_delete.connect(
        _clear_clients, sender=_model, dispatch_uid=f"oidc-clients-d-{_model.__name__}"
    )


def _cached_client(client_id: str) -> Application | None:
    now = time.monotonic()
    hit = _clients.get(client_id)
    if hit is None or now - hit[0] >= CLIENT_TTL:
        client = _unique(
            Application.objects.select_related("panjereh_profile").filter(client_id=client_id)
        )
        if len(_clients) > 1000:
            _clients.clear()
        hit = _clients[client_id] = (now, client)
    client = hit[1]
    if client is None:
        return None
    duplicate = copy.copy(client)
    duplicate._state = copy.copy(client._state)
    duplicate._state.fields_cache = dict(client._state.fields_cache)
    return duplicate


# -- ID token signing -----------------------------------------------------------------------
# The same RS256 signature as the library's, with the key parsed once per process and its
# ``kid`` (the JWK thumbprint, as the library and the JWKS endpoint compute it) computed once.


@lru_cache(maxsize=8)
def _parsed_key(pem: str, kind: type[RSAKey] | type[ECKey]) -> tuple[RSAKey | ECKey, str]:
    """A signing key parsed once per process, with its ``kid`` (the RFC 7638 thumbprint, as the
    library and the JWKS compute it)."""
    key = kind.import_key(pem)
    return key, key.thumbprint()


def _signing_key(pem: str) -> tuple[RSAKey, str]:
    return _parsed_key(pem, RSAKey)


# ES256: an ECDSA P-256 signature costs a small fraction of an RSA-2048 one (docs/benchmarks.md
# has the measurement), and the token is shorter. The library signs RS256 only, so
# Panjereh signs ES256 here, publishes the key in the JWKS and verifies ``id_token_hint``s
# with it (``_get_key_for_token``).


def _ec_signing_key(pem: str) -> tuple[ECKey, str]:
    return _parsed_key(pem, ECKey)


@lru_cache(maxsize=4)
def _ec_hint_key(pem: str):
    """The ES256 key as the library's JWT checks want it (jwcrypto)."""
    from jwcrypto import jwk

    return jwk.JWK.from_pem(pem.encode())


def id_token_alg(application) -> str:
    profile = client_profile(application)
    return profile.id_token_alg if profile is not None else "RS256"


def ec_public_jwk() -> dict:
    """The ES256 key's public half as published in the JWKS (next to the library's RSA keys)."""
    key, kid = _ec_signing_key(settings.PANJEREH_OIDC_EC_KEY)
    return {**key.as_dict(private=False), "alg": "ES256", "use": "sig", "kid": kid}


class PanjerehServer(OpenIDServer):
    """oauthlib's OpenID server cut to what discovery announces.

    PKCE is S256 only: a ``plain`` (or absent) ``code_challenge_method`` is refused at the
    authorization endpoint with ``invalid_request`` (RFC 7636 4.4.1), so no code is ever issued
    for it. The token endpoint knows only the authorization code and refresh token grants;
    any other ``grant_type`` is ``unsupported_grant_type`` (RFC 6749 5.2)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        only_s256 = {"S256": code_challenge_method_s256}
        for grant in (self.auth_grant, self.openid_connect_auth.proxy_target):
            grant._code_challenge_methods = only_s256
        self._grant_types = {
            name: handler
            for name, handler in self._grant_types.items()
            if name in ("authorization_code", "refresh_token")
        }


def revoke_redeemed(hashed_code: str) -> None:
    """Revoke every token issued for the first redemption of a code (RFC 6749 4.1.2)."""
    redeemed = RedeemedCode.objects.filter(code_hash=hashed_code).first()
    if redeemed is None:
        return
    now = timezone.now()
    with transaction.atomic():
        if redeemed.token_family is not None:
            RefreshToken.objects.filter(
                token_family=redeemed.token_family, revoked__isnull=True
            ).update(revoked=now)
            AccessToken.objects.filter(
                source_refresh_token__token_family=redeemed.token_family
            ).delete()
        if redeemed.access_token_id is not None:
            AccessToken.objects.filter(pk=redeemed.access_token_id).delete()


class PanjerehValidator(OAuth2Validator):
    oidc_claim_scope = {
        "sub": "openid",
        "acr": "openid",
        "name": "profile",
        "given_name": "profile",
        "family_name": "profile",
        "phone_number": "phone",
        "phone_number_verified": "phone",
        "national_code": NATIONAL_CODE_SCOPE,
        "org": ORG_SCOPE,
    }

    def validate_redirect_uri(self, client_id, redirect_uri, request, *args, **kwargs):
        # Exact string match only. The library would also accept any port on a loopback
        # address (RFC 8252, meant for native apps); agency windows are web sites, and a
        # look-alike listening on another port must not receive codes.
        return redirect_uri in request.client.redirect_uris.split()

    # prompt=none: the authorization view answers login_required, consent_required or
    # interaction_required itself (it knows the session, the consents and the levels), so the
    # library's own checks let every silent request through to it.
    def validate_silent_login(self, request):
        return True

    def validate_silent_authorization(self, request):
        return True

    def _check_secret(self, provided_secret, stored_secret):
        if _secret_cache.hit(provided_secret, stored_secret):
            return True
        ok = super()._check_secret(provided_secret, stored_secret)
        if ok:
            _secret_cache.remember(provided_secret, stored_secret)
        return ok

    def _load_application(self, client_id, request):
        # The client's profile (pairwise sector, national-code permission) is needed later in
        # the same request: read it with the application, one query instead of two.
        if not request.client and client_id:
            try:
                client = _cached_client(client_id)
            except ValueError:  # e.g. a NUL byte in client_id on PostgreSQL
                client = None
            if client is not None and (
                client.registration_source != Application.RegistrationSource.CIMD
            ):
                request.client = client
        return super()._load_application(client_id, request)

    def finalize_id_token(self, id_token, token, token_handler, request):
        if request.client.algorithm != Application.RS256_ALGORITHM:
            return super().finalize_id_token(id_token, token, token_handler, request)
        claims, expiration_time = self.get_id_token_dictionary(token, token_handler, request)
        id_token.update(**claims)
        if "nonce" not in id_token and request.nonce:  # oauthlib bug #746, as the library
            id_token["nonce"] = request.nonce
        if id_token_alg(request.client) == "ES256":
            alg = "ES256"
            key, kid = _ec_signing_key(settings.PANJEREH_OIDC_EC_KEY)
        else:
            alg = "RS256"
            key, kid = _signing_key(settings.OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"])
        payload = json.loads(json.dumps(id_token, default=str))
        signed = jose_jwt.encode({"typ": "JWT", "alg": alg, "kid": kid}, payload, key)
        if payload.get("org"):
            # The userinfo answer for this token, and a refresh, start from the same company.
            OrgClaim.objects.create(jti=id_token["jti"], claim=payload["org"])
        saved = self._save_id_token(id_token["jti"], request, expiration_time)
        request.access_token = saved
        request.id_token = saved
        return signed

    def _save_id_token(self, jti, request, expires, *args, **kwargs):
        row = IDToken(
            user=request.user,
            scope=request.scope or " ".join(request.scopes),
            expires=expires,
            jti=jti,
            application=request.client,
        )
        if request.grant_type == "authorization_code":
            # Redeeming a code, the row is written with the access token, in the one
            # transaction that also uses up the code (``save_bearer_token``).
            return row
        row.save()
        return row

    def _get_key_for_token(self, token):
        # An ``id_token_hint`` (RP-initiated logout, prompt=none) is checked with the key its
        # client's ID tokens are signed with (the library knows only the RSA one), and its
        # header's ``alg`` must be that client's: an RS256 hint for an ES256 client is refused.
        from jwcrypto import jws

        unverified = jws.JWS()
        unverified.deserialize(token)
        claims = json.loads(unverified.objects["payload"].decode("utf-8"))
        application = self._get_client_by_audience(claims["aud"]) if "aud" in claims else None
        if application is None:
            return None
        wanted = id_token_alg(application)
        if unverified.jose_header.get("alg") != wanted:
            return None
        return (
            _ec_hint_key(settings.PANJEREH_OIDC_EC_KEY)
            if wanted == "ES256"
            else application.jwk_key
        )

    # -- claims -------------------------------------------------------------------------------

    @classmethod
    def _get_additional_claims_is_request_agnostic(cls):
        # ``get_additional_claims`` below takes the request; the library would find that out
        # with ``inspect.signature`` twice per ID token.
        return False

    def get_additional_claims(self, request):
        user = request.user
        claims = {
            "acr": str(user.assurance_level),
            "name": user.get_full_name(),
            "given_name": user.first_name,
            "family_name": user.last_name,
            "phone_number": user.mobile,
            "phone_number_verified": bool(user.mobile_verified_at),
            "national_code": user.national_code or "",
        }
        org = self._org_claim(request)
        if org:
            claims["org"] = org
        return claims

    def _org_claim(self, request) -> dict | None:
        """The ``org`` claim, only under the ``org`` scope and only while the person still
        acts for the company the code (or the previous token) was issued for: the registry
        is asked afresh at the token endpoint, within the representation TTL at userinfo."""
        if ORG_SCOPE not in (request.scopes or []):
            return None
        if hasattr(request, "_panjereh_org_claim"):
            return request._panjereh_org_claim
        from . import businesses, registry_checks

        national_id = getattr(request, "panjereh_org_id", "") or ""
        fresh = True
        if not national_id:
            access = getattr(request, "access_token", None)
            jti = getattr(getattr(access, "id_token", None), "jti", None)
            previous = OrgClaim.objects.filter(jti=jti).first() if jti else None
            national_id = previous.claim.get("national_id", "") if previous else ""
            fresh = False  # userinfo: a read, within the TTL
        claim = None
        if national_id:
            try:
                found = businesses.authority(request.user, national_id, fresh=fresh)
            except registry_checks.RegistryUnavailable:
                found = None  # nothing is claimed that the registry did not confirm
            claim = found.claim() if found is not None else None
        request._panjereh_org_claim = claim
        return claim

    def get_claim_dict(self, request):
        claims = super().get_claim_dict(request)
        claims["sub"] = pairwise_subject(request.user, request.client)
        return claims

    def get_discovery_claims(self, request):
        return ["sub", "sid", *self.oidc_claim_scope.keys() - {"sub"}]

    def get_oidc_claims(self, token, token_handler, request):
        claims = super().get_oidc_claims(token, token_handler, request)
        profile = client_profile(request.client)
        if not (profile and profile.may_receive_national_code):
            # Belt and braces: the scope check already keeps it out, but a client that lost
            # the permission after consent must not keep receiving it from old grants.
            claims.pop("national_code", None)
        return claims

    def get_id_token_dictionary(self, token, token_handler, request):
        claims, expiration = super().get_id_token_dictionary(token, token_handler, request)
        sid = getattr(request, "panjereh_sid", None)
        if sid:
            claims["sid"] = sid
            started = getattr(request, "panjereh_auth_time", None)
            if started is None:
                session = SsoSession.objects.filter(sid=sid).only("started_at").first()
                started = session.started_at if session is not None else None
            if started is not None:
                claims["auth_time"] = int(started.timestamp())
        claims["acr"] = str(request.user.assurance_level)
        return claims, expiration

    # -- tying codes and tokens to the sign-on session ---------------------------------------

    def save_authorization_code(self, client_id, code, request, *args, **kwargs):
        super().save_authorization_code(client_id, code, request, *args, **kwargs)
        sid = getattr(request, "panjereh_sid", None)
        session = SsoSession.objects.filter(sid=sid, ended_at__isnull=True).first() if sid else None
        if session is not None:
            CodeSession.objects.create(
                code_hash=code_hash(code["code"]),
                sso_session=session,
                acting_company=getattr(request, "panjereh_org", "") or "",
            )
            session.clients.add(request.client)

    # The token endpoint asks about one authorization code six times (scopes, redirect URI,
    # PKCE challenge and method, nonce, validity); the library queries the database each time.
    # The grant is read once per request instead, with its user.

    def _grant(self, request, code: str) -> Grant | None:
        cache = getattr(request, "_panjereh_grants", None)
        if cache is None:
            cache = {}
            request._panjereh_grants = cache
        if code not in cache:
            try:
                cache[code] = Grant.objects.select_related("user").filter(code=code).first()
            except ValueError:  # e.g. a NUL byte in the code on PostgreSQL
                cache[code] = None
        return cache[code]

    def _client_grant(self, request, code: str, client) -> Grant | None:
        grant = self._grant(request, code)
        if grant is None or client is None or grant.application_id != client.pk:
            return None
        return grant

    def get_authorization_code_scopes(self, client_id, code, redirect_uri, request):
        grant = self._grant(request, code)
        return grant.scope.split() if grant is not None and grant.scope else []

    def get_authorization_code_nonce(self, client_id, code, redirect_uri, request):
        grant = self._grant(request, code)
        return (grant.nonce or None) if grant is not None else None

    def get_code_challenge(self, code, request):
        grant = self._client_grant(request, code, request.client)
        return (grant.code_challenge or None) if grant is not None else None

    def get_code_challenge_method(self, code, request):
        grant = self._client_grant(request, code, request.client)
        return (grant.code_challenge_method or None) if grant is not None else None

    def confirm_redirect_uri(self, client_id, code, redirect_uri, client, *args, **kwargs):
        request = args[0] if args else kwargs.get("request")
        grant = self._client_grant(request, code, client)
        if grant is not None and not grant.redirect_uri_allowed(redirect_uri):
            # RFC 6749 5.2: the redirection URI does not match the authorization request's:
            # invalid_grant (oauthlib would answer invalid_request).
            raise errors.InvalidGrantError(
                description="redirect_uri does not match the authorization request",
                request=request,
            )
        return grant is not None

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        grant = self._client_grant(request, code, client)
        if grant is None:
            self._refuse_reused(code, client)
            return False
        if grant.is_expired() or (grant.code_challenge and grant.code_challenge_method != "S256"):
            # A code issued for a plain challenge (before plain was refused) is not redeemed.
            return False
        link = (
            CodeSession.objects.select_related("sso_session")
            .filter(code_hash=code_hash(code))
            .first()
        )
        if link is not None:
            if link.sso_session.ended_at is not None:
                # The person signed out between the redirect and the token request.
                return False
            request.panjereh_sid = link.sso_session.sid
            request.panjereh_auth_time = link.sso_session.started_at
            request.panjereh_org_id = link.acting_company
        request.scopes = grant.scope.split(" ")
        request.user = grant.user
        if grant.nonce:
            request.nonce = grant.nonce
        if grant.claims:
            request.claims = json.loads(grant.claims)
        return True

    def _refuse_reused(self, code: str, client) -> None:
        if client is None or not isinstance(code, str):
            return
        hashed = code_hash(code)
        if not RedeemedCode.objects.filter(code_hash=hashed, application_id=client.pk).exists():
            return
        pending = REUSED_CODES.get()
        if pending is None:
            revoke_redeemed(hashed)
        else:
            pending.append(hashed)

    def _refuse_reused_refresh(self, refresh_token) -> None:
        """A rotated (revoked) refresh token presented again: the library revokes its whole
        family, but inside the token view's transaction, which the error answer rolls back
        on PostgreSQL; the family is revoked again after it (``oidc_views.TokenView``)."""
        if not isinstance(refresh_token, str) or not settings.OAUTH2_PROVIDER.get(
            "REFRESH_TOKEN_REUSE_PROTECTION"
        ):
            return
        checksum = hashlib.sha256(refresh_token.encode("utf-8", "replace")).hexdigest()
        try:
            family = (
                RefreshToken.objects.filter(token_checksum=checksum, revoked__isnull=False)
                .exclude(token_family=None)
                .values_list("token_family", flat=True)
                .first()
            )
        except ValueError:  # e.g. a NUL byte on PostgreSQL
            return
        if family is None:
            return
        pending = REUSED_FAMILIES.get()
        if pending is None:
            RefreshToken.revoke_family(family)
        else:
            pending.append(family)

    def _check_and_set_request_resource(self, request):
        if request.grant_type != "authorization_code":
            return super()._check_and_set_request_resource(request)
        # The library reads the grant again here for its resource indicators (RFC 8707); the
        # grant this request already read (and validated) is used instead. The library's code
        # is otherwise followed as it is.
        grant = self._client_grant(request, request.code, request.client)
        resource = getattr(request, "resource", None)
        if isinstance(resource, str):
            values = [
                value
                for key, value in (getattr(request, "decoded_body", None) or [])
                if key == "resource"
            ]
            if len(values) > 1:
                resource = values
        if isinstance(resource, list):
            request.resource = resource or []
        elif resource and isinstance(resource, str) and resource.strip():
            request.resource = [resource]
        else:
            request.resource = []
        self._validate_resource_uris(request, request.resource)
        granted = (grant.resource or []) if grant is not None else []
        if request.resource and granted:
            for res in request.resource:
                if res not in granted:
                    raise errors.CustomOAuth2Error(
                        error="invalid_target",
                        description=(
                            f"The requested resource '{res}' is not allowed. Token request "
                            "cannot escalate resource permissions beyond the original "
                            "authorization grant"
                        ),
                        request=request,
                    )
        elif granted:
            self._validate_resource_uris(request, granted)
            request.resource = granted

    def _create_access_token(self, expires, request, token, source_refresh_token=None):
        # The library finds the ID token row by parsing and verifying the JWT it has just
        # signed, then reading the row and the client again (two queries and an RSA check); the
        # row saved by ``finalize_id_token`` in this same request is used instead.
        issued = getattr(request, "id_token", None)
        if not (token.get("id_token") and isinstance(issued, IDToken)):
            access_token = super()._create_access_token(
                expires, request, token, source_refresh_token
            )
            request.panjereh_access_token_id = access_token.pk
            return access_token
        if issued.pk is None:
            issued.save()
        access_token = AccessToken(
            user=request.user,
            scope=token["scope"],
            expires=expires,
            id_token=issued,
            application=request.client,
            source_refresh_token=source_refresh_token,
            resource=getattr(request, "resource", []),
        )
        self._set_token_value(access_token, token["access_token"])
        access_token.save()
        request.panjereh_access_token_id = access_token.pk
        return access_token

    def _create_refresh_token(self, request, refresh_token_code, access_token, previous):
        refresh_token = RefreshToken(
            user=request.user,
            application=request.client,
            access_token=access_token,
            token_family=previous.token_family if previous else uuid.uuid4(),
            resource=getattr(request, "resource", []),
        )
        self._set_token_value(refresh_token, refresh_token_code)
        refresh_token.save()
        request.panjereh_token_family = refresh_token.token_family
        return refresh_token

    # -- using up the code -----------------------------------------------------------------
    # The library saves the tokens in one transaction and deletes the code afterwards in
    # another: two requests racing with the same code could both get tokens before either
    # deletes it. Here the code is deleted in the tokens' transaction, and a request that
    # finds it already gone rolls its tokens back.

    def save_bearer_token(self, token, request, *args, **kwargs):
        if request.grant_type != "authorization_code":
            return super().save_bearer_token(token, request, *args, **kwargs)
        # Inside the token view's own transaction (PostgreSQL) the writes need no savepoint of
        # their own: a failure here fails the request, and the view rolls all of it back.
        with transaction.atomic(
            using=router.db_for_write(AccessToken), savepoint=not IN_TOKEN_TRANSACTION.get()
        ):
            saved = self._save_bearer_token(token, request, *args, **kwargs)
            self._delete_code(request)
            RedeemedCode.objects.create(
                code_hash=code_hash(request.code),
                application_id=request.client.pk,
                access_token_id=getattr(request, "panjereh_access_token_id", None),
                token_family=getattr(request, "panjereh_token_family", None),
            )
        return saved

    def _delete_code(self, request) -> None:
        grant = self._client_grant(request, request.code, request.client)
        # Whichever request deletes the code redeems it (the other deletes nothing).
        if grant is None or not Grant.objects.filter(pk=grant.pk).delete()[0]:
            raise errors.InvalidGrantError(request=request)

    def invalidate_authorization_code(self, client_id, code, request, *args, **kwargs):
        # oauthlib calls this right after ``save_token``, whose override above has already
        # deleted the code (or failed the request): nothing is left to do.
        return

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs):
        ok = super().validate_refresh_token(refresh_token, client, request, *args, **kwargs)
        if not ok:
            self._refuse_reused_refresh(refresh_token)
        if ok:
            # A refreshed ID token keeps the sid of the latest live session in which this
            # client was used; with none live, the person has signed out and refresh stops.
            session = (
                SsoSession.objects.filter(user=request.user, clients=client, ended_at__isnull=True)
                .order_by("-started_at")
                .first()
            )
            if session is None:
                return False
            request.panjereh_sid = session.sid
            request.panjereh_auth_time = session.started_at
            # The refreshed ID token names the same company, if the person still acts for it.
            previous = getattr(request, "refresh_token_instance", None)
            access = getattr(previous, "access_token", None) if previous is not None else None
            jti = getattr(getattr(access, "id_token", None), "jti", None)
            org = OrgClaim.objects.filter(jti=jti).first() if jti else None
            request.panjereh_org_id = org.claim.get("national_id", "") if org else ""
        return ok
