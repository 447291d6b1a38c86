"""Public, citizen, agency and moderator pages of e-participation.

Public pages and open data show counts and approved texts only, never who wrote or voted.
Agency pages look consultations up together with the staff user's agencies (another agency's
gives 404); the moderation queue is for the moderators' group.
"""

from __future__ import annotations

import datetime as dt
import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from panjereh.catalogue.models import Agency, Service
from panjereh.common import csvsafe

from . import limits, operations, queries, roles, weeks
from .forms import (
    CommentForm,
    ConsultationForm,
    ModerationForm,
    PickCardForm,
    ProposeForm,
    SummaryForm,
)
from .models import Comment, Consultation, ConsultationState, Moderation, Origin, Suggestion

PAGE_SIZE = 50


def _next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _week_context(week: dt.date) -> dict:
    return {
        "week": week,
        "week_label": weeks.label(week),
        "week_first": week,
        "week_last": week + dt.timedelta(days=6),
    }


def _publish_due():
    """Last week's published list. The periodic job publishes it after Friday midnight;
    publishing here too (idempotent: once done, this is the one read of the list) means the
    list exists even where no worker runs."""
    return operations.publish_due()


# -- public pages -----------------------------------------------------------------------------


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    last = _publish_due()
    week = weeks.current_week()
    return render(
        request,
        "participation/index.html",
        {
            **_week_context(week),
            "standings": queries.standings(week),
            "last_list": last,
            "last_entries": queries.published_entries(last) if last else [],
            "my_votes": queries.my_votes(request.user, week),
            "consultations": queries.public_consultations().filter(state=ConsultationState.OPEN)[
                :5
            ],
            "can_moderate": roles.can_moderate(request.user),
            "manages": bool(roles.managed_agency_ids(request.user)),
        },
    )


@require_GET
def agencies(request: HttpRequest) -> HttpResponse:
    page = Paginator(queries.agencies_with_not_online(), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "participation/agencies.html", {"page": page})


@require_GET
def agency(request: HttpRequest, code: str) -> HttpResponse:
    agency = get_object_or_404(Agency, code=code)
    week = weeks.current_week()
    page = Paginator(queries.not_online_services(agency), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    cards = list(page.object_list)
    by_service = dict(Suggestion.objects.filter(service__in=cards).values_list("service_id", "pk"))
    votes = queries.votes_this_week(by_service.values(), week)
    mine = queries.my_votes(request.user, week)
    rows = [
        {
            "service": card,
            "goal": queries.goal_for(card),
            "votes": votes.get(by_service.get(card.pk), 0),
            "voted": by_service.get(card.pk) in mine,
        }
        for card in cards
    ]
    proposals = list(queries.public_suggestions().filter(agency=agency, origin=Origin.CITIZEN))
    proposal_votes = queries.votes_this_week([p.pk for p in proposals], week)
    return render(
        request,
        "participation/agency.html",
        {
            **_week_context(week),
            "agency": agency,
            "page": page,
            "rows": rows,
            "proposals": [
                {"suggestion": p, "votes": proposal_votes.get(p.pk, 0), "voted": p.pk in mine}
                for p in proposals
            ],
        },
    )


@require_GET
def proposals(request: HttpRequest) -> HttpResponse:
    week = weeks.current_week()
    items = queries.public_suggestions().filter(origin=Origin.CITIZEN).order_by("-created_at")
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    votes = queries.votes_this_week([s.pk for s in page.object_list], week)
    mine = queries.my_votes(request.user, week)
    return render(
        request,
        "participation/proposals.html",
        {
            **_week_context(week),
            "page": page,
            "rows": [
                {"suggestion": s, "votes": votes.get(s.pk, 0), "voted": s.pk in mine}
                for s in page.object_list
            ],
        },
    )


# -- votes and proposals ----------------------------------------------------------------------


def _vote_refusal(request: HttpRequest, message: str, status: int, back: str) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"ok": False, "error": message}, status=status)
    messages.error(request, message)
    return redirect(back)


@require_POST
def vote(request: HttpRequest) -> HttpResponse:
    back = _next(request, reverse("participation:index"))
    if not request.user.is_authenticated:
        if _wants_json(request):
            return JsonResponse({"ok": False, "error": "sign-in required"}, status=401)
        return redirect(f"{reverse('identity:login')}?next={back}")
    if not roles.is_citizen(request.user):
        return _vote_refusal(request, _("Only signed-in citizens can vote."), 403, back)
    if limits.exceeded(limits.VOTES, request.user):
        return _vote_refusal(
            request, _("Too many votes in a short time. Please try again later."), 429, back
        )
    suggestion = None
    try:
        if request.POST.get("service"):
            service = get_object_or_404(Service, pk=int(request.POST["service"]))
            suggestion = operations.catalogue_suggestion(service)
        else:
            suggestion = get_object_or_404(Suggestion, pk=int(request.POST.get("suggestion", "")))
        ballot = operations.vote(request.user, suggestion)
    except ValueError as exc:
        raise Http404 from exc
    except operations.AlreadyVoted as exc:
        return _vote_refusal(request, str(exc.message), 409, back)
    except operations.ParticipationError as exc:
        return _vote_refusal(request, str(exc.message), 400, back)
    if _wants_json(request):
        return JsonResponse(
            {"ok": True, "vote": ballot.pk, "week": weeks.label(ballot.jalali_week)}, status=201
        )
    messages.success(request, _("Your vote is counted for this week."))
    return redirect(back)


@login_required
def propose(request: HttpRequest) -> HttpResponse:
    if not roles.is_citizen(request.user):
        raise Http404
    form = ProposeForm(request.POST or None, prefix="p")
    pick = PickCardForm(request.POST or None, prefix="c") if "pick" in request.POST else None
    if pick is None:
        pick = PickCardForm(prefix="c")
    status = 200
    if request.method == "POST":
        if limits.exceeded(limits.PROPOSALS, request.user):
            messages.error(request, _("Too many proposals in a short time. Please try later."))
            status = 429
        elif "pick" in request.POST:
            form = ProposeForm(prefix="p")
            if pick.is_valid():
                service = pick.cleaned_data["service_id"]
                try:
                    operations.catalogue_suggestion(service)
                except operations.ParticipationError as exc:
                    pick.add_error("service_id", exc.message)
                else:
                    messages.success(
                        request, _("This service is on the list: you can vote for it here.")
                    )
                    url = reverse("participation:agency", args=[service.agency.code])
                    return redirect(f"{url}#service-{service.pk}")
        elif form.is_valid():
            operations.propose(
                request.user,
                form.cleaned_data["agency"],
                form.cleaned_data["goal"],
                form.cleaned_data["text"],
            )
            messages.success(
                request,
                _("Thank you. Your proposal is published once a moderator has checked it."),
            )
            return redirect("participation:propose")
    mine = Suggestion.objects.filter(proposer=request.user).select_related("agency")[:50]
    return render(
        request,
        "participation/propose.html",
        {"form": form, "pick": pick, "mine": mine},
        status=status,
    )


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    """The signed-in person's own proposals and consultation comments, with their moderation
    state and, for a rejection, the moderator's reason. Only the person's own texts are
    listed: the queries filter on ``request.user``, and nothing here takes an id."""
    return render(
        request,
        "participation/mine.html",
        {
            "suggestions": queries.my_suggestions(request.user)[:PAGE_SIZE],
            "comments": queries.my_comments(request.user)[:PAGE_SIZE],
        },
    )


# -- weekly lists and open data ---------------------------------------------------------------


@require_GET
def weekly_archive(request: HttpRequest) -> HttpResponse:
    _publish_due()
    page = Paginator(queries.published_lists(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "participation/weekly_archive.html", {"page": page})


def _published_or_404(label: str):
    try:
        week = weeks.parse_label(label)
    except ValueError as exc:
        raise Http404 from exc
    weekly = queries.published(week)
    if weekly is None:
        raise Http404
    return weekly


@require_GET
def weekly(request: HttpRequest, label: str) -> HttpResponse:
    weekly = _published_or_404(label)
    return render(
        request,
        "participation/weekly.html",
        {
            "weekly": weekly,
            "entries": queries.published_entries(weekly),
            **_week_context(weekly.jalali_week),
        },
    )


CSV_FIELDS = [
    "week",
    "week_start_gregorian",
    "status",
    "rank",
    "votes",
    "suggestion",
    "service_id",
    "agency_code",
    "goal",
    "title_fa",
    "title_en",
]


def _published_rows(weekly) -> list[dict]:
    """The published list's rows; an item a moderator has taken down since publication keeps
    its rank and votes but loses its text (``status`` ``withdrawn``, titles empty)."""
    rows = []
    for entry in queries.published_entries(weekly):
        withdrawn = entry.withdrawn
        rows.append(
            {
                "week": weeks.label(weekly.jalali_week),
                "week_start_gregorian": weekly.jalali_week.isoformat(),
                "status": "withdrawn" if withdrawn else "published",
                "rank": entry.rank,
                "votes": entry.votes,
                "suggestion": entry.suggestion_id,
                "service_id": entry.service_id,
                "agency_code": entry.agency_code,
                "goal": entry.goal,
                "title_fa": "" if withdrawn else entry.title_fa,
                "title_en": "" if withdrawn else entry.title_en,
            }
        )
    return rows


def _live_rows(week: dt.date) -> list[dict]:
    return [
        {
            "week": weeks.label(week),
            "week_start_gregorian": week.isoformat(),
            "status": "live",
            "rank": item.rank,
            "votes": item.votes,
            "suggestion": item.suggestion.pk,
            "service_id": (item.suggestion.service.service_id or "")
            if item.suggestion.service_id
            else "",
            "agency_code": item.suggestion.agency.code,
            "goal": item.suggestion.goal,
            "title_fa": item.suggestion.title_fa,
            "title_en": item.suggestion.title_en,
        }
        for item in queries.standings(week, limit=None)
    ]


def _open_data(
    request: HttpRequest, rows: list[dict], meta: dict, fmt: str, filename: str
) -> HttpResponse:
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csvsafe.DictWriter(buffer, fieldnames=CSV_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return csvsafe.csv_response(request, buffer.getvalue(), filename)
    response = JsonResponse(
        {**meta, "items": rows}, json_dumps_params={"ensure_ascii": False, "indent": 1}
    )
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def weekly_data(request: HttpRequest, label: str, fmt: str) -> HttpResponse:
    weekly = _published_or_404(label)
    meta = {
        "week": weeks.label(weekly.jalali_week),
        "week_start": weekly.jalali_week.isoformat(),
        "week_end": (weekly.jalali_week + dt.timedelta(days=6)).isoformat(),
        "status": "published",
        "published_at": weekly.published_at.isoformat(),
        "total_votes": weekly.total_votes,
        "voters": weekly.voters,
        "size": weekly.size,
    }
    return _open_data(
        request, _published_rows(weekly), meta, fmt, f"services-of-the-week-{meta['week']}"
    )


@require_GET
def current_data(request: HttpRequest, fmt: str) -> HttpResponse:
    week = weeks.current_week()
    meta = {
        "week": weeks.label(week),
        "week_start": week.isoformat(),
        "week_end": (week + dt.timedelta(days=6)).isoformat(),
        "status": "live",
        "as_of": timezone.now().isoformat(),
    }
    response = _open_data(request, _live_rows(week), meta, fmt, f"standings-{meta['week']}")
    response["Cache-Control"] = "no-cache"
    return response


# -- consultations ----------------------------------------------------------------------------


@require_GET
def consultations(request: HttpRequest) -> HttpResponse:
    operations.close_expired()
    page = Paginator(queries.public_consultations(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "participation/consultations.html", {"page": page})


def consultation(request: HttpRequest, pk: int) -> HttpResponse:
    operations.close_expired()
    item = get_object_or_404(queries.public_consultations(), pk=pk)
    form = CommentForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect(f"{reverse('identity:login')}?next={request.path}")
        if limits.exceeded(limits.COMMENTS, request.user):
            form.is_valid()
            form.add_error(None, _("Too many comments in a short time. Please try again later."))
            status = 429
        elif form.is_valid():
            try:
                operations.comment(request.user, item, form.cleaned_data["text"])
            except operations.ParticipationError as exc:
                form.add_error(None, exc.message)
                status = 400
            else:
                messages.success(
                    request,
                    _("Thank you. Your comment is published once a moderator has checked it."),
                )
                return redirect("participation:consultation", item.pk)
        else:
            status = 400
    return render(
        request,
        "participation/consultation.html",
        {
            "item": item,
            "comments": queries.public_comments(item),
            "form": form,
            "can_comment": roles.is_citizen(request.user) and item.accepting_comments,
        },
        status=status,
    )


# -- agency side ------------------------------------------------------------------------------


def _staff(request: HttpRequest) -> set[int]:
    agency_ids = roles.managed_agency_ids(request.user)
    if not agency_ids:
        raise Http404
    return agency_ids


@login_required
def manage(request: HttpRequest) -> HttpResponse:
    agency_ids = _staff(request)
    operations.close_expired()
    items = Consultation.objects.filter(agency_id__in=agency_ids).select_related("agency")
    return render(request, "participation/manage.html", {"items": items})


@login_required
def manage_new(request: HttpRequest) -> HttpResponse:
    agency_ids = _staff(request)
    form = ConsultationForm(request.POST or None, agency_ids=agency_ids)
    if request.method == "POST" and form.is_valid():
        opens_at, closes_at = form.bounds()
        try:
            item = operations.create_consultation(
                request.user,
                form.cleaned_data["agency"],
                form.cleaned_data["title"],
                form.cleaned_data["text"],
                opens_at,
                closes_at,
                kind=form.cleaned_data["kind"],
            )
        except operations.ParticipationError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("participation:manage_detail", item.pk)
    return render(request, "participation/manage_new.html", {"form": form})


@login_required
def manage_detail(request: HttpRequest, pk: int) -> HttpResponse:
    agency_ids = _staff(request)
    operations.close_expired()
    item = get_object_or_404(Consultation, pk=pk, agency_id__in=agency_ids)
    summary_form = SummaryForm(request.POST if request.POST.get("action") == "summary" else None)
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "open":
                operations.open_consultation(request.user, item)
                messages.success(request, _("The consultation is published."))
            elif action == "close":
                operations.close_consultation(request.user, item)
                messages.success(request, _("The consultation is closed."))
            elif action == "summary" and summary_form.is_valid():
                operations.publish_summary(request.user, item, summary_form.cleaned_data["summary"])
                messages.success(request, _("The summary is published."))
            else:
                raise operations.InvalidText(_("Please write the summary."))
        except operations.ParticipationError as exc:
            messages.error(request, exc.message)
            status = 400
        else:
            return redirect("participation:manage_detail", item.pk)
        item.refresh_from_db()
    counts = {state: item.comments.filter(status=state).count() for state in Moderation.values}
    return render(
        request,
        "participation/manage_detail.html",
        {
            "item": item,
            "summary_form": summary_form,
            "counts": counts,
            "approved": queries.public_comments(item),
            "events": item.events.all(),
        },
        status=status,
    )


# -- moderation -------------------------------------------------------------------------------


@login_required
def moderation(request: HttpRequest) -> HttpResponse:
    if not roles.can_moderate(request.user):
        raise Http404
    suggestions, comments = queries.moderation_queue()
    return render(
        request,
        "participation/moderation.html",
        {"suggestions": suggestions[:100], "comments": comments[:100], "form": ModerationForm()},
    )


@login_required
@require_POST
def moderate(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    if not roles.can_moderate(request.user):
        raise Http404
    model = {"suggestion": Suggestion, "comment": Comment}.get(kind)
    if model is None:
        raise Http404
    item = get_object_or_404(model, pk=pk)
    form = ModerationForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Please choose approve or reject."))
        return redirect("participation:moderation")
    try:
        operations.moderate(
            item,
            request.user,
            approve=form.cleaned_data["decision"] == "approve",
            reason=form.cleaned_data["reason"],
        )
    except operations.ParticipationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Decision recorded."))
    return redirect("participation:moderation")
