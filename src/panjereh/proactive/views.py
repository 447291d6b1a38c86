"""The person's page about proactive services: consent, its history, what was started."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from . import operations, queries
from .forms import ConsentForm


@login_required
@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    consenting = queries.consents(user)
    if request.method == "POST":
        form = ConsentForm(request.POST)
        if form.is_valid():
            given = form.cleaned_data["decision"] == "give"
            operations.set_consent(user, given)
            messages.success(
                request,
                _("Proactive services are on for you.")
                if given
                else _("Proactive services are off for you. Nothing will start without you."),
            )
            return redirect("proactive:settings")
        status = 400
    else:
        form = ConsentForm(initial={"decision": "give" if consenting else "withdraw"})
        status = 200
    return render(
        request,
        "proactive/settings.html",
        {
            "form": form,
            "consenting": consenting,
            "history": queries.history(user)[:50],
            "started": queries.started_for(user)[:50],
        },
        status=status,
    )
