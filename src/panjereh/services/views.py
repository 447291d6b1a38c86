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
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from panjereh.catalogue import roles
from panjereh.catalogue.models import Agency

from . import documents, engine, keys, workflow
from .models import Application, Document, JourneyEvent, ServiceDefinition, State


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


@login_required
def apply(request: HttpRequest, code: str) -> HttpResponse:
    definition = get_object_or_404(
        ServiceDefinition.objects.select_related("agency", "service"), code=code, active=True
    )
    if not request.user.national_code:
        raise Http404
    if request.user.assurance_level < definition.assurance_level:
        # The step-up page shows the steps from the user's level to the service's.
        query = urlencode({"level": definition.assurance_level, "next": request.path})
        return redirect(f"{reverse('identity:step_up')}?{query}")
    inputs = definition.spec.get("inputs", [])
    errors = []
    # The form's idempotency key lives in the session until an application is made with it:
    # the form shown again (Back, a reload, an error) carries the same key, so sending it
    # twice makes one application.
    keys = request.session.get(APPLY_KEYS, {})
    key = keys.get(code) or uuid.uuid4().hex
    if keys.get(code) != key:
        request.session[APPLY_KEYS] = {**keys, code: key}
    if request.method == "POST":
        key = request.POST.get("idempotency_key", "") or key
        values = {item["code"]: request.POST.get(item["code"], "") for item in inputs}
        try:
            application, created = engine.submit(
                definition,
                request.user,
                idempotency_key=key,
                inputs=values,
                allow_duplicate=request.POST.get("confirm_duplicate") == "1",
            )
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
        except engine.SubmissionError:
            errors.append(_("Please fill in every required field."))
        else:
            if created:  # the next form is a new application: a new key
                request.session[APPLY_KEYS] = {
                    **request.session.get(APPLY_KEYS, {}),
                    code: uuid.uuid4().hex,
                }
            return redirect("services:detail", application.tracking_code)
    return render(
        request,
        "services/apply.html",
        {
            "definition": definition,
            "inputs": inputs,
            "items": engine.items_label(definition),
            "idempotency_key": key,
            "errors": errors,
        },
    )


APPLY_KEYS = "services_apply_keys"


def _journey(application: Application) -> list[JourneyEvent]:
    return list(application.events.order_by("at", "pk"))


@login_required
def detail(request: HttpRequest, tracking_code: str) -> HttpResponse:
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
        },
    )


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
        {"queue": queue, "recent": recent, "now": now},
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
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "assign":
            workflow.assign(application, request.user)
        elif action in ("approve", "reject") and application.state == State.HUMAN_REVIEW:
            note = request.POST.get("note", "").strip()[:500]
            if action == "reject" and not note:
                return HttpResponse(_("A rejection needs a reason."), status=400)
            engine.decide_by_officer(
                application, request.user, approved=action == "approve", note=note
            )
        elif action == "revoke":
            document = Document.objects.filter(application=application).first()
            note = request.POST.get("note", "").strip()
            if document and note:
                documents.revoke(document, note, actor=request.user)
        return redirect("services:agency_detail", tracking_code)
    fetched = {row.name: row.record for row in application.fetched.all()}
    return render(
        request,
        "services/agency_detail.html",
        {
            "application": application,
            "events": _journey(application),
            "fetched": json.dumps(fetched, ensure_ascii=False, indent=1),
            # What the applicant typed, under each input's label (not its code).
            "inputs": [
                (
                    item.get("label_fa", ""),
                    item.get("label_en", ""),
                    application.inputs.get(item["code"], ""),
                )
                for item in application.definition.spec.get("inputs", [])
            ],
            "document": Document.objects.filter(application=application).first(),
        },
    )
