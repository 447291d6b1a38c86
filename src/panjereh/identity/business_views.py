"""The pages of businesses: my companies, the profile switch, a company's delegations.

Each write is one call to :mod:`.businesses`; a refusal is shown on the page it came from (the
form kept, the error summary first) or, for a company or delegation the person does not act for,
a 404 that tells nothing about it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from . import businesses
from .forms import CompanyDelegationForm, CompanyForm
from .operations import IdentityError

UNAVAILABLE = 503


def _status(exc: IdentityError) -> int:
    return UNAVAILABLE if exc.code == "registry_unavailable" else 200


@login_required
@require_http_methods(["GET", "POST"])
def companies(request: HttpRequest) -> HttpResponse:
    form = CompanyForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            found = businesses.add_company(request.user, form.cleaned_data["national_id"], request)
        except IdentityError as exc:
            form.add_error("national_id", exc.message)
            status = _status(exc)
        else:
            messages.success(
                request,
                _("%(company)s is in your list: the company registry names you as %(role)s.")
                % {"company": found.company.name, "role": found.role_label()},
            )
            return redirect("identity:companies")
    context = {
        "form": form,
        "choices": businesses.my_companies(request.user),
        "acting": businesses.acting_for(request),
        "events": businesses.company_events(request.user),
    }
    return render(request, "identity/companies.html", context, status=status)


def _next(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("identity:companies")


@login_required
@require_POST
def switch(request: HttpRequest) -> HttpResponse:
    national_id = request.POST.get("national_id", "")
    try:
        acting = businesses.switch(request, national_id)
    except IdentityError as exc:
        messages.error(request, exc.message)
        return redirect("identity:companies")
    if acting is None:
        messages.success(request, _("You are acting as yourself."))
    else:
        messages.success(
            request, _("You are acting for %(company)s.") % {"company": acting.company.name}
        )
    return redirect(_next(request))


def _company_or_404(request: HttpRequest, national_id: str):
    try:
        return businesses.company_page(request.user, national_id)
    except IdentityError as exc:
        if exc.code == "registry_unavailable":
            raise
        raise Http404(exc.message) from None


@login_required
@require_http_methods(["GET", "POST"])
def company(request: HttpRequest, national_id: str) -> HttpResponse:
    try:
        found, delegations = _company_or_404(request, national_id)
    except IdentityError as exc:
        return render(
            request,
            "identity/company_unavailable.html",
            {"message": exc.message},
            status=UNAVAILABLE,
        )
    form = CompanyDelegationForm(request.POST or None) if found.is_representative else None
    status = 200
    if request.method == "POST":
        if form is None:
            raise Http404
        if form.is_valid():
            try:
                businesses.grant_delegation(
                    request.user,
                    found.company.national_id,
                    form.cleaned_data["delegate_national_code"],
                    form.cleaned_data["scopes"],
                    form.cleaned_data["expires_on"],
                    request,
                )
            except IdentityError as exc:
                field = {"beyond_scope": "scopes", "expiry": "expires_on"}.get(
                    exc.code, "delegate_national_code"
                )
                form.add_error(field, exc.message)
                status = _status(exc)
            else:
                messages.success(
                    request,
                    _(
                        "The authorisation is recorded. The holder of this national code can "
                        "now choose the company when they sign in."
                    ),
                )
                return redirect("identity:company", national_id=found.company.national_id)
    context = {"authority": found, "delegations": delegations, "form": form}
    return render(request, "identity/company.html", context, status=status)


@login_required
@require_POST
def revoke(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        delegation = businesses.revoke_delegation(request.user, pk, request)
    except IdentityError as exc:
        if exc.code == "not_found":
            raise Http404(exc.message) from None
        messages.error(request, exc.message)
        return redirect("identity:companies")
    messages.success(request, _("The authorisation is revoked."))
    return redirect("identity:company", national_id=delegation.company.national_id)
