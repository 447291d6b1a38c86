"""The machine API agency systems send notices through (docs/mailbox.md).

A system authenticates as exchange members do at the gateway: ``X-Road-Client`` and a client
assertion signed with its registered key (``exchange.gateway.authenticate``: one use per
assertion, the system's rate limit). Each agency then has its own quota of requests a minute,
counted like the gateway's (``exchange.guard``). Writes carry an ``Idempotency-Key``. Errors are
JSON ``{"code", "message"}`` in the language of ``Accept-Language``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from panjereh.common.drain import drain, may_close
from panjereh.exchange import gateway, guard
from panjereh.exchange.models import ConsumerSystem

from . import conf, operations, pdf
from .models import Batch, Notice
from .operations import MailboxError

_KEY_MAX = 200


def _error(code: str, status: int, message: str, *, close: bool = False) -> JsonResponse:
    response = JsonResponse(
        {"code": code, "message": message}, status=status, json_dumps_params={"ensure_ascii": False}
    )
    if close:
        response["Connection"] = "close"
    return response


def _program(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A view for programs: language from ``Accept-Language``, no CSRF (no cookies), errors as
    JSON."""

    @csrf_exempt
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        language = translation.get_language_from_request(request, check_path=False)
        with translation.override(language):
            try:
                return view(request, *args, **kwargs)
            except MailboxError as error:
                return _error(error.code, error.status, error.message)
            except gateway.Refusal as refusal:
                return _error(refusal.code, refusal.status, refusal.message)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _max_body() -> int:
    limit = int(conf.get("MAX_REQUEST_BYTES"))
    django_limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return min(limit, django_limit) if django_limit is not None else limit


def _max_batch() -> int:
    return int(conf.get("MAX_BATCH_BYTES"))


def _too_large(limit: int | None = None) -> MailboxError:
    return MailboxError(
        "request_too_large",
        413,
        _("The request is larger than %(limit)s bytes; nothing was sent.")
        % {"limit": limit or _max_body()},
    )


def _authenticate(request: HttpRequest) -> ConsumerSystem:
    """The sending system (the gateway's own check), then its agency's quota."""
    system = gateway.authenticate(request)
    key = f"mailbox:quota:{system.agency_id}:{int(time.time() // 60)}"
    if guard.count(key, 120) > int(conf.get("AGENCY_PER_MINUTE")):
        raise MailboxError(
            "over_quota",
            429,
            _("Your agency has used its quota of notices for this minute; retry later."),
        )
    return system


def _body(request: HttpRequest, limit: int | None = None) -> Any:
    """The JSON body, refused before it is read when too large. With ``limit`` (a bulk send),
    the body is read from the stream up to that many bytes, above Django's own limit."""
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if not declared.isdigit():
        raise MailboxError("bad_request", 400, _("The request has no valid Content-Length."))
    if int(declared) > (limit or _max_body()):
        drain(request, limit or _max_body())
        raise _too_large(limit)
    try:
        raw = request.read(int(declared)) if limit else request.body
    except RequestDataTooBig:
        raise _too_large() from None
    if b"\x00" in raw:
        raise MailboxError("bad_input", 400, _("The request body holds a NUL byte."))
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise MailboxError("bad_request", 400, _("The request body is not valid JSON.")) from None


def _idempotency_key(request: HttpRequest) -> str:
    key = request.META.get("HTTP_IDEMPOTENCY_KEY", "").strip()
    if not key or len(key) > _KEY_MAX or not key.isprintable() or not key.isascii():
        raise MailboxError(
            "missing_idempotency_key",
            400,
            _("Send an Idempotency-Key header (up to 200 printable ASCII characters)."),
        )
    return key


def _only(request: HttpRequest, *methods: str) -> None:
    if request.method not in methods:
        raise MailboxError("method_not_allowed", 405, _("This method is not allowed here."))


@_program
def notices(request: HttpRequest) -> HttpResponse:
    """POST a notice to a person or a company."""
    _only(request, "POST")
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if declared.isdigit() and int(declared) > _max_body():
        close = not drain(request, _max_body()) and may_close(request)
        return _error("request_too_large", 413, _too_large().message, close=close)
    system = _authenticate(request)
    key = _idempotency_key(request)
    data = _body(request)
    digest = operations.request_hash(data)
    draft = operations.check(data)
    notice, created = operations.send(
        system.agency, system.client_id, draft, idempotency_key=key, digest=digest
    )
    return JsonResponse(operations.status_of(notice), status=201 if created else 200)


def _own_notice(system: ConsumerSystem, reference: str) -> Notice:
    notice = Notice.objects.filter(reference=reference[:24], agency_id=system.agency_id).first()
    if notice is None:
        raise MailboxError("not_found", 404, _("Your agency sent no notice with this id."))
    return notice


@_program
def notice(request: HttpRequest, reference: str) -> HttpResponse:
    """GET the status of a notice the caller's agency sent."""
    _only(request, "GET")
    system = _authenticate(request)
    found = operations.serve_if_due(_own_notice(system, reference))
    return JsonResponse(operations.status_of(found))


@_program
def proof(request: HttpRequest, reference: str) -> HttpResponse:
    """GET the signed proof of service (``application/jose``; ``?format=pdf`` for the PDF)."""
    _only(request, "GET")
    system = _authenticate(request)
    found = _own_notice(system, reference)
    token = operations.proof(found)
    if request.GET.get("format") == "pdf":
        response = HttpResponse(pdf.render(found, token), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="proof-{found.reference}.pdf"'
        return response
    return HttpResponse(token, content_type="application/jose")


@_program
def batches(request: HttpRequest) -> HttpResponse:
    """POST a bulk send: queued, made available in chunks; its status at its address."""
    _only(request, "POST")
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if declared.isdigit() and int(declared) > _max_batch():
        close = not drain(request, _max_batch()) and may_close(request)
        return _error("request_too_large", 413, _too_large(_max_batch()).message, close=close)
    system = _authenticate(request)
    key = _idempotency_key(request)
    data = _body(request, _max_batch())
    batch, created = operations.queue_batch(
        system.agency,
        system.client_id,
        data,
        idempotency_key=key,
        digest=operations.request_hash(data),
    )
    return JsonResponse(operations.batch_status(batch), status=202 if created else 200)


@_program
def batch(request: HttpRequest, reference: str) -> HttpResponse:
    """GET a bulk send's progress."""
    _only(request, "GET")
    system = _authenticate(request)
    found = Batch.objects.filter(reference=reference[:24], agency_id=system.agency_id).first()
    if found is None:
        raise MailboxError("not_found", 404, _("Your agency queued no bulk send with this id."))
    return JsonResponse(operations.batch_status(found))
