"""The exchange gateway: the X-Road message protocol for REST, with grants and a log.

``/r1/{instance}/{memberClass}/{memberCode}/{subsystem}/{serviceCode}[/path]``: the consumer
names itself in ``X-Road-Client`` and proves it with a signed client assertion (``Authorization:
Bearer <JWT>``), names the person the call is about in ``X-Road-UserId`` and the application or
case in ``X-Road-Issue``. The gateway authorises the call against an active grant, forwards it to
the provider, returns only the granted items and answers with ``X-Road-Id`` and
``X-Road-Request-Hash``. Every call, refused or failed ones too, is logged.

The person the provider is asked about is the person logged: a path or query parameter that
names a person (``SUBJECT_PARAMETERS``) must equal ``X-Road-UserId``, and the path after the
service code must be the service's declared path parameters, one plain segment each (no dot
segments, no encoded slashes or percent signs), so a call cannot leave the granted service.

Errors are JSON: ``{"fault": "consumer"|"provider"|"gateway", "code", "message", "incident",
"x_road_id"}``: ``consumer`` means the call was refused (fix the call or the grant),
``provider`` that the provider failed or is unavailable (retry later), ``gateway`` that the
exchange itself failed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from panjereh.catalogue.models import Agency
from panjereh.common import httpclient
from panjereh.common.drain import drain, may_close
from panjereh.common.ttlcache import Generation, TTLCache

from . import breaker, conf, grants, guard
from .log import insert_record
from .models import (
    ACTIVE_STATES,
    ConsumerSystem,
    DataService,
    Grant,
    GrantState,
    Outcome,
)

logger = logging.getLogger(__name__)
ALGORITHMS = ["Ed25519", "ES256", "PS256", "RS256"]
_CLIENT_RE = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_SUBJECT_RE = re.compile(r"^[0-9]{10,12}$")  # national code, national ID, FIDA code
_NATIONAL_CODE_RE = re.compile(r"^[0-9]{10}$")  # X-Panjereh-For: a person
_RETRY_STATUSES = {502, 503, 504}
# Parameters that name a person or company: their value must be the call's X-Road-UserId
# (a citizen's national code, a company's national ID, a foreign national's FIDA code).
SUBJECT_PARAMETERS = frozenset({"national_code", "national_id", "fida_code"})
# One path segment forwarded to a provider: RFC 3986 unreserved characters only, so that no
# segment is a dot segment, an encoded slash, backslash or percent sign for the provider to
# decode again.
_SEGMENT_RE = re.compile(r"^[A-Za-z0-9_~.-]+$")
# Control characters: refused in the address, the query and the X-Road headers (PostgreSQL text
# cannot hold NUL, and none of them belongs in an identifier).
_CONTROL_RE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_HEADERS_CHECKED = (
    "HTTP_X_ROAD_CLIENT",
    "HTTP_X_ROAD_USERID",
    "HTTP_X_ROAD_ISSUE",
    "HTTP_X_PANJEREH_PURPOSE",
    "HTTP_X_PANJEREH_FOR",
    "HTTP_AUTHORIZATION",
)
MAX_ASSERTION_CHARS = 8192


class Refusal(Exception):
    """The call stops here with a JSON error."""

    def __init__(self, code: str, status: int, fault: str, message: str, outcome: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.status = status
        self.fault = fault
        self.message = message
        self.outcome = outcome or (
            Outcome.REFUSED
            if fault == "consumer"
            else Outcome.PROVIDER_ERROR
            if fault == "provider"
            else Outcome.GATEWAY_ERROR
        )


def _consumer(code: str, status: int, message: str) -> Refusal:
    return Refusal(code, status, "consumer", message)


def _provider(code: str, status: int, message: str) -> Refusal:
    return Refusal(code, status, "provider", message)


@dataclass
class GrantView:
    """The columns of a grant the gateway needs."""

    pk: int
    state: str
    items: list[str]
    valid_until: Any
    purpose_id: int
    purpose_service_id: str

    def is_expired_on(self, day) -> bool:
        return self.valid_until is not None and day > self.valid_until


@dataclass
class Call:
    """What the gateway learnt about one call, for the answer and the log."""

    started: float
    x_road_id: str
    method: str
    path: str
    client: str = ""
    subject: str = ""
    made_for: str = ""
    issue: str = ""
    purpose: str = ""
    items: list[str] = field(default_factory=list)
    system: ConsumerSystem | None = None
    service: DataService | None = None
    grant: GrantView | None = None
    request_hash: str = ""
    generation: Any = None
    close: bool = False  # the answer closes the connection (a request body left unread)


def _printable(value: str) -> str:
    """``value`` with control characters replaced, fit for the log (refused input is logged
    too, and PostgreSQL refuses NUL in text)."""
    return _CONTROL_RE.sub("\ufffd", value) if _CONTROL_RE.search(value) else value


# -- what each process keeps ----------------------------------------------------------------
# Consumer systems, data services and grants are read on every call and change rarely, so each
# process keeps them for a moment (CONFIG_TTL, GRANT_TTL). The documentation promises that a
# revoked grant or a disabled service is refused from the next call, in every gateway process:
# every change of these rows (and of agencies, whose member codes address them) moves a
# generation in the Django cache (Redis in production: shared by every host), each call reads
# it once, and a value kept under another generation is read again. The generation moves on
# save and again at commit, so rows read by a concurrent call before the commit cannot outlive
# it. A change that bypasses the models' signals (``QuerySet.update``, SQL) must call
# :func:`configuration_changed` itself.

GENERATION = Generation("nix:config-generation")
_systems = TTLCache(lambda: conf.get("CONFIG_TTL"))
_services = TTLCache(lambda: conf.get("CONFIG_TTL"))
_grant_rows = TTLCache(lambda: conf.get("GRANT_TTL"))
# Parsed public keys by the JWK set's content (parsing costs more than a verification); a
# changed set is another key, so no generation is needed.
_keysets = TTLCache(3600.0, max_entries=1000)


def clear_caches(**_kwargs: Any) -> None:
    """Forget what this process keeps (tests; other processes follow the generation)."""
    for kept in (_systems, _services, _grant_rows, _keysets):
        kept.clear()


def configuration_changed(**_kwargs: Any) -> None:
    """A consumer system, data service, agency or grant changed: every gateway process reads
    them again on its next call."""
    _systems.clear()
    _services.clear()
    _grant_rows.clear()
    GENERATION.bump()
    transaction.on_commit(GENERATION.bump)


for _model in (ConsumerSystem, DataService, Agency, Grant):
    post_save.connect(
        configuration_changed, sender=_model, dispatch_uid=f"nix-config-{_model.__name__}"
    )
    post_delete.connect(
        configuration_changed, sender=_model, dispatch_uid=f"nix-config-d-{_model.__name__}"
    )


def _grant_candidates(consumer_id: int, service_id: int, generation: Any) -> list[tuple]:
    return _grant_rows.get(
        (consumer_id, service_id),
        lambda: list(
            Grant.objects.filter(consumer_id=consumer_id, service_id=service_id)
            .exclude(state=GrantState.REJECTED)
            .order_by("-id")
            .values_list("id", "state", "items", "valid_until", "purpose_id", "purpose__service_id")
        ),
        generation=generation,
    )


# -- the consumer's assertion ---------------------------------------------------------------


def _keyset(system: ConsumerSystem) -> KeySet:
    keyset = getattr(system, "_nix_keyset", None)  # kept with the (kept) system object
    if keyset is None:
        keyset = _keysets.get(
            json.dumps(system.jwks, sort_keys=True),
            lambda: KeySet.import_key_set(system.jwks),
        )
        system._nix_keyset = keyset
    return keyset


def _decode_assertion(token: str, keyset: KeySet) -> dict[str, Any]:
    """The verified claims of a client assertion (a compact JWS signed by one of the keys), or
    JoseError/ValueError. The claims themselves are checked by the caller."""
    if len(token) > MAX_ASSERTION_CHARS:
        raise ValueError("assertion too long")
    return jwt.decode(token, keyset, algorithms=ALGORITHMS).claims


def _authenticate(request: HttpRequest, call: Call) -> ConsumerSystem:
    client = request.META.get("HTTP_X_ROAD_CLIENT", "").strip()
    call.client = client[:200]
    if not _CLIENT_RE.match(client):
        raise _consumer(
            "missing_client",
            400,
            _(
                "The X-Road-Client header must name the consumer as instance/class/member/subsystem."
            ),
        )
    instance, member_class, member_code, subsystem = client.split("/")
    system = _systems.get(
        (member_class, member_code, subsystem),
        lambda: (
            ConsumerSystem.objects.select_related("agency")
            .filter(
                agency__member_class=member_class,
                agency__member_code=member_code,
                subsystem=subsystem,
            )
            .first()
        ),
        generation=call.generation,
    )
    if instance != conf.get("INSTANCE") or system is None or not system.enabled:
        raise _consumer(
            "unknown_client", 401, _("The consumer system is not registered with the exchange.")
        )
    call.system = system
    authorization = request.META.get("HTTP_AUTHORIZATION", "")
    if not authorization.startswith("Bearer "):
        raise _consumer(
            "missing_assertion",
            401,
            _("Sign a client assertion with the system's key and send it as a Bearer token."),
        )
    token = authorization[7:].strip()
    try:
        claims = _decode_assertion(token, _keyset(system))
    except (JoseError, ValueError, TypeError):
        raise _consumer(
            "bad_assertion", 401, _("The client assertion is not signed by a registered key.")
        ) from None
    now = time.time()
    leeway = int(conf.get("ASSERTION_LEEWAY"))
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    exp, iat, jti = claims.get("exp"), claims.get("iat"), claims.get("jti")
    valid = (
        claims.get("iss") == client
        and claims.get("sub") == client
        and conf.get("AUDIENCE") in audiences
        and isinstance(exp, int | float)
        and isinstance(iat, int | float)
        and isinstance(jti, str)
        and 0 < len(jti) <= 200
    )
    if not valid:
        raise _consumer(
            "bad_assertion",
            401,
            _(
                "The client assertion must name this client (iss, sub), the exchange (aud), "
                "and carry iat, exp and jti."
            ),
        )
    if exp - iat > int(conf.get("ASSERTION_MAX_LIFETIME")) or iat > now + leeway:
        raise _consumer("bad_assertion", 401, _("The client assertion lives too long."))
    if exp + leeway < now:
        raise _consumer("expired_assertion", 401, _("The client assertion has expired."))
    # One use per assertion (a captured token cannot be replayed), then the rate limit.
    _admit(system, f"nix:jti:{client}:{jti}", int(exp - now) + 2 * leeway)
    return system


def authenticate(request: HttpRequest) -> ConsumerSystem:
    """The member system a program's request to one of the window's own machine APIs (the
    official mailbox) comes from: the same client assertion, one use per assertion and rate
    limit as a call through the gateway. Raises :class:`Refusal`."""
    call = Call(
        started=time.perf_counter(),
        x_road_id=str(uuid.uuid4()),
        method=request.method or "GET",
        path=request.path,
    )
    call.generation = GENERATION.read()
    return _authenticate(request, call)


def _admit(system: ConsumerSystem, jti_key: str, jti_ttl: int) -> None:
    limit = system.rate_per_minute or int(conf.get("RATE_PER_MINUTE"))
    rate_key = f"nix:rate:{system.pk}:{int(time.time() // 60)}"
    # Assertions and counters in the Django cache, shared by every gateway process.
    fresh, count = guard.admit(jti_key, jti_ttl, rate_key, 120)
    if not fresh:
        raise _consumer("replayed_assertion", 401, _("This client assertion was already used."))
    if count > limit:
        raise _consumer(
            "rate_limited", 429, _("Too many calls from this system; slow down and retry.")
        )


# -- authorisation --------------------------------------------------------------------------


def _find_service(parts: list[str], call: Call) -> DataService:
    instance, member_class, member_code, subsystem, code = parts[:5]
    service = _services.get(
        (member_class, member_code, subsystem, code),
        lambda: (
            DataService.objects.select_related("provider")
            .filter(
                provider__member_class=member_class,
                provider__member_code=member_code,
                subsystem=subsystem,
                code=code,
            )
            .first()
        ),
        generation=call.generation,
    )
    if instance != conf.get("INSTANCE") or service is None:
        raise _consumer("unknown_service", 404, _("There is no such service on the exchange."))
    if not service.enabled:
        raise _provider("service_disabled", 503, _("The provider has disabled this service."))
    return service


def path_parameters(service: DataService) -> list[str] | None:
    """The names of the service's path parameters, in order, from its OpenAPI operation; None
    when the service describes none (it may then be asked only about the subject)."""
    operation = (service.openapi or {}).get("operation")
    if not isinstance(operation, dict):
        return None
    return [
        parameter["name"]
        for parameter in operation.get("parameters", [])
        if isinstance(parameter, dict) and parameter.get("in") == "path"
    ]


def _bad_path() -> Refusal:
    return _consumer(
        "bad_path",
        400,
        _(
            "After the service code the address takes only the service's own parameters, "
            "one plain segment each."
        ),
    )


def _check_address(request: HttpRequest, service: DataService, rest: str, subject: str) -> str:
    """The path to forward after the service's address, quoted; refuses a path that is not the
    service's declared parameters and a person parameter that is not the subject."""
    segments = rest.split("/") if rest else []
    if any(s in (".", "..") or not _SEGMENT_RE.match(s) for s in segments):
        raise _bad_path()
    names = path_parameters(service)
    if names is None:  # nothing declared: at most the subject
        names = ["national_code"] if segments else []
    if len(segments) != len(names):
        raise _bad_path()
    asked = [v for n, v in zip(names, segments, strict=True) if n in SUBJECT_PARAMETERS]
    if request.META.get("QUERY_STRING"):
        for name in SUBJECT_PARAMETERS:
            asked.extend(request.GET.getlist(name))
    if any(value != subject for value in asked):
        raise _consumer(
            "subject_mismatch",
            403,
            _("The call asks about another person than the one named in X-Road-UserId."),
        )
    return "/".join(quote(segment, safe="") for segment in segments)


def _authorise(request: HttpRequest, call: Call) -> tuple[GrantView, list[str]]:
    assert call.system is not None and call.service is not None
    today = timezone.localdate()
    rows = _grant_candidates(call.system.agency_id, call.service.pk, call.generation)
    candidates = [GrantView(*row) for row in rows]
    active = []
    for grant in candidates:
        if grant.state in ACTIVE_STATES and grant.is_expired_on(today):
            grants.expire(Grant.objects.get(pk=grant.pk))  # record it, then refuse below
            grant.state = GrantState.EXPIRED
        if grant.state in ACTIVE_STATES:
            active.append(grant)
    if call.purpose:
        active = [g for g in active if g.purpose_service_id == call.purpose]
    if not active:
        states = {g.state for g in candidates}
        if GrantState.REVOKED in states:
            raise _consumer("grant_revoked", 403, _("The grant for this service was revoked."))
        if GrantState.EXPIRED in states:
            raise _consumer("grant_expired", 403, _("The grant for this service has expired."))
        if GrantState.REQUESTED in states:
            raise _consumer(
                "grant_not_approved", 403, _("The grant for this service is not approved yet.")
            )
        raise _consumer("no_grant", 403, _("Your agency has no grant for this service."))
    if len({g.purpose_id for g in active}) > 1:
        raise _consumer(
            "purpose_required",
            400,
            _("Several grants apply; name the purpose (service ID) in X-Panjereh-Purpose."),
        )
    grant = active[0]
    call.grant = grant
    requested = [i.strip() for i in request.GET.get("items", "").split(",") if i.strip()]
    if requested:
        unknown = [i for i in requested if i not in call.service.item_codes]
        if unknown:
            raise _consumer(
                "unknown_item",
                400,
                _("Not a data item of this service: %(items)s") % {"items": ", ".join(unknown)},
            )
        outside = [i for i in requested if i not in grant.items]
        if outside:
            call.items = requested
            raise _consumer(
                "item_not_granted",
                403,
                _("Your grant does not cover: %(items)s") % {"items": ", ".join(outside)},
            )
        return grant, requested
    return grant, list(grant.items)


# -- the provider call ----------------------------------------------------------------------
# One httpx client per process: a pool of kept-alive HTTP/1.1 connections to the providers,
# shared by the process's threads. Answers are read as they arrive and refused once they pass
# MAX_RESPONSE_BYTES or the service's timeout, whatever their framing says.


class ProviderAnswer:
    """A provider's answer, read in full (within the size cap)."""

    __slots__ = ("status_code", "content")

    def __init__(self, status_code: int, content: bytes) -> None:
        self.status_code = status_code
        self.content = content

    def json(self) -> Any:
        return json.loads(self.content)


_PROVIDER_POOL = "exchange-providers"
_PROVIDER_LIMITS = httpx.Limits(
    max_connections=200, max_keepalive_connections=64, keepalive_expiry=30.0
)


def close_connections() -> None:
    """Close this process's connections to providers (tests, shutdown)."""
    httpclient.close(_PROVIDER_POOL)


def _fetch(
    method: str, url: str, headers: dict[str, str], body: bytes | None, timeout: float
) -> ProviderAnswer:
    """One request to a provider; httpx's errors, or :class:`httpclient.TooLarge`."""
    cap = int(conf.get("MAX_RESPONSE_BYTES"))
    deadline = time.monotonic() + timeout
    limits = httpx.Timeout(timeout, connect=min(timeout, 2.0), pool=min(timeout, 2.0))
    http = httpclient.pooled(_PROVIDER_POOL, limits=_PROVIDER_LIMITS)
    request = http.build_request(method, url, headers=headers, content=body, timeout=limits)
    response = http.send(request, stream=True)
    if response.headers.get("content-encoding", "identity").lower() != "identity":
        response.close()
        raise httpx.DecodingError("the provider compressed its answer unasked")
    content = httpclient.read_capped(response, cap, deadline, raw=True)
    return ProviderAnswer(response.status_code, content)


def _upstream_url(service: DataService, forwarded_path: str, request: HttpRequest) -> str:
    url = service.upstream_base_url.rstrip("/")
    if forwarded_path:
        url += "/" + forwarded_path
    if not request.META.get("QUERY_STRING"):
        return url
    query = request.GET.copy()
    query.pop("items", None)
    encoded = query.urlencode()
    return f"{url}?{encoded}" if encoded else url


def _call_provider(
    service: DataService, request: HttpRequest, forwarded_path: str, call: Call, body: bytes
) -> ProviderAnswer:
    provider_id = service.provider_id
    if not breaker.allow(provider_id):
        raise _provider(
            "circuit_open",
            503,
            _("The provider is failing; calls are paused for a moment. Retry later."),
        )
    url = _upstream_url(service, forwarded_path, request)
    headers = {
        "X-Road-Client": call.client,
        "X-Road-Id": call.x_road_id,
        "X-Road-UserId": call.subject,
        "Accept": "application/json",
        "Accept-Encoding": "identity",
    }
    if call.issue:
        headers["X-Road-Issue"] = call.issue
    method = request.method or "GET"
    attempts = 1 + (int(conf.get("RETRIES")) if method == "GET" else 0)
    failure: Refusal | None = None
    for _attempt in range(attempts):
        try:
            response = _fetch(
                method, url, headers, body if method != "GET" else None, service.timeout_ms / 1000
            )
        except httpx.TimeoutException:
            failure = _provider(
                "provider_timeout", 504, _("The provider did not answer in time. Retry later.")
            )
            continue
        except httpclient.TooLarge:
            failure = _provider(
                "provider_answer_too_large",
                502,
                _("The provider's answer is larger than the exchange accepts."),
            )
            break
        except (httpx.RemoteProtocolError, httpx.DecodingError) as exc:
            if "without sending a response" in str(exc):  # closed before answering
                failure = _provider(
                    "provider_unreachable", 502, _("The provider cannot be reached. Retry later.")
                )
                continue
            failure = _provider(
                "provider_bad_answer", 502, _("The provider answered in an unknown form.")
            )
            break
        except httpx.HTTPError:
            failure = _provider(
                "provider_unreachable", 502, _("The provider cannot be reached. Retry later.")
            )
            continue
        if response.status_code >= 500:
            failure = _provider(
                "provider_error", 502, _("The provider failed to answer. Retry later.")
            )
            if response.status_code in _RETRY_STATUSES:
                continue
            break
        breaker.record_success(provider_id)
        return response
    breaker.record_failure(provider_id)
    assert failure is not None
    raise failure


def _filter(record: Any, service: DataService, items: list[str]) -> dict[str, Any]:
    """Only the key fields and the fields of the granted (and asked-for) items; nothing else."""
    if not isinstance(record, dict):
        raise _provider("provider_bad_answer", 502, _("The provider answered in an unknown form."))
    allowed = set(service.key_fields) | service.fields_of(items)
    return {name: value for name, value in record.items() if name in allowed}


# -- the view -------------------------------------------------------------------------------


def _incident() -> str:
    return f"NIX-{timezone.now():%Y%m%d}-{secrets.token_hex(4).upper()}"


def _hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _request_head(request: HttpRequest) -> bytes:
    lines = [
        request.method or "",
        request.get_full_path(),
        request.META.get("HTTP_X_ROAD_CLIENT", ""),
        request.META.get("HTTP_X_ROAD_USERID", ""),
        request.META.get("HTTP_X_ROAD_ISSUE", ""),
    ]
    made_for = request.META.get("HTTP_X_PANJEREH_FOR", "")
    if made_for:  # covered when given; the head of other calls hashes as it always did
        lines.append(made_for)
    lines.append("")
    return "\n".join(lines).encode("utf-8", "surrogateescape")


def _json_response(payload: dict[str, Any], status: int, call: Call) -> HttpResponse:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    response = HttpResponse(body, status=status, content_type="application/json; charset=utf-8")
    response["X-Road-Id"] = call.x_road_id
    response["X-Road-Request-Hash"] = call.request_hash
    if call.client and not _CONTROL_RE.search(call.client):
        response["X-Road-Client"] = call.client
    if call.close:
        response["Connection"] = "close"
    return response


def _write_log(
    call: Call,
    outcome: str,
    status: int,
    fault: str,
    reason: str,
    incident: str,
    response_hash: str,
) -> None:
    service = call.service
    insert_record(
        created_at=timezone.now(),
        x_road_id=call.x_road_id,
        incident=incident,
        client=_printable(call.client[:200]),
        consumer_id=call.system.agency_id if call.system else None,
        consumer_system_id=call.system.pk if call.system else None,
        provider_id=service.provider_id if service else None,
        service_id=service.pk if service else None,
        grant_id=call.grant.pk if call.grant else None,
        method=_printable(call.method[:8]),
        path=_printable(call.path[:500]),
        subject=_printable(call.subject[:20]),
        made_for=_printable(call.made_for[:20]),
        issue=_printable(call.issue[:200]),
        purpose=(call.grant.purpose_service_id or "")
        if call.grant
        else _printable(call.purpose[:10]),
        items=[_printable(item[:100]) for item in call.items],
        outcome=outcome,
        fault=fault,
        reason=reason,
        http_status=status,
        latency_us=int((time.perf_counter() - call.started) * 1_000_000),
        request_hash=call.request_hash,
        response_hash=response_hash,
    )


@csrf_exempt
def gateway(request: HttpRequest, path: str) -> HttpResponse:
    # Programs, not browsers, call the gateway: their Accept-Language chooses the language of
    # error messages (the portal's URL scheme would otherwise force the default language).
    language = translation.get_language_from_request(request, check_path=False)
    if language == translation.get_language():
        return _gateway(request, path)  # already active: nothing to switch (most calls)
    with translation.override(language):
        return _gateway(request, path)


def _gateway(request: HttpRequest, path: str) -> HttpResponse:
    call = Call(
        started=time.perf_counter(),
        x_road_id=str(uuid.uuid4()),
        method=request.method or "GET",
        path=path,
        issue=request.META.get("HTTP_X_ROAD_ISSUE", "").strip(),
        purpose=request.META.get("HTTP_X_PANJEREH_PURPOSE", "").strip(),
    )
    call.subject = request.META.get("HTTP_X_ROAD_USERID", "").strip()
    call.made_for = request.META.get("HTTP_X_PANJEREH_FOR", "").strip()
    # Until the body is read (and found acceptable), the hash covers the request's head.
    call.request_hash = _hash(_request_head(request))
    try:
        answer, status, outcome = _serve(request, path, call)
    except Refusal as refusal:
        incident = _incident()
        payload = {
            "fault": refusal.fault,
            "code": refusal.code,
            "message": refusal.message,
            "incident": incident,
            "x_road_id": call.x_road_id,
        }
        response = _json_response(payload, refusal.status, call)
        if refusal.fault != "consumer":
            logger.warning("exchange incident %s: %s %r", incident, refusal.code, path)
        return _logged(call, response, refusal.outcome, refusal.fault, refusal.code, incident)
    except Exception:
        incident = _incident()
        logger.exception("exchange incident %s", incident)
        payload = {
            "fault": "gateway",
            "code": "internal",
            "message": _("The exchange failed to handle the call. Retry later."),
            "incident": incident,
            "x_road_id": call.x_road_id,
        }
        response = _json_response(payload, 500, call)
        return _logged(call, response, Outcome.GATEWAY_ERROR, "gateway", "internal", incident)
    response = _json_response(answer, status, call)
    logged = _logged(call, response, outcome, "", "", "")
    if outcome == Outcome.OK and call.grant is not None and logged.status_code < 400:
        if call.grant.state == GrantState.APPROVED:
            grants.mark_implemented(Grant.objects.get(pk=call.grant.pk))
    return logged


def _logged(
    call: Call, response: HttpResponse, outcome: str, fault: str, reason: str, incident: str
) -> HttpResponse:
    try:
        _write_log(
            call, outcome, response.status_code, fault, reason, incident, _hash(response.content)
        )
    except Exception:
        # No answer leaves the exchange unlogged: if the log cannot be written, the data is not
        # given out either.
        incident = incident or _incident()
        logger.exception("exchange incident %s: the message log cannot be written", incident)
        payload = {
            "fault": "gateway",
            "code": "log_unavailable",
            "message": _("The exchange cannot record the call now. Retry later."),
            "incident": incident,
            "x_road_id": call.x_road_id,
        }
        return _json_response(payload, 503, call)
    return response


def _bad_input() -> Refusal:
    return _consumer(
        "bad_input",
        400,
        _("The call holds control characters (such as NUL) in its address, query or headers."),
    )


def _body_too_large() -> Refusal:
    return _consumer(
        "body_too_large",
        413,
        _("The request body is larger than the exchange accepts (%(limit)s bytes).")
        % {"limit": _max_request_bytes()},
    )


def _max_request_bytes() -> int:
    limit = int(conf.get("MAX_REQUEST_BYTES"))
    django_limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return min(limit, django_limit) if django_limit is not None else limit


def _check_input(request: HttpRequest, path: str) -> None:
    """Refuse control characters in the address, query and X-Road headers, before anything
    else reads them."""
    if _CONTROL_RE.search(path) or _CONTROL_RE.search(request.META.get("QUERY_STRING", "")):
        raise _bad_input()
    for name in _HEADERS_CHECKED:
        if _CONTROL_RE.search(request.META.get(name, "")):
            raise _bad_input()
    if request.META.get("QUERY_STRING"):
        try:
            query = request.GET
        except SuspiciousOperation:  # more fields than DATA_UPLOAD_MAX_NUMBER_FIELDS
            raise _consumer(
                "bad_input", 400, _("The query has more parameters than the exchange accepts.")
            ) from None
        for key, values in query.lists():
            if _CONTROL_RE.search(key) or any(_CONTROL_RE.search(v) for v in values):
                raise _bad_input()


def _read_body(request: HttpRequest, call: Call) -> bytes:
    """The request body, refused before it is read when larger than the exchange accepts; the
    request hash then covers it."""
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if not declared.isdigit():
        raise _bad_input()
    if int(declared) > _max_request_bytes():
        call.close = not drain(request, _max_request_bytes()) and may_close(request)
        raise _body_too_large()
    try:
        body = request.body
    except RequestDataTooBig:
        call.close = may_close(request)
        raise _body_too_large() from None
    if b"\x00" in body:
        raise _consumer("bad_input", 400, _("The request body holds a NUL byte."))
    call.request_hash = _hash(_request_head(request) + body)
    return body


def _subject_ok(call: Call) -> bool:
    """The call names the person or company it is about; a call about no one (a registry's
    life-event feed, read by a subscribing agency) names the consumer's own member code,
    whatever its length."""
    if _SUBJECT_RE.match(call.subject):
        return True
    own = call.system.agency.member_code if call.system is not None else ""
    return bool(own) and call.subject == own


def _serve(request: HttpRequest, path: str, call: Call) -> tuple[dict[str, Any], int, str]:
    _check_input(request, path)
    body = _read_body(request, call)
    parts = path.split("/", 5)
    if len(parts) < 5 or not all(parts[:5]):
        raise _consumer(
            "bad_address",
            400,
            _(
                "Address services as /r1/{instance}/{memberClass}/{memberCode}/{subsystem}/{service}."
            ),
        )
    rest = parts[5] if len(parts) == 6 else ""
    if request.method not in ("GET", "POST"):
        raise _consumer("method_not_allowed", 405, _("Only GET and POST are supported."))
    call.generation = GENERATION.read()  # once per call: every kept row is checked against it
    _authenticate(request, call)  # the assertion, its one use, the rate limit
    call.service = service = _find_service(parts, call)
    if not _subject_ok(call):
        raise _consumer(
            "missing_user",
            400,
            _(
                "X-Road-UserId must give the national code (or national ID, or FIDA code) the "
                "call is about."
            ),
        )
    if call.made_for and (
        not _NATIONAL_CODE_RE.match(call.made_for) or call.made_for == call.subject
    ):
        raise _consumer(
            "bad_made_for",
            400,
            _(
                "X-Panjereh-For must give the national code of the person the read is made "
                "for, another person than X-Road-UserId."
            ),
        )
    forwarded_path = _check_address(request, service, rest, call.subject)
    grant, items = _authorise(request, call)
    call.grant = grant
    call.items = items
    response = _call_provider(service, request, forwarded_path, call, body)
    if response.status_code == 404:
        return {"found": False}, 404, Outcome.NOT_FOUND
    if response.status_code >= 400:
        raise _consumer(
            "provider_rejected",
            response.status_code,
            _("The provider rejected the request as malformed."),
        )
    try:
        record = response.json()
    except ValueError:
        raise _provider(
            "provider_bad_answer", 502, _("The provider answered in an unknown form.")
        ) from None
    return _filter(record, service, items), response.status_code, Outcome.OK
