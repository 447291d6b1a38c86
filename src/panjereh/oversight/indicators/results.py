"""Results: every indicator computed nationally and per agency from one snapshot."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from panjereh.catalogue.queries import AgencyCounts
from panjereh.common import jalali

from .catalogue import connection_bucket, smart_bucket
from .core import Value, registry
from .permits import permit_facts
from .snapshots import AgencyInfo, Snapshot, snapshot


@dataclass
class AgencyResult:
    info: AgencyInfo
    counts: AgencyCounts
    connection_bucket: str | None
    smart_bucket: str | None
    values: dict[str, Value]

    def as_dict(self) -> dict:
        return {
            "code": self.info.code,
            "name_fa": self.info.name_fa,
            "name_en": self.info.name_en,
            "kind": self.info.kind,
            "connection_status": self.info.connection_status,
            "connectable": self.counts.connectable,
            "connected": self.counts.connected,
            "smart": self.counts.smart,
            "exempt": self.counts.exempt,
            "connection_bucket": self.connection_bucket,
            "smart_bucket": self.smart_bucket,
            "indicators": {k: v.as_dict() for k, v in self.values.items()},
        }


@dataclass
class AuthorityResult:
    """One issuing authority's permits indicators (the ``authority`` level)."""

    info: Any  # permits.queries.AuthorityRow
    values: dict[str, Value]

    def as_dict(self) -> dict:
        return {
            "code": self.info.code,
            "name_fa": self.info.name_fa,
            "name_en": self.info.name_en,
            "indicators": {k: v.as_dict() for k, v in self.values.items()},
        }


@dataclass
class Result:
    snapshot: Snapshot
    national: dict[str, Value]
    agencies: list[AgencyResult]
    authorities: list[AuthorityResult] = field(default_factory=list)

    def authority(self, code: str) -> AuthorityResult | None:
        return next((a for a in self.authorities if a.info.code == code), None)

    def authorities_of_agency(self, agency_id: int) -> list[AuthorityResult]:
        """The issuing authorities that are this catalogue agency."""
        return [a for a in self.authorities if a.info.agency_id == agency_id]

    @property
    def as_of(self) -> str:
        return self.snapshot.as_of_label

    def agency(self, code: str) -> AgencyResult | None:
        return next((a for a in self.agencies if a.info.code == code), None)

    def as_dict(self, agency_code: str | None = None) -> dict:
        agencies = self.agencies
        if agency_code:
            agencies = [a for a in agencies if a.info.code == agency_code]
        return {
            "as_of": self.snapshot.as_of_label,
            "as_of_instant": self.snapshot.as_of.isoformat(),
            "catalogue_version": self.snapshot.catalogue_version,
            "required_smart_share": self.snapshot.required_smart_share,
            "definitions": [i.definition() for i in registry],
            "national": {k: v.as_dict() for k, v in self.national.items()},
            "agencies": [a.as_dict() for a in agencies],
            "authorities": [a.as_dict() for a in self.authorities],
        }


def compute(as_of: dt.datetime | None = None, *, include_all_agencies: bool = False) -> Result:
    """Every indicator, nationally and for each agency in scope (every agency if asked)."""
    snap = snapshot(as_of)
    national = {i.code: i.compute(snap, None) for i in registry.for_level("national")}
    agency_indicators = registry.for_level("agency")
    rows = []
    for info in sorted(snap.agencies.values(), key=lambda a: a.name_fa):
        if not (info.in_scope or include_all_agencies):
            continue
        c = snap.count(info.id)
        rows.append(
            AgencyResult(
                info,
                c,
                connection_bucket(c),
                smart_bucket(c),
                {i.code: i.compute(snap, info.id) for i in agency_indicators},
            )
        )
    return Result(snap, national, rows, authority_results(snap))


def authority_results(snap: Snapshot) -> list[AuthorityResult]:
    """Every issuing authority's permits indicators (none without the permits app)."""
    facts = permit_facts(snap)
    if facts is None:
        return []
    level = registry.for_level("authority")
    return [
        AuthorityResult(info, {i.code: i.compute(snap, info.id) for i in level})
        for info in facts.authorities
    ]


def as_of_from_jalali(text: str | None) -> dt.datetime | None:
    """The end of a Jalali day (``1404-03-31``) as the as-of moment; None for "now"."""
    return jalali.end_of_day(text) if text else None
