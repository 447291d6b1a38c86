"""Write operations of e-participation, one function per use case, each one transaction.

Errors are :class:`ParticipationError` subclasses whose message is a translated sentence for the
person who acted; an operation that raises has changed nothing.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from panjereh.catalogue import roles as catalogue_roles
from panjereh.catalogue.models import Agency, Service
from panjereh.common import statemachine
from panjereh.common.persian import normalize

from . import pii, queries, roles, weeks
from .models import (
    Comment,
    Consultation,
    ConsultationEvent,
    ConsultationKind,
    ConsultationState,
    Moderation,
    Origin,
    Suggestion,
    Vote,
    WeeklyList,
    WeeklyListEntry,
    WeeklyTally,
)

MIN_TEXT = 10
MAX_SUGGESTION = 1000
MAX_COMMENT = 3000


class ParticipationError(Exception):
    def __init__(self, message) -> None:
        super().__init__(str(message))
        self.message = message


class AlreadyVoted(ParticipationError):
    pass


class NotAllowed(ParticipationError):
    pass


class InvalidText(ParticipationError):
    pass


class WrongState(ParticipationError):
    pass


def clean_text(text: str | None, max_length: int) -> str:
    """Normalised text for the public, or InvalidText (too short, too long, personal data)."""
    text = normalize(text)
    if len(text) < MIN_TEXT:
        raise InvalidText(_("Please write at least %(n)d characters.") % {"n": MIN_TEXT})
    if len(text) > max_length:
        raise InvalidText(_("Please write at most %(n)d characters.") % {"n": max_length})
    try:
        pii.check(text)
    except ValidationError as exc:
        raise InvalidText(exc.messages[0]) from exc
    return text


# -- suggestions and votes --------------------------------------------------------------------


def catalogue_suggestion(service: Service) -> Suggestion:
    """The votable item for a not-yet-online card (created on first use, approved: its text is
    the agency's own card)."""
    goal = queries.goal_for(service)
    if goal is None:
        raise NotAllowed(_("This service is already offered online as a smart service."))
    suggestion, created = Suggestion.objects.get_or_create(
        service=service,
        defaults={
            "origin": Origin.CATALOGUE,
            "goal": goal,
            "agency_id": service.agency_id,
            "status": Moderation.APPROVED,
        },
    )
    if not created and suggestion.goal != goal:
        # The card moved on (e.g. it was connected); citizens now ask for the next step.
        Suggestion.objects.filter(pk=suggestion.pk).update(goal=goal)
        suggestion.goal = goal
    return suggestion


def propose(user, agency: Agency, goal: str, text: str) -> Suggestion:
    """A citizen's free-text proposal; private until a moderator approves it."""
    if not roles.is_citizen(user):
        raise NotAllowed(_("Only signed-in citizens can propose."))
    text = clean_text(text, MAX_SUGGESTION)
    return Suggestion.objects.create(
        origin=Origin.CITIZEN, goal=goal, agency=agency, text=text, proposer=user
    )


def is_votable(suggestion: Suggestion) -> bool:
    if suggestion.status != Moderation.APPROVED:
        return False
    if suggestion.origin == Origin.CATALOGUE:
        return queries.goal_for(suggestion.service) is not None
    return True


def vote(user, suggestion: Suggestion, now: dt.datetime | None = None) -> Vote:
    """One vote for ``suggestion`` in the current Jalali week, and the week's tally + 1.

    The vote row and the tally change in one transaction: the unique constraint on
    (user, suggestion, week) refuses a second vote, and then nothing changes at all.
    """
    if not roles.is_citizen(user):
        raise NotAllowed(_("Only signed-in citizens can vote."))
    if not is_votable(suggestion):
        raise NotAllowed(_("This item cannot be voted for."))
    now = now or timezone.now()
    week = weeks.week_of(now)
    try:
        with transaction.atomic():
            ballot = Vote.objects.create(
                user=user, suggestion=suggestion, jalali_week=week, cast_at=now
            )
            # The tally row exists after this (ON CONFLICT DO NOTHING), and the UPDATE takes
            # its row lock, so concurrent votes add up exactly.
            WeeklyTally.objects.bulk_create(
                [WeeklyTally(jalali_week=week, suggestion=suggestion, votes=0)],
                ignore_conflicts=True,
            )
            WeeklyTally.objects.filter(jalali_week=week, suggestion=suggestion).update(
                votes=F("votes") + 1
            )
    except IntegrityError as exc:
        if Vote.objects.filter(user=user, suggestion=suggestion, jalali_week=week).exists():
            raise AlreadyVoted(
                _(
                    "You have already voted for this item this week. You can vote for it again "
                    "from Saturday."
                )
            ) from exc
        raise
    return ballot


@transaction.atomic
def recount(week: dt.date) -> int:
    """Rebuild the week's tally from the vote rows; the number of suggestions counted."""
    WeeklyTally.objects.filter(jalali_week=week).delete()
    rows = [
        WeeklyTally(jalali_week=week, suggestion_id=s.suggestion.pk, votes=s.votes)
        for s in queries.standings_from_votes(week, limit=None)
    ]
    WeeklyTally.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def publish_week(
    week: dt.date, size: int = queries.DEFAULT_LIST_SIZE, now: dt.datetime | None = None
) -> WeeklyList:
    """Publish the top ``size`` of a completed week, counted from the vote rows.

    Once published a week's list never changes: calling again returns the same snapshot.
    """
    existing = queries.published(week)
    if existing is not None:
        return existing
    now = now or timezone.now()
    if weeks.bounds(week)[1] > now:
        raise WrongState(_("A week's list is published only after the week has ended."))
    top = queries.standings_from_votes(week, limit=size)
    total, voters = queries.week_totals(week)
    try:
        with transaction.atomic():
            weekly = WeeklyList.objects.create(
                jalali_week=week, published_at=now, total_votes=total, voters=voters, size=size
            )
            WeeklyListEntry.objects.bulk_create(
                WeeklyListEntry(
                    weekly_list=weekly,
                    rank=item.rank,
                    suggestion=item.suggestion,
                    votes=item.votes,
                    title_fa=item.suggestion.title_fa,
                    title_en=item.suggestion.title_en,
                    agency_code=item.suggestion.agency.code,
                    agency_name_fa=item.suggestion.agency.name_fa,
                    agency_name_en=item.suggestion.agency.name_en,
                    service_id=(item.suggestion.service.service_id or "")
                    if item.suggestion.service_id
                    else "",
                    goal=item.suggestion.goal,
                )
                for item in top
            )
    except IntegrityError:
        # Another process published it first: theirs is the list.
        return WeeklyList.objects.get(jalali_week=week)
    return weekly


def publish_due(now: dt.datetime | None = None) -> WeeklyList:
    """Publish last week's list if it is not yet published (run weekly, and on demand)."""
    now = now or timezone.now()
    return publish_week(weeks.week_of(now) - dt.timedelta(days=7), now=now)


# -- moderation -------------------------------------------------------------------------------

MODERATION_TRANSITIONS = {
    Moderation.PENDING: {Moderation.APPROVED, Moderation.REJECTED},
    Moderation.APPROVED: {Moderation.REJECTED},  # a later take-down
    Moderation.REJECTED: set(),
}


class InvalidMove(statemachine.InvalidTransition, WrongState):
    """The one :class:`~panjereh.common.statemachine.InvalidTransition`, also a
    :class:`WrongState` as the participation pages and commands expect."""


MODERATION = statemachine.Machine(
    MODERATION_TRANSITIONS,
    field="status",
    message=lambda _item, _to: _("This text has already been moderated."),
    error=InvalidMove,
    update_fields=(),
)


def moderate(item: Suggestion | Comment, moderator, approve: bool, reason: str = ""):
    """Approve or reject a public text; a rejection needs a reason (shown to its author)."""
    if not roles.can_moderate(moderator):
        raise NotAllowed(_("Only moderators can approve or reject texts."))
    reason = normalize(reason)[:1000]
    target = Moderation.APPROVED if approve else Moderation.REJECTED
    if not approve and not reason:
        raise InvalidText(_("Please give the reason for the rejection."))
    if isinstance(item, Suggestion) and item.origin == Origin.CATALOGUE:
        raise NotAllowed(_("Service cards are not moderated here."))
    return MODERATION.move(
        item,
        target,
        moderated_by=catalogue_roles.person(moderator),
        moderated_at=timezone.now(),
        moderation_reason=reason,
    )


# -- consultations ----------------------------------------------------------------------------

TRANSITIONS = {
    ConsultationState.DRAFT: {ConsultationState.OPEN},
    ConsultationState.OPEN: {ConsultationState.CLOSED},
    ConsultationState.CLOSED: {ConsultationState.SUMMARY},
    ConsultationState.SUMMARY: set(),
}


def _require_staff(user, agency_id: int) -> None:
    if not roles.can_manage(user, agency_id):
        raise NotAllowed(_("You can manage only your own agency's consultations."))


def create_consultation(
    user,
    agency: Agency,
    title: str,
    text: str,
    opens_at: dt.datetime,
    closes_at: dt.datetime,
    kind: str = ConsultationKind.QUESTION,
) -> Consultation:
    _require_staff(user, agency.pk)
    if closes_at <= opens_at:
        raise InvalidText(_("The closing date must be after the opening date."))
    return Consultation.objects.create(
        agency=agency,
        kind=kind,
        title=normalize(title)[:300],
        text=normalize(text),
        opens_at=opens_at,
        closes_at=closes_at,
        created_by=catalogue_roles.person(user),
    )


def _consultation_event(consultation: Consultation, from_state, to_state, *, by, **_context):
    ConsultationEvent.objects.create(
        consultation=consultation,
        from_state=from_state,
        to_state=to_state,
        by=catalogue_roles.person(by),
    )


CONSULTATION = statemachine.Machine(
    TRANSITIONS,
    record=_consultation_event,
    message=lambda consultation, _to: (
        _("This step is not possible for a consultation in the state: %(state)s.")
        % {"state": consultation.get_state_display()}
    ),
    error=InvalidMove,
    update_fields=(),
)


def transition(consultation: Consultation, to: str, by=None, **fields) -> Consultation:
    """The one way a consultation changes state: checked against TRANSITIONS, recorded."""
    return CONSULTATION.move(consultation, to, by=by, **fields)


def open_consultation(user, consultation: Consultation) -> Consultation:
    _require_staff(user, consultation.agency_id)
    return transition(consultation, ConsultationState.OPEN, by=user)


def close_consultation(user, consultation: Consultation) -> Consultation:
    """Close now (early, or on time); the closing date becomes the moment it closed."""
    _require_staff(user, consultation.agency_id)
    closes_at = min(consultation.closes_at, timezone.now())
    return transition(consultation, ConsultationState.CLOSED, by=user, closes_at=closes_at)


def close_expired(now: dt.datetime | None = None) -> int:
    """Close every open consultation whose closing date has passed (by nobody: the clock)."""
    now = now or timezone.now()
    closed = 0
    for consultation in Consultation.objects.filter(
        state=ConsultationState.OPEN, closes_at__lte=now
    ):
        try:
            transition(consultation, ConsultationState.CLOSED)
            closed += 1
        except WrongState:
            pass  # closed meanwhile by its agency
    return closed


def publish_summary(user, consultation: Consultation, summary: str) -> Consultation:
    _require_staff(user, consultation.agency_id)
    summary = normalize(summary)
    if len(summary) < MIN_TEXT:
        raise InvalidText(_("Please write what the agency changed after the consultation."))
    if consultation.state == ConsultationState.OPEN and consultation.closes_at <= timezone.now():
        close_expired()
        consultation.refresh_from_db()
    return transition(
        consultation,
        ConsultationState.SUMMARY,
        by=user,
        summary=summary,
        summary_published_at=timezone.now(),
    )


def comment(user, consultation: Consultation, text: str) -> Comment:
    if not roles.is_citizen(user):
        raise NotAllowed(_("Only signed-in citizens can comment."))
    if not consultation.accepting_comments:
        raise WrongState(_("This consultation is not open for comments."))
    text = clean_text(text, MAX_COMMENT)
    return Comment.objects.create(consultation=consultation, author=user, text=text)
