"""Load and validate the declarative service definitions (``definitions/*.json``).

A definition names the data it needs (registry, data service, items, whose record), what the
applicant may type, the eligibility rules, the decision texts, the document, the steps, the
target time and the assurance level. :func:`validate` returns every problem; for a definition
that claims to be smart it applies the catalogue's Art. 107 rules (no upload, no in-person step,
no typed registry item) plus "no manual step", and says which part breaks them.
:func:`load` writes each valid definition (a new row per new version) and onto its catalogue
card; an invalid one is refused with its reasons and nothing of it is written.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from panjereh.catalogue import operations
from panjereh.catalogue.models import Agency, Service
from panjereh.catalogue.rules import check_smart, is_valid_service_id
from panjereh.catalogue.vocab import REGISTRY_ITEMS, InputSource, SmartStatus

from . import rules
from .labels import FORMATS, PLACEHOLDER_RE
from .models import ServiceDefinition

DEFINITIONS_DIR = Path(__file__).resolve().parent / "definitions"
REQUIRED_KEYS = (
    "code",
    "version",
    "service_id",
    "agency",
    "title_fa",
    "smart",
    "assurance_level",
    "target_minutes",
    "data",
    "steps",
    "eligibility",
    "decision",
    "document",
)
STEP_KINDS = ("automatic", "manual")


class DefinitionError(ValueError):
    """A definition was refused; ``problems`` says why."""

    def __init__(self, code: str, problems: list[str]) -> None:
        super().__init__(f"{code}: " + "; ".join(problems))
        self.code = code
        self.problems = problems


@dataclass
class LoadResult:
    loaded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    refused: dict[str, list[str]] = field(default_factory=dict)


def read_file(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    if path.suffix in (".yaml", ".yml"):
        import yaml

        return yaml.safe_load(text)
    return json.loads(text)


def card_view(spec: dict[str, Any]) -> dict[str, Any]:
    """The definition as the catalogue card fields the Art. 107 rules read."""
    inputs = [
        {
            "code": item["name"] + ":" + code,
            "label_fa": REGISTRY_ITEMS.get(code, ("", code, code))[1],
            "label_en": REGISTRY_ITEMS.get(code, ("", code, code))[2],
            "source": InputSource.REGISTRY,
            "item": code,
        }
        for item in spec.get("data", [])
        for code in item.get("items", [])
    ]
    seen = set()
    unique_inputs = []
    for entry in inputs:  # one line per registry item on the card, however often fetched
        if entry["item"] not in seen:
            seen.add(entry["item"])
            unique_inputs.append({**entry, "code": entry["item"]})
    for item in spec.get("inputs", []):
        unique_inputs.append(
            {
                "code": item.get("code", ""),
                "label_fa": item.get("label_fa", ""),
                "label_en": item.get("label_en", ""),
                "source": item.get("source", InputSource.USER),
                **({"item": item["item"]} if item.get("item") else {}),
            }
        )
    for upload in spec.get("uploads", []):
        unique_inputs.append(
            {
                "code": upload.get("code", ""),
                "label_fa": upload.get("label_fa", ""),
                "label_en": upload.get("label_en", ""),
                "source": InputSource.DOCUMENT,
            }
        )
    return {
        "inputs": unique_inputs,
        "documents_required": [u.get("label_fa") or u.get("code") for u in spec.get("uploads", [])],
        "in_person_steps": list(spec.get("in_person_steps", [])),
        "smart_status": SmartStatus.PROPOSED if spec.get("smart") else SmartStatus.NONE,
    }


def validate(spec: dict[str, Any]) -> list[str]:
    """Every problem of a definition (empty when it may be loaded)."""
    missing = [key for key in REQUIRED_KEYS if key not in spec]
    if missing:
        return [_("Missing keys: %(keys)s") % {"keys": ", ".join(missing)}]
    problems: list[str] = []
    if not re.fullmatch(r"[a-z0-9-]+", str(spec["code"])):
        problems.append(_("The code is lower-case letters, digits and hyphens."))
    if not isinstance(spec["version"], int) or spec["version"] < 1:
        problems.append(_("The version is a positive whole number."))
    if not is_valid_service_id(str(spec["service_id"])):
        problems.append(_("The service ID is not a valid catalogue service ID."))
    if spec["assurance_level"] not in (1, 2, 3, 4):
        problems.append(_("The assurance level is 1, 2, 3 or 4."))
    if not isinstance(spec["target_minutes"], int) or spec["target_minutes"] < 1:
        problems.append(_("The target time is a positive number of minutes."))
    names: set[str] = set()
    for fetch in spec["data"]:
        name = fetch.get("name", "")
        if not name or name in names or name in ("input", "subject"):
            problems.append(_("Each data fetch needs its own name: %(name)s") % {"name": name})
        unknown = [code for code in fetch.get("items", []) if code not in REGISTRY_ITEMS]
        if unknown or not fetch.get("items"):
            problems.append(
                _("Fetch %(name)s names unknown data items: %(items)s")
                % {"name": name, "items": ", ".join(unknown) or "-"}
            )
        subject = fetch.get("subject", "applicant")
        if subject not in ("applicant", "subject") and subject.split(".")[0] not in names:
            problems.append(
                _("Fetch %(name)s takes its subject from a fetch not made before it: %(s)s")
                % {"name": name, "s": subject}
            )
        if not fetch.get("registry") or not fetch.get("service"):
            problems.append(_("Fetch %(name)s needs a registry and a service.") % {"name": name})
        names.add(name)
    labels: dict[tuple, str] = {}
    for fetch in spec["data"]:
        # Each fetch reads differently in the citizen's journey (not "data requested from
        # Civil Registration" four times over).
        key = (
            fetch.get("registry"),
            fetch.get("label_fa") or tuple(sorted(fetch.get("items", []))),
        )
        if key in labels:
            problems.append(
                _("Fetches %(a)s and %(b)s read the same in the journey; label each.")
                % {"a": labels[key], "b": fetch.get("name", "")}
            )
        labels[key] = fetch.get("name", "")
    input_codes = {item.get("code") for item in spec.get("inputs", [])}
    for entry in spec["eligibility"]:
        try:
            rules.check(entry.get("rule"))
        except rules.RuleError as exc:
            problems.append(_("A rule is malformed: %(error)s") % {"error": exc})
            continue
        for path in rules.fields_of(entry["rule"]):
            head, _sep, rest = path.partition(".")
            if head == "input" and rest not in input_codes:
                problems.append(_("A rule reads an input nobody enters: %(f)s") % {"f": path})
            elif head != "input" and head not in names:
                problems.append(_("A rule reads data not fetched: %(f)s") % {"f": path})
        reason = entry.get("reason") or {}
        if not reason.get("fa") or not reason.get("en") or not reason.get("code"):
            problems.append(_("Every rule gives its reason in Persian and English."))
    for outcome in ("approved", "rejected"):
        text = spec["decision"].get(outcome) or {}
        if not text.get("fa") or not text.get("en"):
            problems.append(
                _("The decision text “%(o)s” is needed in Persian and English.") % {"o": outcome}
            )
    document = spec["document"]
    if not document.get("type") or not document.get("title_fa"):
        problems.append(_("The document needs a type and a Persian title."))
    templates = [document.get(k, "") for k in ("statement_fa", "statement_en", "about")]
    templates += [f.get("value", "") for f in document.get("fields", [])]
    for template in templates:
        for path, fmt in PLACEHOLDER_RE.findall(template):
            if fmt and fmt not in FORMATS:
                problems.append(_("The document names an unknown format: %(f)s") % {"f": fmt})
            head, _sep, rest = path.partition(".")
            if head == "subject" and not rest:
                continue
            if (head == "input" and rest in input_codes) or head in names:
                continue
            problems.append(_("The document reads unknown data: %(f)s") % {"f": path})
    for step in spec["steps"]:
        if step.get("kind") not in STEP_KINDS:
            problems.append(
                _("Step %(code)s is neither automatic nor manual.") % {"code": step.get("code")}
            )
    problems.extend(smart_problems(spec))
    return problems


def smart_problems(spec: dict[str, Any]) -> list[str]:
    """Why a definition may not carry the smart flag (empty if it may, or is not smart)."""
    if not spec.get("smart"):
        return []
    card = card_view(spec)
    found = [str(v.message) for v in check_smart(card)]
    for step in spec.get("steps", []):
        if step.get("kind") == "manual":
            found.append(
                _("A smart service may not have a manual step: %(step)s")
                % {"step": step.get("label_fa") or step.get("code")}
            )
    return found


def digest(spec: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()


def _agency(spec: dict[str, Any]) -> Agency:
    data = spec["agency"]
    agency = Agency.objects.filter(code=data["code"]).first()
    if agency is not None:
        return agency
    return operations.save_agency(
        Agency(),
        {
            "code": data["code"],
            "name_fa": data["name_fa"],
            "name_en": data.get("name_en", ""),
            "kind": data.get("kind", "organisation"),
            "connection_status": "connected",
            "connection_form": "national_system",
        },
        note="created for a service definition",
        author=operations.SYSTEM,
    )


def _card(spec: dict[str, Any], agency: Agency) -> Service:
    """The catalogue card the definition implements, brought in line with the definition."""
    view = card_view(spec)
    changes = {
        "inputs": view["inputs"],
        "documents_required": view["documents_required"],
        "in_person_steps": view["in_person_steps"],
        "target_minutes": spec["target_minutes"],
        "min_assurance_level": spec["assurance_level"],
    }
    service = Service.objects.filter(service_id=spec["service_id"]).first()
    if service is None:
        changes.update(
            {
                "service_id": spec["service_id"],
                "title_fa": spec["title_fa"],
                "title_en": spec.get("title_en", ""),
                "recipients": ["G2C"],
                "category": "other",
                "channels": ["web"],
                "scope": "connectable",
                "connected": True,
                "connection_form": "direct",
                "smart_status": view["smart_status"],
            }
        )
        return operations.save_service(
            Service(agency=agency),
            changes,
            note="created from its service definition",
            author=operations.SYSTEM,
        )
    if not spec["smart"] and service.smart_status != SmartStatus.NONE:
        # The definition has a manual step: the card may not keep claiming to be smart.
        changes["smart_status"] = SmartStatus.NONE
    if all(getattr(service, name) == value for name, value in changes.items()):
        return service
    return operations.save_service(
        service, changes, note="from its service definition", author=operations.SYSTEM
    )


@transaction.atomic
def load_spec(spec: dict[str, Any]) -> tuple[ServiceDefinition, bool]:
    """Write one definition; (definition, created). Raises :class:`DefinitionError`."""
    problems = validate(spec)
    if problems:
        raise DefinitionError(str(spec.get("code", "?")), problems)
    sha = digest(spec)
    existing = ServiceDefinition.objects.filter(code=spec["code"], version=spec["version"]).first()
    if existing is not None:
        if existing.digest != sha:
            raise DefinitionError(
                spec["code"],
                [
                    _("Version %(v)s was loaded with other content; raise the version.")
                    % {"v": spec["version"]}
                ],
            )
        return existing, False
    agency = _agency(spec)
    service = _card(spec, agency)
    ServiceDefinition.objects.filter(code=spec["code"]).update(active=False)
    definition = ServiceDefinition.objects.create(
        code=spec["code"],
        version=spec["version"],
        service=service,
        agency=service.agency,
        smart=bool(spec["smart"]),
        title_fa=spec["title_fa"],
        title_en=spec.get("title_en", ""),
        assurance_level=spec["assurance_level"],
        target_minutes=spec["target_minutes"],
        spec=spec,
        digest=sha,
        active=True,
    )
    return definition, True


def load(directory: Path = DEFINITIONS_DIR) -> LoadResult:
    """Load every definition file of ``directory``; refused ones are reported, not written."""
    result = LoadResult()
    for path in sorted(directory.iterdir()):
        if path.suffix not in (".json", ".yaml", ".yml"):
            continue
        try:
            spec = read_file(path)
        except (ValueError, OSError) as exc:
            result.refused[path.name] = [str(exc)]
            continue
        try:
            _definition, created = load_spec(spec)
        except DefinitionError as exc:
            result.refused[path.name] = exc.problems
            continue
        (result.loaded if created else result.unchanged).append(spec["code"])
    return result


def active(code: str) -> ServiceDefinition:
    return ServiceDefinition.objects.select_related("agency", "service").get(code=code, active=True)
