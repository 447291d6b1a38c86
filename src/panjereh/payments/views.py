"""The payments pages: the bank's callback, a payment's page, the payer's history, finance."""

from __future__ import annotations

import datetime as dt
import io
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, translate_url
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from panjereh.common import csvsafe, jalali
from panjereh.common.jalali import TEHRAN, Month

from . import operations, purposes, queries
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
    else:
        target = _in_language(target, _return_language(request))
    return redirect(target, permanent=False)  # a GET: the session cookie (SameSite=Lax) comes


def _return_language(request: HttpRequest) -> str:
    """The language the payer was using when they went to the bank: the callback's address
    was made then, on the page they pressed "Pay" on, and its prefix says it (the language
    cookie would not come: the bank's POST is cross-site)."""
    return translation.get_language() or settings.LANGUAGE_CODE


def _in_language(target: str, language: str) -> str:
    """``target`` (a path of the window, in the language its prefix says) in ``language``;
    unchanged when it names no page of the window."""
    path = urlsplit(target).path
    own = translation.get_language_from_path(path) or settings.LANGUAGE_CODE
    if own == language:
        return target
    with translation.override(own):
        return translate_url(target, language)


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
            "events": item.history(),  # its event rows and its settlement
            "refunds": item.refunds.all(),
            "paid_for": purposes.page_of(item),
        },
        status=503 if isinstance(error, operations.PaymentUnavailable) else 200,
    )


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    items = list(queries.history(request.user)[:200])
    for item in items:
        item.page = purposes.page_of(item)
    return render(request, "payments/mine.html", {"payments": items})


DAYS = 30  # the finance page's days, to today
MONTHS = 12  # and Jalali months, to this one
FIGURES = ("collected", "refunded", "pending", "mismatch")


def _finance_scope(request: HttpRequest) -> tuple[set[int] | None, object | None, list]:
    """The agencies whose money the user sees (None: all), the agency a supervisor chose, and
    the agencies a supervisor may choose from. Anyone with no agency and no supervision: 403."""
    visible = queries.agencies_visible_to(request.user)
    if visible is not None and not visible:
        raise PermissionDenied
    code = str(request.GET.get("agency", ""))[:64]
    choices = queries.agencies_with_money() if visible is None else queries.agencies(visible)
    chosen = None
    if code:
        chosen = next((a for a in choices if a.code == code), None)
        if chosen is None:
            raise Http404
        return {chosen.pk}, chosen, choices
    return visible, None, choices


def _period(by: str) -> tuple[dt.date, dt.date]:
    today = timezone.now().astimezone(TEHRAN).date()
    if by == "month":
        return Month.of(today).plus(1 - MONTHS).first_day().togregorian(), today
    return today - dt.timedelta(days=DAYS - 1), today


@login_required
@require_http_methods(["GET", "POST"])
def finance(request: HttpRequest) -> HttpResponse:
    """An agency's money (the staff's own agencies; every agency, or one, for supervisors):
    collected, refunded, pending and in mismatch by Tehran day or Jalali month, counted from
    the rows; the open finance cases, which the agency's deciders and the operators resolve."""
    agency_ids, chosen, choices = _finance_scope(request)
    by = "month" if request.GET.get("by") == "month" else "day"
    errors, resolution, failed_case = [], "", None
    if request.method == "POST":
        case = get_object_or_404(queries.open_cases(agency_ids), pk=_int(request.POST.get("case")))
        resolution = request.POST.get("resolution", "")[:2000]
        try:
            operations.resolve_case(case, actor=request.user, resolution=resolution)
        except operations.PaymentError as exc:
            errors, failed_case = exc.messages, case.pk
        else:
            return redirect(request.get_full_path())
    first, last = _period(by)
    totals = queries.figures(start=first, end=last, agency_ids=agency_ids, by=by)
    if request.GET.get("format") == "csv" and request.method == "GET":
        return _figures_csv(totals, by, chosen)
    cases = list(queries.open_cases(agency_ids)[:200])
    for case in cases:
        case.resolvable = queries.can_resolve(request.user, case)
    return render(
        request,
        "payments/finance.html",
        {
            "by": by,
            "rows": list(reversed(totals.rows)),
            "sums": {n: totals.total(n) for n in FIGURES},
            "counts": {n: totals.total(f"{n}_count") for n in FIGURES},
            "first": first,
            "last": last,
            "cases": cases,
            "open_mismatch": queries.open_mismatch(agency_ids),
            "can_choose": len(choices) > 1,
            "choices": choices,
            "chosen": chosen,
            "errors": errors,
            "failed_case": failed_case,
            "error_anchor": f"resolution-{failed_case}" if failed_case else "",
            "resolution": resolution,
            "query": request.GET.urlencode(),
        },
        status=400 if errors else 200,
    )


def _int(text) -> int:
    text = str(text or "")[:12]
    return int(text) if text.isdigit() else 0


def _figures_csv(totals: queries.Totals, by: str, agency) -> HttpResponse:
    """The figures as a spreadsheet (UTF-8 with a byte-order mark, formulas escaped)."""
    buffer = io.StringIO()
    writer = csvsafe.Writer(buffer, lineterminator="\r\n")
    writer.writerow(
        [
            "month" if by == "month" else "day",
            "collected_rials",
            "collected_payments",
            "refunded_rials",
            "refunds",
            "pending_rials",
            "pending_payments",
            "mismatch_rials",
            "mismatch_cases",
        ]
    )
    for row in totals.rows:
        period = str(row.period) if by == "month" else jalali.iso(row.period)
        writer.writerow(
            [
                period,
                row.collected,
                row.collected_count,
                row.refunded,
                row.refunded_count,
                row.pending,
                row.pending_count,
                row.mismatch,
                row.mismatch_count,
            ]
        )
    response = HttpResponse(
        csvsafe.for_spreadsheet(buffer.getvalue()), content_type="text/csv; charset=utf-8"
    )
    name = f"finance-{agency.code if agency else 'all'}-{by}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response
