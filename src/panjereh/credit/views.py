"""The credit check's pages: start a check, my checks, one check (consent, withdraw, read).

Thin: every rule is :mod:`.operations`'; a check the signed-in person is no party to is a 404,
the same answer as a check that does not exist."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from panjereh.catalogue import roles
from panjereh.identity import audit

from . import operations, queries, registry

ACTIONS = ("consent", "withdraw", "read")


class StartForm(forms.Form):
    counterparty_code = forms.CharField(
        label=_("The other party's national code"),
        max_length=40,
        help_text=_("10 digits, from their national card."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "dir": "ltr"}),
    )
    description = forms.CharField(
        label=_("What is the deal?"),
        max_length=400,
        help_text=_(
            "A few words both of you will recognise, e.g. «renting the flat on Azadi Street»."
        ),
    )
    consent = forms.BooleanField(
        label=_("I agree that the other party sees my financial-conviction status in this deal"),
        required=False,
    )


def _code(request: HttpRequest) -> str:
    return str(getattr(request.user, "national_code", "") or "")


def _delegation(request: HttpRequest):
    return audit.acting_principal(request)[1]


@login_required
def my_checks(request: HttpRequest) -> HttpResponse:
    code = _code(request)
    rows = [(check, code == check.initiator_code) for check in queries.checks_of(code)[:100]]
    return render(request, "credit/mine.html", {"rows": rows, "has_national_code": bool(code)})


@login_required
@require_http_methods(["GET", "POST"])
def start(request: HttpRequest) -> HttpResponse:
    form = StartForm(request.POST or None, initial={"consent": True})
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            check = operations.start_check(
                request.user,
                counterparty_code=form.cleaned_data["counterparty_code"],
                description=form.cleaned_data["description"],
                consent=form.cleaned_data["consent"],
                delegation=_delegation(request),
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for name, messages in exc.message_dict.items():
                    for message in messages:
                        form.add_error(name if name in form.fields else None, message)
            else:
                for message in exc.messages:
                    form.add_error(None, message)
        else:
            return redirect("credit:check", reference=check.reference)
    if request.method == "POST" and form.errors:
        status = 400
    return render(
        request,
        "credit/start.html",
        {"form": form, "days": operations.consent_days()},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def check(request: HttpRequest, reference: str) -> HttpResponse:
    code = _code(request)
    found = queries.check_for(reference, code)
    if found is None:
        raise Http404
    found = operations.refresh(found)
    error = ""
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action not in ACTIONS:
            error, status = _("Choose one of the buttons on this page."), 400
        else:
            try:
                delegation = _delegation(request)
                if action == "consent":
                    operations.give_consent(found, request.user, delegation=delegation)
                elif action == "withdraw":
                    operations.withdraw(found, request.user, delegation=delegation)
                else:
                    operations.read_status(found, request.user, delegation=delegation)
            except roles.NotPermitted:
                raise
            except operations.CheckRefused as exc:
                error, status = exc.messages[0], 409
            except registry.RegistryUnavailable:
                error = _(
                    "The Financial Convictions Registry cannot be reached now. Nothing was read; "
                    "try again in a few minutes."
                )
                status = 503
            else:  # after the post, the page again (a reload does not read twice)
                return redirect("credit:check", reference=found.reference)
        found = queries.check_for(reference, code)
    view = queries.view_of(found, code)
    oldest = None
    if view.latest_result is not None:
        try:
            oldest = dt.date.fromisoformat(view.latest_result.result.get("oldest_date") or "")
        except ValueError:
            oldest = None
    return render(
        request,
        "credit/check.html",
        {
            "view": view,
            "item": found,
            "parties": [view.me, view.other],
            "oldest": oldest,
            "error": error,
        },
        status=status,
    )
