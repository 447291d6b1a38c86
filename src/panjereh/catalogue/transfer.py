"""Export and import of agencies and service identity cards as CSV or JSON.

The file formats are documented in ``docs/data-formats.md``. An import checks every row first
and reports every problem with its row number; then it writes through :mod:`.operations` (so the
rules, versions and search keys are the same as for any other write) inside one transaction, and
if any write still fails, nothing is kept. Export then import gives back the same rows.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from panjereh.common import csvsafe, jalali
from panjereh.common.persian import normalize

from . import operations
from .models import Agency, AgencyVersion, Service, ServiceVersion
from .rules import check_service
from .vocab import (
    AgencyKind,
    ConnectionForm,
    ConnectionStatus,
    ElectronificationLevel,
    Scope,
    SmartStatus,
)

FORMATS = ("csv", "json")
KINDS = ("agencies", "services")
LIST_SEPARATOR = "|"

# File columns are the cards' own fields (operations.*_FIELDS), plus references and the date.
AGENCY_COLUMNS = [
    "code",
    "parent",
    *operations.AGENCY_FIELDS[1:],
    "valid_from",
]
SERVICE_COLUMNS = [
    "service_id",
    "agency",
    "parent",
    *operations.SERVICE_FIELDS[1:],
    "valid_from",
]
SERVICE_LISTS = {"recipients", "life_events", "channels", "documents_required", "in_person_steps"}
SERVICE_INTS = {"electronification_level", "min_assurance_level", "fee", "target_minutes"}
SERVICE_BOOLS = {"connected"}
AGENCY_BOOLS = {"in_scope", "sso_integrated"}
REQUIRED = {
    "agencies": {"code", "name_fa", "kind"},
    "services": {"agency", "title_fa"},
}
_TRUE = {"true", "1", "yes", "بله"}
_FALSE = {"false", "0", "no", "خیر"}


# --- Export ----------------------------------------------------------------------------------


def _latest_days(model, key: str) -> dict[int, str]:
    """Jalali day of the latest version of each card or agency, for the valid_from column."""
    rows = model.objects.values(key).annotate(last=Max("valid_from"))
    return {row[key]: jalali.iso(row["last"]) for row in rows}


def agency_records() -> list[dict[str, Any]]:
    days = _latest_days(AgencyVersion, "agency_id")
    records = []
    for agency in Agency.objects.select_related("parent").order_by("code"):
        record = {name: getattr(agency, name) for name in AGENCY_COLUMNS[:-1] if name != "parent"}
        record["parent"] = agency.parent.code if agency.parent_id else ""
        record["valid_from"] = days.get(agency.pk, "")
        records.append({name: record[name] for name in AGENCY_COLUMNS})
    return records


def service_records() -> list[dict[str, Any]]:
    days = _latest_days(ServiceVersion, "service_id")
    records = []
    services = Service.objects.select_related("agency", "parent").order_by(
        "agency__code", "service_id", "title_fa", "pk"
    )
    for service in services:
        record = {name: getattr(service, name) for name in operations.SERVICE_FIELDS}
        record["service_id"] = service.service_id or ""
        record["agency"] = service.agency.code
        record["parent"] = service.parent.service_id if service.parent_id else ""
        record["valid_from"] = days.get(service.pk, "")
        records.append({name: record[name] for name in SERVICE_COLUMNS})
    return records


def export(what: str, fmt: str) -> str:
    """The catalogue's agencies or services as CSV or JSON text."""
    records = agency_records() if what == "agencies" else service_records()
    if fmt == "json":
        return json.dumps(records, ensure_ascii=False, indent=1) + "\n"
    columns = AGENCY_COLUMNS if what == "agencies" else SERVICE_COLUMNS
    out = io.StringIO()
    writer = csvsafe.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow({name: _to_cell(name, value) for name, value in record.items()})
    return out.getvalue()


def _to_cell(name: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if name == "inputs":
        return json.dumps(value, ensure_ascii=False) if value else ""
    if isinstance(value, list):
        return LIST_SEPARATOR.join(value)
    return str(value)


# --- Import: reading and checking rows -------------------------------------------------------


@dataclass
class RowError:
    row: int
    field: str
    message: str

    def __str__(self) -> str:
        return _("Row %(row)s: %(field)s: %(message)s") % {
            "row": self.row,
            "field": self.field,
            "message": self.message,
        }


@dataclass
class ImportReport:
    what: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = False


class ImportFailed(Exception):
    def __init__(self, report: ImportReport):
        super().__init__(f"{len(report.errors)} errors")
        self.report = report


def read_records(text: str, fmt: str, what: str) -> tuple[list[dict[str, Any]], list[RowError]]:
    """Raw records of a file; errors here concern the file as a whole (row 0)."""
    columns = AGENCY_COLUMNS if what == "agencies" else SERVICE_COLUMNS
    if fmt == "json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            return [], [RowError(0, "file", _("Not valid JSON: %(error)s") % {"error": exc})]
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            return [], [RowError(0, "file", _("A JSON file holds a list of objects."))]
        records = data
    else:
        reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
        header = reader.fieldnames or []
        missing = sorted(REQUIRED[what] - set(header))
        if missing:
            return [], [
                RowError(0, "header", _("Missing columns: %(c)s") % {"c": ", ".join(missing)})
            ]
        # A cell the export escaped against spreadsheet formulas (csvsafe) reads back as written.
        records = [
            {k: csvsafe.unescape(v) if isinstance(v, str) else v for k, v in r.items()}
            for r in reader
        ]
    errors = []
    for number, record in enumerate(records, start=1):
        unknown = sorted(set(record) - set(columns) - {None})
        if unknown:
            errors.append(
                RowError(number, "file", _("Unknown columns: %(c)s") % {"c": ", ".join(unknown)})
            )
        if None in record:  # a CSV row with more cells than the header
            errors.append(RowError(number, "file", _("The row has more cells than the header.")))
    return records, errors


class _Row:
    """Parses one raw record into typed fields, collecting errors instead of stopping."""

    def __init__(self, number: int, record: dict[str, Any], fmt: str):
        self.number = number
        self.record = record
        self.fmt = fmt
        self.errors: list[RowError] = []

    def error(self, name: str, message: str) -> None:
        self.errors.append(RowError(self.number, name, message))

    def text(self, name: str) -> str:
        value = self.record.get(name)
        if value is None:
            return ""
        if not isinstance(value, str):
            self.error(name, _("Expected text."))
            return ""
        return value.strip()

    def boolean(self, name: str, default: bool = False) -> bool:
        value = self.record.get(name)
        if isinstance(value, bool):
            return value
        text = "" if value is None else str(value).strip().lower()
        if not text:
            return default
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        self.error(name, _("Expected true or false."))
        return default

    def integer(self, name: str, *, optional: bool = False, default: int = 0) -> int | None:
        value = self.record.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None if optional else default
        if isinstance(value, bool):
            self.error(name, _("Expected a whole number."))
            return default
        try:
            return int(str(value).strip())
        except ValueError:
            self.error(name, _("Expected a whole number."))
            return default

    def string_list(self, name: str) -> list[str]:
        value = self.record.get(name)
        if value is None or value == "":
            return []
        if isinstance(value, list):
            if all(isinstance(v, str) for v in value):
                return [v.strip() for v in value if v.strip()]
            self.error(name, _("Expected a list of text values."))
            return []
        if isinstance(value, str) and self.fmt == "csv":
            return [part.strip() for part in value.split(LIST_SEPARATOR) if part.strip()]
        self.error(name, _("Expected a list of text values."))
        return []

    def json_list(self, name: str) -> list:
        value = self.record.get(name)
        if value is None or value == "":
            return []
        if isinstance(value, str) and self.fmt == "csv":
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                self.error(name, _("Expected a JSON list."))
                return []
        if not isinstance(value, list):
            self.error(name, _("Expected a JSON list."))
            return []
        return value

    def choice(self, name: str, allowed, default: str = "") -> str:
        value = self.text(name) or default
        if value not in allowed:
            self.error(
                name,
                _("Unknown value %(value)s; allowed: %(allowed)s")
                % {"value": value or "—", "allowed": ", ".join(a or "''" for a in allowed)},
            )
        return value

    def day(self, name: str) -> dt.date | None:
        text = self.text(name)
        if not text:
            return None
        try:
            day = jalali.to_gregorian(text)
        except jalali.InvalidJalaliDate:
            self.error(name, _("Not a Jalali date such as 1404-03-31: %(value)s") % {"value": text})
            return None
        if day > timezone.localdate():
            self.error(name, _("The date is in the future."))
            return None
        return day


# How an import reads a field of a card or an agency. The fields are the one list of each
# (``operations.SERVICE_FIELDS`` / ``AGENCY_FIELDS``, which the export's columns come from too);
# a field named here has its own reader (a type, a default), any other is plain text.
SERVICE_READERS: dict[str, Callable[[_Row, str], Any]] = {
    "service_id": lambda row, name: row.text(name) or None,
    "level": lambda row, name: row.text(name) or "service",
    "category": lambda row, name: row.text(name) or "other",
    "scope": lambda row, name: row.choice(name, Scope.values, Scope.CONNECTABLE),
    "connected": _Row.boolean,
    "connection_form": lambda row, name: row.choice(name, ConnectionForm.values, ""),
    "smart_status": lambda row, name: row.choice(name, SmartStatus.values, SmartStatus.NONE),
    "electronification_level": _Row.integer,
    "min_assurance_level": lambda row, name: row.integer(name, default=2),
    "fee": _Row.integer,
    "target_minutes": lambda row, name: row.integer(name, optional=True),
    "inputs": _Row.json_list,
    **dict.fromkeys(SERVICE_LISTS, _Row.string_list),
}
AGENCY_READERS: dict[str, Callable[[_Row, str], Any]] = {
    "kind": lambda row, name: row.choice(name, AgencyKind.values),
    "in_scope": lambda row, name: row.boolean(name, default=True),
    "connection_status": lambda row, name: row.choice(
        name, ConnectionStatus.values, ConnectionStatus.NOT_CONNECTED
    ),
    "connection_form": lambda row, name: row.choice(name, ConnectionForm.values, ""),
    "sso_integrated": _Row.boolean,
    "member_class": lambda row, name: row.text(name) or "GOV",
}


def _read(row: _Row, names: list[str], readers: dict[str, Callable[[_Row, str], Any]]) -> dict:
    return {name: readers.get(name, _Row.text)(row, name) for name in names}


def _service_fields(row: _Row) -> dict[str, Any]:
    fields = _read(row, operations.SERVICE_FIELDS, SERVICE_READERS)
    if fields["electronification_level"] not in ElectronificationLevel.values:
        row.error(
            "electronification_level",
            _("Unknown value %(value)s; allowed: %(allowed)s")
            % {
                "value": fields["electronification_level"],
                "allowed": ", ".join(str(v) for v in ElectronificationLevel.values),
            },
        )
    if not fields["title_fa"]:
        row.error("title_fa", _("A Persian title is required."))
    if fields["target_minutes"] is not None and fields["target_minutes"] < 0:
        row.error("target_minutes", _("The target time cannot be negative."))
    _normalize_texts(fields)
    for violation in check_service(fields):
        row.error(violation.field, violation.message)
    return fields


def _normalize_texts(fields: dict[str, Any]) -> None:
    """The stored form of text, so that comparing with the current card finds real changes."""
    for name in operations.TEXT_FIELDS & set(fields):
        fields[name] = normalize(fields[name])


def _agency_fields(row: _Row) -> dict[str, Any]:
    fields = _read(row, operations.AGENCY_FIELDS, AGENCY_READERS)
    if not fields["code"]:
        row.error("code", _("A code is required."))
    if not fields["name_fa"]:
        row.error("name_fa", _("A Persian name is required."))
    _normalize_texts(fields)
    return fields


@dataclass
class _Parsed:
    number: int
    fields: dict[str, Any]
    parent: str
    owner: str  # agency code (services) or "" (agencies)
    day: dt.date | None


def _parse_services(records, fmt) -> tuple[list[_Parsed], list[RowError]]:
    errors: list[RowError] = []
    parsed: list[_Parsed] = []
    agencies = set(Agency.objects.values_list("code", flat=True))
    owners = dict(
        Service.objects.exclude(service_id=None).values_list("service_id", "agency__code")
    )
    seen: dict[str, int] = {}
    for number, record in enumerate(records, start=1):
        row = _Row(number, record, fmt)
        fields = _service_fields(row)
        owner = row.text("agency")
        if not owner:
            row.error("agency", _("The agency code is required."))
        elif owner not in agencies:
            row.error("agency", _("Unknown agency: %(code)s") % {"code": owner})
        sid = fields["service_id"]
        if sid:
            if sid in seen:
                row.error(
                    "service_id",
                    _("Duplicate service ID %(id)s: also on row %(row)s")
                    % {"id": sid, "row": seen[sid]},
                )
            else:
                seen[sid] = number
            if owner and sid in owners and owners[sid] != owner:
                row.error(
                    "service_id",
                    _("Service ID %(id)s belongs to a card of another agency (%(code)s).")
                    % {"id": sid, "code": owners[sid]},
                )
        parsed.append(_Parsed(number, fields, row.text("parent"), owner, row.day("valid_from")))
        errors.extend(row.errors)
    known_ids = set(owners) | set(seen)
    for item in parsed:
        if item.parent and (
            item.parent not in known_ids or item.parent == item.fields["service_id"]
        ):
            errors.append(
                RowError(
                    item.number,
                    "parent",
                    _("Unknown parent service: %(id)s") % {"id": item.parent},
                )
            )
    return parsed, errors


def _parse_agencies(records, fmt) -> tuple[list[_Parsed], list[RowError]]:
    errors: list[RowError] = []
    parsed: list[_Parsed] = []
    existing = dict(Agency.objects.values_list("code", "parent__code"))
    members = {
        (cls, code): owner
        for cls, code, owner in Agency.objects.exclude(member_code="").values_list(
            "member_class", "member_code", "code"
        )
    }
    seen: dict[str, int] = {}
    seen_members: dict[tuple[str, str], int] = {}
    for number, record in enumerate(records, start=1):
        row = _Row(number, record, fmt)
        fields = _agency_fields(row)
        code = fields["code"]
        if code in seen:
            row.error(
                "code",
                _("Duplicate agency code %(code)s: also on row %(row)s")
                % {"code": code, "row": seen[code]},
            )
        elif code:
            seen[code] = number
        member = (fields["member_class"], fields["member_code"])
        if fields["member_code"]:
            if member in seen_members:
                row.error(
                    "member_code",
                    _("Duplicate exchange member code: also on row %(row)s")
                    % {"row": seen_members[member]},
                )
            seen_members.setdefault(member, number)
            if member in members and members[member] != code:
                row.error(
                    "member_code",
                    _("The exchange member code belongs to agency %(code)s.")
                    % {"code": members[member]},
                )
        parsed.append(_Parsed(number, fields, row.text("parent"), "", row.day("valid_from")))
        errors.extend(row.errors)
    known = set(existing) | set(seen)
    for item in parsed:
        if item.parent and (item.parent not in known or item.parent == item.fields["code"]):
            errors.append(
                RowError(
                    item.number,
                    "parent",
                    _("Unknown parent agency: %(code)s") % {"code": item.parent},
                )
            )
    return parsed, errors


# --- Import: writing -------------------------------------------------------------------------


def _moment(day: dt.date | None, after: dt.datetime | None) -> dt.datetime | None:
    """When the imported version takes effect: noon of its Jalali day, after the last version."""
    if day is None:
        return None
    moment = dt.datetime.combine(day, dt.time(12, 0), tzinfo=jalali.TEHRAN)
    if after is not None and moment <= after:
        moment = after + dt.timedelta(seconds=1)
    return moment


def _changes(instance, fields: dict[str, Any], compare) -> dict[str, Any]:
    if instance.pk is None:
        return dict(fields)
    return {name: value for name, value in fields.items() if compare(instance, name) != value}


def _messages(exc: ValidationError) -> list[tuple[str, str]]:
    if hasattr(exc, "error_dict"):
        return [(name, msg) for name, msgs in exc.message_dict.items() for msg in msgs]
    return [("__all__", msg) for msg in exc.messages]


def _apply_services(parsed: list[_Parsed], report: ImportReport) -> None:
    agencies = {a.code: a for a in Agency.objects.all()}
    by_id = {s.service_id: s for s in Service.objects.exclude(service_id=None)}
    by_title = {
        (s.agency.code, s.title_fa): s
        for s in Service.objects.filter(service_id=None).select_related("agency")
    }
    last = dict(
        ServiceVersion.objects.values("service_id")
        .annotate(m=Max("valid_from"))
        .values_list("service_id", "m")
    )
    # Cards that name a parent go last, so the parent exists when they are written.
    for item in sorted(parsed, key=lambda p: bool(p.parent)):
        fields = dict(item.fields)
        sid = fields["service_id"]
        service = by_id.get(sid) if sid else by_title.get((item.owner, fields["title_fa"]))
        if service is None:
            service = Service(agency=agencies[item.owner])
        elif (
            item.day
            and last.get(service.pk)
            and item.day < jalali.from_gregorian(last[service.pk]).togregorian()
        ):
            report.errors.append(
                RowError(
                    item.number,
                    "valid_from",
                    _("The date is before the card's latest version (%(day)s).")
                    % {"day": jalali.iso(last[service.pk])},
                )
            )
            continue
        if item.parent:
            fields["parent"] = by_id[item.parent]
        elif service.pk and service.parent_id:
            fields["parent"] = None
        changes = _changes(service, fields, _service_value)
        if not changes:
            report.unchanged += 1
            continue
        created = service.pk is None
        try:
            operations.save_service(
                service,
                changes,
                note="imported",
                valid_from=_moment(item.day, last.get(service.pk)),
                author=operations.SYSTEM,
            )
        except ValidationError as exc:
            report.errors.extend(RowError(item.number, f, m) for f, m in _messages(exc))
            continue
        if service.service_id:
            by_id[service.service_id] = service
        report.created += created
        report.updated += not created


def _service_value(service: Service, name: str):
    if name == "parent":
        return service.parent if service.parent_id else None
    return getattr(service, name)


def _agency_value(agency: Agency, name: str):
    if name == "parent":
        return agency.parent if agency.parent_id else None
    return getattr(agency, name)


def _apply_agencies(parsed: list[_Parsed], report: ImportReport) -> None:
    agencies = {a.code: a for a in Agency.objects.all()}
    last = dict(
        AgencyVersion.objects.values("agency_id")
        .annotate(m=Max("valid_from"))
        .values_list("agency_id", "m")
    )
    pending = list(parsed)
    while pending:
        # Parents first; a parent named in the file must be written before its children.
        in_file = {p.fields["code"] for p in pending}
        level = [
            p
            for p in pending
            if not p.parent or p.parent not in in_file or p.parent == p.fields["code"]
        ]
        if not level:  # a cycle: report it on every row involved
            report.errors.extend(
                RowError(p.number, "parent", _("The parents form a cycle.")) for p in pending
            )
            return
        pending = [p for p in pending if p not in level]
        for item in level:
            fields = dict(item.fields)
            agency = agencies.get(fields["code"]) or Agency()
            if agency.pk and item.day and last.get(agency.pk):
                if item.day < jalali.from_gregorian(last[agency.pk]).togregorian():
                    report.errors.append(
                        RowError(
                            item.number,
                            "valid_from",
                            _("The date is before the agency's latest version (%(day)s).")
                            % {"day": jalali.iso(last[agency.pk])},
                        )
                    )
                    continue
            fields["parent"] = agencies.get(item.parent) if item.parent else None
            changes = _changes(agency, fields, _agency_value)
            if not changes:
                report.unchanged += 1
                continue
            created = agency.pk is None
            if "parent" in changes:
                agency.parent = changes.pop("parent")
            try:
                operations.save_agency(
                    agency,
                    changes,
                    note="imported",
                    valid_from=_moment(item.day, last.get(agency.pk)),
                    author=operations.SYSTEM,
                )
            except ValidationError as exc:
                report.errors.extend(RowError(item.number, f, m) for f, m in _messages(exc))
                continue
            agencies[agency.code] = agency
            report.created += created
            report.updated += not created


def import_text(text: str, what: str, fmt: str, *, dry_run: bool = False) -> ImportReport:
    """Check every row, then write them all in one transaction, or nothing.

    Raises :class:`ImportFailed` (carrying the report with every error) if any row is bad.
    """
    report = ImportReport(what=what, dry_run=dry_run)
    records, errors = read_records(text, fmt, what)
    report.rows = len(records)
    report.errors.extend(errors)
    parse = _parse_agencies if what == "agencies" else _parse_services
    parsed, errors = parse(records, fmt) if records else ([], [])
    report.errors.extend(errors)
    if report.errors:
        report.errors.sort(key=lambda e: e.row)
        raise ImportFailed(report)
    with transaction.atomic():
        (_apply_agencies if what == "agencies" else _apply_services)(parsed, report)
        if report.errors:
            report.errors.sort(key=lambda e: e.row)
            transaction.set_rollback(True)
            raise ImportFailed(report)
        if dry_run:
            transaction.set_rollback(True)
    return report
