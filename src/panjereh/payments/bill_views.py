"""The bill pages: pay a bill by its bill ID and payment ID, and a bill payment's page.

Thin: every check is :mod:`.billing`'s (the numbers, the biller's word through the exchange,
who pays); a refused bill comes back with the form as typed and the error summary first."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from panjereh.catalogue import roles

from . import billing, bills, operations
from .models import PAID_STATES, BillConfirmation, Payment, PaymentState, Purpose

MAX_FIELD = 64  # a bill ID has 13 digits; room for the separators people type


class BillForm(forms.Form):
    bill_id = forms.CharField(
        label=_("Bill ID"),
        max_length=MAX_FIELD,
        help_text=_("Up to 13 digits, printed on the bill as «شناسه قبض»."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "dir": "ltr"}),
    )
    payment_id = forms.CharField(
        label=_("Payment ID"),
        max_length=MAX_FIELD,
        help_text=_("Up to 13 digits, printed on the bill as «شناسه پرداخت»."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "dir": "ltr"}),
    )


def _refuse(form: BillForm, error: ValidationError) -> None:
    for field, messages in error.message_dict.items():
        for message in messages:
            form.add_error(field if field in form.fields else None, message)


@login_required
@require_http_methods(["GET", "POST"])
def pay_bill(request: HttpRequest) -> HttpResponse:
    """Enter the numbers → the biller's word and the amount → pay at the bank."""
    form = BillForm(request.POST or None)
    found = None
    status = 200
    if request.method == "POST" and form.is_valid():
        numbers = (form.cleaned_data["bill_id"], form.cleaned_data["payment_id"])
        try:
            if request.POST.get("action") == "pay":
                payment = billing.pay(*numbers, actor=request.user)
                return redirect(
                    operations.start_payment(
                        payment,
                        actor=request.user,
                        callback_url=request.build_absolute_uri(
                            reverse("payments:callback", args=[payment.provider])
                        ),
                    )
                )
            found = billing.look_up(*numbers, actor=request.user)
        except roles.NotPermitted:
            raise
        except operations.PaymentUnavailable as exc:
            form.add_error(None, exc.messages[0])
            status = 503
        except ValidationError as exc:
            _refuse(form, exc)
        except billing.BillerUnavailable:
            form.add_error(None, billing.unavailable_message())
            status = 503
    if request.method == "POST" and form.errors:
        status = 400 if status == 200 else status
    return render(
        request,
        "payments/bills/pay.html",
        {"form": form, "found": found, "types": sorted(set(map(str, bills.BILL_TYPES.values())))},
        status=status,
    )


def _own_bill(request: HttpRequest, reference: str) -> Payment:
    payment = get_object_or_404(
        Payment.objects.select_related("agency"), reference=reference, purpose_kind=Purpose.BILL
    )
    if payment.payer_id != request.user.pk:
        raise Http404
    return payment


@login_required
@require_GET
def bill_return(request: HttpRequest, purpose_id: str) -> HttpResponse:
    """Where the bank sends the payer back: their latest payment of this bill."""
    payment = (
        Payment.objects.filter(payer=request.user, purpose_kind=Purpose.BILL, purpose_id=purpose_id)
        .order_by("-created_at", "-id")
        .first()
    )
    if payment is None:
        raise Http404
    return redirect("payments:bill", reference=payment.reference)


@login_required
@require_GET
def bill(request: HttpRequest, reference: str) -> HttpResponse:
    payment = _own_bill(request, reference)
    bill_id, payment_id = billing.numbers(payment)
    confirmation = BillConfirmation.objects.filter(payment=payment).first()
    try:
        kind = bills.parse(bill_id, payment_id).type_label
    except ValidationError:
        kind = ""
    paid = payment.state in PAID_STATES
    refunds = list(payment.refunds.all())
    return render(
        request,
        "payments/bills/bill.html",
        {
            "item": payment,
            "bill_id": bill_id,
            "payment_id": payment_id,
            "kind": kind,
            "confirmation": confirmation,
            "paid": paid,
            "refunds": refunds,
            "pending": paid and confirmation is None and not refunds,
            "payable": payment.state in (PaymentState.CREATED, PaymentState.STARTED),
        },
    )
