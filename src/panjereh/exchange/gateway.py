"""The exchange gateway: the X-Road message protocol for REST, with grants and a log.

``/r1/{instance}/{memberClass}/{memberCode}/{subsystem}/{serviceCode}[/path]``: the consumer
names itself in ``X-Road-Client`` and proves it with a signed client assertion (``Authorization:
Bearer <JWT>``), names the person the call is about in ``X-Road-UserId`` and the application or
case in ``X-Road-Issue``. The gateway authorises the call against an active grant, forwards it to
the provider, returns only the granted items and answers with ``X-Road-Id`` and
``X-Road-Request-Hash``. Every call, refused or failed ones too, is logged.

Errors are JSON: ``{"fault": "consumer"|"provider"|"gateway", "code", "message", "incident",
"x_road_id"}``: ``consumer`` means the call was refused (fix the call or the grant),
``provider`` that the provider failed or is unavailable (retry later), ``gateway`` that the
exchange itself failed.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import re
import secrets
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.cache import cache
from django.core.signals import setting_changed
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from joserfc import jwt
from joserfc.errors import BadSignatureError, InvalidPayloadError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry
from joserfc.util import json_b64decode, urlsafe_b64decode

from panjereh.catalogue.models import Agency

from . import breaker, conf, grants, guard, upstream
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
_SUBJECT_RE = re.compile(r"^[0-9]{10,11}$")
_RETRY_STATUSES = {502, 503, 504}


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
    """The columns of a grant the gateway needs, read fresh on every call."""

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
    issue: str = ""
    purpose: str = ""
    items: list[str] = field(default_factory=list)
    system: ConsumerSystem | None = None
    service: DataService | None = None
    grant: GrantView | None = None
    request_hash: str = ""


# -- upstream HTTP --------------------------------------------------------------------------
# Providers are called over kept HTTP/1.1 connections, one per gateway thread and provider
# (``upstream.py``).

# -- configuration cache ------------------------------------------------------------------
# Consumer systems and data services change rarely and are read on every call, so each process
# keeps them for CONFIG_TTL seconds (changes made in this process clear it at once; other
# processes see them within the TTL).

_config: dict[tuple, tuple[float, Any]] = {}


def _cached(key: tuple, load):
    now = time.monotonic()
    hit = _config.get(key)
    if hit is not None and now - hit[0] < float(conf.get("CONFIG_TTL")):
        return hit[1]
    value = load()
    if len(_config) > 10_000:
        _config.clear()
    _config[key] = (now, value)
    return value


def clear_caches(**_kwargs: Any) -> None:
    _config.clear()
    _grant_rows.clear()


for _model in (ConsumerSystem, DataService, Agency):
    post_save.connect(clear_caches, sender=_model, dispatch_uid=f"nix-config-{_model.__name__}")
    post_delete.connect(clear_caches, sender=_model, dispatch_uid=f"nix-config-d-{_model.__name__}")


# -- grant cache ----------------------------------------------------------------------------
# The grants of a (consumer agency, data service) pair are kept for GRANT_TTL seconds (1 s), but
# every change of a grant (each transition saves the row) invalidates them at once: it clears
# this process's cache and bumps a generation that every call compares with the generation its
# cached rows were read under, so a revocation takes effect on the next call in every gateway
# process. The generation lives where all gateway processes can see it:
# - with Redis (``REDIS_URL``, several hosts): a counter in the Django cache;
# - on one host (the embedded default, or a single server): a small file in ``VAR_DIR`` that
#   each change replaces (a new inode and time stamp), and each call checks with one ``stat``.
#   Several hosts without Redis would not see each other's file: run them with Redis
#   (docs/operations.md).
# The invalidation runs on save and again at commit, so rows read by a concurrent call before
# the commit cannot outlive it; the generation is read before the rows.

_GRANT_GENERATION = "nix:grant-generation"
_GENERATION_FILE = "exchange-grant-generation"
_grant_rows: dict[tuple[int, int], tuple[float, Any, list[tuple]]] = {}


# Where the state that all gateway processes share lives, decided once from the cache backend
# (and again when a test overrides a setting):
# - "redis": several hosts share the Django cache; grant generations, assertions and rate
#   counters live there;
# - "disk": the host's disk cache (``SharedDiskCache``); the grant generation is a file in
#   ``VAR_DIR``;
# - "local": a cache of this process alone (tests); the cache itself holds them.
@functools.cache
def _cache_mode() -> str:
    from django.conf import settings

    from panjereh.common.cache import SharedDiskCache

    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if "redis" in backend.lower():
        return "redis"
    if backend == f"{SharedDiskCache.__module__}.{SharedDiskCache.__name__}":
        return "disk"
    return "local"


def _forget_cache_mode(*, setting: str, **_kwargs: Any) -> None:
    if setting in ("CACHES", "VAR_DIR"):
        _cache_mode.cache_clear()


setting_changed.connect(_forget_cache_mode, dispatch_uid="panjereh-exchange-cache-mode")


def _shared_cache() -> bool:
    """Whether the generation lives in the cache: with Redis (several hosts). On one host the
    generation file is cheaper to check (one ``stat``) than any cache read."""
    return _cache_mode() == "redis"


def _generation_path() -> str:
    from django.conf import settings

    return os.path.join(settings.VAR_DIR, _GENERATION_FILE)


def _grant_generation() -> Any:
    if _shared_cache():
        return cache.get(_GRANT_GENERATION, 0)
    try:
        stat = os.stat(_generation_path())
    except OSError:
        return None
    return (stat.st_ino, stat.st_mtime_ns, stat.st_size)


def _bump_generation() -> None:
    _grant_rows.clear()
    if _shared_cache():
        try:
            cache.incr(_GRANT_GENERATION)
        except ValueError:
            cache.set(_GRANT_GENERATION, 1, timeout=None)
        return
    path = Path(_generation_path())
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    temporary.write_text(uuid.uuid4().hex)
    os.replace(temporary, path)


def invalidate_grants(**_kwargs: Any) -> None:
    _bump_generation()
    transaction.on_commit(_bump_generation)


post_save.connect(invalidate_grants, sender=Grant, dispatch_uid="nix-grants")
post_delete.connect(invalidate_grants, sender=Grant, dispatch_uid="nix-grants-d")


# The grant query runs on every call (no grant caching without a shared cache), and building it
# through the ORM costs more than running it: it is compiled once per database, with sentinel
# values marking where the consumer and the service go, and its rows are converted by the
# compiler's own converters (JSON items, dates), as the ORM would.

_CONSUMER_SENTINEL, _SERVICE_SENTINEL = -7_000_001, -7_000_002
_grant_sql: dict[str, tuple[str, list, Any, list]] = {}


def _grant_statement(alias: str) -> tuple[str, list, Any, list]:
    cached = _grant_sql.get(alias)
    if cached is None:
        query = (
            Grant.objects.using(alias)
            .filter(consumer_id=_CONSUMER_SENTINEL, service_id=_SERVICE_SENTINEL)
            .exclude(state=GrantState.REJECTED)
            .order_by("-id")
            .values_list("id", "state", "items", "valid_until", "purpose_id", "purpose__service_id")
            .query
        )
        compiler = query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        converters = compiler.get_converters([column for column, _sql, _alias in compiler.select])
        cached = _grant_sql[alias] = (sql, list(params), compiler, converters)
    return cached


def _load_grants(consumer_id: int, service_id: int) -> list[tuple]:
    from django.db import connections, router

    alias = router.db_for_read(Grant)
    sql, template, compiler, converters = _grant_statement(alias)
    params = [
        consumer_id
        if value == _CONSUMER_SENTINEL
        else service_id
        if value == _SERVICE_SENTINEL
        else value
        for value in template
    ]
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if converters:
        rows = compiler.apply_converters(rows, converters)
    return [tuple(row) for row in rows]


def _grant_candidates(consumer_id: int, service_id: int) -> list[tuple]:
    key = (consumer_id, service_id)
    ttl = float(conf.get("GRANT_TTL"))
    if ttl <= 0:
        return _load_grants(consumer_id, service_id)
    now = time.monotonic()
    generation = _grant_generation()
    hit = _grant_rows.get(key)
    if hit is not None and now - hit[0] < ttl and hit[1] == generation:
        return hit[2]
    rows = _load_grants(consumer_id, service_id)
    if len(_grant_rows) > 10_000:
        _grant_rows.clear()
    _grant_rows[key] = (now, generation, rows)
    return rows


# -- keys -----------------------------------------------------------------------------------

_keysets: dict[str, KeySet] = {}


def _keyset(system: ConsumerSystem) -> KeySet:
    # The parsed keys are kept on the (cached) system object, and across reloads of it by the
    # JWK set's content: parsing a key costs more than verifying a signature with it.
    keyset = getattr(system, "_nix_keyset", None)
    if keyset is not None:
        return keyset
    cache_key = json.dumps(system.jwks, sort_keys=True)
    keyset = _keysets.get(cache_key)
    if keyset is None:
        keyset = KeySet.import_key_set(system.jwks)
        if len(_keysets) > 1000:
            _keysets.clear()
        _keysets[cache_key] = keyset
    system._nix_keyset = keyset
    return keyset


_ED25519 = JWSRegistry.algorithms["Ed25519"]
_PLAIN_HEADER = {"alg", "typ", "kid"}


def _decode_assertion(token: str, keyset: KeySet) -> dict[str, Any]:
    """The verified claims of a client assertion (a compact JWS), or JoseError/ValueError.

    Every system's key is Ed25519 (``client.py``), and joserfc's general path (its objects, its
    header registry) cost more than the signature check itself. So an Ed25519 assertion whose
    header holds nothing but ``alg``, ``typ`` and ``kid`` is checked here with joserfc's own
    parts, in joserfc's order: the key chosen by ``kid`` among the keys allowed for the
    algorithm and for signing (``get_by_kid``), the algorithm's key check (type, curve, the
    key's ``alg`` and ``use``), the signature over the first two segments, then the payload,
    which must be a JSON object. Anything else (other algorithms, ``crit`` or any other header)
    goes through ``jwt.decode`` unchanged."""
    header_segment, _dot, rest = token.partition(".")
    payload_segment, _dot2, signature_segment = rest.partition(".")
    if len(header_segment) <= 512 and "." not in signature_segment:
        header = json_b64decode(header_segment.encode("ascii"))
        if (
            isinstance(header, dict)
            and header.get("alg") == "Ed25519"
            and header.keys() <= _PLAIN_HEADER
            and all(isinstance(value, str) for value in header.values())
            and len(payload_segment) <= 128_000
            and len(signature_segment) <= 1024
        ):
            key = keyset.get_by_kid(header.get("kid"), {"alg": "Ed25519", "use": "sig"})
            _ED25519.check_key(key)
            signature = urlsafe_b64decode(signature_segment.encode("ascii"))
            signing_input = f"{header_segment}.{payload_segment}".encode("ascii")
            if not _ED25519.verify(signing_input, signature, key):
                raise BadSignatureError()
            claims = json_b64decode(payload_segment.encode("ascii"))
            if not isinstance(claims, dict):
                raise InvalidPayloadError()
            return claims
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
    system = _cached(
        ("system", member_class, member_code, subsystem),
        lambda: (
            ConsumerSystem.objects.select_related("agency")
            .filter(
                agency__member_class=member_class,
                agency__member_code=member_code,
                subsystem=subsystem,
            )
            .first()
        ),
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


def _find_service(parts: list[str]) -> DataService:
    instance, member_class, member_code, subsystem, code = parts[:5]
    service = _cached(
        ("service", member_class, member_code, subsystem, code),
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
    )
    if instance != conf.get("INSTANCE") or service is None:
        raise _consumer("unknown_service", 404, _("There is no such service on the exchange."))
    if not service.enabled:
        raise _provider("service_disabled", 503, _("The provider has disabled this service."))
    return service


def _authorise(request: HttpRequest, call: Call) -> tuple[GrantView, list[str]]:
    assert call.system is not None and call.service is not None
    today = timezone.localdate()
    # Cached for at most GRANT_TTL and invalidated by every grant change (above): a revocation
    # takes effect on the next call.
    rows = _grant_candidates(call.system.agency_id, call.service.pk)
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


def _upstream_url(service: DataService, rest: str, request: HttpRequest) -> str:
    url = service.upstream_base_url.rstrip("/")
    if rest:
        url += "/" + rest
    if not request.META.get("QUERY_STRING"):
        return url  # nothing to pass on (most calls): no query dictionary to copy
    query = request.GET.copy()
    query.pop("items", None)
    encoded = query.urlencode()
    return f"{url}?{encoded}" if encoded else url


def _call_provider(
    service: DataService, request: HttpRequest, rest: str, call: Call
) -> upstream.Response:
    provider_id = service.provider_id
    if not breaker.allow(provider_id):
        raise _provider(
            "circuit_open",
            503,
            _("The provider is failing; calls are paused for a moment. Retry later."),
        )
    timeout = service.timeout_ms / 1000
    url = _upstream_url(service, rest, request)
    headers = {
        "X-Road-Client": call.client,
        "X-Road-Id": call.x_road_id,
        "X-Road-UserId": call.subject,
        "Accept": "application/json",
    }
    if call.issue:
        headers["X-Road-Issue"] = call.issue
    attempts = 1 + (int(conf.get("RETRIES")) if request.method == "GET" else 0)
    failure: Refusal | None = None
    for _attempt in range(attempts):
        try:
            response = upstream.request(
                request.method or "GET",
                url,
                headers=headers,
                body=request.body if request.method != "GET" else None,
                timeout=timeout,
                connect_timeout=min(timeout, 2.0),
            )
        except upstream.Timeout:
            failure = _provider(
                "provider_timeout", 504, _("The provider did not answer in time. Retry later.")
            )
            continue
        except upstream.TransportError:
            failure = _provider(
                "provider_unreachable", 502, _("The provider cannot be reached. Retry later.")
            )
            continue
        if response.status_code in _RETRY_STATUSES or response.status_code >= 500:
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


def _request_hash(request: HttpRequest) -> str:
    head = "\n".join(
        [
            request.method or "",
            request.get_full_path(),
            request.META.get("HTTP_X_ROAD_CLIENT", ""),
            request.META.get("HTTP_X_ROAD_USERID", ""),
            request.META.get("HTTP_X_ROAD_ISSUE", ""),
            "",
        ]
    ).encode()
    return _hash(head + (request.body or b""))


def _json_response(payload: dict[str, Any], status: int, call: Call) -> HttpResponse:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    response = HttpResponse(body, status=status, content_type="application/json; charset=utf-8")
    response["X-Road-Id"] = call.x_road_id
    response["X-Road-Request-Hash"] = call.request_hash
    if call.client:
        response["X-Road-Client"] = call.client
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
        client=call.client,
        consumer_id=call.system.agency_id if call.system else None,
        consumer_system_id=call.system.pk if call.system else None,
        provider_id=service.provider_id if service else None,
        service_id=service.pk if service else None,
        grant_id=call.grant.pk if call.grant else None,
        method=call.method[:8],
        path=call.path[:500],
        subject=call.subject[:20],
        issue=call.issue[:200],
        purpose=(call.grant.purpose_service_id or "") if call.grant else call.purpose[:10],
        items=call.items,
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
    call.request_hash = _request_hash(request)
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
            logger.warning("exchange incident %s: %s %s", incident, refusal.code, path)
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


def _serve(request: HttpRequest, path: str, call: Call) -> tuple[dict[str, Any], int, str]:
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
    _authenticate(request, call)  # the assertion, its one use, the rate limit
    call.service = service = _find_service(parts)
    if not _SUBJECT_RE.match(call.subject):
        raise _consumer(
            "missing_user",
            400,
            _("X-Road-UserId must give the national code (or national ID) the call is about."),
        )
    grant, items = _authorise(request, call)
    call.grant = grant
    call.items = items
    response = _call_provider(service, request, rest, call)
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
