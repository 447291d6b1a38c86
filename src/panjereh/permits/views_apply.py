"""Applying for a permit, my submissions, one application with its trace, and the authority's
queue in the window. Thin: the rules are :mod:`.applying` and :mod:`.deciding`."""

from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from panjereh.catalogue import roles
from panjereh.identity import businesses

from . import applying, deciding, labels, queries, routing
from .models import PermitApplication

APPLY_KEYS = "permits_apply_keys"
PAGE_SIZE = 20
MAX_REFERENCE = 20


def _page_number(value: str | None) -> int:
    value = (value or "").strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) < 7 else 1


# -- applying -----------------------------------------------------------------------------------


def _form_values(request: HttpRequest) -> dict[str, str]:
    return {name: request.POST.get(name, "") for name in applying.FIELDS}


def _apply_page(
    request: HttpRequest,
    permit,
    *,
    key: str,
    acting,
    values: dict[str, str] | None = None,
    problems: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    problems = problems or {}
    version = permit.published_version
    return render(
        request,
        "permits/apply.html",
        {
            "permit": permit,
            "fee": applying.fee_of(version),
            "acting": acting,
            "values": values or {},
            "problems": problems,
            "errors": [
                (f"id_{field}" if field else "", message) for field, message in problems.items()
            ],
            "provinces": applying.PROVINCES,
            "idempotency_key": key,
            "limits": {
                "title": applying.MAX_TITLE,
                "address": applying.MAX_ADDRESS,
                "description": applying.MAX_DESCRIPTION,
            },
        },
        status=status,
    )


@login_required
def apply(request: HttpRequest, public_id: str) -> HttpResponse:
    permit = queries.published_permit(public_id)
    if permit is None:
        raise Http404
    if not request.user.national_code:
        raise Http404  # a staff account without a national code applies for nothing
    # The form's key lives in the session until an application is made with it: the form sent
    # twice (a double click, Back and send again) makes one application.
    keys = request.session.get(APPLY_KEYS, {})
    key = keys.get(public_id) or uuid.uuid4().hex
    if keys.get(public_id) != key:
        request.session[APPLY_KEYS] = {**keys, public_id: key}
    # Read before asking the registry: a refusal drops the choice from the session.
    chosen = request.session.get(businesses.SESSION_KEY)
    acting = businesses.acting_for(request)  # afresh for a POST: this request acts
    if request.method != "POST":
        return _apply_page(request, permit, key=key, acting=acting)
    values = _form_values(request)
    key = request.POST.get("idempotency_key", "")[:64] or key
    if chosen and acting is None:
        # The registry no longer names them for the company they chose: nothing is sent, not
        # even in their own name (they meant the company's).
        problem = _(
            "You no longer act for this company, so nothing was sent. Choose who you act for "
            "and apply again."
        )
        return _apply_page(
            request, permit, key=key, acting=None, values=values, problems={"": problem}, status=403
        )
    try:
        application = applying.apply(
            request.user,
            permit,
            title=values["title"],
            details={k: values[k] for k in ("province", "address", "description")},
            company=acting.company if acting else None,
            request=request,
            token=key,
        )
    except applying.ApplicationError as exc:
        return _apply_page(
            request,
            permit,
            key=key,
            acting=acting,
            values=values,
            problems=exc.problems,
            status=400,
        )
    request.session[APPLY_KEYS] = {
        **request.session.get(APPLY_KEYS, {}),
        public_id: uuid.uuid4().hex,
    }
    return redirect("permits:application", application.reference)


# -- my submissions and one application ---------------------------------------------------------


@login_required
def applications(request: HttpRequest) -> HttpResponse:
    acting = businesses.acting_for(request)
    rows = applying.submissions(request.user, acting.company if acting else None)
    page = Paginator(rows, PAGE_SIZE).get_page(_page_number(request.GET.get("page")))
    for row in page.object_list:
        row.state_text = labels.state_label(row.state)
    return render(request, "permits/applications.html", {"page": page, "acting": acting})


def _visible_application(request: HttpRequest, reference: str) -> PermitApplication:
    if len(reference) > MAX_REFERENCE:
        raise Http404
    application = (
        PermitApplication.objects.select_related(
            "permit", "authority", "company", "applicant", "version"
        )
        .filter(reference=reference)
        .first()
    )
    if application is None or not applying.visible_to(request.user, application):
        raise Http404
    return application


def _public_url(number: str) -> str:
    try:
        return reverse("permits:public", args=[number])
    except NoReverseMatch:  # the public permit page is another step's
        return ""


@login_required
def application(
    request: HttpRequest,
    reference: str,
    *,
    problems: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    found = _visible_application(request, reference)
    issued = getattr(found, "issued_permit", None) if found.state == "issued" else None
    problems = problems or {}
    return render(
        request,
        "permits/application.html",
        {
            "application": found,
            "state_label": labels.state_label(found.state),
            "steps": labels.steps(found),
            "issued": issued,
            "public_url": _public_url(issued.number) if issued else "",
            "fee": applying.fee_status(found),
            "may_withdraw": applying.can_withdraw(found)
            and applying.shown_scope(request.user, found, "apply"),
            "may_pay": request.user.pk == found.applicant_id,
            "may_answer": routing.can_answer(found),
            "may_report": applying.shown_scope(request.user, found, "apply"),
            "may_decide": deciding.in_window_queue(found)
            and deciding.can_decide(request.user, found),
            "errors": [
                (f"id_{field}" if field else "", message) for field, message in problems.items()
            ],
            "problems": problems,
            "reason_value": request.POST.get("reason", "")[:2000] if problems else "",
        },
        status=status,
    )


@login_required
@require_POST
def withdraw(request: HttpRequest, reference: str) -> HttpResponse:
    found = _visible_application(request, reference)
    try:
        applying.withdraw(request.user, found)
    except roles.NotPermitted:
        return HttpResponse(status=403)
    except applying.ApplicationError as exc:
        status = 400 if "reason" in exc.problems else 409
        return application(request, reference, problems=exc.problems, status=status)
    return redirect("permits:application", reference)


@login_required
@require_POST
def pay(request: HttpRequest, reference: str) -> HttpResponse:
    found = _visible_application(request, reference)
    try:
        url = applying.pay(
            found,
            actor=request.user,
            absolute=request.build_absolute_uri,
        )
    except roles.NotPermitted:
        return HttpResponse(status=403)
    except applying.ApplicationError as exc:
        return application(request, reference, problems=exc.problems, status=409)
    return redirect(url)


# -- the authority's queue ----------------------------------------------------------------------


@login_required
def authority_queue(request: HttpRequest) -> HttpResponse:
    if not (request.user.is_superuser or roles.agencies_for(request.user, roles.READ)):
        return HttpResponse(status=403)
    page = Paginator(deciding.queue(request.user), PAGE_SIZE).get_page(
        _page_number(request.GET.get("page"))
    )
    for row in page.object_list:
        row.state_text = labels.state_label(row.state)
    return render(request, "permits/authority_queue.html", {"page": page})


@login_required
@require_POST
def decide(request: HttpRequest, reference: str) -> HttpResponse:
    found = _visible_application(request, reference)
    if not deciding.can_read(request.user, found):
        raise Http404
    action = request.POST.get("action")
    try:
        if action == "approve":
            deciding.approve(request.user, found)
        elif action == "reject":
            deciding.reject(request.user, found, reason=request.POST.get("reason", ""))
        else:
            return application(
                request, reference, problems={"": _("Choose to approve or reject.")}, status=400
            )
    except roles.NotPermitted:
        return HttpResponse(status=403)
    except applying.ApplicationError as exc:
        status = 400 if "reason" in exc.problems else 409
        return application(request, reference, problems=exc.problems, status=status)
    return redirect("permits:application", reference)
