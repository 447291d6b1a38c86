"""The grant lifecycle: requested → approved | rejected → implemented → revoked | expired.

Every change of state goes through :func:`transition`, which checks the move is allowed, locks
the row, stamps the time and records a :class:`GrantEvent`. ``overdue`` is not a state: it is
derived (approved, unused, past the implementation deadline).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from panjereh.catalogue import roles
from panjereh.catalogue.models import Agency, Service
from panjereh.common import statemachine

from .models import Grant, GrantEvent, GrantState

TRANSITIONS: dict[str, set[str]] = {
    GrantState.REQUESTED: {GrantState.APPROVED, GrantState.REJECTED},
    GrantState.APPROVED: {GrantState.IMPLEMENTED, GrantState.REVOKED, GrantState.EXPIRED},
    GrantState.IMPLEMENTED: {GrantState.REVOKED, GrantState.EXPIRED},
    GrantState.REJECTED: set(),
    GrantState.REVOKED: set(),
    GrantState.EXPIRED: set(),
}
# Decisions of the Interoperability Working Group; the rest are made by the system.
WG_DECISIONS = {GrantState.APPROVED, GrantState.REJECTED, GrantState.REVOKED}


InvalidTransition = statemachine.InvalidTransition  # the one class; the old name stays


def _event(grant: Grant, from_state: str, to_state: str, *, by, changes, at, note, data) -> None:
    GrantEvent.objects.create(
        grant=grant,
        from_state=from_state,
        to_state=to_state,
        at=at,
        actor=roles.person(by),
        note=note,
        data=data,
    )


MACHINE = statemachine.Machine(
    TRANSITIONS,
    record=_event,
    message=lambda grant, to: (
        _("A grant in state “%(from)s” cannot become “%(to)s”.") % {"from": grant.state, "to": to}
    ),
)


def transition(
    grant: Grant,
    to_state: str,
    *,
    actor,
    note: str = "",
    changes: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
) -> Grant:
    """Move ``grant`` to ``to_state``, apply ``changes`` and record the event (with ``data``,
    facts of the decision that are not fields of the grant, e.g. a revocation's resolution)."""

    def decided_by_the_working_group(_locked, _changes, _event) -> None:
        if to_state in WG_DECISIONS:
            roles.require(
                actor,
                roles.DECIDE_GRANTS,
                message=_("Only the Interoperability Working Group decides grants."),
            )

    now = timezone.now()
    stamps = {}
    if to_state in (GrantState.APPROVED, GrantState.REJECTED):
        stamps["decided_at"] = now
    elif to_state == GrantState.IMPLEMENTED:
        stamps["implemented_at"] = now
    elif to_state in (GrantState.REVOKED, GrantState.EXPIRED):
        stamps["ended_at"] = now
    facts = {k: _jsonable(v) for k, v in {**(changes or {}), **(data or {})}.items()}
    return MACHINE.move(
        grant,
        to_state,
        by=actor,
        check=decided_by_the_working_group,
        event={"at": now, "note": note, "data": facts},
        **{**(changes or {}), **stamps},
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


@transaction.atomic
def request_grant(
    consumer: Agency,
    service,
    items: list[str],
    purpose: Service,
    *,
    actor,
    note: str = "",
) -> Grant:
    """A consumer agency asks for ``items`` of ``service`` for ``purpose`` (one of its services)."""
    unknown = sorted(set(items) - set(service.item_codes))
    if not items or unknown:
        raise ValidationError(
            {
                "items": [_("Ask for one or more data items of this service.")]
                if not items
                else [_("Not an item of this service: %(items)s") % {"items": ", ".join(unknown)}]
            }
        )
    if purpose.agency_id != consumer.pk:
        raise ValidationError(
            {"purpose": [_("The purpose must be a service of the consumer agency.")]}
        )
    if not (roles.is_system(actor) or consumer.pk in roles.agencies_for(actor, roles.EDIT)):
        raise roles.NotPermitted(_("Only an agency's administrators and editors request data."))
    grant = Grant.objects.create(
        consumer=consumer,
        service=service,
        purpose=purpose,
        requested_items=sorted(set(items)),
        requested_by=roles.person(actor),
        note=note,
    )
    GrantEvent.objects.create(
        grant=grant, to_state=GrantState.REQUESTED, actor=roles.person(actor), note=note
    )
    return grant


def approve(
    grant: Grant,
    *,
    resolution_number: str,
    resolution_session: str,
    resolution_date: dt.date,
    valid_until: dt.date,
    implementation_deadline: dt.date | None = None,
    items: list[str] | None = None,
    actor,
    note: str = "",
) -> Grant:
    """The Interoperability Working Group approves, possibly fewer items than were asked for."""
    granted = sorted(set(items if items is not None else grant.requested_items))
    outside = set(granted) - set(grant.requested_items)
    if not granted or outside:
        raise ValidationError({"items": [_("Grant some of the requested items, and only those.")]})
    if not resolution_number.strip():
        raise ValidationError({"resolution_number": [_("A resolution number is required.")]})
    if valid_until < resolution_date:
        raise ValidationError({"valid_until": [_("The grant must end after the resolution.")]})
    return transition(
        grant,
        GrantState.APPROVED,
        actor=actor,
        note=note,
        changes={
            "items": granted,
            "resolution_number": resolution_number.strip(),
            "resolution_session": resolution_session.strip(),
            "resolution_date": resolution_date,
            "valid_until": valid_until,
            "implementation_deadline": implementation_deadline,
        },
    )


def reject(grant: Grant, *, actor, resolution_number: str = "", note: str = "") -> Grant:
    return transition(
        grant,
        GrantState.REJECTED,
        actor=actor,
        note=note,
        changes={"resolution_number": resolution_number.strip()},
    )


def revoke(grant: Grant, *, actor, note: str = "", resolution_number: str = "") -> Grant:
    """The working group withdraws a grant; the next call through the gateway is refused.

    The revoking resolution is kept on the event, not on the grant, whose resolution number
    stays the approving one."""
    data = {"resolution_number": resolution_number.strip()} if resolution_number.strip() else None
    return transition(grant, GrantState.REVOKED, actor=actor, note=note, data=data)


def can_decide(user) -> bool:
    """Whether ``user`` may approve, reject and revoke grants (the working group's members)."""
    return roles.can(user, roles.DECIDE_GRANTS)


def allowed(grant: Grant, to_state: str) -> bool:
    return MACHINE.can(grant, to_state)


def mark_implemented(grant: Grant) -> None:
    """The first successful call; concurrent first calls record the transition once."""
    if grant.state != GrantState.APPROVED:
        return
    try:
        transition(grant, GrantState.IMPLEMENTED, note="first successful call", actor=roles.SYSTEM)
    except InvalidTransition:
        pass  # another call got there first


def expire(grant: Grant, *, note: str = "validity ended") -> None:
    try:
        transition(grant, GrantState.EXPIRED, note=note, actor=roles.SYSTEM)
    except InvalidTransition:
        pass


def expire_due(today: dt.date | None = None) -> int:
    """Expire every active grant whose validity has ended; returns how many."""
    today = today or timezone.localdate()
    due = Grant.objects.filter(
        state__in=(GrantState.APPROVED, GrantState.IMPLEMENTED), valid_until__lt=today
    )
    count = 0
    for grant in due:
        expire(grant)
        count += 1
    return count


def overdue(today: dt.date | None = None) -> QuerySet[Grant]:
    today = today or timezone.localdate()
    return Grant.objects.filter(
        state=GrantState.APPROVED, implementation_deadline__lt=today
    ).select_related("consumer", "service", "purpose")
