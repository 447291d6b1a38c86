"""The signed-in person's own window: the home (what needs my action first), my documents,
a document's page (status, QR code, downloads, share links). Thin: reads through
``queries``, writes through ``operations``."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from panjereh.catalogue import roles
from panjereh.identity import audit
from panjereh.inbox import queries as inbox_queries
from panjereh.mailbox import queries as mailbox_queries
from panjereh.services import documents as signed
from panjereh.services import queries as services_queries

from . import operations, queries
from .forms import ShareForm
from .models import ShareLink

PAGE_SIZE = 20
LATEST = 3


def _page_number(value: str | None) -> int:
    value = (value or "").strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) < 7 else 1


def _private(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "private, no-cache"
    return response


def _acting(request: HttpRequest) -> HttpResponse | None:
    """While helping someone (identity delegation), the page that says what acting permits:
    documents, applications and share links are the person's own, never the helper's to see."""
    principal, delegation = audit.acting_principal(request)
    if delegation is None:
        return None
    context = {"principal": principal, "delegation": delegation}
    return _private(render(request, "personal/acting.html", context, status=200))


@login_required
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.national_code and (user.is_staff or user.is_superuser):
        return redirect("admin:index")  # staff without a national code: the back office
    if (acting := _acting(request)) is not None:
        return acting
    context = {
        "action": queries.needs_action(user),
        "applications": services_queries.latest_applications(user, LATEST),
        "documents": queries.documents_of(user)[:LATEST],
        "messages_latest": inbox_queries.latest_messages(user, LATEST),
        "unread": inbox_queries.unread_count(user),
        "notices": mailbox_queries.latest_notices(user, LATEST),
    }
    return _private(render(request, "personal/home.html", context))


@login_required
@require_safe
def documents(request: HttpRequest) -> HttpResponse:
    if (acting := _acting(request)) is not None:
        return acting
    held = queries.documents_of(request.user)
    page = Paginator(held, PAGE_SIZE).get_page(_page_number(request.GET.get("page")))
    return _private(
        render(request, "personal/documents.html", {"page": page, "documents": page.object_list})
    )


def _held(request: HttpRequest, reference: str) -> queries.HeldDocument:
    document = queries.document_of(request.user, reference)
    if document is None:
        raise Http404  # someone else's or none: the same answer
    return document


def _document_page(
    request: HttpRequest,
    document: queries.HeldDocument,
    *,
    form: ShareForm | None = None,
    error: str = "",
    new_link: str = "",
    status: int = 200,
) -> HttpResponse:
    links = ShareLink.objects.filter(holder=request.user, reference=document.reference)[:20]
    context = {
        "document": document,
        "qr": signed.qr_svg(document.verify_url),
        "rows": queries.fields_of(document),
        "form": form or ShareForm(),
        "error": error,
        "new_link": new_link,
        "links": links,
        "now": timezone.now(),
    }
    return _private(render(request, "personal/document.html", context, status=status))


@login_required
@require_safe
def document(request: HttpRequest, reference: str) -> HttpResponse:
    if (acting := _acting(request)) is not None:
        return acting
    held = _held(request, reference)
    shared = request.GET.get("shared", "")
    new_link = ""
    token = request.session.pop("personal_new_link", None)
    if shared and token:
        new_link = request.build_absolute_uri(reverse("shared:shared", args=[token]))
    return _document_page(request, held, new_link=new_link)


@login_required
@require_safe
def document_token(request: HttpRequest, reference: str) -> HttpResponse:
    held = _held(request, reference)
    response = HttpResponse(held.token, content_type="application/jose")
    response["Content-Disposition"] = f'attachment; filename="{held.reference}.jws"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def share(request: HttpRequest, reference: str) -> HttpResponse:
    if (acting := _acting(request)) is not None:
        return acting  # a helper shares nothing of their own while acting for someone
    held = _held(request, reference)
    form = ShareForm(request.POST)
    if not form.is_valid():
        return _document_page(request, held, form=form, status=400)
    try:
        _link, token = operations.create_share(
            request.user, held.reference, form.cleaned_data["lifetime"]
        )
    except operations.NotFound:
        raise Http404 from None
    except operations.ShareError as exc:
        return _document_page(request, held, form=form, error=exc.message, status=exc.status)
    # The secret is shown once, on the page the redirect opens, and never stored.
    request.session["personal_new_link"] = token
    return redirect(reverse("personal:document", args=[held.reference]) + "?shared=1#new-link")


@login_required
@require_safe
def shares(request: HttpRequest) -> HttpResponse:
    if (acting := _acting(request)) is not None:
        return acting
    links = ShareLink.objects.filter(holder=request.user)
    page = Paginator(links, PAGE_SIZE).get_page(_page_number(request.GET.get("page")))
    return _private(
        render(
            request,
            "personal/shares.html",
            {"page": page, "links": page.object_list, "now": timezone.now()},
        )
    )


@login_required
@require_POST
def revoke(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        link = operations.revoke_share(request.user, pk)
    except operations.NotFound:
        raise Http404 from None
    except roles.NotPermitted:
        raise
    back = request.POST.get("next", "")
    if back == "document":
        return redirect(reverse("personal:document", args=[link.reference]) + "#links")
    return redirect("personal:shares")
