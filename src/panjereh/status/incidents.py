"""Write operations on incidents: open, resolve, reopen, note. Each writes a timeline entry.

Public ids are ``INC-<Jalali year of the start>-<number in that year>`` (``INC-1405-0007``):
short enough to read out on the phone, and ordered, so a citizen's id says when it began.
"""

from __future__ import annotations

import datetime as dt
import re

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from panjereh.catalogue import roles
from panjereh.common import jalali, statemachine, uniquecode
from panjereh.common.persian import to_latin_digits

from .models import TRANSITIONS, Incident, IncidentKind, IncidentState, IncidentUpdate, System

PREFIX = "INC"
_LOOKUP_RE = re.compile(r"^\s*(?:INC)?\s*[-_/\s]*(\d{4})\s*[-_/\s]+\s*(\d{1,6})\s*$", re.IGNORECASE)


TransitionError = statemachine.InvalidTransition  # the one class; the old name stays


def format_id(year: int, seq: int) -> str:
    return f"{PREFIX}-{year}-{seq:04d}"


def parse_id(text: str) -> tuple[int, int] | None:
    """``INC-1405-0007``, ``inc 1405 7``, ``۱۴۰۵-۷`` → (1405, 7); anything else → None."""
    cleaned = to_latin_digits(text or "").replace("\u200c", "").replace("–", "-").replace("—", "-")
    match = _LOOKUP_RE.match(cleaned)
    if not match:
        return None
    return int(match.group(1)), int(match.group(2))


def find(text: str) -> Incident | None:
    parsed = parse_id(text)
    if parsed is None:
        return None
    year, seq = parsed
    return Incident.objects.select_related("system").filter(year=year, seq=seq).first()


def _number(incident: Incident) -> None:
    """Give the incident the next number of its start's Jalali year, and save it."""
    incident.year = jalali.from_gregorian(incident.started_at).year

    def next_number() -> str:
        last = Incident.objects.filter(year=incident.year).aggregate(m=Max("seq"))["m"] or 0
        incident.seq = last + 1
        incident.public_id = format_id(incident.year, incident.seq)
        return incident.public_id

    def save(_public_id: str) -> None:
        incident.pk = None  # a number another prober took left no row: insert afresh
        incident.save()

    uniquecode.insert_with_unique_code(next_number, save, attempts=5)


def _require_operator(actor) -> None:
    """Only the platform operator (ITO, superusers) and the monitor (``roles.SYSTEM``) write
    incidents: the status page is the window's word to the public."""
    roles.require(actor, roles.OPERATE, message=_("Only the platform operator records incidents."))


def _entry(incident: Incident, kind: str, at: dt.datetime, text_fa: str = "", text_en: str = ""):
    return IncidentUpdate.objects.create(
        incident=incident, kind=kind, at=at, text_fa=text_fa, text_en=text_en
    )


@transaction.atomic
def open_incident(
    system: System,
    started_at: dt.datetime,
    *,
    kind: str = IncidentKind.OUTAGE,
    first_error: str = "",
    failed_checks: int = 0,
    title_fa: str = "",
    title_en: str = "",
    note_fa: str = "",
    note_en: str = "",
    ended_at: dt.datetime | None = None,
    actor,
) -> Incident:
    """Record an incident of ``system`` that began at ``started_at`` (ended, if ``ended_at``)."""
    _require_operator(actor)
    incident = Incident(
        system=system,
        kind=kind,
        started_at=started_at,
        ended_at=ended_at,
        state=IncidentState.RESOLVED if ended_at else IncidentState.OPEN,
        first_error=first_error[:200],
        failed_checks=failed_checks,
        title_fa=title_fa,
        title_en=title_en,
        note_fa=note_fa,
        note_en=note_en,
    )
    _number(incident)
    # An outage's opening entry has no text: the page words it from the incident's figures.
    _entry(incident, IncidentUpdate.Kind.OPENED, started_at, note_fa, note_en)
    if ended_at:
        _entry(incident, IncidentUpdate.Kind.RESOLVED, ended_at)
    return incident


# The timeline entry of each move.
_ENTRY = {
    IncidentState.RESOLVED: IncidentUpdate.Kind.RESOLVED,
    IncidentState.OPEN: IncidentUpdate.Kind.REOPENED,
}


def _event(incident: Incident, _from, to_state: str, *, at, text_fa="", text_en="", **_context):
    _entry(incident, _ENTRY[to_state], at, text_fa, text_en)


# The row is locked before the state is read: two operators, or an operator and the monitor,
# at once see one move and a refusal, not two "resolved" entries.
MACHINE = statemachine.Machine(
    TRANSITIONS,
    record=_event,
    message=lambda incident, to: f"{incident.public_id}: {incident.state} → {to}",
    update_fields=("updated_at",),
)


def resolve(
    incident: Incident, ended_at: dt.datetime, *, actor, text_fa: str = "", text_en: str = ""
) -> Incident:
    """The system is back: the incident ends at ``ended_at`` (the first successful check)."""
    _require_operator(actor)

    def ends_after_it_started(locked: Incident, changes: dict, event: dict) -> None:
        changes["ended_at"] = event["at"] = max(ended_at, locked.started_at)

    return MACHINE.move(
        incident,
        IncidentState.RESOLVED,
        check=ends_after_it_started,
        event={"text_fa": text_fa, "text_en": text_en},
    )


def reopen(incident: Incident, *, actor, text_fa: str = "", text_en: str = "") -> Incident:
    _require_operator(actor)
    return MACHINE.move(
        incident,
        IncidentState.OPEN,
        event={"at": timezone.now(), "text_fa": text_fa, "text_en": text_en},
        ended_at=None,
    )


def add_note(incident: Incident, text_fa: str, text_en: str = "", *, actor) -> IncidentUpdate:
    _require_operator(actor)
    return _entry(incident, IncidentUpdate.Kind.NOTE, timezone.now(), text_fa, text_en)


def open_for(system: System) -> Incident | None:
    return (
        Incident.objects.filter(system=system, state=IncidentState.OPEN)
        .order_by("started_at")
        .first()
    )
