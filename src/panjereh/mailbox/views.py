"""The person's side of the official mailbox: the list, a notice, its attachments and proof,
and the public check of a proof of service."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from panjereh.identity import audit, businesses
from panjereh.services import documents, keys

from . import operations, pdf
from .models import Notice, RecipientKind

MAX_PROOF_UPLOAD = 2_000_000
PAGE_SIZE = 20  # a phone's screenful or two; the rest by page (docs/mailbox.md)


def _page_number(value: str | None) -> int:
    value = (value or "").strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) < 7 else 1


def _whose(request: HttpRequest):
    """(the person whose mailbox this is, the helper's delegation or None, the company
    authority when acting for a company or None)."""
    principal, delegation = audit.acting_principal(request)
    acting = businesses.acting_for(request) if delegation is None else None
    return principal, delegation, (acting.authority if acting is not None else None)


@login_required
def mailbox(request: HttpRequest) -> HttpResponse:
    principal, delegation, authority = _whose(request)
    if authority is not None and "read" in authority.scopes:
        rows = Notice.objects.filter(
            recipient_kind=RecipientKind.COMPANY, recipient=authority.company.national_id
        )
        owner = authority.company.name
    else:
        if delegation is None:
            operations.deliver_held(principal)  # kept before they signed up (usually at sign-in)
        rows = Notice.objects.filter(
            recipient_kind=RecipientKind.PERSON, recipient=principal.national_code or "-"
        )
        owner = principal.display_name() if delegation is not None else ""
    # The list shows what the served rule says now, not when the job last ran.
    for due in operations.due_for_service(rows)[:200]:
        operations.serve_if_due(due)
    # A page at a time, newest first: one query for the page (the index mailbox_notice_box
    # serves the filter and the order), one for the count, the agencies joined.
    rows = (
        rows.select_related("agency")
        .order_by("-created_at", "-pk")
        .only(
            "reference",
            "subject",
            "created_at",
            "made_available_at",
            "opened_at",
            "served_at",
            "state",
            "agency__name_fa",
            "agency__name_en",
        )
    )
    page = Paginator(rows, PAGE_SIZE).get_page(_page_number(request.GET.get("page")))
    return render(
        request,
        "mailbox/mailbox.html",
        {
            "notices": page.object_list,
            "page": page,
            "owner": owner,
            "helper": delegation is not None,
        },
    )


def _readable(request: HttpRequest, reference: str) -> tuple[Notice, operations.Reader]:
    notice = Notice.objects.select_related("agency").filter(reference=reference[:24]).first()
    if notice is None:
        raise Http404
    principal, _delegation, authority = _whose(request)
    who = operations.reader(
        notice,
        request.user,
        principal=principal,
        company_authority=authority,
    )
    if who is None:
        raise Http404  # not yours: the same answer as a notice that does not exist
    return notice, who


@login_required
def notice(request: HttpRequest, reference: str) -> HttpResponse:
    item, who = _readable(request, reference)
    item = operations.open_notice(item, who)
    return render(
        request,
        "mailbox/notice.html",
        {
            "item": item,
            "who": who,
            "attachments": item.attachments.only("position", "name", "content_type", "size"),
            "events": item.events.all(),
            "deemed_at": operations.deemed_at(item) if item.served_at is None else None,
            "can_download": who.is_addressee or item.recipient_kind == RecipientKind.COMPANY,
        },
    )


@login_required
def attachment(request: HttpRequest, reference: str, position: int) -> HttpResponse:
    item, who = _readable(request, reference)
    if not (who.is_addressee or item.recipient_kind == RecipientKind.COMPANY):
        raise Http404  # a helper reads the notice, but its papers are the addressee's
    found = item.attachments.filter(position=position).first()
    if found is None:
        raise Http404
    response = HttpResponse(bytes(found.data), content_type=found.content_type)
    safe = "".join(c if c.isascii() and c.isalnum() or c in "._-" else "_" for c in found.name)
    response["Content-Disposition"] = f'attachment; filename="{safe or "attachment"}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def proof(request: HttpRequest, reference: str) -> HttpResponse:
    item, _who = _readable(request, reference)
    token = operations.proof(item)
    if request.GET.get("format") == "jws":
        response = HttpResponse(token, content_type="application/jose")
        response["Content-Disposition"] = f'attachment; filename="proof-{item.reference}.jws"'
        return response
    response = HttpResponse(pdf.render(item, token), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="proof-{item.reference}.pdf"'
    return response


@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """Anyone checks a proof of service: its text, or the PDF it came in."""
    token = (request.POST.get("token") or request.GET.get("t") or "").strip()
    upload = request.FILES.get("file")
    error = ""
    if upload is not None:
        if upload.size > MAX_PROOF_UPLOAD:
            error = "too_large"
        else:
            token = documents.token_from_file(upload.read())
    result = None
    if (request.method == "POST" or token) and not error:
        result = operations.verify_proof(token, keys.jwks())
    return render(
        request,
        "mailbox/verify.html",
        {"result": result, "token": token, "error": error},
    )
