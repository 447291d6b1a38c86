"""How a fetched value is written on a document or a page: never as the registry's code.

A document template reads fetched data through placeholders, ``{fetch.field}``; a placeholder
may name a format, ``{fetch.field|format}``, from the closed list :data:`FORMATS`:

- a vocabulary of :data:`VOCABULARIES` (``veteran_status``, ``degree_level``, ``sex``, ``yes_no``):
  the registry's code becomes its Persian or English label; a code the vocabulary does not
  know is written as "—" (and logged), never as itself;
- ``jyear``: a Gregorian year (an integer, as the registries keep them) as its Jalali year;
- ``jdate``: an ISO date or date-time as the Jalali date.

A value without a format is written as the registry gave it (names, places, national codes,
Jalali dates the registries already give). :func:`render` returns the Persian and the English
text of one template.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

import jdatetime

from panjereh.common import jalali

log = logging.getLogger(__name__)
EMPTY = "—"

# vocabulary → registry code → (Persian label, English label)
VOCABULARIES: dict[str, dict[str, tuple[str, str]]] = {
    "veteran_status": {
        "combatant": ("رزمنده", "Combatant"),
        "disabled_veteran": ("جانباز", "Disabled veteran"),
        "former_pow": ("آزاده", "Former prisoner of war"),
    },
    "degree_level": {
        "associate": ("کاردانی", "Associate degree"),
        "bachelor": ("کارشناسی", "Bachelor's"),
        "master": ("کارشناسی ارشد", "Master's"),
        "doctorate": ("دکتری", "Doctorate"),
    },
    "sex": {"male": ("پسر", "Boy"), "female": ("دختر", "Girl")},
    "yes_no": {"true": ("بله", "Yes"), "false": ("خیر", "No")},
}
FORMATS = (*VOCABULARIES, "jyear", "jdate")
PLACEHOLDER_RE = re.compile(r"\{([a-z_][a-z0-9_.]*)(?:\|([a-z_]+))?\}")


def label(vocabulary: str, code: Any, lang: str = "fa") -> str:
    """The label of ``code`` in ``vocabulary``; "—" for a code it does not know."""
    key = str(code).lower() if isinstance(code, bool) else str(code)
    entry = VOCABULARIES[vocabulary].get(key)
    if entry is None:
        log.warning("no %s label for %r", vocabulary, code)
        return EMPTY
    return entry[0] if lang == "fa" else entry[1]


def jalali_year(value: Any) -> str:
    """The Jalali year in which most of a Gregorian year falls (from 21 March on): 2023 → 1402."""
    try:
        year = int(value)
    except (TypeError, ValueError):
        return EMPTY
    return str(jdatetime.date.fromgregorian(date=dt.date(year, 7, 1)).year)


def jalali_date(value: Any) -> str:
    """An ISO date or date-time as ``1403/12/10`` (a date-time in Tehran time)."""
    text = str(value)
    try:
        if "T" in text or " " in text:
            moment = dt.datetime.fromisoformat(text)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=jalali.TEHRAN)
            day = jalali.from_gregorian(moment)
        else:
            day = jalali.from_gregorian(dt.date.fromisoformat(text))
    except ValueError:
        return EMPTY
    return f"{day.year:04d}/{day.month:02d}/{day.day:02d}"


def format_value(value: Any, fmt: str | None, lang: str = "fa") -> str:
    if value is None or value == "":
        return EMPTY
    if fmt is None:
        if isinstance(value, bool):
            return label("yes_no", value, lang)
        return str(value)
    if fmt in VOCABULARIES:
        return label(fmt, value, lang)
    if fmt == "jyear":
        return jalali_year(value)
    if fmt == "jdate":
        return jalali_date(value)
    raise ValueError(f"unknown format {fmt}")


def render(template: str, data: dict[str, Any], lang: str = "fa") -> str:
    """``template`` with each placeholder replaced by its value written for people."""
    from .rules import lookup

    def one(match: re.Match) -> str:
        return format_value(lookup(data, match.group(1)), match.group(2), lang)

    return PLACEHOLDER_RE.sub(one, template)
