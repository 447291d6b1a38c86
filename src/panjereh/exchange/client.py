"""The consumer side: signed client assertions and a small client for the gateway.

A consumer system holds a private key whose public half is registered with the exchange. For
each call it signs a short-lived JWT (the client assertion) naming itself (``iss`` = ``sub`` =
its X-Road client identifier), the gateway (``aud``), a fresh ``jti`` and ``exp``. Agencies may
use any JOSE library; this module is what Panjereh's own services, the tests and the benchmark
use.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
from joserfc import jwt
from joserfc.jwk import ECKey, OKPKey

Key = OKPKey | ECKey
ALGORITHM_OF = {"OKP": "Ed25519", "EC": "ES256"}


def generate_key(kid: str | None = None) -> OKPKey:
    """A new Ed25519 key pair for a consumer system (``kid`` defaults to its thumbprint)."""
    return OKPKey.generate_key(
        "Ed25519", parameters={"kid": kid} if kid else None, auto_kid=kid is None
    )


def public_jwks(*keys: Key) -> dict[str, Any]:
    """The JWK set to register for a consumer system (public halves only)."""
    return {"keys": [key.as_dict(private=False) for key in keys]}


def make_assertion(
    key: Key, client_id: str, audience: str, *, lifetime: int = 60, jti: str | None = None
) -> str:
    now = int(time.time())
    header = {"alg": ALGORITHM_OF[key.key_type], "typ": "JWT"}
    if key.kid:
        header["kid"] = key.kid
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "iat": now,
        "exp": now + lifetime,
        "jti": jti or uuid.uuid4().hex,
    }
    return jwt.encode(header, claims, key, algorithms=[header["alg"]])


class NixClient:
    """Calls services through the gateway as one consumer system."""

    def __init__(
        self,
        base_url: str,
        client_id: str,
        key: Key,
        *,
        audience: str = "urn:panjereh:nix",
        http: httpx.Client | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self.key = key
        self.audience = audience
        self.http = http or httpx.Client(timeout=timeout)

    def headers(self, user_id: str, issue: str = "", purpose: str = "") -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {make_assertion(self.key, self.client_id, self.audience)}",
            "X-Road-Client": self.client_id,
            "X-Road-UserId": user_id,
        }
        if issue:
            headers["X-Road-Issue"] = issue
        if purpose:
            headers["X-Panjereh-Purpose"] = purpose
        return headers

    def get(
        self,
        service_path: str,
        *,
        user_id: str,
        issue: str = "",
        purpose: str = "",
        items: list[str] | None = None,
        params: dict[str, str] | None = None,
    ) -> httpx.Response:
        """``service_path`` is ``{instance}/{memberClass}/{memberCode}/{subsystem}/{service}[/path]``."""
        query = dict(params or {})
        if items:
            query["items"] = ",".join(items)
        return self.http.get(
            f"{self.base_url}/r1/{service_path.lstrip('/')}",
            params=query,
            headers=self.headers(user_id, issue, purpose),
        )
