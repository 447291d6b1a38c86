"""Pages of the transparency portal (anonymous, Art. 9 system), open-data files, reports, and
the control dashboards of agencies and supervisors (login and roles enforced).

Public pages show only figures about agencies and services, never a person.
"""

from __future__ import annotations

import io
import json

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import select_template
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from panjereh.catalogue import queries as catalogue
from panjereh.catalogue import roles
from panjereh.common import csvsafe, jalali

from . import charts, cycle, indicators, obligations, opendata, reports, series, servperf, sources
from .models import DueInstance, MonthlyReport, Obligation, PlanState, SmarteningPlan

BUCKET_LABELS = {
    "full": "100%",
    "middle": "20–99%",
    "low": "<20%",
    "zero": "0",
}


def _base():
    # Extend the portal's layout; the app still renders if the portal is not installed.
    return select_template(["portal/base.html", "oversight/standalone_base.html"])


def _render(request, template: str, context: dict, status: int = 200) -> HttpResponse:
    context.setdefault("base_template", _base())
    return render(request, template, context, status=status)


def _as_of(request: HttpRequest):
    """The ``as_of`` query parameter (Jalali date) as an end-of-day moment, or None for now."""
    text = request.GET.get("as_of")
    if not text:
        return None
    try:
        return jalali.end_of_day(text[:20])
    except jalali.InvalidJalaliDate as exc:
        raise ValidationError(_("The date must be a Jalali date such as 1404-03-31.")) from exc


def result_for(request: HttpRequest) -> indicators.Result:
    """Indicators as of the request's date, cached per catalogue version (figures never go
    stale: any write to the catalogue adds a version and so changes the key)."""
    as_of = _as_of(request)
    version = indicators.catalogue_version(as_of)["label"]
    key = f"oversight:result:{version}:{as_of.isoformat() if as_of else 'now'}"
    result = cache.get(key)
    if result is None:
        result = indicators.compute(as_of)
        cache.set(key, result, 300)
    return result


def _bad_date(view):
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except ValidationError as exc:
            return HttpResponseBadRequest(" ".join(exc.messages), content_type="text/plain")

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


def _bucket_bars(n: dict) -> tuple:
    connection = [
        charts.Bar(
            _("All connectable services connected"),
            n["connection_full"].numerator or 0,
            _fmt(n["connection_full"].numerator),
        ),
        charts.Bar(
            # xgettext:no-python-format
            _("Under 20% connected"),
            n["connection_low"].numerator or 0,
            _fmt(n["connection_low"].numerator),
        ),
    ]
    smart = [
        charts.Bar(_("All connectable services smart"), n["smart_full"].numerator or 0,
                   _fmt(n["smart_full"].numerator)),
        # xgettext:no-python-format
        charts.Bar(_("Some but under 20% smart"), n["smart_low_nonzero"].numerator or 0,
                   _fmt(n["smart_low_nonzero"].numerator)),
        charts.Bar(_("No smart service"), n["smart_zero"].numerator or 0,
                   _fmt(n["smart_zero"].numerator)),
    ]  # fmt: skip
    return connection, smart


def _fmt(value) -> str:
    return reports.number_text(value)


def _trend_chart(points: list[series.Point], title: str):
    return charts.line_chart(
        title,
        _("Share of connectable services connected and smart at the end of each quarter."),
        reports.trend_labels(points),
        [
            (_("Connected"), [p.connection_pct for p in points]),
            (_("Smart"), [p.smart_pct for p in points]),
        ],
    )


# --- public transparency portal ------------------------------------------------------------


@_bad_date
def index(request: HttpRequest) -> HttpResponse:
    result = result_for(request)
    n = result.national
    connection_bars, smart_bars = _bucket_bars(n)
    until = jalali.from_gregorian(result.snapshot.as_of)
    trend = series.national(until)
    return _render(
        request,
        "oversight/index.html",
        {
            "result": result,
            "national": n,
            "definitions": {i.code: i for i in indicators.registry},
            "connection_bars": connection_bars,
            "smart_bars": smart_bars,
            "connection_chart": charts.bar_chart(
                _("Connected agencies by share of services connected"),
                _(
                    # xgettext:no-python-format
                    "Number of connected agencies with all, or under 20% of, their connectable services connected."
                ),
                connection_bars,
            ),
            "smart_chart": charts.bar_chart(
                _("Connected agencies by smart share"),
                _("Number of connected agencies in each band of smart share."),
                smart_bars,
            ),
            "trend": trend,
            "trend_chart": _trend_chart(trend, _("Connected and smart services over time")),
            "overdue_count": len(obligations.overdue(until.togregorian())),
            "comparison": indicators.comparison(result.snapshot),
            "register": sources.permit_register_counts(),
        },
    )


@_bad_date
def agency_list(request: HttpRequest) -> HttpResponse:
    result = result_for(request)
    order = request.GET.get("sort", "name")
    rows = list(result.agencies)
    if order == "smart":
        rows.sort(key=lambda a: -(a.values["smart_rate"].value or -1))
    elif order == "connection":
        rows.sort(key=lambda a: -(a.values["connection_rate"].value or -1))
    else:
        order = "name"
    return _render(
        request,
        "oversight/agencies.html",
        {"result": result, "rows": rows, "order": order, "buckets": BUCKET_LABELS},
    )


@_bad_date
def agency_detail(request: HttpRequest, code: str) -> HttpResponse:
    result = result_for(request)
    row = result.agency(code)
    if row is None:
        raise Http404(_("No such agency in scope."))
    return _render(
        request,
        "oversight/agency_public.html",
        {
            "result": result,
            "row": row,
            "comparison": indicators.comparison(result.snapshot, row.info.id),
            "not_offered": _not_offered(row.info.id),
            "plans": SmarteningPlan.objects.filter(agency_id=row.info.id).exclude(
                state=PlanState.DRAFT
            ),
            "buckets": BUCKET_LABELS,
            **_permit_context(result, row.info.id),
        },
    )


@_bad_date
def permit_authorities(request: HttpRequest) -> HttpResponse:
    """The permits indicators of every issuing authority (aggregates only), with the national
    figures and the register of removed conditions and the attempts to bring them back."""
    result = result_for(request)
    codes = [i.code for i in indicators.registry.for_level("authority")]
    return _render(
        request,
        "oversight/permits_public.html",
        {
            "result": result,
            "rows": result.authorities,
            "codes": codes,
            "definitions": {i.code: i for i in indicators.registry},
            "national": [(c, result.national[c]) for c in codes],
            "facts": indicators.permit_facts(result.snapshot),
            "register": sources.permit_register_counts(),
        },
    )


def _permit_context(result: indicators.Result, agency_id: int) -> dict:
    """The permits indicators of the issuing authorities that are this agency (if any)."""
    return {
        "permit_rows": result.authorities_of_agency(agency_id),
        "permit_codes": [i.code for i in indicators.registry.for_level("authority")],
        "definitions": {i.code: i for i in indicators.registry},
    }


def _not_offered(agency_id: int):
    return (
        catalogue.connectable_services(agency_id)
        .filter(connected=False)
        .order_by("title_fa")
        .only("service_id", "title_fa", "title_en")
    )


@_bad_date
def not_offered(request: HttpRequest) -> HttpResponse:
    result = result_for(request)
    rows = [
        (a, a.counts.connectable - a.counts.connected)
        for a in result.agencies
        if a.counts.connectable - a.counts.connected > 0
    ]
    rows.sort(key=lambda r: (-r[1], r[0].info.name_fa))
    return _render(
        request,
        "oversight/not_offered.html",
        {"result": result, "rows": rows, "total": sum(r[1] for r in rows)},
    )


@_bad_date
def ranking(request: HttpRequest) -> HttpResponse:
    from . import evaluation

    result = result_for(request)
    rated = [
        a
        for a in result.agencies
        if a.counts.connectable and a.info.connection_status == "connected"
    ]
    rated.sort(
        key=lambda a: (
            -(a.values["smart_rate"].value or 0),
            -(a.values["connection_rate"].value or 0),
            a.info.name_fa,
        )
    )
    year = request.GET.get("year")
    annual = evaluation.annual_ranking(int(year)) if year and year.isdigit() else None
    return _render(
        request,
        "oversight/ranking.html",
        {
            "result": result,
            "rows": rated,
            "annual": annual,
            "years": evaluation.ranked_years(),
            "year": year,
        },
    )


def deadlines(request: HttpRequest) -> HttpResponse:
    today = obligations.jalali_today().togregorian()
    undated = DueInstance.objects.select_related("obligation", "obligation__instrument").filter(
        due_on__isnull=True
    )
    return _render(
        request,
        "oversight/deadlines.html",
        {
            "today": today,
            "loaded": Obligation.objects.exists(),
            "by_body": obligations.overdue_by_body(today),
            "bodies": obligations.BODY_FA,
            "upcoming": obligations.upcoming(today),
            "undated": undated,
            "overdue_plans": cycle.overdue_plans(),
        },
    )


PERFORMANCE = ["completion_rate", "user_satisfaction", "digital_takeup", "cost_per_transaction"]


def _performance_bars(rows) -> SafeString:
    return charts.bar_chart(
        _("Completion rate per service"),
        _("Share of applications started in the month that reached a final outcome."),
        [
            charts.Bar(
                r.title_en if translation.get_language() == "en" and r.title_en else r.title_fa,
                r.values["completion_rate"].value or 0,
                _fmt(r.values["completion_rate"].value),
            )
            for r in rows[:30]
        ],
        max_value=100,
    )


def _service_satisfaction(perf):
    """The feedback app's current period against the baseline per service, as of the same
    moment as ``perf`` (one grouped query); None without feedback ratings."""
    return sources.satisfaction_progress(perf.as_of, "service_id")


@_bad_date
def service_performance(request: HttpRequest) -> HttpResponse:
    """Service performance (GOV.UK's four measures) per service and per agency, with the
    satisfaction of the feedback app's current period against its baseline."""
    perf = servperf.compute(_as_of(request))
    agency = request.GET.get("agency", "")
    rows = [r for r in perf.services if not agency or r.agency_code == agency]
    table = _service_satisfaction(perf)
    sat = (
        {r.service_pk: indicators.satisfaction_figures(table, r.service_pk) for r in rows}
        if table is not None
        else None
    )
    return _render(
        request,
        "oversight/services.html",
        {
            "perf": perf,
            "rows": rows,
            "national": perf.national.values(),
            "chart": _performance_bars(rows) if rows else "",
            "as_of_param": request.GET.get("as_of", ""),
            "sat": sat,
        },
    )


@_bad_date
def service_performance_detail(request: HttpRequest, service_id: str) -> HttpResponse:
    perf = servperf.compute(_as_of(request))
    row = perf.service(service_id)
    if row is None:
        service = get_object_or_404(catalogue.services(), service_id=service_id)
        row = servperf.ServiceRow(
            service.pk, service_id, service.title_fa, service.title_en, service.agency_id,
            service.agency.code, service.agency.name_fa, service.agency.name_en,
            servperf.Facts(),
        )  # fmt: skip
        row.values = row.facts.values()
    table = _service_satisfaction(perf)
    fig = indicators.satisfaction_figures(table, row.service_pk) if table is not None else None
    return _render(request, "oversight/service_public.html", {"perf": perf, "row": row, "fig": fig})


@_bad_date
def open_data_services_csv(request: HttpRequest) -> HttpResponse:
    perf = servperf.compute(_as_of(request))
    return csvsafe.csv_response(
        request, opendata.services_csv(perf, _service_satisfaction(perf)), "services"
    )


@_bad_date
def open_data_services_json(request: HttpRequest) -> HttpResponse:
    perf = servperf.compute(_as_of(request))
    response = JsonResponse(
        opendata.services_json(perf, _service_satisfaction(perf)),
        json_dumps_params={"ensure_ascii": False},
    )
    response["Access-Control-Allow-Origin"] = "*"
    return response


def indicator_definitions(request: HttpRequest) -> HttpResponse:
    return _render(request, "oversight/definitions.html", {"indicators": list(indicators.registry)})


# --- open data -----------------------------------------------------------------------------


def _open_data_base(request: HttpRequest) -> str:
    with translation.override("fa"):  # the stable, unprefixed address
        return request.build_absolute_uri(reverse("transparency:open_data"))


def open_data(request: HttpRequest) -> HttpResponse:
    return _render(request, "oversight/open_data.html", {"base": _open_data_base(request)})


@_bad_date
def open_data_csv(request: HttpRequest) -> HttpResponse:
    return csvsafe.csv_response(request, opendata.to_csv(result_for(request)), "agencies")


@_bad_date
def open_data_json(request: HttpRequest) -> HttpResponse:
    response = JsonResponse(
        opendata.to_json(result_for(request)), json_dumps_params={"ensure_ascii": False}
    )
    response["Access-Control-Allow-Origin"] = "*"
    return response


@_bad_date
def open_data_fees_csv(request: HttpRequest) -> HttpResponse:
    return csvsafe.csv_response(
        request, opendata.fees_csv(opendata.fee_rows(_as_of(request))), "fees"
    )


@_bad_date
def open_data_fees_json(request: HttpRequest) -> HttpResponse:
    as_of = _as_of(request)
    response = JsonResponse(
        opendata.fees_json(opendata.fee_rows(as_of), jalali.iso(as_of or timezone.now())),
        json_dumps_params={"ensure_ascii": False},
    )
    response["Access-Control-Allow-Origin"] = "*"
    return response


@_bad_date
def open_data_permits_csv(request: HttpRequest) -> HttpResponse:
    return csvsafe.csv_response(request, opendata.permits_csv(result_for(request)), "permits")


@_bad_date
def open_data_permits_json(request: HttpRequest) -> HttpResponse:
    response = JsonResponse(
        opendata.permits_json(result_for(request)), json_dumps_params={"ensure_ascii": False}
    )
    response["Access-Control-Allow-Origin"] = "*"
    return response


def open_data_package(request: HttpRequest) -> HttpResponse:
    return JsonResponse(opendata.datapackage(_open_data_base(request)))


def open_data_dcat(request: HttpRequest) -> HttpResponse:
    body = json.dumps(
        opendata.dcat(_open_data_base(request), result_for(request)), ensure_ascii=False
    )
    return HttpResponse(body, content_type="application/ld+json; charset=utf-8")


# --- reports ------------------------------------------------------------------------------


def _quarter(year: int, quarter: int) -> None:
    if quarter not in (1, 2, 3, 4) or not 1390 <= year <= 1500:
        raise Http404(_("No such quarter."))
    # A report is as of its quarter's end, so only quarters that have ended have one.
    if series.quarter_end(year, quarter) >= obligations.jalali_today():
        raise Http404(_("That quarter has not ended yet."))


def quarterly_report(request: HttpRequest, year: int, quarter: int) -> HttpResponse:
    _quarter(year, quarter)
    context = reports.quarterly_context(year, quarter)
    return _render(request, "oversight/quarterly.html", context)


def quarterly_report_pdf(request: HttpRequest, year: int, quarter: int) -> HttpResponse:
    _quarter(year, quarter)
    key = f"oversight:pdf:{indicators.catalogue_version(None)['label']}:{year}:{quarter}"
    pdf = cache.get(key)
    if pdf is None:
        pdf = reports.quarterly_pdf(year, quarter, translation.get_language() or "fa")
        cache.set(key, pdf, 600)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="quarterly-{year}-Q{quarter}.pdf"'
    return response


def reports_index(request: HttpRequest) -> HttpResponse:
    today = obligations.jalali_today()
    year, q = series.quarter_of(today)
    quarters = []
    for _i in range(8):
        year, q = (year - 1, 4) if q == 1 else (year, q - 1)
        quarters.append((year, q))
    return _render(request, "oversight/reports.html", {"quarters": quarters})


# --- dashboards (login) -------------------------------------------------------------------


def is_supervisor(user) -> bool:
    return roles.is_supervisor(user)


def can_see_agency(user, agency_id: int) -> bool:
    return is_supervisor(user) or agency_id in roles.agencies_for(user, roles.READ)


@login_required
@_bad_date
def dashboard(request: HttpRequest) -> HttpResponse:
    """Supervisors see every agency; an agency user is sent to their agency's dashboard."""
    if not is_supervisor(request.user):
        own = sorted(roles.agencies_for(request.user, roles.READ))
        if own:
            code = catalogue.agency_code(own[0])
            return redirect("oversight:agency", code=code)
        raise PermissionDenied(_("Only agency staff and supervisors can see the dashboards."))
    result = result_for(request)
    today = obligations.jalali_today()
    previous = jalali.Month.of(today).previous()
    prev_year, prev_month = previous.year, previous.month
    reported = set(
        MonthlyReport.objects.filter(year=prev_year, month=prev_month).values_list(
            "agency_id", flat=True
        )
    )
    plans = {
        p.agency_id: p
        for p in SmarteningPlan.objects.filter(year=today.year).exclude(state=PlanState.REJECTED)
    }
    return _render(
        request,
        "oversight/dashboard_all.html",
        {
            "result": result,
            "reported": reported,
            "plans": plans,
            "report_month": (prev_year, prev_month),
            "overdue_plans": cycle.overdue_plans(),
            "pending_plans": SmarteningPlan.objects.filter(state__in=cycle.PENDING).select_related(
                "agency"
            ),
            "buckets": BUCKET_LABELS,
            "can_certify": roles.can_certify(request.user),
            "can_approve": roles.can_approve_smart(request.user),
        },
    )


def _agency_for(request: HttpRequest, code: str):
    """The agency of ``code`` (a catalogue Agency), if the user may see it."""
    agency = get_object_or_404(catalogue.agencies(), code=code)
    if not request.user.is_authenticated:
        raise PermissionDenied
    if not can_see_agency(request.user, agency.id):
        raise PermissionDenied(_("You can see only your own agency's dashboard."))
    return agency


def _login_first(view):
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


@_login_first
def agency_dashboard(request: HttpRequest, code: str) -> HttpResponse:
    agency = _agency_for(request, code)
    result = result_for(request)
    row = result.agency(code) or indicators.compute(include_all_agencies=True).agency(code)
    trend = series.agency(agency.id)
    perf = servperf.compute(_as_of(request))
    today = obligations.jalali_today()
    eligible, required = cycle.required_count(agency.id)
    return _render(
        request,
        "oversight/dashboard_agency.html",
        {
            "agency": agency,
            "row": row,
            "result": result,
            "trend": trend,
            "trend_chart": _trend_chart(trend, _("Your services over time")),
            "not_offered": _not_offered(agency.id)[:200],
            "plans": SmarteningPlan.objects.filter(agency=agency).prefetch_related("events"),
            "eligible": eligible,
            "required": required,
            "reports": MonthlyReport.objects.filter(agency=agency)[:12],
            "year": today.year,
            "can_edit": roles.can_edit_agency_cards(request.user, agency.id),
            "buckets": BUCKET_LABELS,
            "perf_rows": [r for r in perf.services if r.agency_id == agency.id],
            "perf": perf,
            "perf_agency": perf.agency_values(agency.id),
            "comparison": indicators.comparison(result.snapshot, agency.id),
            **_permit_context(result, agency.id),
        },
    )


@_login_first
@require_http_methods(["GET", "POST"])
def monthly_report(request: HttpRequest, code: str) -> HttpResponse:
    """The monthly progress report: computed figures prefilled, the narrative typed in."""
    agency = _agency_for(request, code)
    today = obligations.jalali_today()
    year, month = (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)
    figures = reports.monthly_figures(
        agency.id, indicators.compute(None, include_all_agencies=True)
    )
    existing = MonthlyReport.objects.filter(agency=agency, year=year, month=month).first()
    errors: list[str] = []
    values = {
        "actions": request.POST.get("actions", "").strip(),
        "obstacles": request.POST.get("obstacles", "").strip(),
        "next_steps": request.POST.get("next_steps", "").strip(),
    }
    if request.method == "POST":
        if agency.id not in roles.agencies_for(request.user, roles.EDIT):
            raise PermissionDenied(
                _("Only your agency's administrators and editors submit its report.")
            )
        if existing:
            errors.append(_("The report for this month has already been submitted."))
        if not values["actions"]:
            errors.append(_("Describe the actions taken this month."))
        if not errors:
            MonthlyReport.objects.create(
                agency=agency, year=year, month=month, figures=figures,
                submitted_by=request.user, submitted_at=timezone.now(), **values,
            )  # fmt: skip
            return redirect("oversight:agency", code=agency.code)
    return _render(
        request,
        "oversight/monthly_report.html",
        {
            "agency": agency,
            "figures": figures,
            "year": year,
            "month": month,
            "existing": existing,
            "errors": errors,
            "values": values,
        },
        status=400 if errors else 200,
    )


@_login_first
@require_http_methods(["GET", "POST"])
def propose_plan(request: HttpRequest, code: str) -> HttpResponse:
    agency = _agency_for(request, code)
    if not roles.can_edit_agency_cards(request.user, agency.id):
        raise PermissionDenied(_("You may propose services only for your own agency."))
    year = cycle.current_year()
    eligible, required = cycle.required_count(agency.id)
    candidates = (
        cycle.eligible_services(agency.id).exclude(smart_status="approved").order_by("title_fa")
    )
    errors: list[str] = []
    chosen: list[int] = []
    if request.method == "POST":
        chosen = [int(v) for v in request.POST.getlist("services") if v.isdigit()]
        try:
            cycle.propose(agency.id, year, chosen, author=request.user)
            return redirect("oversight:agency", code=agency.code)
        except ValidationError as exc:
            errors = exc.messages
        except IntegrityError:
            errors = [_("Your agency already has a live plan for this year.")]
    return _render(
        request,
        "oversight/propose.html",
        {
            "agency": agency,
            "year": year,
            "eligible": eligible,
            "required": required,
            "candidates": candidates,
            "chosen": set(chosen),
            "errors": errors,
        },
        status=400 if errors else 200,
    )


@login_required
@require_http_methods(["POST"])
def plan_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    plan = get_object_or_404(SmarteningPlan, pk=pk)
    try:
        if action == "certify":
            cycle.certify(plan, author=request.user)
        elif action == "approve":
            cycle.approve(plan, author=request.user)
        elif action == "reject":
            cycle.reject(plan, author=request.user, reason=request.POST.get("reason", ""))
        else:
            raise Http404
    except ValidationError as exc:
        return HttpResponseBadRequest(" ".join(exc.messages), content_type="text/plain")
    return redirect("oversight:dashboard")


# --- obligations and evaluation (supervisors) -------------------------------------------


def _supervisor_only(request: HttpRequest) -> None:
    if not is_supervisor(request.user):
        raise PermissionDenied(_("Only supervisors can see this page."))


def _id(raw: str | None) -> int:
    """A row id from a form or query string; 0 (no row) when it is not a whole number."""
    text = (raw or "").strip()
    return int(text) if text.isascii() and text.isdigit() else 0


@login_required
@require_http_methods(["GET", "POST"])
def obligation_status(request: HttpRequest) -> HttpResponse:
    """Record that a due duty was met (with evidence), missed, or waived (with a reason)."""
    _supervisor_only(request)
    errors: list[str] = []
    if request.method == "POST":
        instance = get_object_or_404(DueInstance, pk=_id(request.POST.get("instance")))
        to = request.POST.get("to", "")
        text = request.POST.get("evidence", "")
        try:
            # One text box: evidence when met, the reason (or a note) otherwise.
            obligations.transition(
                instance,
                to,
                actor=request.user,
                evidence=text if to == "met" else "",
                reason="" if to == "met" else text,
            )
            return redirect("oversight:obligations")
        except (ValidationError, ValueError) as exc:
            errors = getattr(exc, "messages", [str(exc)])
    today = obligations.jalali_today().togregorian()
    return _render(
        request,
        "oversight/obligations.html",
        {
            "today": today,
            "overdue": obligations.overdue(today),
            "upcoming": obligations.upcoming(today, limit=50),
            "errors": errors,
        },
        status=400 if errors else 200,
    )


def export_columns() -> dict[str, str]:
    """The compliance export's columns: key (JSON) -> header in the page's language (CSV)."""
    return {
        "agency": _("Agency"),
        "agency_code": _("Agency code"),
        "basis": _("Legal basis"),
        "duty": _("Duty"),
        "responsible": _("Responsible"),
        "recorded_for": _("Status recorded for"),
        "due_on": _("Due on"),
        "deadline": _("Deadline as the law states it"),
        "status": _("Status"),
        "days_late": _("Days late"),
        "done_on": _("Recorded as met on"),
        "evidence": _("Evidence or reason"),
        "evidence_expected": _("Evidence that shows it done"),
        "source": _("Source in the seed documents"),
        "agency_fallen_due": _("Agency: instances fallen due"),
        "agency_met_on_time": _("Agency: met on time"),
        "agency_share_on_time": _("Agency: share met on time (%)"),
    }


def _deadline_text(ob, extra: dict, persian: bool) -> str:
    """The kind of deadline, labelled; the English export adds the data's note (e.g. "No
    deadline stated") where the seeds give no date."""
    text = str(ob.get_deadline_kind_display())
    note = extra.get("deadline_note")
    return f"{text}: {note}" if note and not persian else text


def _export_rows(entries, persian: bool) -> list[dict]:
    def day(value):
        if value is None:
            return ""
        return jalali.iso(value) if persian else value.isoformat()

    rows = []
    for entry in entries:
        agency = entry.agency
        name = agency.name_fa if persian or not agency.name_en else agency.name_en
        for row in entry.rows:
            ob, inst = row.obligation, row.instance
            extra = obligations.details(ob)
            closed = timezone.localdate(inst.closed_at) if inst.closed_at else None
            rows.append(
                {
                    "agency": name,
                    "agency_code": agency.code,
                    "basis": obligations.basis(ob, persian),
                    "duty": ob.duty_fa if persian else ob.duty_en,
                    "responsible": ("، " if persian else ", ").join(
                        obligations.body_label(b, persian) for b in ob.responsible
                    ),
                    "recorded_for": (
                        _("Every agency the duty binds, once")
                        if row.collective
                        else _("This agency")
                    ),
                    "due_on": day(inst.due_on),
                    "deadline": _deadline_text(ob, extra, persian),
                    "status": str(obligations.Standing(row.standing).label),
                    "days_late": row.days_late if row.days_late is not None else "",
                    "done_on": day(closed) if inst.status == "met" else "",
                    "evidence": inst.evidence or inst.reason,
                    "evidence_expected": extra.get("evidence", ""),
                    "source": extra.get("source", ""),
                    "agency_fallen_due": entry.fallen_due,
                    "agency_met_on_time": entry.count(obligations.Standing.MET_ON_TIME),
                    "agency_share_on_time": (
                        entry.share_on_time if entry.share_on_time is not None else ""
                    ),
                }
            )
    return rows


@login_required
def obligations_export(request: HttpRequest) -> HttpResponse:
    """Per-agency compliance with the legal duties, for budget and hiring decisions (the
    report's recommendation 2): CSV (``?format=excel`` adds the BOM) or ``?format=json``.
    Supervisors see every agency in scope; an agency's staff only their own agencies
    (``?agency=<code>`` narrows to one)."""
    code = request.GET.get("agency", "")
    if code:
        agency = get_object_or_404(catalogue.agencies(), code=code)
        if not can_see_agency(request.user, agency.pk):
            raise PermissionDenied(_("You can export only your own agency's duties."))
        chosen = [agency]
    elif is_supervisor(request.user):
        chosen = list(catalogue.agencies_in_scope())
    else:
        own = roles.agencies_for(request.user, roles.READ)
        if not own:
            raise PermissionDenied(_("Only supervisors and agency staff can export this."))
        chosen = list(catalogue.agencies().filter(pk__in=own).order_by("name_fa"))
    today = obligations.jalali_today().togregorian()
    persian = (translation.get_language() or "fa").startswith("fa")
    entries = obligations.compliance(chosen, today)
    columns = export_columns()
    rows = _export_rows(entries, persian)
    if request.GET.get("format") == "json":
        response = JsonResponse(
            {
                "as_of": jalali.iso(today) if persian else today.isoformat(),
                "calendar": "jalali" if persian else "gregorian",
                "columns": columns,
                "agencies": [
                    {
                        "agency": e.agency.name_fa
                        if persian
                        else (e.agency.name_en or e.agency.name_fa),
                        "agency_code": e.agency.code,
                        "summary": {
                            str(obligations.Standing(s).label): e.count(s)
                            for s in obligations.Standing.values
                        }
                        | {
                            columns["agency_fallen_due"]: e.fallen_due,
                            columns["agency_share_on_time"]: e.share_on_time,
                        },
                    }
                    for e in entries
                ],
                "rows": rows,
            },
            json_dumps_params={"ensure_ascii": False},
        )
    else:
        out = io.StringIO()
        writer = csvsafe.Writer(out)
        writer.writerow(columns.values())
        writer.writerows([row[key] for key in columns] for row in rows)
        response = csvsafe.csv_response(request, out.getvalue(), f"compliance-{jalali.iso(today)}")
        del response["Access-Control-Allow-Origin"]  # staff data: no other site reads it
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def evaluation_round(request: HttpRequest) -> HttpResponse:
    """ITO opens a six-monthly round; the independent evaluator records scores (0–100)."""
    from . import evaluation
    from .models import EvaluationRound

    _supervisor_only(request)
    errors: list[str] = []
    rounds = EvaluationRound.objects.all()
    current = (
        rounds.filter(pk=_id(request.GET.get("round"))).first()
        or rounds.filter(closed=False).last()
    )
    if request.method == "POST":
        try:
            if request.POST.get("open"):
                codes = request.POST.getlist("indicators")
                current = evaluation.open_round(
                    int(request.POST.get("year", "0")), int(request.POST.get("half", "0")), codes,
                    author=request.user,
                )  # fmt: skip
            elif current is not None:
                agencies = {a.code: a for a in catalogue.agencies_in_scope()}
                for key, raw in request.POST.items():
                    if not key.startswith("score:") or not raw.strip():
                        continue
                    _prefix, code, indicator = key.split(":", 2)
                    if code in agencies:
                        evaluation.record_score(
                            current, agencies[code], indicator, float(raw), evaluator=request.user
                        )
            return redirect(
                f"{reverse('oversight:evaluation')}?round={current.pk if current else ''}"
            )
        except (ValidationError, ValueError, IntegrityError) as exc:
            errors = getattr(exc, "messages", None) or [_("Check the values entered.")]
    scores = {}
    if current is not None:
        for s in current.scores.select_related("agency"):
            scores[f"{s.agency.code}:{s.indicator}"] = s.score
    return _render(
        request,
        "oversight/evaluation.html",
        {
            "rounds": rounds,
            "current": current,
            "indicators": list(indicators.registry),
            "agencies": catalogue.agencies_in_scope(),
            "scores": scores,
            "errors": errors,
            "can_open": roles.has_role(request.user, roles.ITO),
            "can_score": roles.has_role(request.user, roles.EVALUATOR),
        },
        status=400 if errors else 200,
    )
