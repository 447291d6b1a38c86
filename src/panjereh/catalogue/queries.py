"""Read queries over the catalogue, current or "as of" a moment.

Counts are always computed from rows: either the current tables or, for a past moment, the
latest version of each card at that moment. Both paths yield the same small row tuples, and one
aggregator turns them into figures, so "now" and "as of" can never disagree in method.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field

from django.db.models import Exists, Max, OuterRef

from . import lint
from .models import Agency, AgencyVersion, OnceOnlyJustification, Service, ServiceVersion
from .rules import once_only_findings
from .vocab import AgencyKind, ConnectionStatus, Scope, SmartStatus


@dataclass
class AgencyCounts:
    with_id: int = 0
    connectable: int = 0
    connected: int = 0
    smart: int = 0
    exempt: int = 0

    @property
    def connection_rate(self) -> float | None:
        return self.connected / self.connectable if self.connectable else None

    @property
    def smart_rate(self) -> float | None:
        return self.smart / self.connectable if self.connectable else None


@dataclass
class CatalogueStats:
    as_of: str | None
    agencies: dict = field(default_factory=dict)
    services: dict = field(default_factory=dict)
    connection_buckets: dict = field(default_factory=dict)
    smart_buckets: dict = field(default_factory=dict)
    other_connected_entities: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def _latest(model, key: str, as_of: dt.datetime):
    newer = model.objects.filter(
        **{key: OuterRef(key)}, valid_from__lte=as_of, version__gt=OuterRef("version")
    )
    return model.objects.filter(valid_from__lte=as_of).exclude(Exists(newer))


def agency_rows(as_of: dt.datetime | None = None):
    """(id, kind, in_scope, connection_status, has_own_window, sso_integrated) per agency."""
    kinds = dict(Agency.objects.values_list("id", "kind"))
    if as_of is None:
        for row in Agency.objects.values_list(
            "id", "in_scope", "connection_status", "own_window_url", "sso_integrated"
        ):
            yield (row[0], kinds[row[0]], row[1], row[2], bool(row[3]), row[4])
        return
    for row in _latest(AgencyVersion, "agency_id", as_of).values_list(
        "agency_id", "in_scope", "connection_status", "has_own_window", "sso_integrated"
    ):
        yield (row[0], kinds[row[0]], *row[1:])


def service_rows(as_of: dt.datetime | None = None):
    """(agency_id, has_id, scope, connected, smart_status) per service card."""
    if as_of is None:
        for agency_id, sid, scope, connected, smart in Service.objects.values_list(
            "agency_id", "service_id", "scope", "connected", "smart_status"
        ):
            yield (agency_id, bool(sid), scope, connected, smart)
        return
    yield from _latest(ServiceVersion, "service_id", as_of).values_list(
        "agency_id", "has_id", "scope", "connected", "smart_status"
    )


def agency_counts(as_of: dt.datetime | None = None) -> dict[int, AgencyCounts]:
    counts: dict[int, AgencyCounts] = defaultdict(AgencyCounts)
    for agency_id, has_id, scope, connected, smart in service_rows(as_of):
        if not has_id:
            continue
        c = counts[agency_id]
        c.with_id += 1
        if scope == Scope.EXEMPT:
            c.exempt += 1
            continue
        c.connectable += 1
        c.connected += bool(connected)
        c.smart += smart == SmartStatus.APPROVED
    return dict(counts)


def stats(as_of: dt.datetime | None = None, as_of_label: str | None = None) -> CatalogueStats:
    """The catalogue's headline figures, computed from rows."""
    agencies = list(agency_rows(as_of))
    per_agency = agency_counts(as_of)
    in_scope = [a for a in agencies if a[2]]
    in_scope_ids = {a[0] for a in in_scope}
    status = Counter(a[3] for a in in_scope)
    connected_ids = {a[0] for a in in_scope if a[3] == ConnectionStatus.CONNECTED}

    result = CatalogueStats(as_of=as_of_label)
    result.agencies = {
        "in_scope": len(in_scope),
        "connected": status[ConnectionStatus.CONNECTED],
        "not_connected": status[ConnectionStatus.NOT_CONNECTED],
        "not_applicable": status[ConnectionStatus.NOT_APPLICABLE],
        "applicable": len(in_scope) - status[ConnectionStatus.NOT_APPLICABLE],
        "connected_with_own_agency_window": sum(
            1 for a in in_scope if a[0] in connected_ids and a[4]
        ),
        "connected_with_sso": sum(1 for a in in_scope if a[0] in connected_ids and a[5]),
    }
    totals = AgencyCounts()
    for agency_id, c in per_agency.items():
        if agency_id not in in_scope_ids:
            continue
        totals.with_id += c.with_id
        totals.connectable += c.connectable
        totals.connected += c.connected
        totals.smart += c.smart
        totals.exempt += c.exempt
    result.services = {
        "with_service_id": totals.with_id,
        "connectable": totals.connectable,
        "connected": totals.connected,
        "smart_approved": totals.smart,
        "exempt": totals.exempt,
        "connected_share_pct": _pct(totals.connected, totals.connectable),
        "smart_share_pct": _pct(totals.smart, totals.connectable),
    }
    rated = [per_agency[i] for i in connected_ids if i in per_agency and per_agency[i].connectable]
    result.connection_buckets = {
        "of_connected_agencies": len(connected_ids),
        "all_connectable_services_connected_100pct": sum(
            1 for c in rated if c.connected == c.connectable
        ),
        "under_20pct_connected": sum(1 for c in rated if c.connection_rate < 0.2),
    }
    under20 = [c for c in rated if c.smart_rate < 0.2]
    result.smart_buckets = {
        "all_services_smart_100pct": sum(1 for c in rated if c.smart == c.connectable),
        "above_0_under_20pct_smart": sum(1 for c in under20 if c.smart > 0),
        "zero_smart": sum(1 for c in under20 if c.smart == 0),
        "under_20pct_smart_total": len(under20),
        "under_20pct_smart_share_pct": _pct(len(under20), len(connected_ids)),
    }
    others = Counter(a[1] for a in agencies if not a[2] and a[3] == ConnectionStatus.CONNECTED)
    result.other_connected_entities = {
        "municipalities": others[AgencyKind.MUNICIPALITY],
        "agent_banks": others[AgencyKind.AGENT_BANK],
        "universities": others[AgencyKind.UNIVERSITY],
        "hospital_centres": others[AgencyKind.HOSPITAL],
    }
    return result


def _pct(numerator: int, denominator: int) -> float | None:
    return round(100.0 * numerator / denominator, 1) if denominator else None


# --- for oversight (docs/architecture.md: oversight reads the others through their queries) ---


def version_marks(as_of: dt.datetime | None = None) -> tuple[int, int]:
    """(newest ServiceVersion id, newest AgencyVersion id) valid at ``as_of`` (None: any), 0
    when none: together they name the catalogue state a figure was computed from."""
    sv = ServiceVersion.objects.all()
    av = AgencyVersion.objects.all()
    if as_of is not None:
        sv = sv.filter(valid_from__lte=as_of)
        av = av.filter(valid_from__lte=as_of)
    return (sv.aggregate(m=Max("id"))["m"] or 0, av.aggregate(m=Max("id"))["m"] or 0)


def agency_directory(ids=None) -> dict[int, dict]:
    """Per agency id: {"id", "code", "name_fa", "name_en", "kind"} (of the given ids, or all),
    in one query."""
    rows = Agency.objects.all()
    if ids is not None:
        rows = rows.filter(pk__in=ids)
    return {row["id"]: row for row in rows.values("id", "code", "name_fa", "name_en", "kind")}


def agency_code(agency_id: int) -> str:
    """The agency's code; raises ``Agency.DoesNotExist`` for an unknown id."""
    return Agency.objects.values_list("code", flat=True).get(pk=agency_id)


def agencies():
    """All agencies (a queryset, for lookups such as ``get_object_or_404(agencies(), ...)``)."""
    return Agency.objects.all()


def agencies_in_scope():
    """The agencies within the law's scope, by Persian name."""
    return Agency.objects.filter(in_scope=True).order_by("name_fa")


def services():
    """All service cards with their agency (a queryset, for lookups)."""
    return Service.objects.select_related("agency")


def service_cards(pks) -> list[dict]:
    """{"pk", "service_id", "title_fa", "title_en", "agency_id"} of the given cards, in one
    query."""
    return list(
        Service.objects.filter(pk__in=pks).values(
            "pk", "service_id", "title_fa", "title_en", "agency_id"
        )
    )


def connectable_services(agency_id: int):
    """The agency's connectable services with a service ID (a queryset): the base a connection
    or smartening share is taken of."""
    return Service.objects.filter(
        agency_id=agency_id, scope=Scope.CONNECTABLE, service_id__isnull=False
    )


def service_topic_rows(as_of: dt.datetime):
    """(service_id, has_id, scope, connected, smart_status, category, life_events) of each
    card's latest version valid at ``as_of``, in one query read in order."""
    latest: dict[int, tuple] = {}
    for row in (
        ServiceVersion.objects.filter(valid_from__lte=as_of)
        .order_by("service_id", "version")
        .values_list(
            "service_id", "has_id", "scope", "connected", "smart_status", "data__category",
            "data__life_events",
        )
    ):  # fmt: skip
        latest[row[0]] = row
    return list(latest.values())


# --- Art. 107(ح): what cards ask for although a base registry holds it (the public page) -------


def once_only_exceptions() -> list[dict]:
    """Every justified exception standing now: one row per card and registry item the card
    still asks for, with the latest justification recorded for it, newest first."""
    latest: dict[tuple[int, str], OnceOnlyJustification] = {}
    for row in OnceOnlyJustification.objects.select_related("service", "agency").order_by(
        "service_id", "item", "version"
    ):
        latest[(row.service_id, row.item)] = row
    rows = []
    findings_of: dict[int, list] = {}
    for (service_pk, item), record in latest.items():
        service = record.service
        if service_pk not in findings_of:
            findings_of[service_pk] = once_only_findings(service)
        asked = [f for f in findings_of[service_pk] if f.item == item]
        if not asked:
            continue  # the card no longer asks for it: nothing left to excuse
        first = asked[0]
        rows.append(
            {
                "service_pk": service_pk,
                "service_id": service.service_id,
                "title_fa": service.title_fa,
                "title_en": service.title_en,
                "connected": service.connected,
                "agency_code": record.agency.code,
                "agency_fa": record.agency.name_fa,
                "agency_en": record.agency.name_en,
                "item": item,
                "item_fa": first.item_fa,
                "item_en": first.item_en,
                "holder_fa": first.holder_fa,
                "holder_en": first.holder_en,
                "asked": [f.asked for f in asked],
                "reason_fa": record.reason_fa,
                "reason_en": record.reason_en,
                "legal_basis": record.legal_basis,
                "recorded_at": record.recorded_at,
                "version": record.version,
            }
        )
    rows.sort(key=lambda r: (r["recorded_at"], r["service_pk"], r["item"]), reverse=True)
    return rows


def once_only_agency_counts() -> list[dict]:
    """Per agency with any unjustified request: {"code", "name_fa", "name_en", "unjustified",
    "unjustified_published"}; a request is one (card, registry item) pair with no justification.
    Most first. The same count as ``panjereh catalogue lint`` (``lint.once_only``)."""
    report = lint.once_only()
    names = {row["code"]: row for row in Agency.objects.values("code", "name_fa", "name_en")}
    rows = [
        {
            "code": code,
            "name_fa": names[code]["name_fa"],
            "name_en": names[code]["name_en"],
            "unjustified": counts["unjustified"],
            "unjustified_published": counts["unjustified_published"],
        }
        for code, counts in report.per_agency.items()
        if counts["unjustified"]
    ]
    rows.sort(key=lambda r: (-r["unjustified_published"], -r["unjustified"], r["code"]))
    return rows
