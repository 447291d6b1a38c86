"""The judicial e-services landing page and SANA registration (thin: the rules are in
:mod:`.sana`)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from panjereh.catalogue import roles
from panjereh.identity import audit, businesses

from . import sana


class SanaForm(forms.Form):
    consent = forms.BooleanField(
        label=_(
            "I accept that judicial notices are served on me in my official mailbox, and that "
            "a notice counts as served when I open it or when the set days have passed."
        ),
        error_messages={
            "required": _("Confirm that you accept judicial notices in your official mailbox.")
        },
    )


def _url(name: str, *args: str) -> str:
    """A page's address, or "" while the app that owns it does not have it (yet)."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def home(request: HttpRequest) -> HttpResponse:
    """The judicial e-services: what a person can do, in one list."""
    from panjereh.services.models import ServiceDefinition

    user = request.user
    account = sana.account_of(user) if user.is_authenticated else None
    certificate = ""
    if ServiceDefinition.objects.filter(code="no-criminal-record", active=True).exists():
        certificate = _url("services:apply", "no-criminal-record")
    return render(
        request,
        "judiciary/home.html",
        {
            "account": account,
            "cases_url": _url("judiciary:cases"),
            "bills_url": _url("judiciary:bills"),
            "certificate_url": certificate,
            "appointments_url": _url("appointments:home") or _url("appointments:index"),
            "credit_url": _url("credit:mine"),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def sana_page(request: HttpRequest) -> HttpResponse:
    """Register for SANA, or one's SANA account once registered."""
    principal, delegation = audit.acting_principal(request)
    acting = businesses.acting_for(request) if delegation is None else None
    account = sana.account_of(principal)
    form = SanaForm(request.POST if request.method == "POST" else None)
    refusal: sana.SanaRefused | None = None
    error = ""
    status = 200
    if request.method == "POST" and account is None and form.is_valid():
        try:
            account, created = sana.register(request.user, delegation=delegation, company=acting)
        except roles.NotPermitted as exc:
            error, status = str(exc.args[0] if exc.args else exc), 403
        except sana.SanaRefused as exc:
            refusal = exc
        except sana.SanaUnavailable:
            error, status = str(sana.unavailable_message()), 503
        else:
            if created:
                messages.success(request, _("Your SANA account is open."))
            return redirect("judiciary:sana")
    elif request.method == "POST" and account is not None:
        return redirect("judiciary:sana")
    elif request.method == "POST":
        status = 400
    try:
        sana.check_actor(request.user, delegation=delegation, company=acting)
        blocked = ""
    except roles.NotPermitted as exc:
        blocked = str(exc.args[0] if exc.args else exc)
    level = int(getattr(principal, "assurance_level", 0) or 0)
    needed = sana.required_level()
    step_up = f"{reverse('identity:step_up')}?level={needed}&next={reverse('judiciary:sana')}"
    return render(
        request,
        "judiciary/sana.html",
        {
            "account": account,
            "form": form,
            "refusal": refusal,
            "error": error,
            "blocked": blocked if account is None else "",
            "helper": delegation is not None,
            "level": level,
            "needed": needed,
            "level_ok": level >= needed,
            "step_up_url": step_up,
            "mobile": principal.mobile if delegation is None else "",
        },
        status=status,
    )
