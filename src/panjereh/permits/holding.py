"""An issued permit's life after issue: amend, renew, suspend, reinstate, revoke, cancel, expire.

Every move goes through one :class:`~panjereh.common.statemachine.Machine` on the permit's
``status`` and writes a :class:`PermitEvent` (the public history) in the same transaction; the
holder is told in the inbox. Who may do what (:data:`ACTIONS`):

============  ===================================  =====================  ==================
action        who                                  from                   to
============  ===================================  =====================  ==================
amend         the authority's staff (decide)       valid, suspended       (unchanged)
suspend       the authority's staff (decide)       valid                  suspended
reinstate     the authority's staff (decide)       suspended              valid
revoke        the authority's admins (revoke)      valid, suspended       revoked
renew         the holder                           valid (near its end),  valid
                                                   expired
cancel        the holder                           valid, suspended       cancelled
expire        the window (job ``permits-expire``)  valid, suspended       expired
============  ===================================  =====================  ==================

"The authority's staff" are the members of the authority's agency with that capability
(:mod:`panjereh.catalogue.roles`): the staff of another authority, and the platform roles,
which read everything, may do none of it. An authority outside the service catalogue (no agency)
is acted for by the platform's operators (the ``operate`` capability, ITO). "The holder" is the
person the permit was issued to or, for a company's permit, a person the company registry names
now (asked afresh, ``identity.businesses.require_can_act`` with the ``apply`` scope).

An amendment changes the public particulars (business name, province); the changes are kept in
the event. Renewal is open from ``PANJEREH_PERMITS_RENEW_DAYS`` (60) days before the end of
validity, and after it; it extends validity by the permit's term (five years) from the later of
its old end and today. An amended or renewed permit is signed again (the old paper then checks
as "replaced by a newer copy").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from panjereh.catalogue import roles
from panjereh.common import jalali, statemachine
from panjereh.common.conf import setting
from panjereh.common.persian import to_persian_digits

from . import issuing
from .models import IssuedPermit, PermitEvent, PermitEventKind, PermitStatus
from .ratings import clean_text

S = PermitStatus
MAX_REASON = 1000
MAX_BUSINESS_NAME = 200
MAX_PROVINCE = 60


class HoldingError(statemachine.InvalidTransition):
    """A move the rules refuse (the message says why); nothing changed."""


def renew_days() -> int:
    return int(setting("PANJEREH_PERMITS_RENEW_DAYS", 60))


TABLE = {
    S.VALID: {S.VALID, S.SUSPENDED, S.REVOKED, S.CANCELLED, S.EXPIRED},
    S.SUSPENDED: {S.SUSPENDED, S.VALID, S.REVOKED, S.CANCELLED, S.EXPIRED},
    S.EXPIRED: {S.VALID},
    S.REVOKED: set(),
    S.CANCELLED: set(),
}


@dataclass(frozen=True)
class Action:
    kind: str  # a PermitEventKind
    who: str  # "staff" | "admin" | "holder" | "system"
    from_states: frozenset[str]
    to_state: str | None  # None: unchanged
    label: object


ACTIONS: dict[str, Action] = {
    "amend": Action(
        PermitEventKind.AMENDED,
        "staff",
        frozenset({S.VALID, S.SUSPENDED}),
        None,
        gettext_lazy("Amend"),
    ),
    "suspend": Action(
        PermitEventKind.SUSPENDED,
        "staff",
        frozenset({S.VALID}),
        S.SUSPENDED,
        gettext_lazy("Suspend"),
    ),
    "reinstate": Action(
        PermitEventKind.REINSTATED,
        "staff",
        frozenset({S.SUSPENDED}),
        S.VALID,
        gettext_lazy("Lift the suspension"),
    ),
    "revoke": Action(
        PermitEventKind.REVOKED,
        "admin",
        frozenset({S.VALID, S.SUSPENDED}),
        S.REVOKED,
        gettext_lazy("Revoke the permit"),
    ),
    "renew": Action(
        PermitEventKind.RENEWED,
        "holder",
        frozenset({S.VALID, S.EXPIRED}),
        S.VALID,
        gettext_lazy("Renew"),
    ),
    "cancel": Action(
        PermitEventKind.CANCELLED,
        "holder",
        frozenset({S.VALID, S.SUSPENDED}),
        S.CANCELLED,
        gettext_lazy("Cancel"),
    ),
    "expire": Action(
        PermitEventKind.EXPIRED,
        "system",
        frozenset({S.VALID, S.SUSPENDED}),
        S.EXPIRED,
        gettext_lazy("Expire"),
    ),
}


def _json(value):
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value


def _record(locked, from_state, to_state, *, by, changes, kind, note="", diff=None, **_):
    PermitEvent.objects.create(
        issued=locked,
        at=timezone.now(),
        kind=kind,
        from_status=from_state,
        to_status=to_state,
        by=roles.person(by) if by is not None else None,
        note=note,
        changes=diff or {},
    )


MACHINE = statemachine.Machine(
    TABLE,
    field="status",
    record=_record,
    error=HoldingError,
    update_fields=["updated_at"],
    message=lambda issued, to: _("This permit cannot be changed like this in its present state."),
)


# -- rights -----------------------------------------------------------------------------------


def is_staff(actor, issued: IssuedPermit, capability: str = roles.DECIDE) -> bool:
    """Whether ``actor`` acts for the permit's issuing authority with ``capability``."""
    agency_id = issued.authority.agency_id
    if agency_id is None:
        return roles.can(actor, roles.OPERATE)
    return roles.can(actor, capability, agency_id)


def is_holder(actor, issued: IssuedPermit, *, fresh: bool = True) -> bool:
    """Whether ``actor`` holds the permit: its person, or for a company's permit a person the
    company registry names now (``fresh=False``: the local copy, for showing pages)."""
    if actor is None or roles.is_system(actor) or not getattr(actor, "is_authenticated", False):
        return False
    if not issued.company_id:
        return issued.holder_id == actor.pk
    from panjereh.identity.businesses import CannotAct, my_companies, require_can_act

    if not fresh:
        return issued.holder_id == actor.pk or any(
            c.company.pk == issued.company_id for c in my_companies(actor)
        )
    try:
        require_can_act(actor, issued.company, "apply")
    except CannotAct:
        return False
    return True


def may(actor, action: str, issued: IssuedPermit, *, fresh: bool = False) -> bool:
    """Whether ``actor`` has the right to ``action`` on ``issued`` (its state aside)."""
    who = ACTIONS[action].who
    if who == "system":
        return roles.is_system(actor)
    if roles.is_system(actor):
        return True
    if who == "staff":
        return is_staff(actor, issued, roles.DECIDE)
    if who == "admin":
        return is_staff(actor, issued, roles.REVOKE)
    return is_holder(actor, issued, fresh=fresh)


def _refused(action: str) -> roles.NotPermitted:
    who = ACTIONS[action].who
    if who == "holder":
        return roles.NotPermitted(_("Only the permit's holder can do this."))
    if who == "admin":
        return roles.NotPermitted(_("Only the issuing authority's administrators can revoke it."))
    return roles.NotPermitted(_("Only the issuing authority's staff can do this."))


def available(actor, issued: IssuedPermit) -> list[str]:
    """The actions ``actor`` may take on ``issued`` now (for the pages' buttons)."""
    found = []
    for name, action in ACTIONS.items():
        if name == "expire" or issued.status not in action.from_states:
            continue
        if name == "renew" and not renewable_now(issued):
            continue
        if may(actor, name, issued):
            found.append(name)
    return found


def renewable_now(issued: IssuedPermit, today: dt.date | None = None) -> bool:
    if issued.status == S.EXPIRED:
        return True
    if issued.valid_until is None:
        return False
    today = today or timezone.localdate()
    return issued.valid_until - today <= dt.timedelta(days=renew_days())


# -- the one way to move ------------------------------------------------------------------


def _move(
    actor,
    issued: IssuedPermit,
    action: str,
    *,
    note: str = "",
    fields: Callable[[IssuedPermit], dict] | None = None,
) -> IssuedPermit:
    spec = ACTIONS[action]
    if actor is None:
        raise roles.NotPermitted(_("Sign in first."))
    if not may(actor, action, issued, fresh=True):
        raise _refused(action)

    def guard(locked: IssuedPermit) -> None:
        if locked.status not in spec.from_states:
            raise HoldingError(state_message(locked, action))

    def check(locked: IssuedPermit, changes: dict, event: dict) -> None:
        new = fields(locked) if fields else {}
        diff = {
            name: [_json(getattr(locked, name)), _json(value)]
            for name, value in new.items()
            if getattr(locked, name) != value
        }
        if action == "amend" and not diff:
            raise HoldingError(_("Nothing was changed: the particulars are the same."))
        changes.update({name: new[name] for name in diff})
        event["diff"] = diff

    with transaction.atomic():
        MACHINE.move(
            issued,
            spec.to_state or issued.status,
            by=actor,
            event={"kind": spec.kind, "note": note},
            guard=guard,
            check=check,
        )
        if action in ("amend", "renew"):
            issued.token, issued.kid = issuing.sign(issued)
            IssuedPermit.objects.filter(pk=issued.pk).update(token=issued.token, kid=issued.kid)
        _tell(issued, action, note)
    return issued


def state_message(issued: IssuedPermit, action: str) -> str:
    status = issued.get_status_display()
    if action == "renew" and issued.status == S.VALID:
        return _("This permit can be renewed from %(days)s days before it ends.") % {
            "days": renew_days()
        }
    return _("This permit is %(status)s: it cannot be changed like this.") % {"status": status}


def _reason(text: str, required: bool = True) -> str:
    return clean_text(text, limit=MAX_REASON, field="reason", required=required)


def amend(
    actor, issued: IssuedPermit, *, business_name=None, province=None, note=""
) -> IssuedPermit:
    """The authority's staff correct the public particulars (the changes are recorded)."""
    name = None
    if business_name is not None:
        name = clean_text(
            business_name, limit=MAX_BUSINESS_NAME, field="business_name", required=True
        )
    place = None
    if province is not None:
        place = clean_text(province, limit=MAX_PROVINCE, field="province")
    reason = _reason(note, required=False)

    def fields(locked: IssuedPermit) -> dict:
        new = {}
        if name is not None:
            new["business_name"] = name
        if place is not None:
            new["province"] = place
        return new

    return _move(actor, issued, "amend", note=reason, fields=fields)


def renew(actor, issued: IssuedPermit) -> IssuedPermit:
    """The holder renews: validity extended by the permit's term."""

    def fields(locked: IssuedPermit) -> dict:
        today = timezone.localdate()
        if locked.status == S.VALID and not renewable_now(locked, today):
            raise HoldingError(state_message(locked, "renew"))
        start = max(locked.valid_until or today, today)
        try:
            until = start.replace(year=start.year + issuing.DEFAULT_VALIDITY_YEARS)
        except ValueError:  # 29 February
            until = start.replace(year=start.year + issuing.DEFAULT_VALIDITY_YEARS, day=28)
        return {"valid_until": until}

    return _move(actor, issued, "renew", fields=fields)


def suspend(actor, issued: IssuedPermit, reason: str) -> IssuedPermit:
    return _move(actor, issued, "suspend", note=_reason(reason))


def reinstate(actor, issued: IssuedPermit, reason: str = "") -> IssuedPermit:
    return _move(actor, issued, "reinstate", note=_reason(reason, required=False))


def revoke(actor, issued: IssuedPermit, reason: str) -> IssuedPermit:
    return _move(actor, issued, "revoke", note=_reason(reason))


def cancel(actor, issued: IssuedPermit, reason: str = "") -> IssuedPermit:
    return _move(actor, issued, "cancel", note=_reason(reason, required=False))


def expire_due(batch: int = 500) -> int:
    """Valid (and suspended) permits past their last day become expired: the daily job
    ``permits-expire``. Each in its own transaction; how many moved."""
    today = timezone.localdate()
    moved = 0
    while True:
        due = list(
            IssuedPermit.objects.filter(status__in=(S.VALID, S.SUSPENDED), valid_until__lt=today)
            .select_related("permit", "authority", "holder")
            .order_by("pk")[:batch]
        )
        for issued in due:
            try:
                _move(roles.SYSTEM, issued, "expire")
            except HoldingError:
                continue  # moved by someone else meanwhile
            moved += 1
        if len(due) < batch:
            return moved


# -- telling the holder -------------------------------------------------------------------

_SUBJECTS = {
    "amend": ("مشخصات مجوز شما اصلاح شد", "Your permit's particulars were amended"),
    "renew": ("مجوز شما تمدید شد", "Your permit was renewed"),
    "suspend": ("مجوز شما تعلیق شد", "Your permit was suspended"),
    "reinstate": ("تعلیق مجوز شما برداشته شد", "The suspension of your permit was lifted"),
    "revoke": ("مجوز شما ابطال شد", "Your permit was revoked"),
    "cancel": ("مجوز شما به درخواست خودتان لغو شد", "Your permit was cancelled at your request"),
    "expire": ("مهلت اعتبار مجوز شما به پایان رسید", "Your permit has expired"),
}


def _tell(issued: IssuedPermit, action: str, note: str) -> None:
    subject_fa, subject_en = _SUBJECTS[action]
    title_fa = to_persian_digits(issued.permit.title_fa)
    title_en = issued.permit.title_en or issued.permit.title_fa
    body_fa = [
        f"{subject_fa}: «{title_fa}»، شناسه مجوز {to_persian_digits(issued.number)}.",
        f"وضعیت: {_status_fa(issued.status)}؛ اعتبار تا {jalali.format_fa(issued.valid_until)}.",
    ]
    body_en = [
        f"{subject_en}: “{title_en}”, permit ID {issued.number}.",
        f"Status: {issued.status}; valid until "
        f"{issued.valid_until.isoformat() if issued.valid_until else '-'}.",
    ]
    if note:
        body_fa.append(f"دلیل: {note}")
        body_en.append(f"Reason: {note}")
    event_count = PermitEvent.objects.filter(issued=issued).count()
    issuing.tell_holder(
        issued,
        f"{action}:{event_count}",
        (f"{subject_fa}: {title_fa}", f"{subject_en}: {title_en}"),
        ("\n".join(body_fa), "\n".join(body_en)),
    )


STATUS_FA = {
    S.VALID: "معتبر",
    S.SUSPENDED: "تعلیق‌شده",
    S.REVOKED: "ابطال‌شده",
    S.CANCELLED: "لغوشده به درخواست دارنده",
    S.EXPIRED: "منقضی",
}


def _status_fa(status: str) -> str:
    return STATUS_FA.get(status, status)
