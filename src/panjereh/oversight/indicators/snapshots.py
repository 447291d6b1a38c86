"""The snapshot: the rows every indicator reads, fixed at one moment and read once, through
the other apps' ``queries`` modules (the catalogue's cards and agencies as of the moment, the
exchange's and feedback's figures via :mod:`..sources`, service performance via
:mod:`..servperf`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from panjereh.catalogue import queries
from panjereh.catalogue.queries import AgencyCounts, CatalogueStats
from panjereh.catalogue.vocab import ConnectionStatus
from panjereh.common import jalali

from .. import data, servperf, sources


@dataclass
class AgencyInfo:
    id: int
    code: str
    name_fa: str
    name_en: str
    kind: str
    in_scope: bool
    connection_status: str
    has_own_window: bool
    sso_integrated: bool


@dataclass
class Snapshot:
    """The rows every indicator reads, fixed at one moment."""

    as_of: dt.datetime
    as_of_label: str
    catalogue_version: dict
    stats: CatalogueStats
    counts: dict[int, AgencyCounts]
    agencies: dict[int, AgencyInfo]
    required_smart_share: float | None
    exchange: dict | None = None
    satisfaction: dict | None = None  # applications' ratings (when no feedback ratings)
    satisfaction_progress: Any = None  # feedback.queries.ProgressTable per agency, or None
    performance: Any = None  # servperf.Performance of the report month
    # Reports of a payment demanded outside the window per agency: (received, upheld).
    payment_demands: dict[int, tuple[int, int]] = field(default_factory=dict)
    _cache: dict = field(default_factory=dict)

    @property
    def connected_ids(self) -> list[int]:
        """In-scope agencies connected to the national window: the report's 149."""
        if "connected" not in self._cache:
            self._cache["connected"] = [
                a.id
                for a in self.agencies.values()
                if a.in_scope and a.connection_status == ConnectionStatus.CONNECTED
            ]
        return self._cache["connected"]

    @property
    def rated_ids(self) -> list[int]:
        """Connected agencies with at least one connectable service: those a rate applies to."""
        return [i for i in self.connected_ids if self.count(i).connectable]

    def count(self, agency_id: int) -> AgencyCounts:
        return self.counts.get(agency_id) or AgencyCounts()


def catalogue_version(as_of: dt.datetime | None) -> dict:
    """The newest version rows the figures could have read: together they name the catalogue
    state, so a figure can be traced to ``ServiceVersion``/``AgencyVersion`` rows."""
    s, a = queries.version_marks(as_of)
    return {"service_version_id": s, "agency_version_id": a, "label": f"s{s}.a{a}"}


def snapshot(as_of: dt.datetime | None = None) -> Snapshot:
    """Read the rows as of ``as_of`` (an aware datetime; None means now, from current tables)."""
    moment = as_of or timezone.now()
    label = jalali.iso(moment)
    names = queries.agency_directory()
    agencies: dict[int, AgencyInfo] = {}
    for aid, kind, in_scope, status, window, sso in queries.agency_rows(as_of):
        meta = names[aid]
        agencies[aid] = AgencyInfo(
            aid, meta["code"], meta["name_fa"], meta["name_en"], kind, in_scope, status,
            window, sso,
        )  # fmt: skip
    performance = servperf.compute(moment)
    progress = sources.satisfaction_progress(moment)
    satisfaction = None
    if progress is None:
        satisfaction = sources.ratings_from_performance(performance)
    return Snapshot(
        as_of=moment,
        as_of_label=label,
        catalogue_version=catalogue_version(as_of),
        stats=queries.stats(as_of, as_of_label=label),
        counts=queries.agency_counts(as_of),
        agencies=agencies,
        required_smart_share=data.required_smart_share(jalali.from_gregorian(moment)),
        exchange=sources.exchange_by_provider(moment),
        satisfaction=satisfaction,
        satisfaction_progress=progress,
        performance=performance,
        payment_demands=sources.payment_demands(moment),
    )
