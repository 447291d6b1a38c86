"""Simulated Financial Convictions Registry of the judiciary (سامانه ثبت محکومیت‌های مالی).

Run as a registry process (``python -m panjereh.registries.server --registry convictions``), it
publishes one data service, reached only through the exchange:

* ``GET /financial-status/{national_code}``: whether the person has open financial
  convictions (unpaid judgments for a sum: debts, bounced cheques, dower, damages), how many,
  their total in rials, the date of the oldest, and whether any of them is being paid in
  instalments (an insolvency ruling, «اعسار و تقسیط»), with ``as_of`` (the registry's clock).
  404 ``{"found": false}`` when no person has this national code.

The record is derived from the population seed (the same answer in every run): about one adult
in twelve has an open conviction. The registry is the judiciary's: the same exchange member as
the judiciary's criminal-record registry, another subsystem (``convictions-registry``). It
answers only the status: never the creditor, the case or the court, which the credit check
does not need. The code is the registry's own, not the window's (a registry imports no app).
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from . import catalogue
from .catalogue import ORGANISATIONS
from .events import Clock
from .population import REFERENCE_DATE, Population, jalali

NAME = "convictions"
Answer = tuple[int, dict[str, Any]]

MEMBER_CODE = ORGANISATIONS["judiciary"][0]
NAME_FA = "قوه قضاییه (سامانه ثبت محکومیت‌های مالی)"
NAME_EN = "Judiciary (Financial Convictions Registry)"

# The share of adults with at least one open financial conviction.
SHARE = 0.08
FIELDS = [
    "has_open_convictions",
    "count",
    "total_rials",
    "oldest_date",
    "oldest_date_jalali",
    "instalments",
    "as_of",
]

SERVICES: list[dict[str, Any]] = [
    {
        "code": "financial-status",
        "title_en": "Financial-conviction status (open convictions, total, oldest, instalments)",
        "title_fa": "استعلام وضعیت محکومیت مالی (محکومیت‌های باز، جمع مبلغ، قدیمی‌ترین، تقسیط)",
        "param": "national_code",
        "query": [],
        "key_fields": ["national_code"],
        "items": {"convictions.financial_status": FIELDS},
        "methods": ["get"],
    },
]


def status(pop: Population, i: int) -> dict[str, Any]:
    """Person ``i``'s open financial convictions, without ``as_of`` (the same in every run)."""
    person = pop.person(i)
    rng = random.Random(f"{pop.seed}:financial-convictions:{i}")  # noqa: S311 -- simulated
    count = 0
    if person["age"] >= 18 and rng.random() < SHARE:
        count = 1 + (rng.random() < 0.35) + (rng.random() < 0.1)
    total = 0
    oldest: dt.date | None = None
    instalments = False
    adult_since = person["birth_date"].year + 18
    for _ in range(count):
        total += rng.randrange(5, 5000) * 1_000_000  # 5 million to 5 billion rials
        year = max(adult_since, REFERENCE_DATE.year - rng.randrange(1, 12))
        day = min(dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(365)), REFERENCE_DATE)
        oldest = day if oldest is None else min(oldest, day)
        instalments = instalments or rng.random() < 0.3
    return {
        "national_code": pop.national_code(i),
        "has_open_convictions": count > 0,
        "count": count,
        "total_rials": total,
        "oldest_date": oldest.isoformat() if oldest else None,
        "oldest_date_jalali": jalali(oldest),
        "instalments": instalments,
    }


def handlers(pop: Population, clock: Clock) -> dict[str, Any]:
    """Service code → {method → handler(param, query, body) → (status, record)}."""

    def financial_status(param: str, query: dict[str, str], body: bytes) -> Answer:
        i = pop.index_of(param)
        if i is None:
            return 404, {"found": False, "detail": "no person with this national code"}
        as_of = clock.now().astimezone(dt.UTC).isoformat(timespec="seconds")
        return 200, {**status(pop, i), "as_of": as_of}

    return {"financial-status": {"GET": financial_status}}


def openapi() -> dict[str, Any]:
    """The registry's published description (the exchange registers a data service per path)."""
    described = catalogue.paths(
        SERVICES,
        legal_basis=catalogue.LEGAL_BASIS
        + "; Law on the Manner of Enforcing Financial Convictions 1394, Art. 23",
        record="The person's status",
        not_found="No person with this national code",
    )
    return catalogue.describe(NAME, MEMBER_CODE, NAME_FA, NAME_EN, described)
