"""The yearly smartening cycle (Art. 6 note of the 107(c) bylaw).

An agency proposes services to make smart, at least 20% of its eligible services; AEO
certifies the proposal; the Steering Working Group approves it within 30 days of receipt. On
approval each proposed card's ``smart_status`` becomes approved through
:func:`panjereh.catalogue.operations.save_service`, so the catalogue keeps the history as
versions and applies the rules of a smart service. Every transition is a :class:`PlanEvent`.
"""

from __future__ import annotations

import datetime as dt
import math

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from panjereh.catalogue import operations, roles
from panjereh.catalogue import queries as catalogue
from panjereh.catalogue.vocab import SmartStatus
from panjereh.common import jalali, statemachine
from panjereh.common.persian import to_persian_digits

from . import data
from .models import PLAN_TRANSITIONS, PlanEvent, PlanState, SmarteningPlan

PENDING = (PlanState.SUBMITTED, PlanState.CERTIFIED)


def eligible_services(agency_id: int):
    """Connectable services with a service ID, the base the 20% is taken of."""
    return catalogue.connectable_services(agency_id)


def required_count(agency_id: int) -> tuple[int, int]:
    """(eligible, required): 20% of eligible services, rounded up, and never more than the
    services not yet smart (an agency near 100% proposes the rest)."""
    eligible = eligible_services(agency_id)
    total = eligible.count()
    remaining = eligible.exclude(smart_status=SmartStatus.APPROVED).count()
    share = data.targets()["smart_share_per_year"]
    return total, min(math.ceil(share * total), remaining)


def _n(value: int) -> str:
    """A number in the digits of the active language (Persian digits in the Persian UI)."""
    return to_persian_digits(value) if translation.get_language_bidi() else str(value)


def _event(plan: SmarteningPlan, from_state, to_state, *, by, at, note="", **_context) -> None:
    PlanEvent.objects.create(
        plan=plan, at=at, actor=roles.person(by), from_state=from_state, to_state=to_state,
        note=note,
    )  # fmt: skip


MACHINE = statemachine.Machine(
    PLAN_TRANSITIONS,
    record=_event,
    message=lambda plan, to: (
        _("A smartening plan cannot go from %(from)s to %(to)s.")
        % {"from": PlanState(plan.state).label, "to": PlanState(to).label}
    ),
)


@transaction.atomic
def propose(
    agency_id: int,
    year: int,
    service_ids: list[int],
    *,
    author,
    at: dt.datetime | None = None,
) -> SmarteningPlan:
    """Submit an agency's proposal for a Jalali year. Refused (nothing is written) if it names
    fewer than 20% of the agency's eligible services or a service that is not eligible."""
    roles.require(
        author, roles.EDIT, agency_id, _("You may propose services only for your own agency.")
    )
    eligible, required = required_count(agency_id)
    chosen = list(
        eligible_services(agency_id)
        .filter(pk__in=service_ids)
        .exclude(smart_status=SmartStatus.APPROVED)
    )
    if len(chosen) != len(set(service_ids)):
        raise ValidationError(
            _(
                "Only your agency's connectable services with a service ID that are not "
                "yet smart can be proposed."
            )
        )
    if eligible == 0:
        raise ValidationError(_("The agency has no eligible service to propose."))
    if len(chosen) < required:
        raise ValidationError(
            _(
                "The proposal names %(chosen)s services; at least %(required)s are needed "
                "(20%% of the agency's %(eligible)s eligible services)."
            )
            % {"chosen": _n(len(chosen)), "required": _n(required), "eligible": _n(eligible)}
        )
    moment = at or timezone.now()
    plan = SmarteningPlan.objects.create(
        agency_id=agency_id, year=year, eligible_count=eligible, required_count=required
    )
    plan.services.set(chosen)
    MACHINE.move(
        plan,
        PlanState.SUBMITTED,
        by=author,
        event={"at": moment},
        submitted_at=moment,
        approval_due=moment + dt.timedelta(days=data.targets()["wg_approval_sla_days"]),
    )
    _set_smart_status(
        chosen,
        SmartStatus.PROPOSED,
        {SmartStatus.NONE},
        author,
        f"proposed in smartening plan {plan.year}",
        moment,
    )
    return plan


@transaction.atomic
def certify(plan: SmarteningPlan, *, author, at: dt.datetime | None = None) -> SmarteningPlan:
    """AEO certifies that the proposed services can be smart."""
    roles.require(author, roles.CERTIFY, message=_("Only AEO certifies a smartening plan."))
    moment = at or timezone.now()
    plan = MACHINE.move(plan, PlanState.CERTIFIED, by=author, event={"at": moment})
    _set_smart_status(
        plan.services.all(),
        SmartStatus.CERTIFIED,
        {SmartStatus.NONE, SmartStatus.PROPOSED},
        author,
        f"certified in smartening plan {plan.year}",
        moment,
    )
    return plan


@transaction.atomic
def approve(plan: SmarteningPlan, *, author, at: dt.datetime | None = None) -> SmarteningPlan:
    """The Steering Working Group approves: the cards become approved smart services."""
    roles.require(
        author,
        roles.APPROVE_SMART,
        message=_("Only the Steering Working Group approves a smartening plan."),
    )
    moment = at or timezone.now()
    plan = MACHINE.move(
        plan, PlanState.APPROVED, by=author, event={"at": moment}, decided_at=moment
    )
    _set_smart_status(
        plan.services.all(),
        SmartStatus.APPROVED,
        None,
        author,
        f"approved in smartening plan {plan.year}",
        moment,
    )
    return plan


@transaction.atomic
def reject(
    plan: SmarteningPlan, *, author, reason: str, at: dt.datetime | None = None
) -> SmarteningPlan:
    if not reason.strip():
        raise ValidationError(_("Rejecting a smartening plan needs a reason."))
    if not (roles.can_certify(author) or roles.can_approve_smart(author)):
        raise roles.NotPermitted(_("Only AEO or the Steering Working Group rejects a plan."))
    moment = at or timezone.now()
    plan = MACHINE.move(
        plan,
        PlanState.REJECTED,
        by=author,
        event={"at": moment, "note": reason},
        decided_at=moment,
    )
    # The reversal is the system's, on the decision just recorded.
    _set_smart_status(
        plan.services.all(),
        SmartStatus.NONE,
        {SmartStatus.PROPOSED, SmartStatus.CERTIFIED},
        roles.SYSTEM,
        f"smartening plan {plan.year} rejected",
        moment,
    )
    return plan


def _set_smart_status(
    services, status: str, only_from: set | None, author, note: str, moment: dt.datetime
) -> None:
    """Move each card (whose status is in ``only_from``, or any) to ``status`` through the
    catalogue's operations, so rules, rights and a dated version are kept for every card."""
    for service in services:
        if only_from is None or service.smart_status in only_from:
            operations.save_service(
                service, {"smart_status": status}, author=author, note=note, valid_from=moment
            )


def is_overdue(plan: SmarteningPlan, now: dt.datetime | None = None) -> bool:
    """Awaiting the Working Group's decision past the 30 days from receipt."""
    now = now or timezone.now()
    return plan.state in PENDING and plan.approval_due is not None and now > plan.approval_due


def overdue_plans(now: dt.datetime | None = None) -> list[SmarteningPlan]:
    now = now or timezone.now()
    return list(
        SmarteningPlan.objects.filter(state__in=PENDING, approval_due__lt=now)
        .select_related("agency")
        .order_by("approval_due")
    )


def current_year() -> int:
    return jalali.from_gregorian(timezone.now()).year
