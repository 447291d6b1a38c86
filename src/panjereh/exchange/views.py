"""Pages of the exchange for people: "who read my data", and the back office.

Back office (staff signed in; every object checked against who is asking):

- provider agency staff (an ``AgencyMembership`` of the provider): their data services, items,
  legal basis and version; enable or disable a service (admins and editors; recorded in
  Django's admin log, ``LogEntry``);
- consumer agency staff: request a grant for named items and a purpose of their own agency,
  follow their requests and grants;
- the Interoperability Working Group (``roles.INTEROP_WG``): the queue of requests, approve
  (possibly fewer items), reject, revoke, all through :mod:`.grants`;
- the platform operator (a superuser or the ``ITO`` group): monthly statistics from the
  roll-up, agencies flagged by the 1401 test, and the log's seal and anchor status.

Objects of another agency answer 404, so that their existence is not disclosed.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.admin.models import LogEntry
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Max, Q, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from panjereh.catalogue import roles
from panjereh.catalogue.models import Agency

from . import anchor, forms, grants, log, operations, queries, stats
from .models import (
    ACTIVE_STATES,
    DataService,
    Grant,
    GrantState,
    MonthlyStat,
    Seal,
    item_label,
)

PAGE_SIZE = 50
# Counting unsealed records stops here: the sealer keeps the number small, and the page must
# not count a backlog of millions (after an outage) on every view.
UNSEALED_COUNT_CAP = 10_000
EDITOR_ROLES = ("admin", "editor")


def _base_template() -> str:
    # The portal's base page when the portal provides one; a minimal page otherwise.
    try:
        get_template("portal/base.html")
    except TemplateDoesNotExist:
        return "exchange/standalone_base.html"
    return "portal/base.html"


def _render(request, template: str, context: dict, status: int = 200) -> HttpResponse:
    context.setdefault("base_template", _base_template())
    context.setdefault("who", _roles_of(request.user))
    return render(request, template, context, status=status)


@login_required
def my_data_accesses(request: HttpRequest) -> HttpResponse:
    """Every access to the signed-in person's data, and every read made for them (another
    person's data read on their behalf, with that person's consent); nobody else's."""
    national_code = getattr(request.user, "national_code", None) or ""
    records = queries.my_data_reads(national_code)
    page_number = request.GET.get("page") or "1"
    page = Paginator(records, PAGE_SIZE).get_page(page_number if page_number.isdigit() else 1)
    language = translation.get_language() or "fa"
    rows = []
    for record in page.object_list:
        consumer = record.consumer
        service = record.service
        purpose = record.grant.purpose if record.grant else None
        rows.append(
            {
                "when": record.created_at,
                "agency": (
                    consumer.name_fa
                    if language.startswith("fa")
                    else consumer.name_en or consumer.name_fa
                )
                if consumer
                else record.client,
                "provider": (
                    service.provider.name_fa
                    if language.startswith("fa")
                    else service.provider.name_en or service.provider.name_fa
                )
                if service
                else "",
                "items": [item_label(code, language) for code in record.items],
                "purpose": (
                    purpose.title_fa
                    if language.startswith("fa")
                    else purpose.title_en or purpose.title_fa
                )
                if purpose
                else "",
                "purpose_id": purpose.service_id if purpose else record.purpose,
                "issue": record.issue,
                # Read for them, not about them: another person's data (a credit check's
                # other party), shown because it was read on their behalf.
                "for_you": record.subject != national_code,
            }
        )
    return render(
        request,
        "exchange/my_data.html",
        {
            "base_template": _base_template(),
            "rows": rows,
            "page": page,
            "has_national_code": bool(national_code),
        },
    )


# -- who may do what --------------------------------------------------------------------------


def is_operator(user) -> bool:
    """The platform operator: a superuser or a member of the ITO group (runs the platform)."""
    return bool(getattr(user, "is_authenticated", False)) and (
        user.is_superuser or roles.has_role(user, roles.ITO)
    )


def _agency_ids(user, agency_roles: tuple[str, ...] | None = None) -> set[int]:
    if agency_roles is None:  # any membership: the agency's pages are readable
        return roles.agencies_for(user, roles.READ)
    return roles.agency_ids(user, agency_roles)


def _roles_of(user) -> dict[str, Any]:
    if not getattr(user, "is_authenticated", False):
        return {"agencies": set(), "provider": False, "wg": False, "operator": False}
    cached = getattr(user, "_exchange_roles", None)
    if cached is None:
        agencies = _agency_ids(user)
        cached = {
            "agencies": agencies,
            "provider": DataService.objects.filter(provider_id__in=agencies).exists(),
            "wg": grants.can_decide(user),
            "operator": is_operator(user),
        }
        user._exchange_roles = cached
    return cached


def _back_office(view):
    """Signed-in staff only: agency staff, working-group members or the operator."""

    def wrapper(request: HttpRequest, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        who = _roles_of(request.user)
        if not (who["agencies"] or who["wg"] or who["operator"]):
            raise PermissionDenied(_("The exchange's back office is for agency staff."))
        return view(request, *args, **kwargs)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


def _name(agency: Agency | None) -> str:
    if agency is None:
        return "—"
    if (translation.get_language() or "fa").startswith("fa"):
        return agency.name_fa
    return agency.name_en or agency.name_fa


# -- index ------------------------------------------------------------------------------------


@_back_office
def index(request: HttpRequest) -> HttpResponse:
    """The exchange back office's front page: links to what this person may do."""
    who = _roles_of(request.user)
    counts: dict[str, Any] = {}
    if who["wg"]:
        counts["queue"] = Grant.objects.filter(state=GrantState.REQUESTED).count()
    if who["agencies"]:
        counts["mine"] = Grant.objects.filter(consumer_id__in=who["agencies"]).count()
        counts["services"] = DataService.objects.filter(provider_id__in=who["agencies"]).count()
    return _render(request, "exchange/index.html", {"counts": counts})


# -- provider side: data services -------------------------------------------------------------


def _visible_services(user):
    services = DataService.objects.select_related("provider")
    if is_operator(user):
        return services
    return services.filter(provider_id__in=_agency_ids(user))


@_back_office
def provider_services(request: HttpRequest) -> HttpResponse:
    services = list(
        _visible_services(request.user)
        .annotate(
            active=Count("grants", filter=Q(grants__state__in=ACTIVE_STATES)),
            waiting=Count("grants", filter=Q(grants__state=GrantState.REQUESTED)),
        )
        .order_by("provider__name_fa", "subsystem", "code")
    )
    return _render(request, "exchange/provider_services.html", {"services": services})


def _service_history(service: DataService) -> list[LogEntry]:
    kind = ContentType.objects.get_for_model(DataService)
    return list(
        LogEntry.objects.filter(content_type=kind, object_id=str(service.pk))
        .select_related("user")
        .order_by("-action_time")[:20]
    )


def _can_switch(user, service: DataService) -> bool:
    return operations.can_switch_service(user, service)


@_back_office
@require_http_methods(["GET", "POST"])
def data_service(request: HttpRequest, pk: int) -> HttpResponse:
    service = get_object_or_404(_visible_services(request.user), pk=pk)
    can_switch = _can_switch(request.user, service)
    form = forms.ToggleServiceForm(initial={"enabled": "0" if service.enabled else "1"})
    status = 200
    if request.method == "POST":
        _require(can_switch, _("Only the provider's administrators and editors switch a service."))
        form = forms.ToggleServiceForm(request.POST)
        if form.is_valid():
            enabled = form.cleaned_data["enabled"]
            if operations.set_service_enabled(
                service, enabled, actor=request.user, reason=form.cleaned_data["reason"]
            ):
                messages.success(
                    request,
                    _("The service is enabled: calls go through again.")
                    if enabled
                    else _("The service is disabled: calls are refused until it is enabled."),
                )
            return redirect("exchange:data-service", pk=service.pk)
        status = 400
    language = translation.get_language() or "fa"
    items = [
        {
            "code": item["code"],
            "label": item_label(item["code"], language),
            "fields": item.get("fields", []),
        }
        for item in service.items
    ]
    grant_rows = service.grants.select_related("consumer", "purpose").order_by("-requested_at")[
        :100
    ]
    paths = sorted((service.openapi or {}).get("paths", {}).keys())
    return _render(
        request,
        "exchange/data_service.html",
        {
            "service": service,
            "items": items,
            "paths": paths,
            "grants": grant_rows,
            "history": _service_history(service),
            "can_switch": can_switch,
            "form": form,
        },
        status=status,
    )


# -- consumer side: requests and grants -------------------------------------------------------


def _visible_grants(user):
    """Grants a person may read: their agency's (as consumer or as provider), or all for the
    working group and the operator."""
    found = Grant.objects.select_related("consumer", "service", "service__provider", "purpose")
    if grants.can_decide(user) or is_operator(user):
        return found
    agencies = _agency_ids(user)
    return found.filter(Q(consumer_id__in=agencies) | Q(service__provider_id__in=agencies))


@_back_office
def consumer_grants(request: HttpRequest) -> HttpResponse:
    agencies = _agency_ids(request.user)
    mine = (
        Grant.objects.filter(consumer_id__in=agencies)
        .select_related("consumer", "service", "service__provider", "purpose")
        .order_by("-requested_at")
    )
    page_number = request.GET.get("page") or "1"
    page = Paginator(mine, PAGE_SIZE).get_page(page_number if page_number.isdigit() else 1)
    return _render(request, "exchange/consumer_grants.html", {"page": page})


def _requesting_agencies(user) -> list[Agency]:
    return list(Agency.objects.filter(pk__in=_agency_ids(user, EDITOR_ROLES)).order_by("name_fa"))


@_back_office
def request_catalogue(request: HttpRequest) -> HttpResponse:
    """Step 1 of a request: the data services on offer."""
    _require(
        bool(_requesting_agencies(request.user)),
        _("Only an agency's administrators and editors request data."),
    )
    services = (
        DataService.objects.filter(enabled=True)
        .select_related("provider")
        .order_by("provider__name_fa", "subsystem", "code")
    )
    return _render(request, "exchange/request_catalogue.html", {"services": services})


@_back_office
@require_http_methods(["GET", "POST"])
def request_grant(request: HttpRequest, service_pk: int) -> HttpResponse:
    """Step 2: the items, the purpose and the justification."""
    agencies = _requesting_agencies(request.user)
    _require(bool(agencies), _("Only an agency's administrators and editors request data."))
    service = get_object_or_404(
        DataService.objects.select_related("provider"), pk=service_pk, enabled=True
    )
    form = forms.GrantRequestForm(request.POST or None, service=service, agencies=agencies)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            agency = form.agencies[form.cleaned_data["agency"]]
            try:
                grant = grants.request_grant(
                    agency,
                    service,
                    form.cleaned_data["items"],
                    form.cleaned_data["purpose"],
                    actor=request.user,
                    note=form.cleaned_data["justification"],
                )
            except ValidationError as error:
                _errors_to_form(form, error)
            else:
                messages.success(request, _("Your request was sent to the working group."))
                return redirect("exchange:grant", pk=grant.pk)
        status = 400
    return _render(
        request, "exchange/request_grant.html", {"service": service, "form": form}, status=status
    )


def _errors_to_form(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def _grant_context(request: HttpRequest, grant: Grant, **forms_: Any) -> dict[str, Any]:
    language = translation.get_language() or "fa"
    can_decide = grants.can_decide(request.user)
    labels = dict(GrantState.choices)
    context = {
        "grant": grant,
        "events": [
            {
                "at": event.at,
                "to_state": event.to_state,
                "from": labels.get(event.from_state, event.from_state),
                "to": labels.get(event.to_state, event.to_state),
                "actor": event.actor,
                "note": event.note,
                "resolution": (event.data or {}).get("resolution_number", "")
                if event.to_state == GrantState.REVOKED
                else "",
            }
            for event in grant.events.select_related("actor").order_by("at", "id")
        ],
        "requested": [(code, item_label(code, language)) for code in grant.requested_items],
        "granted": [(code, item_label(code, language)) for code in grant.items],
        "can_decide": can_decide,
        "can_approve": can_decide and grants.allowed(grant, GrantState.APPROVED),
        "can_reject": can_decide and grants.allowed(grant, GrantState.REJECTED),
        "can_revoke": can_decide and grants.allowed(grant, GrantState.REVOKED),
    }
    if context["can_approve"]:
        context["approve_form"] = forms_.get("approve_form") or forms.ApproveForm(
            grant=grant, prefix="approve"
        )
    if context["can_reject"]:
        context["reject_form"] = forms_.get("reject_form") or forms.RejectForm(prefix="reject")
    if context["can_revoke"]:
        context["revoke_form"] = forms_.get("revoke_form") or forms.RevokeForm(prefix="revoke")
    return context


@_back_office
def grant_detail(request: HttpRequest, pk: int) -> HttpResponse:
    grant = get_object_or_404(_visible_grants(request.user), pk=pk)
    return _render(request, "exchange/grant.html", _grant_context(request, grant))


# -- the Interoperability Working Group -------------------------------------------------------


def _wg_only(request: HttpRequest) -> None:
    _require(
        grants.can_decide(request.user),
        _("Only the Interoperability Working Group decides grants."),
    )


@_back_office
def wg_queue(request: HttpRequest) -> HttpResponse:
    _wg_only(request)
    related = ("consumer", "service", "service__provider", "purpose")
    waiting = (
        Grant.objects.filter(state=GrantState.REQUESTED)
        .select_related(*related)
        .order_by("requested_at")
    )
    active = (
        Grant.objects.filter(state__in=ACTIVE_STATES)
        .select_related(*related)
        .order_by("-decided_at")[:200]
    )
    return _render(
        request,
        "exchange/wg_queue.html",
        {"waiting": waiting, "active": active, "overdue": queries.overdue_grants()},
    )


DECISIONS = {
    "approve": GrantState.APPROVED,
    "reject": GrantState.REJECTED,
    "revoke": GrantState.REVOKED,
}


def _decide(request: HttpRequest, pk: int, form_class, prefix: str, act) -> HttpResponse:
    """Check the move, validate the form, then let :mod:`.grants` make the transition; bad
    input or a move the state machine refuses changes nothing."""
    _wg_only(request)
    grant = get_object_or_404(_visible_grants(request.user), pk=pk)
    if not grants.allowed(grant, DECISIONS[prefix]):
        return _refused(request, grant)
    kwargs = {"grant": grant} if form_class is forms.ApproveForm else {}
    form = form_class(request.POST, prefix=prefix, **kwargs)
    if form.is_valid():
        try:
            act(grant, form.cleaned_data)
        except grants.InvalidTransition:  # decided meanwhile by another member
            grant.refresh_from_db()
            return _refused(request, grant)
        except ValidationError as error:
            _errors_to_form(form, error)
        else:
            return redirect("exchange:grant", pk=grant.pk)
    context = _grant_context(request, grant, **{f"{prefix}_form": form})
    context["open_form"] = prefix
    return _render(request, "exchange/grant.html", context, status=400)


def _refused(request: HttpRequest, grant: Grant) -> HttpResponse:
    messages.error(
        request,
        _("A grant in state “%(state)s” cannot be changed this way.")
        % {"state": grant.get_state_display()},
    )
    return _render(request, "exchange/grant.html", _grant_context(request, grant), status=409)


@_back_office
@require_POST
def approve(request: HttpRequest, pk: int) -> HttpResponse:
    def act(grant: Grant, data: dict) -> None:
        grants.approve(
            grant,
            resolution_number=data["resolution_number"],
            resolution_session=data["resolution_session"],
            resolution_date=data["resolution_date"],
            valid_until=data["valid_until"],
            implementation_deadline=data["implementation_deadline"],
            items=data["items"],
            actor=request.user,
            note=data["note"],
        )
        messages.success(request, _("The grant is approved."))

    return _decide(request, pk, forms.ApproveForm, "approve", act)


@_back_office
@require_POST
def reject(request: HttpRequest, pk: int) -> HttpResponse:
    def act(grant: Grant, data: dict) -> None:
        grants.reject(
            grant,
            resolution_number=data["resolution_number"],
            actor=request.user,
            note=data["reason"],
        )
        messages.success(request, _("The request is rejected."))

    return _decide(request, pk, forms.RejectForm, "reject", act)


@_back_office
@require_POST
def revoke(request: HttpRequest, pk: int) -> HttpResponse:
    def act(grant: Grant, data: dict) -> None:
        grants.revoke(
            grant,
            actor=request.user,
            note=data["reason"],
            resolution_number=data["resolution_number"],
        )
        messages.success(request, _("The grant is revoked: the consumer's next call is refused."))

    return _decide(request, pk, forms.RevokeForm, "revoke", act)


# -- the platform operator: statistics --------------------------------------------------------


def _grouped(month: str, column: str) -> list[dict[str, Any]]:
    """The month's roll-up summed per provider, consumer or data service (one aggregate over
    the small roll-up table). Percentiles cannot be added up across rows: the row with the
    highest p95 is shown (the worst pair), the roll-up keeps no finer histogram."""
    rows = (
        MonthlyStat.objects.filter(month=month)
        .exclude(**{f"{column}__isnull": True})
        .values(column)
        .annotate(
            calls=Sum("calls"),
            failures=Sum("failures"),
            refused=Sum("refused"),
            worst_p50=Max("latency_p50_ms"),
            worst_p95=Max("latency_p95_ms"),
        )
        .order_by("-calls")
    )
    rows = list(rows)
    if column == "service_id":
        objects = DataService.objects.select_related("provider").in_bulk(
            [row[column] for row in rows]
        )
    else:
        objects = Agency.objects.in_bulk([row[column] for row in rows])
    for row in rows:
        row["object"] = objects.get(row[column])
        calls = row["calls"] or 0
        row["quality"] = (1 - (row["failures"] or 0) / calls) * 100 if calls else None
    return rows


@_back_office
def statistics(request: HttpRequest) -> HttpResponse:
    """One Jalali month of the exchange, read from the roll-up only (never the log)."""
    _require(is_operator(request.user), _("The statistics are for the platform operator."))
    this_month = stats.month_key(timezone.localdate())
    text = request.GET.get("month")
    month = forms.parse_month(text) if text else this_month
    status = 200
    error = ""
    if month is None:
        error = _("Enter a solar-calendar month such as 1404/03.")
        month = this_month
        status = 400
    totals = queries.totals(month)
    totals["quality_pct"] = totals["quality"] * 100 if totals["quality"] is not None else None
    pairs = queries.monthly(month)
    for row in pairs:
        row["quality_pct"] = row["quality"] * 100 if row["quality"] is not None else None
    computed = MonthlyStat.objects.filter(month=month).aggregate(at=Max("computed_at"))["at"]
    flagged = queries.flagged_agencies(month)
    for row in flagged:
        row["name"] = _name(row["agency"])
    year, number = (int(part) for part in month.split("-"))
    choices = forms.month_choices()
    if month not in {key for key, _label in choices}:
        choices.insert(0, (month, f"{year}/{number:02d}"))
    month_label = dict(choices)[month]
    return _render(
        request,
        "exchange/statistics.html",
        {
            "month": month,
            "month_label": month_label,
            "month_choices": choices,
            "error": error,
            "totals": totals,
            "pairs": pairs,
            "providers": _grouped(month, "provider_id"),
            "consumers": _grouped(month, "consumer_id"),
            "services": _grouped(month, "service_id"),
            "flagged": flagged,
            "threshold": queries.LOW_ACTIVITY_THRESHOLD,
            "computed_at": computed,
            "seal": _seal_status(),
        },
        status=status,
    )


def _seal_status() -> dict[str, Any]:
    latest = Seal.objects.order_by("-last_seq").first()
    unsealed = log.unsealed_count(cap=UNSEALED_COUNT_CAP + 1)
    anchored = anchor.status()
    # The same comparison as verify-log's (signed by the log's key, the seal and its last
    # record in place), and the anchor must have reached the latest seal.
    checked = anchor.check() if latest is not None and anchored["exists"] else None
    return {
        "latest": latest,
        "unsealed": min(unsealed, UNSEALED_COUNT_CAP),
        "unsealed_more": unsealed > UNSEALED_COUNT_CAP,
        "anchor": anchored,
        "anchor_matches": bool(
            checked is not None
            and checked.ok
            and checked.entry is not None
            and int(checked.entry["last_seq"]) == latest.last_seq
        ),
    }
