"""What the pages (and other apps) may read about credit checks: only a party's own."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet

from . import operations
from .models import CLOSED_STATES, CheckState, CreditCheck, StatusRead


def checks_of(national_code: str) -> QuerySet[CreditCheck]:
    """Every check the person is a party to, newest first."""
    if not national_code:
        return CreditCheck.objects.none()
    return CreditCheck.objects.filter(
        Q(initiator_code=national_code) | Q(counterparty_code=national_code)
    ).select_related("initiator", "counterparty")


def check_for(reference: str, national_code: str) -> CreditCheck | None:
    """The check if this person is a party to it; None otherwise (as if it did not exist)."""
    if not national_code or not reference:
        return None
    return checks_of(national_code).filter(reference=reference[:20]).first()


def _name(user, code: str) -> str:
    if user is not None and user.get_full_name():
        return user.get_full_name()
    return ""


@dataclass
class PartyView:
    """One party as the page shows it to ``viewer``."""

    is_me: bool
    name: str
    code_tail: str  # the last digits of the national code, never the whole code of the other
    consented_at: Any = None
    consent_expires_at: Any = None
    withdrawn_at: Any = None


@dataclass
class CheckView:
    check: CreditCheck
    me: PartyView
    other: PartyView
    expires_at: Any
    can_consent: bool
    can_withdraw: bool
    can_read: bool
    reads: list[dict[str, Any]] = field(default_factory=list)
    latest_result: StatusRead | None = None


def view_of(check: CreditCheck, viewer_code: str, moment=None) -> CheckView:
    """The check as one party sees it: both parties' consents, every read by either (who read
    whose status, when), and the latest result the viewer read, while the check is open."""
    consents = {c.national_code: c for c in check.consents.all()}
    valid = {c.national_code for c in operations.valid_consents(check, moment)}
    other_code = check.other_code(viewer_code)
    users = {
        check.initiator_code: check.initiator,
        check.counterparty_code: check.counterparty,
    }

    def party(code: str) -> PartyView:
        consent = consents.get(code)
        return PartyView(
            is_me=code == viewer_code,
            # The initiator named themself by starting; the other party's name (from their
            # account) only once they agreed: typing a national code reveals no one's name.
            name=_name(users.get(code), code)
            if code == check.initiator_code or code in consents
            else "",
            code_tail=code[-3:],
            consented_at=consent.given_at if consent else None,
            consent_expires_at=consent.expires_at if consent else None,
            withdrawn_at=consent.withdrawn_at if consent else None,
        )

    open_ = check.state not in CLOSED_STATES
    reads = list(check.reads.all())
    rows = [
        {
            "when": r.read_at,
            "by_me": r.reader_code == viewer_code,
            "reference": check.reference,
        }
        for r in reads
    ]
    mine = [r for r in reads if r.reader_code == viewer_code and r.result]
    return CheckView(
        check=check,
        me=party(viewer_code),
        other=party(other_code),
        expires_at=operations.expires_at(check) if open_ else None,
        can_consent=open_ and viewer_code not in consents,
        can_withdraw=open_,
        can_read=open_ and check.state == CheckState.CONSENTED and len(valid) == 2,
        reads=rows,
        latest_result=mine[0] if mine and open_ else None,
    )


def reads_of(check: CreditCheck) -> QuerySet[StatusRead]:
    return check.reads.all()
