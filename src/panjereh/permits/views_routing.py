"""The routing's pages: the applicant's answer to a request for more information, and the
specialised portals' health per authority for the overseers and the authorities' staff.

Thin: the work and the rights are :mod:`.routing`'s (and :mod:`.applying`'s who-sees-what)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from panjereh.catalogue import roles

from . import applying, labels, routing
from .models import PermitApplication
from .operations import PermitError

ANSWER_LIMIT = routing.MAX_ANSWER_TEXT


def _application(request: HttpRequest, reference: str) -> PermitApplication:
    found = (
        PermitApplication.objects.select_related("permit", "authority", "company", "applicant")
        .filter(reference=reference[:20])
        .first()
    )
    if found is None or not applying.visible_to(request.user, found):
        raise Http404
    return found


@login_required
@require_http_methods(["GET", "POST"])
def answer_information(request: HttpRequest, reference: str) -> HttpResponse:
    """The form answering the issuing authority's request (also included in the application's
    page as ``permits/_information_form.html``)."""
    application = _application(request, reference)
    problem, value, status = "", "", 200
    if request.method == "POST":
        value = str(request.POST.get("answer", ""))[: ANSWER_LIMIT * 2]
        try:
            routing.answer_information(request.user, application, value)
        except roles.NotPermitted:
            raise
        except PermitError as exc:
            problem, status = exc.messages[0], 400
        else:
            return redirect(reverse("permits:application", args=[application.reference]))
    return render(
        request,
        "permits/answer_information.html",
        {
            "application": application,
            "state_label": labels.state_label(application.state),
            "may_answer": routing.can_answer(application),
            "answer_problem": problem,
            "answer_value": value[:ANSWER_LIMIT],
            "answer_limit": ANSWER_LIMIT,
        },
        status=status,
    )


@login_required
def portals(request: HttpRequest) -> HttpResponse:
    """Each authority's specialised portal as the window sees it."""
    authorities = routing.visible_authorities(request.user)
    if not roles.can(request.user, roles.SUPERVISE) and not authorities.exists():
        raise roles.NotPermitted(_("This page is for the overseers and the authorities' staff."))
    rows = routing.portal_health(authorities)
    for row in rows:
        row.error_text = routing.error_text(_error_code(row.last_error)) if row.last_error else ""
    held = (
        routing.held()
        .filter(authority__in=[row.authority for row in rows])
        .select_related("permit", "authority")
        .order_by("submitted_at")[:50]
    )
    for application in held:
        application.may_resend = routing.can_manage(request.user, application.authority)
        application.error_text = routing.error_text(_error_code(application.last_error))
    return render(
        request,
        "permits/portals.html",
        {"rows": rows, "held": held, "done": request.GET.get("resent") == "1"},
    )


def _error_code(words: str) -> str:
    return next((code for code, text in routing.ERRORS.items() if words.startswith(text)), "")


@login_required
@require_POST
def resend(request: HttpRequest, reference: str) -> HttpResponse:
    application = PermitApplication.objects.filter(reference=reference[:20]).first()
    if application is None:
        raise Http404
    try:
        routing.resend(request.user, application)
    except PermitError:
        pass  # sent already: the page shows where it is
    return redirect(reverse("permits:portals") + "?resent=1")
