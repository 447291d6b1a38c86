"""The appointments scheduler's settings (``PANJEREH_APPOINTMENTS_*``), read through the one
reader (docs/appointments.md)."""

from __future__ import annotations

from typing import Any

from panjereh.common.conf import Section

DEFAULTS: dict[str, Any] = {
    # A hold keeps its seat this many minutes; unconfirmed, it expires and the seat is free.
    "HOLD_MINUTES": 5,
    # How far ahead a person may book (days).
    "BOOK_AHEAD_DAYS": 60,
    # A booked slot nobody marked is a no-show this many minutes after its end (the job
    # appointments-no-shows); staff may still correct it to attended.
    "NO_SHOW_GRACE_MINUTES": 60,
    # The no-show rule: NO_SHOW_LIMIT no-shows within NO_SHOW_WINDOW_DAYS days and the person
    # may not book for NO_SHOW_PAUSE_DAYS days after the last one (they are told when it
    # starts). 0 as the limit turns the rule off.
    "NO_SHOW_LIMIT": 3,
    "NO_SHOW_WINDOW_DAYS": 90,
    "NO_SHOW_PAUSE_DAYS": 14,
    # A place freed on a full day is held for the first person of its waiting list this many
    # minutes (they are told by inbox and SMS and confirm it like any hold).
    "OFFER_HOLD_MINUTES": 120,
}

SECTION = Section("PANJEREH_APPOINTMENTS_", DEFAULTS)


def get(name: str) -> Any:
    return SECTION.get(name)
