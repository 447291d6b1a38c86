"""The judge's pages (thin: rights and writes are in :mod:`.operations`)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from panjereh.catalogue import roles

from . import operations, queries
from .forms import InquiryForm
from .models import FreezeItem, Inquiry

FREEZE_FIELDS = ("accounts", "assets", "reason")


def _judge_or_403(request: HttpRequest) -> None:
    operations.require_judge(request.user)


@login_required
def index(request: HttpRequest) -> HttpResponse:
    """The judge's one request, and their inquiries."""
    _judge_or_403(request)
    if request.method == "POST":
        form = InquiryForm(request.POST)
        if form.is_valid():
            try:
                inquiry = operations.request_inquiry(
                    actor=request.user,
                    case_number=form.cleaned_data["case_number"],
                    subject_code=form.cleaned_data["subject_code"],
                    key=form.cleaned_data["key"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                return redirect("assets:inquiry", pk=inquiry.pk)
        data = form.data.copy()
        data["key"] = operations.new_key()
        form.data = data
    else:
        form = InquiryForm(initial={"key": operations.new_key()})
    return render(
        request,
        "assets/index.html",
        {"form": form, "inquiries": queries.inquiries_of(request.user)[:50]},
        status=400 if form.errors else 200,
    )


def _own(request: HttpRequest, pk: int) -> Inquiry:
    _judge_or_403(request)
    inquiry = get_object_or_404(Inquiry.objects.select_related("judge"), pk=pk)
    if inquiry.judge_id != request.user.pk:
        raise Http404  # another judge's inquiry: not even its existence
    return inquiry


def _page(request, inquiry, *, errors=None, chosen=None, status=200) -> HttpResponse:
    kinds = queries.results(inquiry, actor=request.user)
    return render(
        request,
        "assets/inquiry.html",
        {
            "inquiry": inquiry,
            "kinds": kinds,
            "total": queries.grand_total(kinds),
            "waiting": any(k.waiting for k in kinds),
            "items": queries.items_of(inquiry),
            "key": operations.new_key(),
            "errors": errors or {},
            "chosen": chosen or {},
        },
        status=status,
    )


@login_required
def inquiry(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, _own(request, pk))


@login_required
@require_POST
def freeze(request: HttpRequest, pk: int) -> HttpResponse:
    inquiry = _own(request, pk)
    post = request.POST
    accounts = {iban: post.get(f"amount-{iban}", "") for iban in post.getlist("account") if iban}
    chosen = {
        "account": post.getlist("account"),
        "property": post.getlist("property"),
        "holding": post.getlist("holding"),
        "vehicle": post.getlist("vehicle"),
        "reason": post.get("reason", ""),
        "amounts": {k: v for k, v in post.items() if k.startswith("amount-")},
    }
    try:
        operations.order_freeze(
            inquiry,
            actor=request.user,
            key=post.get("key"),
            reason=post.get("reason"),
            accounts=accounts,
            properties=post.getlist("property"),
            holdings=post.getlist("holding"),
            vehicles=post.getlist("vehicle"),
        )
    except ValidationError as exc:
        errors = {}
        for name, messages in getattr(exc, "message_dict", {"assets": exc.messages}).items():
            errors[name if name in FREEZE_FIELDS else "assets"] = messages
        return _page(request, inquiry, errors=errors, chosen=chosen, status=400)
    return redirect(reverse("assets:inquiry", args=[inquiry.pk]) + "#orders")


@login_required
def letters(request: HttpRequest) -> HttpResponse:
    """The judiciary staff's queue of freezes that go by letter (stock, vehicles)."""
    if not operations.can_handle_letters(request.user):
        raise roles.NotPermitted(_("Only the judiciary's staff handle freeze letters."))
    error = ""
    status = 200
    if request.method == "POST":
        item = get_object_or_404(FreezeItem, pk=request.POST.get("item") or 0)
        try:
            operations.mark_letter_sent(
                item, actor=request.user, letter_number=request.POST.get("letter_number")
            )
        except ValidationError as exc:
            error, status = exc.messages[0], 400
        else:
            return redirect("assets:letters")
    return render(
        request,
        "assets/letters.html",
        {"items": queries.letter_queue()[:200], "error": error},
        status=status,
    )
