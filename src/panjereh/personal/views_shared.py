"""The public share page: ``/shared/<token>/``. Anyone with a live link sees the document, who
issued it and its verification (signature against the published keys, standing in the
issuer's status list or register) and may download its token. An expired or revoked link
answers 410, an unknown one 404, each with a page that names no document. Never indexed,
never sent as a referrer, never kept in a shared cache."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from panjereh.services import documents as signed

from . import operations, queries, verifying


def _private(response: HttpResponse) -> HttpResponse:
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Cache-Control"] = "private, no-store"
    return response


def _gone(request: HttpRequest, state: str) -> HttpResponse:
    status = 410 if state in ("expired", "revoked") else 404
    return _private(render(request, "personal/shared_gone.html", {"state": state}, status=status))


def _open(request: HttpRequest, token: str):
    link, state = operations.open_share(token)
    if link is None or state != "live":
        return None, _gone(request, state)
    document = queries.document_of(link.holder, link.reference)
    if document is None:  # no longer held (a notice withdrawn, an account closed)
        return None, _gone(request, "unknown")
    return (link, document), None


@require_safe
def shared(request: HttpRequest, token: str) -> HttpResponse:
    opened, refused = _open(request, token)
    if refused is not None:
        return refused
    link, document = opened
    if request.method == "GET":
        operations.count_view(link)
    context = {
        "link": link,
        "document": document,
        "verdict": verifying.verify(document),
        "rows": queries.fields_of(document),
        "text": queries.text_of(document),
        "text_lang": queries.value_lang(queries.text_of(document)),
        "qr": signed.qr_svg(document.verify_url),
        "token": token,
    }
    return _private(render(request, "personal/shared.html", context))


@require_safe
def shared_token(request: HttpRequest, token: str) -> HttpResponse:
    opened, refused = _open(request, token)
    if refused is not None:
        return refused
    _link, document = opened
    response = HttpResponse(document.token, content_type="application/jose")
    response["Content-Disposition"] = f'attachment; filename="{document.reference}.jws"'
    return _private(response)
