"""Read queries: not-yet-online services, weekly standings, published lists, public texts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, F, Q, QuerySet

from panjereh.catalogue.models import Agency, Service
from panjereh.catalogue.vocab import Scope, SmartStatus

from .models import (
    Comment,
    Consultation,
    ConsultationState,
    Goal,
    Moderation,
    Origin,
    Suggestion,
    Vote,
    WeeklyList,
    WeeklyListEntry,
    WeeklyTally,
)

DEFAULT_LIST_SIZE = 10

# A card is "not yet online" when it is in scope for electronification (not exempt) and either
# not connected to the national window, or connected but not an approved smart service.
NOT_CONNECTED = Q(scope=Scope.CONNECTABLE, connected=False)
NOT_SMART = Q(scope=Scope.CONNECTABLE, connected=True) & ~Q(smart_status=SmartStatus.APPROVED)
NOT_ONLINE = NOT_CONNECTED | NOT_SMART
_NOT_APPROVED = [value for value in SmartStatus.values if value != SmartStatus.APPROVED]


def goal_for(service: Service) -> str | None:
    """What citizens can ask for this card: to offer it online, to make it smart, or nothing."""
    if service.scope != Scope.CONNECTABLE:
        return None
    if not service.connected:
        return Goal.ELECTRONIC
    if service.smart_status != SmartStatus.APPROVED:
        return Goal.SMART
    return None


def not_online_services(agency: Agency | int | None = None) -> QuerySet[Service]:
    """Service cards not yet offered online (or not smart), optionally of one agency."""
    services = Service.objects.filter(NOT_ONLINE)
    if agency is not None:
        services = services.filter(agency=agency)
    return services.select_related("agency").order_by("agency__name_fa", "title_fa", "pk")


def agencies_with_not_online() -> QuerySet[Agency]:
    """Agencies with at least one not-yet-online card, with both counts, busiest first."""
    return (
        Agency.objects.annotate(
            not_connected=Count(
                "services",
                filter=Q(services__scope=Scope.CONNECTABLE, services__connected=False),
            ),
            not_smart=Count(
                "services",
                filter=Q(
                    services__scope=Scope.CONNECTABLE,
                    services__connected=True,
                    services__smart_status__in=_NOT_APPROVED,
                ),
            ),
        )
        .filter(Q(not_connected__gt=0) | Q(not_smart__gt=0))
        .order_by("-not_connected", "-not_smart", "name_fa")
    )


def public_suggestions() -> QuerySet[Suggestion]:
    return Suggestion.objects.filter(status=Moderation.APPROVED).select_related("agency", "service")


@dataclass
class Standing:
    rank: int
    suggestion: Suggestion
    votes: int


def _rank(pairs, limit: int | None) -> list[Standing]:
    ids = [sid for sid, votes in pairs if votes > 0]
    suggestions = public_suggestions().in_bulk(ids)
    result: list[Standing] = []
    for sid, votes in pairs:
        if votes > 0 and sid in suggestions:
            result.append(Standing(len(result) + 1, suggestions[sid], votes))
            if limit is not None and len(result) >= limit:
                break
    return result


def _ranked(pairs: QuerySet, limit: int | None) -> list[Standing]:
    """Ordered (suggestion_id, votes) rows → ranked standings of approved suggestions.

    Ties are broken by the suggestion's id, ascending: the older suggestion ranks first, so the
    same rows always give the same list. The database sorts and cuts; a suggestion taken down
    meanwhile is skipped, so a little more than ``limit`` rows are read first.
    """
    pairs = pairs.order_by("-votes", "suggestion_id")
    if limit is not None:
        head = list(pairs[: limit * 2 + 20])
        ranked = _rank(head, limit)
        if len(ranked) >= limit or len(head) < limit * 2 + 20:
            return ranked
    return _rank(list(pairs), limit)


def standings(week: dt.date, limit: int | None = DEFAULT_LIST_SIZE) -> list[Standing]:
    """The week's live standings from the roll-up (one row per voted suggestion)."""
    pairs = WeeklyTally.objects.filter(jalali_week=week).values_list("suggestion_id", "votes")
    return _ranked(pairs, limit)


def standings_from_votes(week: dt.date, limit: int | None = DEFAULT_LIST_SIZE) -> list[Standing]:
    """The week's standings counted straight from the vote rows (the source of truth).

    The GROUP BY reads only the (week, suggestion) index.
    """
    pairs = (
        Vote.objects.filter(jalali_week=week)
        .values("suggestion_id")
        .annotate(votes=Count("*"))
        .values_list("suggestion_id", "votes")
    )
    return _ranked(pairs, limit)


def week_totals(week: dt.date) -> tuple[int, int]:
    """(votes, distinct voters) in the week, from the vote rows."""
    row = Vote.objects.filter(jalali_week=week).aggregate(
        votes=Count("*"), voters=Count("user", distinct=True)
    )
    return row["votes"], row["voters"]


def votes_this_week(suggestion_ids, week: dt.date) -> dict[int, int]:
    return dict(
        WeeklyTally.objects.filter(
            jalali_week=week, suggestion_id__in=list(suggestion_ids)
        ).values_list("suggestion_id", "votes")
    )


def my_votes(user, week: dt.date) -> set[int]:
    if not getattr(user, "is_authenticated", False):
        return set()
    return set(
        Vote.objects.filter(user=user, jalali_week=week).values_list("suggestion_id", flat=True)
    )


def published_lists() -> QuerySet[WeeklyList]:
    return WeeklyList.objects.all()


def published(week: dt.date) -> WeeklyList | None:
    return WeeklyList.objects.filter(jalali_week=week).first()


def published_entries(weekly: WeeklyList) -> QuerySet[WeeklyListEntry]:
    """A published list's entries, each with its suggestion's *current* moderation status
    (``entry.withdrawn``): the snapshot keeps ranks and votes, but a text a moderator has
    taken down since is never shown again (HTML, JSON, CSV)."""
    return weekly.entries.annotate(suggestion_status=F("suggestion__status"))


def public_consultations() -> QuerySet[Consultation]:
    return Consultation.objects.exclude(state=ConsultationState.DRAFT).select_related("agency")


def public_comments(consultation: Consultation) -> QuerySet[Comment]:
    return consultation.comments.filter(status=Moderation.APPROVED)


def my_suggestions(user) -> QuerySet[Suggestion]:
    """The citizen's own proposals, newest first (never anyone else's)."""
    return (
        Suggestion.objects.filter(proposer=user, origin=Origin.CITIZEN)
        .select_related("agency")
        .order_by("-created_at", "-pk")
    )


def my_comments(user) -> QuerySet[Comment]:
    """The citizen's own consultation comments, newest first (never anyone else's)."""
    return (
        Comment.objects.filter(author=user)
        .select_related("consultation", "consultation__agency")
        .order_by("-created_at", "-pk")
    )


def moderation_queue() -> tuple[QuerySet[Suggestion], QuerySet[Comment]]:
    suggestions = Suggestion.objects.filter(status=Moderation.PENDING).select_related("agency")
    comments = Comment.objects.filter(status=Moderation.PENDING).select_related(
        "consultation", "consultation__agency"
    )
    return suggestions.order_by("created_at", "pk"), comments.order_by("created_at", "pk")
