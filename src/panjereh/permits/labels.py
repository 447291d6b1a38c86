"""An application's state and trace in plain words, for its page (never a raw code).

Every trace kind the window writes (:mod:`.applying`, :mod:`.deciding`, :mod:`.routing`) and
every event type a specialised portal reports (docs/portals.md) has a label here; a kind not
listed gets a generic one, so a new kind never shows as its code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from panjereh.common.persian import to_persian_digits

from .models import ApplicationState, PermitApplication, TraceSource

# kind -> the sentence shown (``%(…)s`` filled from the event's detail).
LABELS: dict[str, Any] = {
    # the window (applying, deciding)
    "registered": gettext_lazy("Registered in the window"),
    "awaiting_payment": gettext_lazy("Waiting for the fee of %(amount)s rials to be paid"),
    "no_treasury": gettext_lazy(
        "The issuing authority cannot take payments in the window yet (it has no treasury "
        "account); the application waits"
    ),
    "fee_paid": gettext_lazy("The fee of %(amount)s rials was paid"),
    "fee_refunded": gettext_lazy("The fee of %(amount)s rials is given back"),
    "issued": gettext_lazy("Permit issued: number %(number)s"),
    "queued_for_portal": gettext_lazy(
        "Waiting to be sent to the issuing authority’s specialised portal"
    ),
    "sent_to_authority_queue": gettext_lazy(
        "Sent to the issuing authority for a decision in the window"
    ),
    "approved": gettext_lazy("Approved by the issuing authority"),
    "rejected": gettext_lazy("Rejected by the issuing authority"),
    "withdrawn": gettext_lazy("Withdrawn by the applicant"),
    # the window's hand-offs to a portal (routing)
    "sent": gettext_lazy("Sent to the issuing authority’s specialised portal"),
    "sent_to_portal": gettext_lazy("Sent to the issuing authority’s specialised portal"),
    "send_failed": gettext_lazy(
        "The specialised portal did not answer; the window will send it again"
    ),
    "portal_unreachable": gettext_lazy(
        "The specialised portal did not answer; the window will send it again"
    ),
    "portal_refused": gettext_lazy("The specialised portal refused the application"),
    "resent": gettext_lazy("Sent again to the specialised portal by the window's staff"),
    "overdue": gettext_lazy("The issuing authority has passed its legal time"),
    # the portal's events
    "received": gettext_lazy("Received by the issuing authority’s specialised portal"),
    "under_review": gettext_lazy("Under review by the issuing authority"),
    "inspection_scheduled": gettext_lazy("A site inspection was scheduled"),
    "more_information_requested": gettext_lazy("The issuing authority asked for more information"),
    "information_requested": gettext_lazy("The issuing authority asked for more information"),
    "information_sent": gettext_lazy("The applicant’s answer was sent"),
}

STATE_LABELS: dict[str, Any] = {
    ApplicationState.AWAITING_PAYMENT: gettext_lazy("Waiting for you to pay the fee"),
    ApplicationState.ROUTING: gettext_lazy("Being sent to the issuing authority"),
    ApplicationState.AT_PORTAL: gettext_lazy("With the issuing authority’s specialised portal"),
    ApplicationState.UNDER_REVIEW: gettext_lazy("Under review by the issuing authority"),
    ApplicationState.INFORMATION_REQUESTED: gettext_lazy(
        "The issuing authority needs more information"
    ),
    ApplicationState.INSPECTION_SCHEDULED: gettext_lazy("A site inspection is scheduled"),
    ApplicationState.ISSUED: gettext_lazy("Permit issued"),
    ApplicationState.REJECTED: gettext_lazy("Rejected"),
    ApplicationState.WITHDRAWN: gettext_lazy("Withdrawn"),
}


def _persian() -> bool:
    return (translation.get_language() or "fa").startswith("fa")


def _number(value: Any) -> str:
    try:
        text = f"{int(value):,}"
    except (TypeError, ValueError):
        return ""
    return to_persian_digits(text.replace(",", "٬")) if _persian() else text


def _digits(value: Any) -> str:
    text = str(value or "")
    return to_persian_digits(text) if _persian() else text


def state_label(state: str) -> str:
    label = STATE_LABELS.get(state)
    return str(label) if label is not None else _("In progress")


@dataclass(frozen=True)
class Step:
    at: Any
    text: str
    source: str
    person: str
    company: str
    note: str
    kind: str


def step_text(kind: str, detail: dict, source: str) -> str:
    label = LABELS.get(kind)
    if label is None:
        return str(
            _("A step at the issuing authority’s specialised portal")
            if source == TraceSource.PORTAL
            else _("A step in the window")
        )
    values = {
        "amount": _number(detail.get("amount")),
        "number": _digits(detail.get("number")),
    }
    try:
        return str(label) % values
    except (KeyError, TypeError, ValueError):
        return str(label)


def _note(kind: str, detail: dict) -> str:
    """The words a person wrote that belong to the step (a reason, a request)."""
    for key in ("reason", "requested", "inspection"):
        value = detail.get(key)
        if isinstance(value, str) and value:
            return value
    error = detail.get("error")
    if isinstance(error, str) and error and kind in ("portal_unreachable", "portal_refused"):
        from .routing import error_text  # routing's words for its own failure codes

        return error_text(error)
    return ""


def steps(application: PermitApplication) -> list[Step]:
    rows = application.trace.select_related("by").order_by("at", "id")
    result = []
    for row in rows:
        detail = row.detail if isinstance(row.detail, dict) else {}
        person = detail.get("person") or (
            (row.by.get_full_name() or row.by.username) if row.by is not None else ""
        )
        result.append(
            Step(
                at=row.at,
                text=step_text(row.kind, detail, row.source),
                source=str(
                    _("The window")
                    if row.source == TraceSource.WINDOW
                    else _("The specialised portal")
                ),
                person=person if isinstance(person, str) else "",
                company=detail.get("company") if isinstance(detail.get("company"), str) else "",
                note=_note(row.kind, detail),
                kind=row.kind,
            )
        )
    return result
