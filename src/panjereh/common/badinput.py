"""Refuse input no page or API can store or search: NUL bytes, bytes that are not UTF-8, lone
surrogates and bodies over the upload limits, before any view sees them.

PostgreSQL refuses a NUL character in text (the driver raises, the view answered 500) and
Python cannot encode a lone surrogate; neither is ever meaningful in a national code, a
tracking code, a search or a form field. The middleware looks at the path, the query string,
url-encoded form fields and JSON bodies and answers a clear, localised 400 (413 for a body over
``DATA_UPLOAD_MAX_MEMORY_SIZE``; 400 for more than ``DATA_UPLOAD_MAX_NUMBER_FIELDS`` fields):
JSON for APIs and programs, a small HTML page for people. Each refusal is logged (logger
``panjereh.badinput``) without the offending value.

The exchange gateway (``/r1/``) is left alone: it answers and logs its own refusals in the
message log. Multipart bodies (file uploads) are left to their views, which apply their own
limits; their text fields are checked once parsed.
"""

from __future__ import annotations

import json
import logging
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.http import HttpResponse, JsonResponse
from django.utils.html import format_html
from django.utils.translation import get_language_bidi
from django.utils.translation import gettext as _

from panjereh.common.drain import refuse_unread

logger = logging.getLogger("panjereh.badinput")

# The mailbox's bulk sends are larger than Django's body limit; that API checks its own input
# (size, NUL bytes, control characters, lone surrogates: mailbox.api and mailbox.operations).
EXEMPT_PREFIXES = ("/r1/", "/api/mailbox/v1/batches")
API_PREFIXES = ("/api/", "/oidc/", "/.well-known/")


class BadInput(SuspiciousOperation):
    """Input no view can use. A SuspiciousOperation, so that where it escapes the middleware
    (raised while CSRF middleware reads a multipart body) Django still answers 400."""

    def __init__(self, where: str, status: int = 400):
        super().__init__(where)
        self.where, self.status = where, status


def clean_bytes(raw: bytes) -> bool:
    """True when ``raw`` is UTF-8 text without NUL (strict UTF-8 has no surrogates)."""
    if b"\x00" in raw:
        return False
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def clean_text(value: str) -> bool:
    """True when a decoded string has no NUL and no lone surrogate."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_urlencoded(raw: bytes, where: str) -> None:
    """A query string or url-encoded body: every key and value, percent-decoded, is clean."""
    for pair in raw.split(b"&"):
        for part in pair.split(b"=", 1):
            if not clean_bytes(unquote_to_bytes(part.replace(b"+", b" "))):
                raise BadInput(where)


def _check_json(value, where: str) -> None:
    if isinstance(value, str):
        if not clean_text(value):
            raise BadInput(where)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_json(key, where)
            _check_json(item, where)
    elif isinstance(value, list):
        for item in value:
            _check_json(item, where)


def _check_multipart_when_read(request) -> None:
    """Check a multipart form's text fields when something first reads them, not here: views
    that refuse an upload by its declared size must be able to do it before the body is read
    (feedback's complaint form does). A bad field then raises :class:`BadInput` from the
    reader; :meth:`BadInputMiddleware.process_exception` answers it."""
    load = request._load_post_and_files

    def load_and_check():
        try:
            load()
        except RequestDataTooBig as error:
            raise BadInput("size", 413) from error
        except TooManyFieldsSent as error:
            raise BadInput("fields") from error
        for key, values in request._post.lists():
            for value in [key, *values]:
                if not clean_text(value):
                    raise BadInput("form")

    request._load_post_and_files = load_and_check


def check_request(request) -> None:
    """Raise :class:`BadInput` when the request carries input no view can use."""
    meta = request.META
    raw_path = meta.get("PATH_INFO", "")
    # WSGI gives the path as latin-1 decoded bytes; Django re-percents what is not UTF-8.
    try:
        path_bytes = raw_path.encode("latin-1")
    except UnicodeEncodeError:
        path_bytes = raw_path.encode("utf-8", "surrogatepass")
    if not clean_bytes(path_bytes) or not clean_text(request.path):
        raise BadInput("path")
    query = meta.get("QUERY_STRING", "")
    if query:
        _check_urlencoded(query.encode("latin-1", "replace"), "query")
    if request.method in {"GET", "HEAD", "OPTIONS"}:
        return
    content_type = (request.content_type or "").lower()
    try:
        if content_type == "application/x-www-form-urlencoded":
            _check_urlencoded(request.body, "form")
            request.POST  # noqa: B018 -- parse now, so the field-count limit is ours to answer
        elif content_type == "multipart/form-data":
            _check_multipart_when_read(request)
        elif content_type == "application/json" or content_type.endswith("+json"):
            body = request.body
            if not body:
                return
            if not clean_bytes(body):
                raise BadInput("json")
            try:
                data = json.loads(body)
            except ValueError:
                return  # malformed JSON: the view answers it (DRF: 400 "JSON parse error")
            _check_json(data, "json")
    except RequestDataTooBig as error:
        raise BadInput("size", 413) from error
    except TooManyFieldsSent as error:
        raise BadInput("fields") from error


def wants_json(request) -> bool:
    path = request.path_info
    if path.startswith(API_PREFIXES) or "/api/" in path or path.endswith(".json"):
        return True
    accept = request.META.get("HTTP_ACCEPT", "")
    return "application/json" in accept and "text/html" not in accept


def refusal(request, error: BadInput) -> HttpResponse:
    if error.status == 413:
        limit_kb = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024
        message = _("The request is too large: at most %(kb)s KB may be sent.") % {"kb": limit_kb}
        title = _("Request too large")
    elif error.where == "fields":
        message = _("The form has too many fields.")
        title = _("Bad request")
    else:
        message = _(
            "The request contains characters that are not allowed (a null character or text "
            "that is not valid UTF-8). Correct it and try again."
        )
        title = _("Bad request")
    if wants_json(request):
        code = "too_large" if error.status == 413 else "invalid_characters"
        if error.where == "fields":
            code = "too_many_fields"
        return JsonResponse(
            {"error": code, "detail": message, "where": error.where}, status=error.status
        )
    html = format_html(
        '<!doctype html><html lang="{}" dir="{}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>{}</title></head><body><main><h1>{}</h1><p>{}</p>"
        '<p><a href="{}">{}</a></p></main></body></html>',
        getattr(request, "LANGUAGE_CODE", "fa"),
        "rtl" if get_language_bidi() else "ltr",
        title,
        title,
        message,
        "/" if get_language_bidi() else "/en/",
        _("Home"),
    )
    return HttpResponse(html, status=error.status, content_type="text/html; charset=utf-8")


def _answer(request, error: BadInput) -> HttpResponse:
    response = refusal(request, error)
    if error.status == 413:  # refused unread: keep the connection usable (common.drain)
        response = refuse_unread(request, response, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    return response


class BadInputMiddleware:
    """Answer a clear 400/413 to a request with NUL bytes, text that is not UTF-8 or lone
    surrogates in its path, query string, form fields or JSON body, or a body over the limits.
    Placed after ``LocaleMiddleware`` so the answer is in the page's language."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path_info.startswith(EXEMPT_PREFIXES):
            try:
                check_request(request)
            except BadInput as error:
                logger.warning(
                    "refused bad input in %s: %s %s",
                    error.where,
                    request.method,
                    request.path_info.encode("utf-8", "backslashreplace")[:200],
                )
                return _answer(request, error)
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        """Read a multipart form now, where CSRF middleware (next) would read it anyway, so a
        bad field or an oversized form gets this answer; views exempt from CSRF read it
        themselves (after their own size checks), and :meth:`process_exception` answers."""
        if (
            request.method == "POST"
            and (request.content_type or "").lower() == "multipart/form-data"
            and not getattr(view_func, "csrf_exempt", False)
            and not request.path_info.startswith(EXEMPT_PREFIXES)
        ):
            try:
                request.POST  # noqa: B018
            except BadInput as error:
                return self.process_exception(request, error)
        return None

    def process_exception(self, request, exception):
        if isinstance(exception, BadInput):  # a multipart field, found when the view read it
            logger.warning("refused bad input in %s: %s", exception.where, request.method)
            return _answer(request, exception)
        return None
