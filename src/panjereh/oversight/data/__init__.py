"""Reference data shipped with the app: legal obligations and legal targets (copied, not read
from outside the package at run time)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import jdatetime

from panjereh.common import jalali

DATA_DIR = Path(__file__).resolve().parent


@cache
def targets() -> dict:
    return json.loads((DATA_DIR / "targets.json").read_text(encoding="utf-8"))


@cache
def obligations() -> dict:
    return json.loads((DATA_DIR / "obligations.json").read_text(encoding="utf-8"))


def required_smart_share(on: jdatetime.date) -> float | None:
    """The cumulative smart share the law requires of each agency on a Jalali day, or None
    before the first target fell due."""
    required = None
    for step in targets()["smart_share_schedule"]["steps"]:
        if jalali.parse(step["from"]) <= on:
            required = float(step["share"])
    return required
