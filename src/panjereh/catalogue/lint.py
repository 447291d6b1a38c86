"""The catalogue linter: every rule violation, card by card and across the catalogue.

:func:`once_only` is its second report: every document or datum a card asks for that a base
registry holds (Art. 107(ح) of the 7th Plan), smart or not, justified or not, with counts per
agency. It is kept apart from :func:`lint` because a request with a recorded justification is
lawful and an unjustified one on a card not yet offered is a warning, not a broken card.

Writes through :mod:`.operations` cannot break the card rules, but rows can still be wrong: data
loaded before a rule existed, an agency whose status changed after its cards were connected, or
the cross-card facts that no single write sees. The linter reports all of them, per agency.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass

from django.utils.translation import gettext as _

from .models import Agency, OnceOnlyJustification, Service
from .rules import check_service, once_only_findings
from .vocab import ConnectionForm, ConnectionStatus, Scope, SmartStatus


@dataclass(frozen=True)
class Finding:
    agency: str
    service_id: str | None
    title: str
    code: str
    field: str
    message: str

    def as_dict(self) -> dict:
        return asdict(self)


def _catalogue_checks(service: Service, agency: Agency) -> list[tuple[str, str, str]]:
    found = []
    if service.connected and agency.connection_status != ConnectionStatus.CONNECTED:
        found.append(
            (
                "catalogue.connected_in_unconnected_agency",
                "connected",
                _("The card is connected but its agency is not connected to the national window."),
            )
        )
    if service.smart_status == SmartStatus.APPROVED and not service.connected:
        found.append(
            (
                "catalogue.smart_not_connected",
                "smart_status",
                _("A smart service must be connected to the national window."),
            )
        )
    if service.connected and not service.connection_form:
        found.append(
            (
                "catalogue.connection_form_missing",
                "connection_form",
                _("A connected card must say how it is connected."),
            )
        )
    if service.connection_form == ConnectionForm.AGENCY_WINDOW and not agency.own_window_url:
        found.append(
            (
                "catalogue.window_missing",
                "connection_form",
                _("The card is connected through an agency window the agency does not have."),
            )
        )
    return found


def lint(agency_code: str | None = None) -> list[Finding]:
    """Every finding, ordered by agency code then service ID."""
    agencies = Agency.objects.all()
    if agency_code:
        agencies = agencies.filter(code=agency_code)
    by_pk = {a.pk: a for a in agencies}
    findings: list[Finding] = []
    connectable = defaultdict(int)
    titles: dict[tuple[int, str], str | None] = {}
    services = Service.objects.filter(agency__in=list(by_pk)).order_by("agency_id", "service_id")
    for service in services.iterator():
        agency = by_pk[service.agency_id]

        def add(code: str, field: str, message: str, service=service, agency=agency) -> None:
            findings.append(
                Finding(agency.code, service.service_id, service.title_fa, code, field, message)
            )

        for violation in check_service(service):
            add(violation.code, violation.field, violation.message)
        for code, field, message in _catalogue_checks(service, agency):
            add(code, field, message)
        key = (service.agency_id, service.title_fa)
        if key in titles:
            add(
                "catalogue.duplicate_title",
                "title_fa",
                _("Another card of this agency has the same title (%(id)s).")
                % {"id": titles[key] or "—"},
            )
        else:
            titles[key] = service.service_id
        if service.service_id and service.scope == Scope.CONNECTABLE:
            connectable[service.agency_id] += 1
    for agency in by_pk.values():
        if (
            agency.in_scope
            and agency.connection_status == ConnectionStatus.CONNECTED
            and not connectable[agency.pk]
        ):
            findings.append(
                Finding(
                    agency.code,
                    None,
                    "",
                    "catalogue.connected_agency_without_services",
                    "connection_status",
                    _("A connected agency must have at least one connectable card with an ID."),
                )
            )
        if agency.connection_form == ConnectionForm.AGENCY_WINDOW and not agency.own_window_url:
            findings.append(
                Finding(
                    agency.code,
                    None,
                    "",
                    "catalogue.agency_window_missing",
                    "own_window_url",
                    _("The agency is connected through its own window but gives no address."),
                )
            )
    findings.sort(key=lambda f: (f.agency, f.service_id or ""))
    return findings


@dataclass(frozen=True)
class OnceOnlyLine:
    agency: str
    service_id: str | None
    title: str
    item: str
    kind: str
    field: str
    asked: str
    connected: bool
    justified: bool
    message: str

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class OnceOnlyReport:
    lines: list[OnceOnlyLine]
    # agency code -> {"cards", "findings", "unjustified", "unjustified_published"}
    per_agency: dict[str, dict[str, int]]

    @property
    def unjustified_published(self) -> int:
        return sum(c["unjustified_published"] for c in self.per_agency.values())


def once_only(agency_code: str | None = None) -> OnceOnlyReport:
    """Every once-only finding of every card (of one agency, if given), ordered by agency code
    then service ID, and per agency: cards with findings, findings, and unjustified (card,
    registry item) pairs, all and on published (connected) cards."""
    agencies = Agency.objects.all()
    if agency_code:
        agencies = agencies.filter(code=agency_code)
    codes = dict(agencies.values_list("pk", "code"))
    justified = set(
        OnceOnlyJustification.objects.filter(agency_id__in=list(codes)).values_list(
            "service_id", "item"
        )
    )
    lines: list[OnceOnlyLine] = []
    per_agency: dict[str, dict[str, int]] = {}
    rows = (
        Service.objects.filter(agency_id__in=list(codes))
        .order_by("agency_id", "service_id")
        .values_list(
            "pk", "agency_id", "service_id", "title_fa", "connected",
            "documents_required", "inputs", "in_person_steps",
        )
    )  # fmt: skip
    for pk, agency_id, service_id, title, connected, documents, inputs, steps in rows.iterator(
        chunk_size=2000
    ):
        findings = once_only_findings(
            {"documents_required": documents, "inputs": inputs, "in_person_steps": steps}
        )
        if not findings:
            continue
        code = codes[agency_id]
        counts = per_agency.setdefault(
            code, {"cards": 0, "findings": 0, "unjustified": 0, "unjustified_published": 0}
        )
        counts["cards"] += 1
        counts["findings"] += len(findings)
        for item in dict.fromkeys(f.item for f in findings):
            if (pk, item) not in justified:
                counts["unjustified"] += 1
                counts["unjustified_published"] += bool(connected)
        for f in findings:
            lines.append(
                OnceOnlyLine(
                    code, service_id, title, f.item, f.kind, f.field, f.asked,
                    bool(connected), (pk, f.item) in justified, f.message,
                )
            )  # fmt: skip
    lines.sort(key=lambda line: (line.agency, line.service_id or ""))
    return OnceOnlyReport(lines, dict(sorted(per_agency.items())))
