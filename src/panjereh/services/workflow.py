"""The application state machine: one table of allowed moves and one function that moves.

``transition`` locks the row, checks the move, writes the new state and appends the journey
event in one transaction, so the state and its history can never disagree.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from panjereh.catalogue import roles
from panjereh.common import statemachine

from .models import Application, JourneyEvent, State

TRANSITIONS: dict[str, set[str]] = {
    # A fee-bearing application waits for its payment (services.fees): paid, it is submitted
    # to the engine; withdrawn or left unpaid, it is closed.
    State.AWAITING_PAYMENT: {State.SUBMITTED, State.CLOSED},
    State.SUBMITTED: {State.FETCHING, State.HUMAN_REVIEW},
    State.FETCHING: {State.WAITING, State.DECIDING, State.HUMAN_REVIEW},
    State.WAITING: {State.FETCHING, State.HUMAN_REVIEW},
    State.DECIDING: {State.ISSUING, State.REJECTED, State.HUMAN_REVIEW},
    State.HUMAN_REVIEW: {State.ISSUING, State.REJECTED},
    State.ISSUING: {State.ISSUED, State.HUMAN_REVIEW},  # a fault no retry fixes
    State.ISSUED: set(),
    State.REJECTED: set(),
    State.CLOSED: set(),
}
TERMINAL = {State.ISSUED, State.REJECTED, State.CLOSED}
# States the engine advances by itself; the others wait for an officer or are final.
RUNNABLE = [State.SUBMITTED, State.FETCHING, State.WAITING, State.DECIDING, State.ISSUING]


InvalidTransition = statemachine.InvalidTransition  # the one class; the old name stays


def record(
    application: Application,
    kind: str,
    text_fa: str = "",
    text_en: str = "",
    data: dict[str, Any] | None = None,
) -> JourneyEvent:
    """Append a journey event that does not change the state."""
    return JourneyEvent.objects.create(
        application=application,
        kind=kind,
        text_fa=text_fa[:500],
        text_en=text_en[:500],
        data=data or {},
    )


def _state_event(
    application: Application,
    from_state: str,
    to_state: str,
    *,
    text_fa: str = "",
    text_en: str = "",
    data: dict[str, Any] | None = None,
    **_context: Any,
) -> JourneyEvent:
    return JourneyEvent.objects.create(
        application=application,
        kind=JourneyEvent.Kind.STATE,
        from_state=from_state,
        to_state=to_state,
        text_fa=text_fa[:500],
        text_en=text_en[:500],
        data=data or {},
    )


MACHINE = statemachine.Machine(
    TRANSITIONS,
    record=_state_event,
    message=lambda application, to: f"{application.tracking_code}: {application.state} → {to}",
)


def transition(
    application: Application,
    to_state: str,
    *,
    text_fa: str = "",
    text_en: str = "",
    data: dict[str, Any] | None = None,
    **changes: Any,
) -> Application:
    """Move ``application`` to ``to_state`` (with field ``changes``) and record the event."""
    if to_state in TERMINAL:
        changes = {**changes, "completed_at": timezone.now(), "next_attempt_at": None}
    return MACHINE.move(
        application,
        to_state,
        event={"text_fa": text_fa, "text_en": text_en, "data": data},
        **changes,
    )


# -- the agency's officers ---------------------------------------------------------------------


def require_officer(officer, application: Application) -> None:
    """Only the agency's deciding staff (editors, admins) act on its applications."""
    roles.require(
        officer,
        roles.DECIDE,
        application.agency_id,
        _("Only the agency's officers (editors and administrators) can act on its applications."),
    )


@transaction.atomic
def assign(application: Application, officer) -> Application:
    """An officer takes the case: it is assigned to them and the journey says so."""
    require_officer(officer, application)
    locked = Application.objects.select_for_update().get(pk=application.pk)
    locked.assigned_to = roles.person(officer)
    locked.save(update_fields=["assigned_to"])
    record(
        locked,
        JourneyEvent.Kind.ASSIGNED,
        "به کارشناس واگذار شد",
        "Assigned to an officer",
        {"officer": getattr(officer, "pk", None)},
    )
    application.assigned_to_id = locked.assigned_to_id
    return application
