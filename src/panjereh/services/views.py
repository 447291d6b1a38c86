"""Citizen, agency and public pages of the smart services.

Authorisation is on every object: a citizen's application is looked up together with the
citizen (someone else's gives 404), and an officer's together with the agencies they belong to.
"""

from __future__ import annotations

import json
import re
import uuid
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from panjereh.catalogue import roles
from panjereh.catalogue.models import Agency
from panjereh.common.drain import refuse_unread
from panjereh.identity import businesses
from panjereh.identity import queries as identity_queries
from panjereh.payments import queries as payment_queries

from . import documents, engine, fees, keys, uploads, workflow
from .models import (
    Application,
    Document,
    JourneyEvent,
    Receipt,
    ServiceDefinition,
    State,
    Upload,
)


def _citizen_application(request: HttpRequest, tracking_code: str) -> Application:
    return get_object_or_404(
        Application.objects.select_related("definition", "agency"),
        tracking_code=tracking_code,
        user=request.user,
    )


@login_required
def my_applications(request: HttpRequest) -> HttpResponse:
    applications = (
        Application.objects.filter(user=request.user)
        .select_related("definition", "agency")
        .order_by("-submitted_at")[:200]
    )
    services = ServiceDefinition.objects.filter(active=True).order_by("code")
    return render(
        request,
        "services/my_applications.html",
        {"applications": applications, "services": services},
    )


@csrf_exempt  # the size check comes first; the CSRF check (which reads the body) after it
@login_required
def apply(request: HttpRequest, code: str) -> HttpResponse:
    definition = get_object_or_404(
        ServiceDefinition.objects.select_related("agency", "service"), code=code, active=True
    )
    if request.method == "POST" and _content_length(request) > uploads.request_limit(definition):
        # Refused before anything reads the body; the body is then drained and dropped.
        limit = uploads.request_limit(definition)
        message = _("The files are too large: at most %(mb)s MB each.") % {
            "mb": uploads.megabytes(uploads.max_bytes())
        }
        first = (definition.spec.get("uploads") or [{}])[0].get("code", "")
        response = _apply_page(request, definition, {first: message}, {}, status=413)
        return refuse_unread(request, response, limit)
    return _apply(request, definition)


def _content_length(request: HttpRequest) -> int:
    text = str(request.META.get("CONTENT_LENGTH") or "0").strip()
    return int(text) if text.isdigit() else 0


@csrf_protect
def _apply(request: HttpRequest, definition: ServiceDefinition) -> HttpResponse:
    code = definition.code
    if not request.user.national_code:
        raise Http404
    if identity_queries.session_level(request) < definition.assurance_level:
        # The step-up page shows the steps from the user's level to the service's (level 3:
        # a passkey used in this session, not only held by the account).
        query = urlencode({"level": definition.assurance_level, "next": request.path})
        return redirect(f"{reverse('identity:step_up')}?{query}")
    inputs = definition.spec.get("inputs", [])
    # The form's idempotency key lives in the session until an application is made with it:
    # the form shown again (Back, a reload, an error) carries the same key, so sending it
    # twice makes one application.
    keys = request.session.get(APPLY_KEYS, {})
    key = keys.get(code) or uuid.uuid4().hex
    if keys.get(code) != key:
        request.session[APPLY_KEYS] = {**keys, code: key}
    if request.method != "POST":
        return _apply_page(request, definition, {}, {}, key=key)
    key = request.POST.get("idempotency_key", "") or key
    values = {item["code"]: request.POST.get(item["code"], "") for item in inputs}
    files = {item["code"]: request.FILES.get(item["code"]) for item in _uploads_of(definition)}
    chosen = request.session.get(businesses.SESSION_KEY)
    company = identity_queries.acting_for(request)  # asked afresh: this request acts
    if chosen and company is None:
        # The registry no longer names them for the company they chose: nothing is sent, not
        # even in their own name (they meant the company's).
        problem = _(
            "You no longer act for this company, so nothing was sent. Choose who you act for "
            "and apply again."
        )
        return _apply_page(request, definition, {"": problem}, values, key=key, status=403)
    try:
        application, created = engine.submit(
            definition,
            request.user,
            idempotency_key=key,
            inputs=values,
            files=files,
            allow_duplicate=request.POST.get("confirm_duplicate") == "1",
            company=company,
        )
    except businesses.CannotAct as exc:
        return _apply_page(request, definition, {"": exc.message}, values, key=key, status=403)
    except engine.DuplicateApplication as exc:
        # The same application a moment ago: ask before making a second one.
        return render(
            request,
            "services/apply_again.html",
            {
                "definition": definition,
                "existing": exc.existing,
                "values": [(item, values[item["code"]]) for item in inputs],
                "idempotency_key": key,
            },
            status=409,
        )
    except engine.InvalidSubmission as exc:
        return _apply_page(request, definition, exc.problems, values, key=key, status=400)
    except engine.SubmissionError:
        problems = {"": _("The application could not be stored. Please try again.")}
        return _apply_page(request, definition, problems, values, key=key, status=400)
    if created:  # the next form is a new application: a new key
        request.session[APPLY_KEYS] = {
            **request.session.get(APPLY_KEYS, {}),
            code: uuid.uuid4().hex,
        }
    return redirect("services:detail", application.tracking_code)


def _uploads_of(definition: ServiceDefinition) -> list[dict]:
    return [item for item in definition.spec.get("uploads", []) if item.get("code")]


def _apply_page(
    request: HttpRequest,
    definition: ServiceDefinition,
    problems: dict[str, str],
    values: dict[str, str],
    *,
    key: str = "",
    status: int = 200,
) -> HttpResponse:
    """The apply form, with the problems first (each linked to its field) and what the
    applicant typed kept (files are chosen again: a browser never re-fills a file field)."""
    inputs = [
        {**item, "value": values.get(item["code"], ""), "error": problems.get(item["code"], "")}
        for item in definition.spec.get("inputs", [])
    ]
    files = [{**item, "error": problems.get(item["code"], "")} for item in _uploads_of(definition)]
    order = [item["code"] for item in inputs] + [item["code"] for item in files]
    summary = [
        (f"id_{field}" if field else "", problems[field])
        for field in ["", *order]
        if field in problems
    ]
    return render(
        request,
        "services/apply.html",
        {
            "definition": definition,
            "inputs": inputs,
            "uploads": files,
            "in_person_steps": _steps_of(definition),
            "fee": definition.spec.get("fee_rials"),
            "fee_rules": definition.spec.get("fee_rules") or [],
            "fee_refundable": definition.spec.get("fee_refundable", True),
            "max_mb": uploads.megabytes(uploads.max_bytes()),
            "items": engine.items_label(definition),
            "idempotency_key": key,
            "errors": summary,
        },
        status=status,
    )


def _steps_of(definition: ServiceDefinition) -> list[dict]:
    """The in-person steps as {label_fa, label_en, reason_fa, reason_en, where_fa, where_en}."""
    steps = []
    for step in definition.spec.get("in_person_steps", []):
        if isinstance(step, str):
            steps.append({"label_fa": step, "label_en": ""})
        elif isinstance(step, dict):
            steps.append(
                {
                    "label_fa": step.get("label_fa", ""),
                    "label_en": step.get("label_en", ""),
                    "reason_fa": step.get("reason", ""),
                    "reason_en": step.get("reason_en", ""),
                    "where_fa": step.get("where_fa", ""),
                    "where_en": step.get("where_en", ""),
                }
            )
    return steps


APPLY_KEYS = "services_apply_keys"


def _journey(application: Application) -> list[JourneyEvent]:
    return list(application.events.order_by("at", "pk"))


@login_required
def detail(
    request: HttpRequest, tracking_code: str, *, error: str = "", status: int = 200
) -> HttpResponse:
    application = _citizen_application(request, tracking_code)
    document = Document.objects.filter(application=application).first()
    return render(
        request,
        "services/detail.html",
        {
            "application": application,
            "events": _journey(application),
            "document": document,
            "waiting_name": engine.registry_name(application.waiting_for)
            if application.waiting_for
            else None,
            "running": application.state in workflow.RUNNABLE,
            "uploads": _uploads_for(application),
            "in_person_steps": _steps_of(application.definition),
            "fee": fees.status(application),
            "errors": [error] if error else [],
        },
        status=status,
    )


@login_required
@require_POST
def pay(request: HttpRequest, tracking_code: str) -> HttpResponse:
    """ "Pay now": to the bank's page (the payments app), and back to this page after it."""
    application = _citizen_application(request, tracking_code)
    try:
        url = fees.pay(
            application,
            actor=request.user,
            absolute=request.build_absolute_uri,
            return_url=reverse("services:detail", args=[application.tracking_code]),
        )
    except fees.FeeError as exc:
        return detail(
            request, tracking_code, error=exc.message, status=503 if exc.unavailable else 409
        )
    return redirect(url)


@login_required
@require_POST
def withdraw(request: HttpRequest, tracking_code: str) -> HttpResponse:
    """The applicant withdraws an application still waiting for its payment."""
    application = _citizen_application(request, tracking_code)
    try:
        fees.withdraw(application, actor=request.user)
    except fees.FeeError as exc:
        return detail(request, tracking_code, error=exc.message, status=409)
    return redirect("services:detail", application.tracking_code)


@login_required
def receipt_pdf(request: HttpRequest, number: str) -> HttpResponse:
    """A fee's signed receipt as a PDF, for its applicant (anyone else: 404)."""
    receipt = get_object_or_404(
        Receipt.objects.select_related("application"), number=number, application__user=request.user
    )
    response = HttpResponse(documents.render_pdf(receipt), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{receipt.number}.pdf"'
    return response


def _uploads_for(application: Application) -> list[tuple[Upload, str, str]]:
    """The application's files with the labels of the definition's uploads."""
    labels = {
        item["code"]: (item.get("label_fa", ""), item.get("label_en", ""))
        for item in _uploads_of(application.definition)
    }
    return [
        (row, *labels.get(row.code, (row.code, row.code)))
        for row in Upload.objects.filter(application=application)
    ]


@login_required
def upload_file(request: HttpRequest, tracking_code: str, pk: int) -> HttpResponse:
    """One file of an application, for its applicant or the agency's staff (the operation
    decides); anyone else gets 404, as if there were no such file."""
    upload = get_object_or_404(
        Upload.objects.select_related("application"),
        pk=pk,
        application__tracking_code=tracking_code,
    )
    try:
        handle = uploads.open_upload(upload, request.user)
    except roles.NotPermitted:
        raise Http404 from None
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        handle,
        content_type=upload.content_type,
        as_attachment=True,
        filename=uploads.download_name(upload),
    )
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def status_json(request: HttpRequest, tracking_code: str) -> JsonResponse:
    application = _citizen_application(request, tracking_code)
    return JsonResponse({"state": application.state, "waiting_for": application.waiting_for})


@login_required
def rate(request: HttpRequest, tracking_code: str) -> HttpResponse:
    """Ratings are made in the feedback app (ease, satisfaction, comment, agency reply)."""
    application = _citizen_application(request, tracking_code)
    return redirect(reverse("feedback:rate", args=[application.tracking_code]), permanent=False)


def _document_for(request: HttpRequest, number: str) -> Document:
    """The citizen's own document, or one of an officer's agency."""
    document = get_object_or_404(Document.objects.select_related("application"), number=number)
    if document.application.user_id == request.user.pk:
        return document
    from panjereh.inbox.models import Message

    pdf_url = reverse("services:document_pdf", args=[document.number])
    if Message.objects.filter(user=request.user, document_url=pdf_url).exists():
        return document  # the other parent of a newborn, told in their own inbox
    if _is_agency_staff(request.user, document.agency_id):
        return document
    raise Http404


@login_required
def document_pdf(request: HttpRequest, number: str) -> HttpResponse:
    document = _document_for(request, number)
    response = HttpResponse(documents.render_pdf(document), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{document.number}.pdf"'
    return response


@login_required
def document_token(request: HttpRequest, number: str) -> HttpResponse:
    document = _document_for(request, number)
    response = HttpResponse(document.token, content_type="application/jose")
    response["Content-Disposition"] = f'attachment; filename="{document.number}.jws"'
    return response


# -- public verification ----------------------------------------------------------------------


PERSIAN_LETTER = re.compile(r"[\u0600-\u06ff]")


def verify(request: HttpRequest) -> HttpResponse:
    token = (request.POST.get("token") or request.GET.get("t") or "").strip()
    reference = request.GET.get("ref", "").strip()[:100]
    # Every question gets a verdict: valid, revoked, expired, invalid (altered or forged) or
    # not found (a number never issued); only the bare page has none.
    if token or request.method == "POST":
        result = documents.verify(token)
    elif "ref" in request.GET:
        result = documents.verify_reference(reference)
    else:
        result = None
    rows = []
    if result is not None and result.claims:
        # A value the registry gave in Persian script (a place, an agency's name) is marked
        # lang="fa" on the English page, so it is read, and checked, as Persian.
        for label_fa, label_en, value_fa, value_en in result.claims.get("fields", []):
            shown = value_en or value_fa
            value_lang = "fa" if PERSIAN_LETTER.search(str(shown)) else ""
            rows.append((label_fa, label_en, value_fa, value_en, value_lang))
    return render(
        request,
        "services/verify.html",
        {"result": result, "rows": rows, "token": token, "reference": reference},
        status=200,
    )


def jwks(request: HttpRequest) -> JsonResponse:
    response = JsonResponse(keys.jwks())
    response["Cache-Control"] = "public, max-age=300"
    response["Access-Control-Allow-Origin"] = "*"
    return response


def status_list(request: HttpRequest, code: str) -> HttpResponse:
    """The agency's signed status list (revoked documents), for offline verifiers."""
    agency = get_object_or_404(Agency, code=code)
    response = HttpResponse(
        documents.status_list_token(agency), content_type="application/statuslist+jwt"
    )
    response["Cache-Control"] = f"public, max-age={documents.STATUS_LIST_REBUILD}"
    response["Access-Control-Allow-Origin"] = "*"
    return response


# -- agency side ------------------------------------------------------------------------------


def _agency_ids(user) -> list[int]:
    """The agencies whose queue ``user`` may read (the actions check their own rights)."""
    return sorted(roles.agencies_for(user, roles.READ))


def _is_agency_staff(user, agency_id: int) -> bool:
    return agency_id in _agency_ids(user)


def _staff_required(request: HttpRequest):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not _agency_ids(request.user):
        return HttpResponse(status=403)
    return None


def _staff_fee(application: Application, payment) -> dict | None:
    """The fee of ``application`` and where its payment is, for the agency's staff: paid,
    awaiting payment, refunded (wholly or in part) or being confirmed; None when free."""
    if application.fee_rials <= 0:
        return None
    if payment is None:
        phase = "awaiting"
    elif payment.state in fees.PAID:
        if payment.refunded_amount >= payment.amount:
            phase = "refunded"
        elif payment.refunded_amount:
            phase = "part_refunded"
        else:
            phase = "paid"
    elif payment.state == fees.PaymentState.AUTHORISED:
        phase = "confirming"
    else:
        phase = "awaiting"
    return {
        "amount": application.fee_rials,
        "phase": phase,
        "refunded": payment.refunded_amount if payment is not None else 0,
        "reference": payment.reference if payment is not None and phase != "awaiting" else "",
        "refundable": fees.refundable(application),
    }


def _with_fees(applications) -> list[Application]:
    """``applications`` with ``fee`` set (one query for all their payments)."""
    applications = list(applications)
    payments = payment_queries.latest_of(
        fees.PURPOSE, [a.tracking_code for a in applications if a.fee_rials > 0]
    )
    for application in applications:
        application.fee = _staff_fee(application, payments.get(application.tracking_code))
    return applications


def agency_queue(request: HttpRequest) -> HttpResponse:
    refusal = _staff_required(request)
    if refusal:
        return refusal
    agencies = _agency_ids(request.user)
    queue = (
        Application.objects.filter(agency_id__in=agencies)
        .filter(Q(state=State.HUMAN_REVIEW) | Q(state=State.WAITING))
        .select_related("definition", "assigned_to", "agency")
        .order_by("due_at")
    )
    recent = (
        Application.objects.filter(agency_id__in=agencies)
        .exclude(state__in=[State.HUMAN_REVIEW, State.WAITING])
        .select_related("definition")
        .order_by("-submitted_at")[:50]
    )
    now = timezone.now()
    return render(
        request,
        "services/agency_queue.html",
        {"queue": _with_fees(queue), "recent": _with_fees(recent), "now": now},
    )


def agency_detail(request: HttpRequest, tracking_code: str) -> HttpResponse:
    refusal = _staff_required(request)
    if refusal:
        return refusal
    application = get_object_or_404(
        Application.objects.select_related("definition", "assigned_to", "user"),
        tracking_code=tracking_code,
        agency_id__in=_agency_ids(request.user),
    )
    error = ""
    if request.method == "POST":
        action = request.POST.get("action")
        note = request.POST.get("note", "").strip()[:500]
        try:
            if action == "assign":
                workflow.assign(application, request.user)
            elif action in ("approve", "reject"):
                engine.decide_by_officer(
                    application, request.user, approved=action == "approve", note=note
                )
            elif action == "revoke":
                document = Document.objects.filter(application=application).first()
                if document and note:
                    documents.revoke(document, note, actor=request.user)
        except roles.NotPermitted:
            return HttpResponse(status=403)
        except (engine.SubmissionError, workflow.InvalidTransition) as exc:
            error = exc.messages[0] if hasattr(exc, "messages") else str(exc)
        else:
            return redirect("services:agency_detail", tracking_code)
    fetched = {row.name: row.record for row in application.fetched.all()}
    return render(
        request,
        "services/agency_detail.html",
        {
            "application": application,
            "fee": _with_fees([application])[0].fee,
            "events": _journey(application),
            "fetched": json.dumps(fetched, ensure_ascii=False, indent=1) if fetched else "",
            # What the applicant typed, under each input's label (not its code).
            "inputs": [
                (
                    item.get("label_fa", ""),
                    item.get("label_en", ""),
                    application.inputs.get(item["code"], ""),
                )
                for item in application.definition.spec.get("inputs", [])
            ],
            "uploads": _uploads_for(application),
            "in_person_steps": _steps_of(application.definition),
            "may_decide": roles.can(request.user, roles.DECIDE, application.agency_id),
            "error": error,
            "note": request.POST.get("note", "")[:500] if error else "",
            "document": Document.objects.filter(application=application).first(),
        },
        status=400 if error else 200,
    )


# -- handing over to an agency's own window -----------------------------------------------------


@login_required
def handover(request: HttpRequest, service_id: str) -> HttpResponse:
    """ "Start now" of a service an agency's own window handles: the person, signed in here, is
    sent to that window's initiate-login URI (OIDC Core §4), which starts its code flow with
    the national window and so signs them in there without asking again."""
    from oauth2_provider.settings import oauth2_settings

    from panjereh.catalogue.models import Service
    from panjereh.identity import clients

    service = get_object_or_404(Service.objects.select_related("agency"), service_id=service_id)
    window = clients.window_for(service.agency_id, service.online_url)
    if window is None:
        raise Http404
    issuer = oauth2_settings.oidc_issuer(request)
    return redirect(clients.initiate_login_url(window, request.user, service.online_url, issuer))
