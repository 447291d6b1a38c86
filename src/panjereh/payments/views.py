"""The payments pages: the bank's callback, a payment's page, the payer's history, finance."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from panjereh.common.jalali import TEHRAN, Month

from . import operations, queries
from .models import Payment, PaymentState

MAX_CALLBACK_FIELD = 512


@csrf_exempt  # the bank posts it through the payer's browser; its authority is the signature
@require_POST
def callback(request: HttpRequest, provider: str) -> HttpResponse:
    data = {key: value[:MAX_CALLBACK_FIELD] for key, value in request.POST.items()}
    try:
        payment = operations.handle_callback(data, provider=provider)
    except LookupError as exc:
        raise Http404 from exc
    except operations.CallbackRefused as exc:
        return render(request, "payments/refused.html", {"errors": exc.messages}, status=400)
    target = payment.return_url
    if not target or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}
    ):
        target = reverse("payments:payment", args=[payment.reference])
    return redirect(target, permanent=False)  # a GET: the session cookie (SameSite=Lax) comes


def _own(request: HttpRequest, reference: str) -> Payment:
    payment = get_object_or_404(Payment.objects.select_related("agency"), reference=reference)
    if payment.payer_id != request.user.pk:
        raise Http404
    return payment


@login_required
@require_http_methods(["GET", "POST"])
def payment(request: HttpRequest, reference: str) -> HttpResponse:
    item = _own(request, reference)
    error = None
    if request.method == "POST":
        try:
            if request.POST.get("action") == "cancel":
                operations.cancel_payment(item, actor=request.user)
                return redirect("payments:payment", reference=item.reference)
            url = operations.start_payment(
                item,
                actor=request.user,
                callback_url=request.build_absolute_uri(
                    reverse("payments:callback", args=[item.provider])
                ),
            )
            return redirect(url)
        except operations.PaymentError as exc:
            error = exc
            item.refresh_from_db()
    return render(
        request,
        "payments/payment.html",
        {
            "item": item,
            "errors": error.messages if error else [],
            "payable": item.state in (PaymentState.CREATED, PaymentState.STARTED),
            "events": item.events.all(),
            "refunds": item.refunds.all(),
        },
        status=503 if isinstance(error, operations.PaymentUnavailable) else 200,
    )


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    return render(request, "payments/mine.html", {"payments": queries.history(request.user)[:200]})


@login_required
@require_GET
def finance(request: HttpRequest) -> HttpResponse:
    agency_ids = queries.agencies_visible_to(request.user)
    if agency_ids is not None and not agency_ids:
        raise PermissionDenied
    by = "month" if request.GET.get("by") == "month" else "day"
    today = timezone.now().astimezone(TEHRAN).date()
    if by == "month":
        first = Month.of(today).plus(-5).first_day().togregorian()
    else:
        first = today - dt.timedelta(days=13)
    totals = queries.figures(start=first, end=today, agency_ids=agency_ids, by=by)
    return render(
        request,
        "payments/finance.html",
        {
            "by": by,
            "rows": list(reversed(totals.rows)),
            "sums": {n: totals.total(n) for n in ("collected", "refunded", "pending", "mismatch")},
            "cases": queries.open_cases(agency_ids)[:200],
        },
    )
