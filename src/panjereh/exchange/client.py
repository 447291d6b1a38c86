"""The consumer side: signed client assertions and the one client for the gateway.

A consumer system holds a private key whose public half is registered with the exchange. For
each call it signs a short-lived JWT (the client assertion) naming itself (``iss`` = ``sub`` =
its X-Road client identifier), the gateway (``aud``), a fresh ``jti`` and ``exp``. Agencies may
use any JOSE library; this module is what Panjereh's own consumers (the smart-services engine,
``panjereh.services.nix``, and the identity checks, ``panjereh.identity.registry_checks``), the
tests and the benchmark use.

:class:`NixClient` makes one call: the assertion, the X-Road headers (``X-Road-Client``,
``X-Road-UserId``, ``X-Road-Issue``, ``X-Panjereh-Purpose``), over this process's one pool of
kept-alive connections (:func:`http`), within a timeout and a cap on the answer's size. It
returns a :class:`Reply` (an answer, or the registry's "no such record") or raises one of the
typed errors below; each consumer turns them into its own (``ProviderUnavailable`` /
``ExchangeRefused``, ``RegistryUnavailable``). The gateway gives each call its transaction id
(``X-Road-Id``), which the reply carries as ``message_id``.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from joserfc import jwt
from joserfc.jwk import ECKey, OKPKey

from panjereh.common import httpclient

log = logging.getLogger(__name__)

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


# -- errors -------------------------------------------------------------------------------------

# Consumer faults that are only a matter of time (the rate limit, a clock or a reused token):
# a retry may succeed.
TRANSIENT_CONSUMER_CODES = frozenset({"rate_limited", "replayed_assertion", "expired_assertion"})


class ExchangeError(Exception):
    """The call through the exchange gave no usable answer."""


class ExchangeUnreachable(ExchangeError):
    """No answer came: the connection failed, timed out, or the answer was too large.
    ``reason`` names what happened (httpx's exception name, or ``AnswerTooLarge``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ExchangeTimeout(ExchangeUnreachable):
    """The gateway did not answer (connect, write, read or the whole answer) in time."""


class AnswerTooLarge(ExchangeUnreachable):
    """The answer passed the size cap; it was cut off unread."""

    def __init__(self) -> None:
        super().__init__("AnswerTooLarge")


class AnswerNotJSON(ExchangeError):
    """The gateway answered 200 with a body that is not JSON."""


class GatewayRefusal(ExchangeError):
    """The exchange answered with an error: its JSON body (``fault``: ``consumer`` or
    ``provider``, ``code``, ``message``, ``incident``) when it gave one, else empty values."""

    def __init__(self, status: int, body: Any, message_id: str = "") -> None:
        body = body if isinstance(body, dict) else {}
        self.status = status
        self.fault = str(body.get("fault", "") or "")
        self.code = str(body.get("code", "") or "")
        self.message = str(body.get("message", "") or "")[:300]
        self.incident = str(body.get("incident", "") or "")
        self.message_id = message_id
        super().__init__(f"exchange answered {status} {self.code}".strip())

    @property
    def consumer_fault(self) -> bool:
        """The exchange blames the caller (grant, item, assertion, address)."""
        return self.fault == "consumer"

    @property
    def transient(self) -> bool:
        """A retry may help: the provider's or the exchange's fault, or a passing consumer
        fault (:data:`TRANSIENT_CONSUMER_CODES`)."""
        return not self.consumer_fault or self.code in TRANSIENT_CONSUMER_CODES


@dataclass(frozen=True)
class Reply:
    """An answer: ``found`` with its JSON ``data``, or the registry's "no such record"
    (404 with ``{"found": false}``); ``message_id`` is the gateway's ``X-Road-Id``."""

    found: bool
    data: Any
    message_id: str


# -- the connection pool ------------------------------------------------------------------------
# The process's one pool of kept-alive connections to the gateway (common.httpclient).

_POOL = "exchange-gateway"


def http() -> httpx.Client:
    """This process's pooled client for calls to the gateway."""
    return httpclient.pooled(_POOL)


def close_connections() -> None:
    """Close this process's connections to the gateway (tests, shutdown)."""
    httpclient.close(_POOL)


def max_answer_bytes() -> int:
    """The default cap on an answer: the largest provider answer the gateway reads (it only
    filters it) and room for its envelope."""
    from . import conf

    return int(conf.get("MAX_RESPONSE_BYTES")) + 65_536


def read_capped(response: httpx.Response, cap: int, deadline: float) -> bytes:
    """The body of a streamed ``response``, refused past ``cap`` bytes or ``deadline``
    (``time.monotonic()``) whatever its framing says; the response is closed either way."""
    try:
        return httpclient.read_capped(response, cap, deadline)
    except httpclient.TooLarge as exc:
        raise AnswerTooLarge() from exc
    except httpx.ReadTimeout as exc:
        raise ExchangeTimeout("ReadTimeout") from exc


def service_address(subsystem: str, code: str) -> str | None:
    """``{instance}/{class}/{member}/{subsystem}/{code}`` of an enabled data service from the
    exchange's directory, or None if the exchange has none."""
    from . import conf
    from .models import DataService

    service = (
        DataService.objects.filter(subsystem=subsystem, code=code, enabled=True)
        .select_related("provider")
        .first()
    )
    if service is None:
        return None
    return f"{conf.get('INSTANCE')}/{service.path()}"


# -- the client ---------------------------------------------------------------------------------


class NixClient:
    """Calls services through the gateway as one consumer system.

    Cheap to make (per call if need be): the connections are the process's pool (:func:`http`)
    unless ``http`` is given."""

    def __init__(
        self,
        base_url: str,
        client_id: str,
        key: Key,
        *,
        audience: str | None = None,
        http: httpx.Client | None = None,
        timeout: float = 10.0,
        connect_timeout: float = 3.0,
        max_bytes: int | None = None,
    ) -> None:
        from . import conf

        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self.key = key
        self.audience = audience or str(conf.get("AUDIENCE"))
        self._http = http
        self.timeout = float(timeout)
        self.connect_timeout = min(float(connect_timeout), self.timeout)
        self.max_bytes = max_bytes if max_bytes is not None else max_answer_bytes()

    def headers(
        self, user_id: str, issue: str = "", purpose: str = "", made_for: str = ""
    ) -> dict[str, str]:
        """A fresh client assertion and the X-Road headers of one call."""
        headers = {
            "Authorization": f"Bearer {make_assertion(self.key, self.client_id, self.audience)}",
            "X-Road-Client": self.client_id,
            "X-Road-UserId": user_id,
            "Accept": "application/json",
        }
        if issue:
            headers["X-Road-Issue"] = issue
        if purpose:
            headers["X-Panjereh-Purpose"] = purpose
        if made_for:
            headers["X-Panjereh-For"] = made_for
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
        made_for: str = "",
    ) -> Reply:
        """``service_path`` is ``{instance}/{memberClass}/{memberCode}/{subsystem}/{service}[/path]``.

        Raises :class:`ExchangeUnreachable` (:class:`ExchangeTimeout`, :class:`AnswerTooLarge`),
        :class:`AnswerNotJSON` or :class:`GatewayRefusal`. ``made_for``: the national code of
        the person the read is made for, when not the subject (``X-Panjereh-For``): the read
        shows in their "who read my data" too."""
        return self._send(
            "GET",
            service_path,
            user_id,
            issue,
            purpose,
            items,
            params,
            json_body=None,
            made_for=made_for,
        )

    def post(
        self,
        service_path: str,
        json_body: Any,
        *,
        user_id: str,
        issue: str = "",
        purpose: str = "",
        items: list[str] | None = None,
        params: dict[str, str] | None = None,
    ) -> Reply:
        """As :meth:`get`, with a JSON body (a notice the provider records). The gateway does
        not retry a POST: a caller that retries must make the provider's answer idempotent."""
        return self._send(
            "POST", service_path, user_id, issue, purpose, items, params, json_body=json_body
        )

    def _send(
        self,
        method,
        service_path,
        user_id,
        issue,
        purpose,
        items,
        params,
        *,
        json_body,
        made_for="",
    ) -> Reply:
        query = dict(params or {})
        if items:
            query["items"] = ",".join(items)
        url = f"{self.base_url}/r1/{service_path.lstrip('/')}"
        client = self._http or http()
        deadline = time.monotonic() + self.timeout
        headers = self.headers(user_id, issue, purpose, made_for)
        content = None
        if json_body is not None:
            content = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        try:
            request = client.build_request(
                method,
                url,
                params=query,
                headers=headers,
                content=content,
                timeout=httpx.Timeout(self.timeout, connect=self.connect_timeout),
            )
            response = client.send(request, stream=True)
            content = read_capped(response, self.max_bytes, deadline)
        except httpx.TimeoutException as exc:
            raise ExchangeTimeout(type(exc).__name__) from exc
        except httpx.HTTPError as exc:
            raise ExchangeUnreachable(type(exc).__name__) from exc
        message_id = response.headers.get("X-Road-Id", "")
        if 200 <= response.status_code < 300:  # 201: a provider that recorded a POST
            try:
                return Reply(True, json.loads(content), message_id)
            except ValueError as exc:
                raise AnswerNotJSON("the exchange answer is not JSON") from exc
        try:
            body = json.loads(content)
        except ValueError:
            body = {}
        if response.status_code == 404 and isinstance(body, dict) and body.get("found") is False:
            return Reply(False, body, message_id)
        if response.status_code != 404:
            log.warning(
                "exchange refused %s: %s %s",
                url,
                response.status_code,
                content[:300].decode("utf-8", "replace"),
            )
        raise GatewayRefusal(response.status_code, body, message_id)
