"""The designer's forms: a definition's parts as the fields an officer fills in, and back.

The edit page is one form of sections (general, data, rules, inputs, uploads and visits,
decision, document). :func:`spec_from_post` builds the definition from the posted fields on
top of the saved one (so what the form cannot show, e.g. a fetch's subject or a compound rule
from an imported file, is kept) and returns the problems of single fields; the whole
definition is then checked by ``definitions.validate`` and ``definitions.explain`` and saved
only through ``design.update_draft``. :func:`rows_of` turns a definition back into the rows
the template shows.

Repeated parts (rules, inputs, uploads, visits, document fields) are numbered rows
``<part>-<n>-<field>``; the page shows the existing rows and one empty row (works without
JavaScript: save, and another empty row appears).
"""

from __future__ import annotations

import copy
import json
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from panjereh.catalogue.models import Service
from panjereh.catalogue.rules import make_service_id
from panjereh.catalogue.vocab import REGISTRY_ITEMS
from panjereh.common.templatetags.persian import num

from . import definitions, rules
from .models import ServiceDefinition

MAX_ROWS = 100
NO_VALUE_OPS = ("true", "false", "empty", "not_empty")
LIST_OPS = ("in", "not_in")
# The operators in the officer's words (the engine's names stay in the definition).
OPERATOR_LABELS = {
    "eq": gettext_lazy("is equal to"),
    "ne": gettext_lazy("is not equal to"),
    "in": gettext_lazy("is one of (separate with commas)"),
    "not_in": gettext_lazy("is none of (separate with commas)"),
    "gt": gettext_lazy("is greater than"),
    "gte": gettext_lazy("is at least"),
    "lt": gettext_lazy("is less than"),
    "lte": gettext_lazy("is at most"),
    "true": gettext_lazy("is yes"),
    "false": gettext_lazy("is no"),
    "empty": gettext_lazy("is empty"),
    "not_empty": gettext_lazy("is not empty"),
    "same_as": gettext_lazy("is the same as the field"),
}
ASSURANCE_LABELS = {
    1: gettext_lazy("1 — low (a mobile number)"),
    2: gettext_lazy("2 — substantial (national code and mobile matched by Shahkar)"),
    3: gettext_lazy("3 — high (with the registry's photograph)"),
    4: gettext_lazy("4 — very high (in person or a smart card)"),
}
# A fee rule reads what the applicant typed (text): compared as text, never as a number.
FEE_OPERATORS = ("eq", "ne", "in", "not_in", "empty", "not_empty")
CODE_RE = re.compile(r"^[a-z0-9-]{1,80}$")
ROW_CODE_RE = re.compile(r"^[a-z][a-z0-9_]{0,59}$")


# -- creating a draft -----------------------------------------------------------------------


class NewDraftForm(forms.Form):
    """A new service definition: its titles, its code, the agency and the catalogue card."""

    title_fa = forms.CharField(label=gettext_lazy("Title in Persian"), max_length=300)
    title_en = forms.CharField(
        label=gettext_lazy("Title in English"), max_length=300, required=False
    )
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=80,
        help_text=gettext_lazy(
            "Lower-case Latin letters, digits and hyphens, e.g. marriage-certificate. "
            "It names the service in its address and never changes."
        ),
    )
    agency = forms.TypedChoiceField(label=gettext_lazy("Agency"), coerce=int)
    card = forms.ChoiceField(
        label=gettext_lazy("Catalogue card"),
        required=False,
        help_text=gettext_lazy(
            "The card in the national catalogue that this service implements; "
            "a new card is created if the service has none yet."
        ),
    )

    def __init__(self, *args, agencies, cards, **kwargs):
        super().__init__(*args, **kwargs)
        self.agencies = {agency.pk: agency for agency in agencies}
        self.fields["agency"].choices = [(a.pk, a.name_fa) for a in agencies]
        if len(agencies) == 1:
            self.fields["agency"].initial = agencies[0].pk
        self.fields["card"].choices = [("", _("A new card"))] + [
            (card.service_id, f"{card.title_fa} ({card.service_id})") for card in cards
        ]
        self.cards = {card.service_id: card for card in cards}

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip()
        if not CODE_RE.match(code):
            raise forms.ValidationError(
                _("Use lower-case Latin letters, digits and hyphens only, e.g. student-status.")
            )
        if ServiceDefinition.objects.filter(code=code).exists():
            raise forms.ValidationError(
                _("The code %(code)s is taken; choose another.") % {"code": code}
            )
        return code

    def clean(self):
        data = super().clean()
        card = self.cards.get(data.get("card") or "")
        agency = data.get("agency")
        if card is not None and agency is not None and card.agency_id != agency:
            self.add_error("card", _("The card belongs to another agency."))
        return data


def new_service_id() -> str:
    """A service ID no card has yet (a 9 prefix: given by the designer, not yet by AEO)."""
    for _attempt in range(100):
        candidate = make_service_id("9" + f"{secrets.randbelow(10**8):08d}")
        if not Service.objects.filter(service_id=candidate).exists():
            return candidate
    raise RuntimeError("no free service ID")  # pragma: no cover - 10^8 IDs


def skeleton(agency, *, code: str, title_fa: str, title_en: str, service_id: str) -> dict:
    """The first draft of a new service: valid, smart, with nothing fetched yet."""
    return {
        "code": code,
        "version": 1,
        "service_id": service_id,
        "agency": {
            "code": agency.code,
            "name_fa": agency.name_fa,
            **({"name_en": agency.name_en} if agency.name_en else {}),
        },
        "title_fa": title_fa,
        "title_en": title_en,
        "smart": True,
        "assurance_level": 2,
        "target_minutes": 5,
        "fee_rials": 0,
        "data": [],
        "inputs": [],
        "uploads": [],
        "in_person_steps": [],
        "steps": steps_for(manual_review=False),
        "eligibility": [],
        "decision": {
            "approved": {
                "fa": f"درخواست «{title_fa}» شما پذیرفته و سند آن صادر شد.",
                "en": f"Your application for “{title_en or title_fa}” was approved.",
            },
            "rejected": {
                "fa": f"درخواست «{title_fa}» شما پذیرفته نشد.",
                "en": f"Your application for “{title_en or title_fa}” was not approved.",
            },
        },
        "document": {
            "type": code,
            "title_fa": title_fa,
            "title_en": title_en,
            "statement_fa": "",
            "statement_en": "",
            "fields": [{"label_fa": "کد ملی", "label_en": "National code", "value": "{subject}"}],
            "valid_days": 180,
        },
    }


def _reasoned_rows(
    post, parsed, kind: str, unnamed: str, unreasoned: str
) -> list[tuple[int, dict]]:
    """The filled rows ``<kind>-<n>-label_fa/label_en/reason`` (uploads, visits): each must
    be named in Persian and say why it is asked."""
    found = []
    for n in _rows(post, kind):
        p = f"{kind}-{n}-"
        fa, en, reason = (
            _text(post, p + "label_fa", 300),
            _text(post, p + "label_en", 300),
            _text(post, p + "reason"),
        )
        if not (fa or en or reason):
            continue
        if not fa:
            parsed.add(p + "label_fa", unnamed)
        if not reason:
            parsed.add(p + "reason", unreasoned)
        found.append((n, {"label_fa": fa or "—", "label_en": en, "reason": reason}))
    return found


def steps_for(*, manual_review: bool) -> list[dict[str, str]]:
    steps = [
        {
            "code": "fetch",
            "kind": "automatic",
            "label_fa": "استعلام از پایگاه‌های پایه",
            "label_en": "Inquiry to the base registries",
        },
        {
            "code": "decide",
            "kind": "automatic",
            "label_fa": "بررسی شرایط",
            "label_en": "Check of the conditions",
        },
    ]
    if manual_review:
        steps.append(
            {
                "code": "review",
                "kind": "manual",
                "label_fa": "بررسی کارشناس دستگاه",
                "label_en": "Review by an officer of the agency",
            }
        )
    steps.append(
        {
            "code": "issue",
            "kind": "automatic",
            "label_fa": "صدور سند امضاشده",
            "label_en": "Signed document issued",
        }
    )
    return steps


# -- the registries' items --------------------------------------------------------------------


@dataclass
class CatalogueItem:
    key: str  # "<registry>/<service>/<item>", the checkbox's value
    code: str
    label_fa: str
    label_en: str
    fields: list[str]
    granted: bool = False
    requested: bool = False


@dataclass
class CatalogueService:
    pk: int
    registry: str
    code: str
    title_fa: str
    title_en: str
    provider_fa: str
    provider_en: str
    fetch_name: str
    items: list[CatalogueItem] = field(default_factory=list)
    picked: int = 0  # how many of its items the definition fetches

    @property
    def missing(self) -> list[CatalogueItem]:
        return [item for item in self.items if not item.granted]


def fetch_name(service_code: str) -> str:
    name = re.sub(r"[^a-z0-9_]", "_", service_code.lower()).strip("_") or "data"
    return name if name[0].isalpha() else f"d_{name}"


def registry_catalogue(agency, purpose: Service | None) -> list[CatalogueService]:
    """Every enabled data service of the exchange with its published items, each marked
    whether ``agency`` holds an active grant for it with ``purpose`` (the definition's card)."""
    from panjereh.exchange.models import ACTIVE_STATES, DataService, Grant, GrantState

    held: dict[int, set[str]] = {}
    asked: dict[int, set[str]] = {}
    if purpose is not None and purpose.pk:
        for grant in Grant.objects.filter(consumer=agency, purpose=purpose):
            if grant.state in ACTIVE_STATES:
                held.setdefault(grant.service_id, set()).update(
                    grant.items or grant.requested_items
                )
            elif grant.state == GrantState.REQUESTED:
                asked.setdefault(grant.service_id, set()).update(grant.requested_items)
    found = []
    for service in (
        DataService.objects.filter(enabled=True)
        .select_related("provider")
        .order_by("subsystem", "code")
    ):
        registry = service.subsystem.removesuffix("-registry")
        entry = CatalogueService(
            pk=service.pk,
            registry=registry,
            code=service.code,
            title_fa=service.title_fa,
            title_en=service.title_en or service.title_fa,
            provider_fa=service.provider.name_fa,
            provider_en=service.provider.name_en or service.provider.name_fa,
            fetch_name=fetch_name(service.code),
        )
        for item in service.items:
            code = item["code"]
            _reg, fa, en = REGISTRY_ITEMS.get(code, ("", code, code))
            entry.items.append(
                CatalogueItem(
                    key=f"{registry}/{service.code}/{code}",
                    code=code,
                    label_fa=item.get("label_fa") or fa,
                    label_en=item.get("label_en") or en,
                    fields=list(item.get("fields", [])),
                    granted=code in held.get(service.pk, set()),
                    requested=code in asked.get(service.pk, set()),
                )
            )
        found.append(entry)
    return found


# -- from the posted fields to a definition ---------------------------------------------------


@dataclass
class Parsed:
    spec: dict[str, Any]
    errors: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)


def _text(post, name: str, limit: int = 4000) -> str:
    return str(post.get(name, "")).strip()[:limit]


def _rows(post, prefix: str) -> list[int]:
    """The numbers of the ``prefix`` rows posted, in order."""
    found = set()
    pattern = re.compile(rf"^{re.escape(prefix)}-(\d{{1,3}})-")
    for key in post:
        match = pattern.match(key)
        if match and int(match.group(1)) < MAX_ROWS:
            found.add(int(match.group(1)))
    return sorted(found)


def _integer(parsed: Parsed, post, name: str, *, minimum: int, label: str) -> int | None:
    raw = _text(post, name, 20)
    from panjereh.common.persian import to_latin_digits

    raw = to_latin_digits(raw).replace(",", "").replace("٬", "")
    if not raw.isdigit() or int(raw) < minimum:
        parsed.add(
            name,
            _("%(label)s is a whole number of at least %(min)s.")
            % {"label": label, "min": num(minimum)},
        )
        return None
    return int(raw)


def rule_value(op: str, raw: str) -> Any:
    """The literal an officer typed, as the rule compares it (a number, yes/no, a list)."""
    if op in NO_VALUE_OPS:
        return None
    if op == "same_as":
        return raw
    if op in LIST_OPS:
        return [_scalar(part.strip()) for part in re.split(r"[,،]", raw) if part.strip()]
    return _scalar(raw)


def _scalar(raw: str) -> Any:
    from panjereh.common.persian import to_latin_digits

    latin = to_latin_digits(raw)
    if re.fullmatch(r"-?\d{1,15}", latin):
        return int(latin)
    if re.fullmatch(r"-?\d{1,15}\.\d{1,6}", latin):
        return float(latin)
    if raw.lower() in ("true", "yes", "بله"):
        return True
    if raw.lower() in ("false", "no", "خیر"):
        return False
    return raw


def shown_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(shown_value(v) for v in value)
    return str(value)


def _simple(rule: Any) -> bool:
    return isinstance(rule, dict) and "field" in rule and "op" in rule


def spec_from_post(post, saved: dict[str, Any], catalogue: list[CatalogueService]) -> Parsed:
    """The definition the posted form describes, on top of the ``saved`` one."""
    spec = copy.deepcopy(saved)
    parsed = Parsed(spec)
    spec["title_fa"] = _text(post, "title_fa", 300)
    spec["title_en"] = _text(post, "title_en", 300)
    if not spec["title_fa"]:
        parsed.add("title_fa", _("Enter the title in Persian."))
    spec["smart"] = post.get("smart") == "on"
    level = _text(post, "assurance_level", 2)
    spec["assurance_level"] = int(level) if level in ("1", "2", "3", "4") else 2
    target = _integer(parsed, post, "target_minutes", minimum=1, label=_("The target time"))
    if target is not None:
        spec["target_minutes"] = target
    fee = _integer(parsed, post, "fee_rials", minimum=0, label=_("The fee"))
    if fee is not None:
        spec["fee_rials"] = fee

    # The data: one fetch per data service with items picked; a fetch kept keeps its name,
    # subject, required fields and labels.
    picked: dict[tuple[str, str], list[str]] = {}
    known = {item.key for service in catalogue for item in service.items}
    for key in post.getlist("item") if hasattr(post, "getlist") else post.get("item", []):
        if key not in known:
            parsed.add(
                "data", _("An item that is not on the exchange was picked: %(k)s") % {"k": key}
            )
            continue
        registry, service, code = key.split("/", 2)
        picked.setdefault((registry, service), []).append(code)
    old = {(f.get("registry"), f.get("service")): f for f in saved.get("data", [])}
    fetches = []
    for fetch_spec in saved.get("data", []):
        key = (fetch_spec.get("registry"), fetch_spec.get("service"))
        if key in picked:
            fetches.append({**fetch_spec, "items": sorted(set(picked.pop(key)))})
    for service in catalogue:
        key = (service.registry, service.code)
        if key in picked and key not in old:
            fetches.append(
                {
                    "name": _unique_name(service.fetch_name, fetches),
                    "registry": service.registry,
                    "service": service.code,
                    "items": sorted(set(picked.pop(key))),
                    "subject": "applicant",
                    "label_fa": service.title_fa,
                    **({"label_en": service.title_en} if service.title_en else {}),
                }
            )
    for fetch_spec in fetches:  # required fields must still be fetched
        if "required" in fetch_spec:
            service = next(
                (
                    s
                    for s in catalogue
                    if (s.registry, s.code) == (fetch_spec["registry"], fetch_spec["service"])
                ),
                None,
            )
            if service is not None:
                fields = {
                    f for i in service.items if i.code in fetch_spec["items"] for f in i.fields
                }
                fetch_spec["required"] = [f for f in fetch_spec["required"] if f in fields]
    spec["data"] = fetches

    # Rules: the simple ones are rows; compound ones (from a file) are kept as they are.
    kept = [entry for entry in saved.get("eligibility", []) if not _simple(entry.get("rule"))]
    eligibility = []
    for n in _rows(post, "rule"):
        p = f"rule-{n}-"
        path, op = _text(post, p + "field", 200), _text(post, p + "op", 20)
        raw = _text(post, p + "value", 1000)
        fa, en = _text(post, p + "reason_fa"), _text(post, p + "reason_en")
        if not (path or raw or fa or en):
            continue  # the empty row
        if not path or "." not in path:
            parsed.add(p + "field", _("Name the field the rule reads, e.g. identity.alive."))
        if op not in rules.OPERATORS:
            parsed.add(p + "op", _("Choose how the field is compared."))
        elif op not in NO_VALUE_OPS and not raw:
            parsed.add(p + "value", _("Enter the value the field is compared with."))
        if not fa:
            parsed.add(
                p + "reason_fa", _("Say in Persian why an applicant who fails it is refused.")
            )
        if not en:
            parsed.add(
                p + "reason_en", _("Say in English why an applicant who fails it is refused.")
            )
        rule: dict[str, Any] = {"field": path, "op": op}
        value = rule_value(op, raw)
        if op not in NO_VALUE_OPS:
            rule["value"] = value
        code = _text(post, p + "code", 60) or f"rule_{n + 1}"
        eligibility.append({"rule": rule, "reason": {"code": code, "fa": fa, "en": en}})
    spec["eligibility"] = eligibility + kept

    # What the applicant types: never what a registry holds (Art. 107(h)).
    inputs = []
    for n in _rows(post, "input"):
        p = f"input-{n}-"
        code, fa, en = (
            _text(post, p + "code", 60),
            _text(post, p + "label_fa", 300),
            _text(post, p + "label_en", 300),
        )
        if not (code or fa or en):
            continue
        if not ROW_CODE_RE.match(code):
            parsed.add(
                p + "code",
                _("The input's code is lower-case Latin letters, digits and _, e.g. purpose."),
            )
        if not fa:
            parsed.add(p + "label_fa", _("Enter the question in Persian."))
        entry = {
            "code": code,
            "label_fa": fa or code,
            "label_en": en,
            "source": "user",
            "required": post.get(p + "required") == "on",
        }
        item = definitions.registry_item_of(entry)
        if item:
            holder_fa, holder_en = _holder(item)
            parsed.add(
                p + "code",
                _(
                    "“%(label)s” is held by a base registry (%(holder)s): pick it under "
                    "“Data from the registries” instead of asking the applicant to type it "
                    "(Art. 107(h) of the 7th Plan, the once-only principle)."
                )
                % {
                    "label": REGISTRY_ITEMS[item][1 if _fa() else 2],
                    "holder": holder_fa if _fa() else holder_en,
                },
            )
        inputs.append(entry)
    spec["inputs"] = inputs
    _fees_from_post(post, parsed, saved)

    uploads = _reasoned_rows(
        post,
        parsed,
        "upload",
        _("Name the document in Persian."),
        _("Say why the applicant must upload it: no registry holds it."),
    )
    spec["uploads"] = [
        {"code": _text(post, f"upload-{n}-code", 60) or f"upload_{n + 1}", **row}
        for n, row in uploads
    ]
    visits = _reasoned_rows(
        post,
        parsed,
        "visit",
        _("Name the visit in Persian."),
        _("Say why the applicant must come in person."),
    )
    spec["in_person_steps"] = [row for _n, row in visits]

    spec["steps"] = steps_for(manual_review=post.get("manual_review") == "on")
    spec["decision"] = {
        "approved": {"fa": _text(post, "approved_fa"), "en": _text(post, "approved_en")},
        "rejected": {"fa": _text(post, "rejected_fa"), "en": _text(post, "rejected_en")},
    }
    for name in ("approved_fa", "approved_en", "rejected_fa", "rejected_en"):
        if not _text(post, name):
            parsed.add(name, _("Enter the text the applicant reads."))

    document = dict(saved.get("document") or {})
    document["type"] = document.get("type") or saved.get("code", "document")
    for name in ("title_fa", "title_en", "statement_fa", "statement_en"):
        document[name] = _text(post, "doc_" + name, 4000 if name.startswith("statement") else 300)
    if not document["title_fa"]:
        parsed.add("doc_title_fa", _("Enter the document's title in Persian."))
    valid = _integer(parsed, post, "doc_valid_days", minimum=1, label=_("The validity"))
    if valid is not None:
        document["valid_days"] = valid
    doc_fields = []
    for n in _rows(post, "docfield"):
        p = f"docfield-{n}-"
        fa, en, value = (
            _text(post, p + "label_fa", 300),
            _text(post, p + "label_en", 300),
            _text(post, p + "value", 1000),
        )
        if not (fa or en or value):
            continue
        if not fa:
            parsed.add(p + "label_fa", _("Enter the field's label in Persian."))
        if not value:
            parsed.add(p + "value", _("Enter what the field shows, e.g. {identity.first_name}."))
        doc_fields.append({"label_fa": fa or "—", "label_en": en, "value": value})
    document["fields"] = doc_fields
    spec["document"] = document
    return parsed


def _fee_rule_value(op: str, raw: str) -> Any:
    """The text a fee rule compares the typed input with (a list for "is one of")."""
    if op in NO_VALUE_OPS:
        return None
    if op in LIST_OPS:
        return [part.strip() for part in re.split(r"[,،]", raw) if part.strip()]
    return raw


def _fees_from_post(post, parsed: Parsed, saved: dict[str, Any]) -> None:
    """Whether a rejected application's fee is given back, and the fees that depend on what
    the applicant types (rows ``feerule-<n>-…``: the input, how it is compared, the value,
    the amount and what the fee is for). The first rule that holds gives the fee; none: the
    fee above. Compound fee rules from an imported file are kept after the rows, as they are.
    Only a form that shows the fee section (``fee_form``) changes them."""
    spec = parsed.spec
    if post.get("fee_form") != "1":
        return
    spec["fee_refundable"] = post.get("fee_refundable") == "on"
    typed = {f"input.{entry['code']}" for entry in spec.get("inputs", []) if entry.get("code")}
    kept = [entry for entry in saved.get("fee_rules") or [] if not _simple(entry.get("rule"))]
    found = []
    for n in _rows(post, "feerule"):
        p = f"feerule-{n}-"
        path, op = _text(post, p + "field", 200), _text(post, p + "op", 20)
        raw = _text(post, p + "value", 1000)
        amount_raw = _text(post, p + "amount", 20)
        fa, en = _text(post, p + "label_fa", 200), _text(post, p + "label_en", 200)
        if not (path or raw or amount_raw or fa or en):
            continue  # the empty row
        if not path:
            parsed.add(p + "field", _("Choose the input the fee depends on."))
        elif path not in typed:
            parsed.add(
                p + "field",
                _(
                    "A fee can depend only on what the applicant types: choose one of the "
                    "service's inputs."
                ),
            )
        if op not in FEE_OPERATORS:
            parsed.add(p + "op", _("Choose how the input is compared."))
        elif op not in NO_VALUE_OPS and not raw:
            parsed.add(p + "value", _("Enter the value the input is compared with."))
        amount = _integer(parsed, post, p + "amount", minimum=0, label=_("The fee of this rule"))
        if not fa:
            parsed.add(p + "label_fa", _("Say in Persian what this fee is for, e.g. a duplicate."))
        rule: dict[str, Any] = {"field": path, "op": op}
        if op not in NO_VALUE_OPS:
            rule["value"] = _fee_rule_value(op, raw)
        entry: dict[str, Any] = {
            "rule": rule,
            "amount_rials": amount if amount is not None else 0,
            "label_fa": fa or "—",
        }
        if en:
            entry["label_en"] = en
        found.append(entry)
    spec["fee_rules"] = found + kept
    if not spec["fee_rules"]:
        spec.pop("fee_rules")


def _unique_name(name: str, fetches: list[dict]) -> str:
    taken = {f["name"] for f in fetches}
    candidate, n = name, 2
    while candidate in taken or candidate in ("input", "subject"):
        candidate, n = f"{name}_{n}", n + 1
    return candidate


def _fa() -> bool:
    from django.utils.translation import get_language

    return (get_language() or "fa").startswith("fa")


def _holder(item: str) -> tuple[str, str]:
    from panjereh.catalogue.rules import REGISTRY_HOLDERS

    registry = REGISTRY_ITEMS[item][0]
    return REGISTRY_HOLDERS.get(registry, (registry, registry))


# -- from a definition to the rows the page shows ---------------------------------------------


def rows_of(spec: dict[str, Any]) -> dict[str, Any]:
    """The form's values for ``spec``: scalars by name, repeated parts as rows (one empty row
    added to each)."""
    document = spec.get("document") or {}
    decision = spec.get("decision") or {}
    rules_rows = [
        {
            "field": entry["rule"].get("field", ""),
            "op": entry["rule"].get("op", ""),
            "value": shown_value(entry["rule"].get("value")),
            "code": (entry.get("reason") or {}).get("code", ""),
            "reason_fa": (entry.get("reason") or {}).get("fa", ""),
            "reason_en": (entry.get("reason") or {}).get("en", ""),
        }
        for entry in spec.get("eligibility", [])
        if _simple(entry.get("rule"))
    ]
    compound = [
        {"json": json.dumps(entry["rule"], ensure_ascii=False), **(entry.get("reason") or {})}
        for entry in spec.get("eligibility", [])
        if not _simple(entry.get("rule"))
    ]
    visits = [
        step if isinstance(step, dict) else {"label_fa": step, "label_en": "", "reason": ""}
        for step in spec.get("in_person_steps", [])
    ]
    fee_rows = [
        {
            "field": entry["rule"].get("field", ""),
            "op": entry["rule"].get("op", ""),
            "value": ", ".join(str(v) for v in entry["rule"]["value"])
            if isinstance(entry["rule"].get("value"), list)
            else shown_value(entry["rule"].get("value")),
            "amount": entry.get("amount_rials", ""),
            "label_fa": entry.get("label_fa", ""),
            "label_en": entry.get("label_en", ""),
        }
        for entry in spec.get("fee_rules") or []
        if _simple(entry.get("rule"))
    ]
    compound_fees = [
        {
            "json": json.dumps(entry["rule"], ensure_ascii=False),
            "amount": entry.get("amount_rials", 0),
            "fa": entry.get("label_fa", ""),
            "en": entry.get("label_en", ""),
        }
        for entry in spec.get("fee_rules") or []
        if not _simple(entry.get("rule"))
    ]
    return {
        "title_fa": spec.get("title_fa", ""),
        "title_en": spec.get("title_en", ""),
        "smart": bool(spec.get("smart")),
        "assurance_level": spec.get("assurance_level", 2),
        "target_minutes": spec.get("target_minutes", ""),
        "fee_rials": spec.get("fee_rials", 0),
        "fee_refundable": bool(spec.get("fee_refundable", True)),
        "fee_rules": fee_rows + [{}],
        "compound_fee_rules": compound_fees,
        "picked": {
            f"{f.get('registry')}/{f.get('service')}/{code}"
            for f in spec.get("data", [])
            for code in f.get("items", [])
        },
        "rules": rules_rows + [{}],
        "compound_rules": compound,
        "inputs": list(spec.get("inputs", [])) + [{}],
        "uploads": list(spec.get("uploads", [])) + [{}],
        "visits": visits + [{}],
        "manual_review": any(s.get("kind") == "manual" for s in spec.get("steps", [])),
        "approved_fa": (decision.get("approved") or {}).get("fa", ""),
        "approved_en": (decision.get("approved") or {}).get("en", ""),
        "rejected_fa": (decision.get("rejected") or {}).get("fa", ""),
        "rejected_en": (decision.get("rejected") or {}).get("en", ""),
        "doc_title_fa": document.get("title_fa", ""),
        "doc_title_en": document.get("title_en", ""),
        "doc_statement_fa": document.get("statement_fa", ""),
        "doc_statement_en": document.get("statement_en", ""),
        "doc_valid_days": document.get("valid_days", ""),
        "docfields": list(document.get("fields", [])) + [{}],
    }


def field_paths(spec: dict[str, Any], catalogue: list[CatalogueService]) -> list[str]:
    """The fields a rule or the document may read: ``<fetch>.<field>`` of every fetch,
    ``input.<code>`` of every input, and ``subject``."""
    by_service = {(s.registry, s.code): s for s in catalogue}
    paths = []
    for fetch_spec in spec.get("data", []):
        service = by_service.get((fetch_spec.get("registry"), fetch_spec.get("service")))
        if service is None:
            continue
        for item in service.items:
            if item.code in fetch_spec.get("items", []):
                paths += [f"{fetch_spec['name']}.{name}" for name in item.fields]
    paths += [f"input.{item['code']}" for item in spec.get("inputs", []) if item.get("code")]
    return list(dict.fromkeys(paths))


# The form field a reason's part (a JSON pointer) is shown at.
def field_for_part(part: str) -> str:
    pieces = part.strip("/").split("/")
    if len(pieces) >= 2 and pieces[1].isdigit():
        prefix = {"uploads": "upload", "in_person_steps": "visit", "inputs": "input"}.get(pieces[0])
        if prefix:
            return f"{prefix}-{pieces[1]}-{'code' if prefix == 'input' else 'label_fa'}"
        if pieces[0] == "steps":
            return "manual_review"
        if pieces[0] == "fee_rules":
            return f"feerule-{pieces[1]}-field"
    if pieces and pieces[0] in ("fee_rials", "fee_rules", "fee_refundable"):
        return "fee_rials"
    return "smart"
