"""Citizen, agency, oversight and public pages of the feedback app.

Authorisation is on every object: a citizen's application, rating or complaint is looked up
together with the citizen (someone else's gives 404); a rating for an officer together with
the agencies they belong to; a complaint for its handlers (see ``operations.can_handle``).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from panjereh.catalogue import roles
from panjereh.catalogue.models import Agency, Service
from panjereh.common import ratelimit
from panjereh.common.drain import refuse_unread
from panjereh.common.persian import digits_only
from panjereh.permits.models import PermitApplication, RemovedCondition
from panjereh.services.models import Application
from panjereh.services.workflow import TERMINAL

from . import operations, queries
from .models import (
    PERMIT_KINDS,
    Complaint,
    ComplaintKind,
    ComplaintState,
    Evidence,
    Rating,
    Score,
)

# Form posts per signed-in person: enough for honest use, too few for flooding.
RATING_POSTS = ratelimit.Limit("feedback-rating", limit=20, window=10 * 60, lockout=10 * 60)
COMPLAINT_POSTS = ratelimit.Limit(
    "feedback-complaint-post", limit=30, window=10 * 60, lockout=10 * 60
)
# Complaints actually filed per person (mistakes in the form do not count here).
COMPLAINTS_FILED = ratelimit.Limit("feedback-complaint", limit=5, window=60 * 60, lockout=60 * 60)
# Column headings of the public counts (the full labels are on the complaint form).
SHORT_KINDS = [
    (ComplaintKind.DOCUMENT_HELD.value, gettext_lazy("Document already held")),
    (ComplaintKind.IN_PERSON.value, gettext_lazy("In-person visit")),
    (ComplaintKind.OFF_PORTAL_PAYMENT.value, gettext_lazy("Payment off the portal")),
    (ComplaintKind.IDENTITY_AGAIN.value, gettext_lazy("Identity documents again")),
    (ComplaintKind.REMOVED_CONDITION.value, gettext_lazy("Removed condition asked")),
]
# Which field an operations.FeedbackError code is about (for aria-invalid and the error text).
COMPLAINT_ERROR_FIELDS = {
    "agency": "agency",
    "service": "service",
    "kind": "kind",
    "required": "description",
    "too_long": "description",
    "too_many_files": "evidence",
    "too_large": "evidence",
    "file_type": "evidence",
    "removed_condition": "removed_condition",
}
RATING_ERROR_FIELDS = {"ease": "ease", "satisfaction": "satisfaction", "too_long": "comment"}


def _message(request: HttpRequest, title, text, status: int) -> HttpResponse:
    """A localised page with one message (instead of a bare error response)."""
    return render(
        request, "feedback/message.html", {"title": title, "message": text}, status=status
    )


def _target_percent() -> int:
    return round(100 * queries.target_rise())


def _limited(request: HttpRequest, limit: ratelimit.Limit) -> bool:
    return ratelimit.hit(limit, f"user:{request.user.pk}")


def _staff_agency_ids(user) -> list[int]:
    """The agencies whose ratings ``user`` may read (replying asks for more: the operation)."""
    return sorted(roles.agencies_for(user, roles.READ))


def _is_supervisor(user) -> bool:
    return roles.is_supervisor(user)


# -- citizen: ratings -------------------------------------------------------------------------


@login_required
def rate(request: HttpRequest, tracking_code: str) -> HttpResponse:
    """Rate a finished application (or see and, for a while, change the rating)."""
    application = (
        Application.objects.select_related("definition", "agency")
        .filter(tracking_code=tracking_code, user=request.user)
        .first()
    )
    if application is None:  # someone else's is not revealed to exist: 404, nothing written
        return _message(
            request,
            _("Rate this service"),
            _("There is no finished application of yours with this number."),
            404,
        )
    rating = Rating.objects.filter(application=application).first()
    error, code, status, values = None, "", 200, None  # values: the rating's, see _rate_page
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in ("ease", "satisfaction", "comment")}
        if _limited(request, RATING_POSTS):
            error, status = _("Too many attempts. Please try again later."), 429
        else:
            try:
                operations.rate(
                    application,
                    request.user,
                    ease=values["ease"],
                    satisfaction=values["satisfaction"],
                    comment=values["comment"],
                )
            except operations.FeedbackError as exc:
                error, code, status = exc.message, exc.code, 400
            else:
                return redirect(reverse("feedback:rate", args=[tracking_code]) + "?saved=1")
    return _rate_page(
        request,
        application,
        rating,
        values=values,
        error=error,
        error_field=RATING_ERROR_FIELDS.get(code, ""),
        status=status,
    )


def _rate_page(
    request: HttpRequest,
    application: Application,
    rating: Rating | None,
    *,
    values: dict | None = None,
    error=None,
    error_field: str = "",
    reason: str = "",
    status: int = 200,
) -> HttpResponse:
    if values is None:
        values = {
            "ease": str(rating.ease) if rating else "",
            "satisfaction": str(rating.satisfaction) if rating else "",
            "comment": rating.comment if rating else "",
        }
    return render(
        request,
        "feedback/rate.html",
        {
            "application": application,
            "rating": rating,
            "finished": application.state in TERMINAL,
            "values": values,
            "scores": list(reversed(Score.choices)),
            "error": error,
            "error_field": error_field,
            "reason": reason,
            "saved": request.GET.get("saved") == "1",
            "escalated": request.GET.get("escalated") == "1",
        },
        status=status,
    )


@login_required
@require_POST
def escalate(request: HttpRequest, pk: int) -> HttpResponse:
    rating = (
        Rating.objects.select_related("application__definition", "application__agency")
        .filter(pk=pk, user=request.user)
        .first()
    )
    if rating is None:
        return _message(
            request,
            _("Escalate to the supervising body"),
            _("There is no rating of yours with this number."),
            404,
        )
    reason = request.POST.get("reason", "")
    if _limited(request, RATING_POSTS):
        error, code, status = _("Too many attempts. Please try again later."), "", 429
    else:
        try:
            operations.escalate(rating, request.user, reason)
        except operations.FeedbackError as exc:
            error, code, status = exc.message, exc.code, 400
        else:
            return redirect(
                reverse("feedback:rate", args=[rating.application.tracking_code]) + "?escalated=1"
            )
    return _rate_page(
        request,
        rating.application,
        rating,
        error=error,
        error_field="reason" if code in ("reason", "too_long") else "",
        reason=reason,
        status=status,
    )


# -- citizen: complaints ----------------------------------------------------------------------


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    """The citizen's ratings and complaints, and the tracking-code lookup."""
    error = None
    code_text = request.GET.get("code", "").strip()
    if code_text:
        code = operations.normalize_tracking_code(code_text)
        complaint = (
            Complaint.objects.filter(tracking_code=code, user=request.user).first()
            if code
            else None
        )
        if complaint is not None:
            return redirect("feedback:complaint", complaint.tracking_code)
        error = (
            _("No complaint of yours has this tracking code.")
            if code
            else _("This is not a valid tracking code (like C-12345674).")
        )
    return render(
        request,
        "feedback/mine.html",
        {
            "complaints": Complaint.objects.filter(user=request.user).select_related(
                "agency", "authority"
            ),
            "ratings": Rating.objects.filter(user=request.user).select_related(
                "application__definition"
            )[:100],
            "finished_unrated": Application.objects.filter(
                user=request.user, state__in=list(TERMINAL), feedback_rating__isnull=True
            ).select_related("definition")[:20],
            "code": code_text,
            "error": error,
        },
        status=400 if error else 200,
    )


@csrf_exempt  # the size check comes first; the CSRF check (which reads the body) after it
@login_required
def complaint_new(request: HttpRequest) -> HttpResponse:
    return _size_checked(request) or _complaint_new(request)


@csrf_exempt  # as complaint_new: the size check first, then the CSRF check
@login_required
def report_payment(request: HttpRequest) -> HttpResponse:
    """A payment demanded outside the window, reported from an application's page
    (``?application=<tracking code>``, the person's own: 404 otherwise) or a service's page
    (``?service=<service ID>``): the agency, the service and the kind come filled in; the
    complaint is filed like any other (``operations.file_complaint``)."""
    initial = _payment_report_values(request)
    return _size_checked(request, initial) or _complaint_new(request, initial)


@csrf_exempt  # as complaint_new: the size check first, then the CSRF check
@login_required
def report_permit(request: HttpRequest) -> HttpResponse:
    """A violation reported from a permit application (``?application=<reference>``): a
    demand for an in-person visit, a payment off the portal, or a removed condition asked
    again, with evidence. Only the applicant or a person acting for the applicant company may
    report on it; anyone else (and an unknown reference) gets 404. Filed by
    ``operations.file_permit_complaint``."""
    reference = str(request.GET.get("application", ""))[:40].strip()
    application = (
        PermitApplication.objects.select_related("permit", "authority", "company")
        .filter(reference=reference)
        .first()
        if reference
        else None
    )
    if application is None or not operations.may_report_on(request.user, application, fresh=False):
        raise Http404
    values = {"kind": "", "removed_condition": "", "description": ""}
    if request.method == "POST" and _content_length(request) > operations.upload_request_limit():
        return refuse_unread(
            request,
            _permit_form(
                request,
                application,
                values=values,
                error=_too_large_message(),
                error_field="evidence",
                status=413,
            ),
            operations.upload_request_limit(),
        )
    return _report_permit(request, application, values)


@csrf_protect
def _report_permit(request: HttpRequest, application, values: dict) -> HttpResponse:
    error, code, status = None, "", 200
    if request.method == "POST":
        values = {k: str(request.POST.get(k, "")) for k in values}
        subject = f"user:{request.user.pk}"
        if ratelimit.is_locked(COMPLAINTS_FILED, subject) or _limited(request, COMPLAINT_POSTS):
            error, status = _("Too many attempts. Please try again later."), 429
        else:
            try:
                complaint = operations.file_permit_complaint(
                    request.user,
                    application,
                    kind=values["kind"],
                    description=values["description"],
                    removed_condition=_removed_condition(application, values),
                    files=request.FILES.getlist("evidence"),
                )
            except operations.FeedbackError as exc:
                error, code = exc.message, exc.code
                status = 404 if exc.code == "forbidden" else 400
            else:
                ratelimit.hit(COMPLAINTS_FILED, subject)
                return redirect("feedback:complaint", complaint.tracking_code)
    return _permit_form(
        request,
        application,
        values=values,
        error=error,
        error_field=COMPLAINT_ERROR_FIELDS.get(code, ""),
        status=status,
    )


def _removed_condition(application, values: dict):
    raw = digits_only(values["removed_condition"])[:12]
    if not raw:
        return None
    found = RemovedCondition.objects.filter(pk=int(raw)).first()
    if found is None:
        raise operations.FeedbackError(
            _("That condition is not one removed from this permit."), "removed_condition"
        )
    return found


def _permit_form(
    request: HttpRequest,
    application,
    *,
    values: dict,
    error=None,
    error_field: str = "",
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "feedback/permit_report_form.html",
        {
            "application": application,
            "kinds": [(k.value, k.label) for k in PERMIT_KINDS],
            "removed": application.permit.removed_conditions.select_related("resolution"),
            "values": values,
            "error": error,
            "error_field": error_field,
            "max_mb": operations.megabytes(operations.max_upload_bytes()),
            "max_files": operations.max_files(),
        },
        status=status,
    )


def _too_large_message() -> str:
    return _("The files are too large: at most %(mb)s MB each, up to %(n)s files.") % {
        "mb": operations.megabytes(operations.max_upload_bytes()),
        "n": operations.max_files(),
    }


def _payment_report_values(request: HttpRequest) -> dict:
    values = {
        "agency": "",
        "service": "",
        "kind": ComplaintKind.OFF_PORTAL_PAYMENT.value,
        "description": "",
    }
    code = str(request.GET.get("application", ""))[:40].strip()
    if code:
        application = (
            Application.objects.filter(tracking_code=code, user=request.user)
            .select_related("definition__service")
            .first()
        )
        if application is None:
            raise Http404
        service = application.definition.service
        values["agency"] = str(application.agency_id)
        values["service"] = service.service_id or ""
        values["description"] = _("Application %(code)s: ") % {"code": code}
        return values
    service_id = digits_only(str(request.GET.get("service", ""))[:40])
    if service_id:
        service = Service.objects.filter(service_id=service_id).first()
        if service is None:
            raise Http404
        values["agency"] = str(service.agency_id)
        values["service"] = service.service_id
    return values


def _size_checked(request: HttpRequest, values: dict | None = None) -> HttpResponse | None:
    """A body too large is refused before anything reads it (None: go on)."""
    if request.method == "POST" and _content_length(request) > operations.upload_request_limit():
        # Refused before anything stores the upload; the body is then read off the connection
        # and dropped, so the browser's next request on it is answered.
        return refuse_unread(
            request,
            _complaint_form(
                request,
                values=values,
                error=_too_large_message(),
                error_field="evidence",
                status=413,
            ),
            operations.upload_request_limit(),
        )
    return None


def _content_length(request: HttpRequest) -> int:
    text = str(request.META.get("CONTENT_LENGTH") or "0").strip()
    return int(text) if text.isdigit() else 0


@csrf_protect
def _complaint_new(request: HttpRequest, initial: dict | None = None) -> HttpResponse:
    values = initial or {"agency": "", "service": "", "kind": "", "description": ""}
    error, code, status = None, "", 200
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in values}
        subject = f"user:{request.user.pk}"
        if ratelimit.is_locked(COMPLAINTS_FILED, subject) or _limited(request, COMPLAINT_POSTS):
            error, status = _("Too many attempts. Please try again later."), 429
        else:
            try:
                complaint = _file(request, values)
            except operations.FeedbackError as exc:
                error, code, status = exc.message, exc.code, 400
            else:
                ratelimit.hit(COMPLAINTS_FILED, subject)
                return redirect("feedback:complaint", complaint.tracking_code)
    return _complaint_form(
        request,
        values=values,
        error=error,
        error_field=COMPLAINT_ERROR_FIELDS.get(code, ""),
        status=status,
    )


def _complaint_form(
    request: HttpRequest,
    *,
    values: dict | None = None,
    error=None,
    error_field: str = "",
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "feedback/complaint_form.html",
        {
            "agencies": Agency.objects.order_by("name_fa").only("id", "name_fa", "name_en"),
            # A removed permit condition is reported from the permit application (report_permit).
            "kinds": [c for c in ComplaintKind.choices if c[0] != ComplaintKind.REMOVED_CONDITION],
            "values": values or {"agency": "", "service": "", "kind": "", "description": ""},
            "error": error,
            "error_field": error_field,
            "max_mb": operations.megabytes(operations.max_upload_bytes()),
            "max_files": operations.max_files(),
        },
        status=status,
    )


def _file(request: HttpRequest, values: dict) -> Complaint:
    agency_pk = digits_only(values["agency"])
    agency = Agency.objects.filter(pk=int(agency_pk)).first() if agency_pk else None
    if agency is None:
        raise operations.FeedbackError(_("Choose the agency."), "agency")
    service = None
    service_id = digits_only(values["service"])
    if service_id:
        service = Service.objects.filter(service_id=service_id).first()
        if service is None:
            raise operations.FeedbackError(_("No service has this service ID."), "service")
    return operations.file_complaint(
        request.user,
        agency=agency,
        service=service,
        kind=values["kind"],
        description=values["description"],
        files=request.FILES.getlist("evidence"),
    )


def _complaint_for(request: HttpRequest, tracking_code: str) -> tuple[Complaint, bool]:
    """The complaint and whether the user handles it; 404 for anyone else."""
    code = operations.normalize_tracking_code(tracking_code)
    complaint = get_object_or_404(
        Complaint.objects.select_related(
            "agency",
            "service",
            "routed_to",
            "authority",
            "permit_application__permit",
            "removed_condition__resolution",
        ),
        tracking_code=code,
    )
    if complaint.user_id == request.user.pk:
        return complaint, operations.can_handle(request.user, complaint)
    if operations.can_handle(request.user, complaint):
        return complaint, True
    if complaint.routed_to_id and roles.can(request.user, roles.READ, complaint.routed_to_id):
        return complaint, False  # the supervising body's viewers read, they do not decide
    raise Http404


@login_required
def complaint(request: HttpRequest, tracking_code: str) -> HttpResponse:
    item, handler = _complaint_for(request, tracking_code)
    error = None
    if request.method == "POST":
        if not handler:
            raise Http404
        try:
            operations.move(
                item, request.POST.get("to_state", ""), request.user, request.POST.get("note", "")
            )
        except operations.FeedbackError as exc:
            error = exc.message
        else:
            return redirect("feedback:complaint", item.tracking_code)
    moves = sorted(operations.MACHINE.allowed(item)) if handler else []
    return render(
        request,
        "feedback/complaint_detail.html",
        {
            "complaint": item,
            "handler": handler,
            "owner": item.user_id == request.user.pk,
            "events": item.events.all(),
            "evidence": item.evidence.all(),
            "moves": [(m, ComplaintState(m).label) for m in moves],
            "error": error,
        },
        status=400 if error else 200,
    )


@login_required
def evidence(request: HttpRequest, tracking_code: str, pk: int) -> HttpResponse:
    item, _handler = _complaint_for(request, tracking_code)
    row = get_object_or_404(Evidence, pk=pk, complaint=item)
    path = operations.evidence_path(row)
    if not path.exists():
        raise Http404
    # The name is ours (code, row, type checked at upload), never the uploader's.
    name = f"{item.tracking_code}-{row.pk}.{operations.EXTENSIONS.get(row.content_type, 'bin')}"
    response = FileResponse(
        path.open("rb"), content_type=row.content_type, as_attachment=True, filename=name
    )
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


# -- agency staff -----------------------------------------------------------------------------


def _staff_or_refuse(request: HttpRequest):
    if not request.user.is_authenticated:
        return None, redirect_to_login(request.get_full_path())
    agency_ids = _staff_agency_ids(request.user)
    if not agency_ids:
        return None, _message(
            request, _("Ratings to answer"), _("This page is for the agencies' staff."), 403
        )
    return agency_ids, None


def agency_queue(request: HttpRequest) -> HttpResponse:
    agency_ids, refusal = _staff_or_refuse(request)
    if refusal:
        return refusal
    now = timezone.now()
    own = Rating.objects.filter(agency_id__in=agency_ids)
    by_service = queries.progress_by("service_id", own, now)
    services = {s.pk: s for s in Service.objects.filter(pk__in=[k for k in by_service if k])}
    return render(
        request,
        "feedback/agency_queue.html",
        {
            "queue": queries.awaiting_reply(agency_ids),
            "replied": own.filter(replied_at__isnull=False)
            .select_related("application__definition")
            .order_by("-replied_at")[:50],
            "now": now,
            "overall": queries.progress(own, now),
            "services": [
                {"service": services.get(k), "progress": p}
                for k, p in sorted(by_service.items(), key=lambda kv: -kv[1].current.ratings)
            ],
            "periods": queries.periods(now),
            "target": _target_percent(),
            "complaints": [
                (agency, counts.get(agency.pk))
                for agency in Agency.objects.filter(pk__in=agency_ids)
                for counts in [queries.complaint_counts(agency.pk)]
            ],
        },
    )


def agency_rating(request: HttpRequest, pk: int) -> HttpResponse:
    agency_ids, refusal = _staff_or_refuse(request)
    if refusal:
        return refusal
    rating = get_object_or_404(
        Rating.objects.select_related("application__definition", "agency"),
        pk=pk,
        agency_id__in=agency_ids,
    )
    error, text, status = None, "", 200
    if request.method == "POST":
        text = request.POST.get("reply", "")
        try:
            operations.reply(rating, request.user, text)
        except operations.FeedbackError as exc:
            error, status = exc.message, 403 if exc.code == "forbidden" else 400
        else:
            return redirect("feedback:agency_queue")
    return render(
        request,
        "feedback/agency_rating.html",
        {"rating": rating, "error": error, "text": text},
        status=status,
    )


# -- oversight --------------------------------------------------------------------------------


def oversight(request: HttpRequest) -> HttpResponse:
    """Supervisors: escalated and overdue ratings, routed complaints, per-agency progress.
    The staff of a supervising body: the complaints and escalations routed to it (possibly
    none yet). Anyone else: 403."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    supervisor = _is_supervisor(request.user)
    steering = roles.has_role(request.user, roles.STEERING_WG)
    own = _staff_agency_ids(request.user)
    complaints = Complaint.objects.select_related("agency", "routed_to", "authority")
    escalated = queries.escalated().select_related("escalated_to")
    if not steering:
        complaints = complaints.filter(routed_to_id__in=own)
    if not supervisor:
        escalated = escalated.filter(escalated_to_id__in=own)
    handler = (
        supervisor
        or bool(operations.supervising_bodies(own))
        or complaints.exists()
        or escalated.exists()
    )
    if not handler:
        return _message(
            request,
            _("Citizen’s voice: oversight"),
            _("This page is for the supervising bodies and the oversight groups."),
            403,
        )
    now = timezone.now()
    table = _agency_rows(now) if supervisor else []
    return render(
        request,
        "feedback/oversight.html",
        {
            "supervisor": supervisor,
            "steering": steering,
            "own": own,
            "escalated": escalated.filter(escalation_handled_at__isnull=True)[:200],
            "escalations_handled": escalated.filter(escalation_handled_at__isnull=False).order_by(
                "-escalation_handled_at"
            )[:50],
            "overdue": queries.overdue(now).order_by("reply_due_at")[:200] if supervisor else [],
            "complaints": complaints.filter(
                ~Q(state__in=[ComplaintState.UPHELD, ComplaintState.NOT_UPHELD])
            ).order_by("created_at")[:200],
            "decided": complaints.filter(
                state__in=[ComplaintState.UPHELD, ComplaintState.NOT_UPHELD]
            ).order_by("-decided_at")[:50],
            "table": table,
            "kinds": SHORT_KINDS,
            "states": ComplaintState.choices,
            "national": queries.progress(None, now),
            "periods": queries.periods(now),
            "target": _target_percent(),
        },
    )


@login_required
def escalation(request: HttpRequest, pk: int) -> HttpResponse:
    """An escalated rating for its handlers (the supervising body's staff, the Steering WG),
    who record the outcome; 404 for anyone else."""
    rating = (
        Rating.objects.select_related("application__definition", "agency", "escalated_to")
        .filter(pk=pk, escalated_at__isnull=False)
        .first()
    )
    if rating is None or not operations.can_handle_escalation(request.user, rating):
        raise Http404
    error, text = None, ""
    if request.method == "POST":
        text = request.POST.get("outcome", "")
        try:
            operations.handle_escalation(rating, request.user, text)
        except operations.FeedbackError as exc:
            error = exc.message
        else:
            return redirect("feedback:escalation", rating.pk)
    return render(
        request,
        "feedback/escalation.html",
        {"rating": rating, "error": error, "text": text},
        status=400 if error else 200,
    )


def _agency_rows(now) -> list[dict]:
    by_agency = queries.progress_by("agency_id", None, now)
    complaints = queries.complaint_counts()
    ids = set(by_agency) | set(complaints)
    names = {a.pk: a for a in Agency.objects.filter(pk__in=ids)}
    rows = [
        {
            "agency": names[i],
            "progress": by_agency.get(i) or queries.Progress(queries.Summary(), queries.Summary()),
            "complaints": complaints.get(i, {"total": 0, "kinds": {}, "states": {}}),
        }
        for i in ids
        if i in names
    ]
    rows.sort(key=lambda r: r["agency"].name_fa)
    return rows


# -- public -----------------------------------------------------------------------------------


def public(request: HttpRequest) -> HttpResponse:
    """Aggregates only: no names, no comments, no tracking codes, and no share of fewer than
    ``PANJEREH_FEEDBACK_MIN_PUBLIC_RATINGS`` ratings (it would be a person's score)."""
    now = timezone.now()
    national = queries.progress(None, now)
    rows = [
        {
            **row,
            "few": _few(row["progress"].current),
            "few_baseline": _few(row["progress"].baseline),
        }
        for row in _agency_rows(now)
    ]
    return render(
        request,
        "feedback/public.html",
        {
            "rows": rows,
            "national": national,
            "few": _few(national.current),
            "few_baseline": _few(national.baseline),
            "min_ratings": operations.min_public_ratings(),
            "all_time": queries.summarize(),
            "periods": queries.periods(now),
            "kinds": SHORT_KINDS,
            "states": ComplaintState.choices,
            "target": _target_percent(),
        },
    )


def _few(summary: queries.Summary) -> bool:
    """Some ratings, but too few to publish their shares."""
    return queries.too_few(summary.ratings)
