"""OpenID Connect Back-Channel Logout 1.0: telling every agency window used in a sign-on session
that the person has signed out, server to server, so that "sign out" means everywhere.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
from django.conf import settings
from jwcrypto import jwt
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.utils import jwk_from_pem

from .models import SsoSession
from .oidc import client_profile, pairwise_subject

log = logging.getLogger(__name__)
EVENT = "http://schemas.openid.net/event/backchannel-logout"


def logout_token(application, user, sid: str, issuer: str) -> str:
    """A signed logout token (RS256, ``typ: logout+jwt``) for one client."""
    key = jwk_from_pem(oauth2_settings.OIDC_RSA_PRIVATE_KEY)
    now = int(time.time())
    claims = {
        "iss": issuer,
        "aud": application.client_id,
        "iat": now,
        "exp": now + 120,
        "jti": str(uuid.uuid4()),
        "sub": pairwise_subject(user, application),
        "sid": sid,
        "events": {EVENT: {}},
    }
    header = {"alg": "RS256", "typ": "logout+jwt", "kid": key.thumbprint()}
    token = jwt.JWT(header=json.dumps(header), claims=json.dumps(claims))
    token.make_signed_token(key)
    return token.serialize()


def _post(uri: str, token: str) -> tuple[bool, str]:
    try:
        response = httpx.post(
            uri,
            data={"logout_token": token},
            timeout=settings.PANJEREH_BACKCHANNEL_TIMEOUT,
            headers={"Cache-Control": "no-store"},
        )
    except httpx.HTTPError as exc:
        return False, type(exc).__name__
    return response.status_code == 200, str(response.status_code)


def notify(session: SsoSession, issuer: str) -> list[dict]:
    """Send a logout token to each client used in ``session``; the outcome for each."""
    targets = []
    for application in session.clients.select_related("panjereh_profile"):
        profile = client_profile(application)
        if profile is None or not profile.backchannel_logout_uri:
            continue
        token = logout_token(application, session.user, session.sid, issuer)
        targets.append((application, profile.backchannel_logout_uri, token))
    if not targets:
        return []
    # Windows are told in parallel: one slow window must not delay the others.
    with ThreadPoolExecutor(max_workers=min(8, len(targets))) as pool:
        results = list(pool.map(lambda t: _post(t[1], t[2]), targets))
    outcome = []
    for (application, uri, _token), (ok, status) in zip(targets, results, strict=True):
        if not ok:
            log.warning("back-channel logout to %s failed: %s", uri, status)
        outcome.append({"client": application.name, "ok": ok, "status": status})
    return outcome
