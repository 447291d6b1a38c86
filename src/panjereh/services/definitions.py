"""Load and validate the declarative service definitions (``definitions/*.json``).

A definition names the data it needs (registry, data service, items, whose record), what the
applicant may type, the eligibility rules, the decision texts, the document, the steps, the
target time and the assurance level. :func:`validate` returns every problem; for a definition
that claims to be smart it applies the catalogue's Art. 107 rules (no upload, no in-person step,
no typed registry item) plus "no manual step", and says which part breaks them in plain words
(:func:`explain`, both languages). Before the semantic checks a definition must match the JSON
Schema ``schema/definition.schema.json`` (draft 2020-12; ``docs/definition-schema.json`` is its
copy). :func:`load` writes each valid definition through the designer's operations
(``services.design``) as the system: a new version row, published (certified by the system
when smart), the previous version retired; an invalid one is refused with its reasons and
nothing of it is written.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator

from panjereh.catalogue import operations
from panjereh.catalogue.models import Agency, Service
from panjereh.catalogue.rules import check_smart, is_valid_service_id
from panjereh.catalogue.vocab import REGISTRY_ITEMS, InputSource, SmartStatus

from . import rules
from .labels import FORMATS, PLACEHOLDER_RE
from .models import ServiceDefinition

DEFINITIONS_DIR = Path(__file__).resolve().parent / "definitions"
SCHEMA_PATH = Path(__file__).resolve().parent / "schema" / "definition.schema.json"
SCHEMA: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
# The schema is checked a top-level part at a time, each part's answer remembered by its
# content: the designer validates as the staff member types, and a keystroke changes one part.
_TOP_VALIDATOR = Draft202012Validator(
    {**SCHEMA, "properties": {key: True for key in SCHEMA["properties"]}}
)
_PART_VALIDATORS = {key: Draft202012Validator(sub) for key, sub in SCHEMA["properties"].items()}
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
        # A step is a label, or a label with its reason: the card lists the labels.
        "in_person_steps": [
            step if isinstance(step, str) else _label(step, "fa")
            for step in spec.get("in_person_steps", [])
        ],
        "smart_status": SmartStatus.PROPOSED if spec.get("smart") else SmartStatus.NONE,
    }


def _where(path) -> str:
    return "/".join(str(part) for part in path) or "/"


def _schema_error(error, prefix: tuple = ()) -> tuple[str, str, str]:
    """(where, kind, detail) of one schema error."""
    path = (*prefix, *error.absolute_path)
    where = _where(path)
    kind = error.validator
    if kind == "additionalProperties" and isinstance(error.instance, dict):
        known = error.schema.get("properties", {})
        extra = ", ".join(sorted(str(k) for k in error.instance if k not in known))
        where = f"{where}/{extra}".lstrip("/") if path else extra
    return where, kind, error.message[:200]


@lru_cache(maxsize=1024)
def _part_errors(key: str, text: str) -> tuple[tuple[str, str, str], ...]:
    errors = _PART_VALIDATORS[key].iter_errors(json.loads(text))
    return tuple(
        _schema_error(e, (key,)) for e in sorted(errors, key=lambda e: [str(p) for p in e.path])
    )


def schema_errors(spec: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Every place ``spec`` breaks the JSON Schema: (where, kind, detail)."""
    found = [_schema_error(e) for e in _TOP_VALIDATOR.iter_errors(spec)]
    for key in _PART_VALIDATORS:
        if key in spec:
            try:
                text = json.dumps(spec[key], sort_keys=True, ensure_ascii=False)
            except (TypeError, ValueError):
                found.append((key, "type", "not JSON"))
                continue
            found.extend(_part_errors(key, text))
    return found


def schema_problems(spec: Any) -> list[str]:
    """Where ``spec`` breaks the JSON Schema, in words (empty when it matches)."""
    if not isinstance(spec, dict):
        return [_("A definition is a JSON object.")]
    missing = [key for key in REQUIRED_KEYS if key not in spec]
    if missing:
        return [_("Missing keys: %(keys)s") % {"keys": ", ".join(missing)}]
    problems = []
    for where, kind, detail in schema_errors(spec)[:50]:
        if kind == "required":
            text = _("%(where)s: a required part is missing (%(detail)s).")
        elif kind == "type":
            text = _("%(where)s: the value has the wrong type (%(detail)s).")
        elif kind == "additionalProperties":
            text = _("%(where)s: a part the format does not know (%(detail)s).")
        elif kind in ("enum", "pattern", "minimum", "maximum"):
            text = _("%(where)s: the value is not allowed (%(detail)s).")
        elif kind in ("minLength", "maxLength", "minItems", "maxItems"):
            text = _("%(where)s: too short or too long (%(detail)s).")
        else:
            text = _("%(where)s: does not match the definition format (%(detail)s).")
        problems.append(text % {"where": where, "detail": detail})
    return problems


def validate(spec: dict[str, Any]) -> list[str]:
    """Every problem of a definition (empty when it may be loaded): first the JSON Schema,
    then the semantic checks and, for a smart one, why it is not smart (:func:`explain`)."""
    problems = schema_problems(spec)
    if problems:
        return problems
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
    # No document: an approval is a decision notice in the applicant's inbox.
    document = spec.get("document") or {}
    if "document" in spec and (not document.get("type") or not document.get("title_fa")):
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
    problems.extend(_asked_problems(spec, input_codes))
    problems.extend(_fee_problems(spec))
    problems.extend(smart_problems(spec))
    return problems


MAX_FEE = 10**13  # rials: what the payments app takes at most


def _fee_problems(spec: dict[str, Any]) -> list[str]:
    """The fee and its rules (``services.fees``): amounts the payments app can take, rules
    that read only what the applicant types."""
    from .fees import rule_problems

    amounts = [spec.get("fee_rials") or 0] + [
        entry.get("amount_rials", 0) for entry in spec.get("fee_rules") or []
    ]
    problems = []
    if any(amount > MAX_FEE for amount in amounts):
        problems.append(_("A fee may be at most 10,000,000,000,000 rials."))
    return problems + rule_problems(spec)


def _lang() -> str:
    return "en" if (get_language() or "fa").startswith("en") else "fa"


def _asked_problems(spec: dict[str, Any], input_codes: set) -> list[str]:
    """What the applicant is asked to bring or do must say why (the card shows the reason,
    and the once-only rule means a reason is owed for every document and visit)."""
    problems = []
    upload_codes: set[str] = set()
    for upload in spec.get("uploads", []):
        code = upload.get("code", "")
        if code in upload_codes or code in input_codes:
            problems.append(_("Each upload needs its own code: %(code)s") % {"code": code})
        upload_codes.add(code)
        if not str(upload.get("reason") or "").strip():
            problems.append(
                _("The upload “%(label)s” needs the reason the applicant must provide it.")
                % {"label": _label(upload, _lang())}
            )
    for step in spec.get("in_person_steps", []):
        if not isinstance(step, dict) or not str(step.get("reason") or "").strip():
            problems.append(
                _("The in-person step “%(label)s” needs the reason it cannot be done online.")
                % {"label": _label(step, _lang())}
            )
    return problems


@dataclass(frozen=True)
class Reason:
    """One reason a definition marked smart is not smart: the rule broken (``code``), the
    part of the definition that breaks it (a JSON pointer, e.g. ``/uploads/0``) and a plain
    sentence in each language."""

    code: str
    part: str
    fa: str
    en: str

    def text(self, lang: str | None = None) -> str:
        return self.en if (lang or get_language() or "fa").startswith("en") else self.fa


def _label(entry: Any, lang: str) -> str:
    if isinstance(entry, str):
        return entry
    if not isinstance(entry, dict):
        return str(entry)
    if lang == "en" and entry.get("label_en"):
        return str(entry["label_en"])
    return str(entry.get("label_fa") or entry.get("label_en") or entry.get("code") or "—")


def registry_item_of(entry: dict[str, Any]) -> str | None:
    """The base-registry item a typed input asks for, if any: named (``item``), or its code is
    a registry item's code or the last part of one (``birth_date`` → ``civil.birth_date``)."""
    item = entry.get("item")
    if item in REGISTRY_ITEMS:
        return item
    code = str(entry.get("code") or "")
    if code in REGISTRY_ITEMS:
        return code
    return _ITEM_BY_SUFFIX.get(code)


_ITEM_BY_SUFFIX = {code.split(".", 1)[1]: code for code in REGISTRY_ITEMS}


def explain(spec: dict[str, Any]) -> list[Reason]:
    """Why a definition marked smart is not smart, in plain words naming each part (empty if
    it is smart, or does not claim to be): an upload, an in-person step, a typed input a base
    registry holds (Art. 107(h)), a manual step."""
    if not isinstance(spec, dict) or not spec.get("smart"):
        return []
    found: list[Reason] = []
    for i, upload in enumerate(_list(spec.get("uploads"))):
        fa, en = _label(upload, "fa"), _label(upload, "en")
        found.append(
            Reason(
                "smart.upload",
                f"/uploads/{i}",
                f"این خدمت هوشمند نیست، چون از متقاضی می‌خواهد «{fa}» را بارگذاری کند.",
                f"Not smart: it asks the applicant to upload “{en}”.",
            )
        )
    for i, step in enumerate(_list(spec.get("in_person_steps"))):
        fa, en = _label(step, "fa"), _label(step, "en")
        found.append(
            Reason(
                "smart.in_person",
                f"/in_person_steps/{i}",
                f"این خدمت هوشمند نیست، چون متقاضی باید برای «{fa}» حضوری مراجعه کند.",
                f"Not smart: it has an in-person step: “{en}”.",
            )
        )
    for i, entry in enumerate(_list(spec.get("inputs"))):
        if not isinstance(entry, dict):
            continue
        fa, en = _label(entry, "fa"), _label(entry, "en")
        if entry.get("source") == InputSource.DOCUMENT:
            found.append(
                Reason(
                    "smart.upload",
                    f"/inputs/{i}",
                    f"این خدمت هوشمند نیست، چون از متقاضی می‌خواهد «{fa}» را بارگذاری کند.",
                    f"Not smart: it asks the applicant to upload “{en}”.",
                )
            )
            continue
        item = registry_item_of(entry)
        if entry.get("source", InputSource.USER) == InputSource.USER and item:
            _registry, item_fa, item_en = REGISTRY_ITEMS[item]
            found.append(
                Reason(
                    "smart.registry_item_typed",
                    f"/inputs/{i}",
                    f"این خدمت هوشمند نیست، چون از متقاضی می‌خواهد «{fa}» را تایپ کند، در حالی "
                    f"که «{item_fa}» را یک پایگاه پایه نگه می‌دارد و باید از تبادل اطلاعات "
                    "دریافت شود (بند ح ماده ۱۰۷).",
                    f"Not smart: it asks the applicant to type what a base registry holds: "
                    f"“{en}” ({item_en}); fetch it through the exchange instead (Art. 107(h)).",
                )
            )
    for i, step in enumerate(_list(spec.get("steps"))):
        if isinstance(step, dict) and step.get("kind") == "manual":
            fa, en = _label(step, "fa"), _label(step, "en")
            found.append(
                Reason(
                    "smart.manual",
                    f"/steps/{i}",
                    f"این خدمت هوشمند نیست، چون مرحله «{fa}» را کارشناس انجام می‌دهد (مرحله دستی).",
                    f"Not smart: it has a manual step, “{en}”, that an officer must do.",
                )
            )
    # The catalogue's own Art. 107 rules stay the authority: anything they find that the
    # sentences above do not cover is said in their words.
    covered = {reason.code for reason in found} | {"smart.documents"}
    for violation in check_smart(card_view(spec)):
        if violation.code not in covered:
            message = str(violation.message)
            found.append(Reason(violation.code, "/" + violation.field, message, message))
    return found


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def smart_problems(spec: dict[str, Any]) -> list[str]:
    """Why a definition may not carry the smart flag (empty if it may, or is not smart), in
    the current language."""
    return [reason.text() for reason in explain(spec)]


def digest(spec: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()


def agency_for(spec: dict[str, Any]) -> Agency:
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


def sync_card(spec: dict[str, Any], agency: Agency) -> Service:
    """The catalogue card the definition implements, brought in line with the definition."""
    view = card_view(spec)
    changes = {
        "inputs": view["inputs"],
        "documents_required": view["documents_required"],
        "in_person_steps": view["in_person_steps"],
        "target_minutes": spec["target_minutes"],
        "min_assurance_level": spec["assurance_level"],
    }
    if "fee_rials" in spec:  # a definition without a fee leaves the card's own fee alone
        changes["fee"] = spec["fee_rials"]
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
        # The definition has a manual step: the card may not keep claiming to be smart. A card
        # proposed as smart or certified smart-eligible keeps its stage while its definition
        # asks for nothing the smart path forbids (no upload, no visit): only an officer's
        # review stands between it and smart.
        on_the_way = service.smart_status in (SmartStatus.PROPOSED, SmartStatus.CERTIFIED)
        if not (on_the_way and not spec.get("uploads") and not spec.get("in_person_steps")):
            changes["smart_status"] = SmartStatus.NONE
    if all(getattr(service, name) == value for name, value in changes.items()):
        return service
    return operations.save_service(
        service, changes, note="from its service definition", author=operations.SYSTEM
    )


@transaction.atomic
def load_spec(spec: dict[str, Any]) -> tuple[ServiceDefinition, bool]:
    """Write one definition from a file, as the system, through the designer's operations:
    created, submitted, certified by the system when smart, published (the previous version
    retired). (definition, created). Raises :class:`DefinitionError`."""
    from . import design

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
    system = design.roles.SYSTEM
    definition = design.create_draft(
        agency_for(spec), spec, actor=system, version=spec["version"], note=design.FROM_FILE
    )
    design.submit(definition, actor=system, note=design.FROM_FILE)
    if definition.smart:
        design.certify(definition, actor=system, note=design.CERTIFIED_BY_SYSTEM)
    design.publish(definition, actor=system, note=design.FROM_FILE)
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
