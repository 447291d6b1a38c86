"""Executable service definitions for the simulated national dataset (SIMULATED, demo only).

Every card the dataset marks smart gets a smart definition the engine can run: it fetches the
card's registry items through the exchange, from the registry data service that publishes each
item (``panjereh.registries.catalogue``: the services, their path parameter and the fields each
item carries), checks one or more eligibility rules over the fetched fields (each with its
reason in Persian and English), and issues a signed document titled as the card. Every
connected card that is not on the smart path gets a human-path definition (``smart: false``):
the card's typed inputs, its documents as uploads and its visits, each with the honest reason
it is still asked, and an officer's review. A connected card proposed as smart (or certified
smart-eligible by AEO) but not approved yet gets the definition its smart one will have, not
claimed smart, with an officer's review before the document (:func:`on_the_way_spec`).

What the window knows about each registry item (:data:`USES`) is a short table: which data
service carries it, which fields must be present, the rule it allows and the document lines it
gives. The table is checked against the registries' published services when it is read
(:func:`check_uses`): a rule or a line naming a field the service does not return is an error.

The generated definitions are written in bulk (:func:`seed`) as the rows the designer's
operations (``services.design``: create_draft, submit, certify, publish as ``roles.SYSTEM``)
would write: one published, active version each, its lifecycle events recorded as done by the
system, the smart ones certified by the system "for the simulated dataset". The card already
says what the definition says (the dataset draws the cards' inputs through
:func:`executable_items` and writes them in the shape the definitions' ``card_view`` gives), so
publishing changes no card. Same cards, same specs, byte for byte.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from panjereh.catalogue.rules import REGISTRY_HOLDERS
from panjereh.catalogue.vocab import REGISTRY_ITEMS, InputSource

CODE_PREFIX = "sim-"  # definitions of the simulated dataset: sim-<service ID>
# The simulated registries answer as of 1403/12/30 (2025-03-20); an adult was born 18 years
# before. A rule compares literals only, so the day is fixed with the registries' own day.
ADULT_BORN_BY = "2007-03-20"
GENERATED_NOTE = "generated for the simulated national dataset (panjereh.demo.definitions)"
CERTIFIED_NOTE = "certified by the system for the simulated dataset (not by AEO)"
VALID_DAYS = (30, 90, 180, 365)


@dataclass(frozen=True)
class Use:
    """How a definition reads one registry item. ``@`` in a rule's field or a line's template
    stands for the fetch's name."""

    service: str  # the registry's data service that carries the item
    required: tuple[str, ...] = ()  # fields that must be present (else an officer looks)
    rule: dict[str, Any] | None = None
    reason: tuple[str, str, str] | None = None  # (code, Persian, English)
    lines: tuple[tuple[str, str, str], ...] = ()  # (template, Persian label, English label)
    decisive: bool = False  # its rule refuses some of the living applicants
    subject: str = "applicant"  # or "<item>:<field>": the record that names whom to ask


USES: dict[str, Use] = {
    "civil.identity": Use(
        "identity",
        required=("first_name", "last_name", "father_name"),
        lines=(
            ("{@.first_name} {@.last_name}", "نام و نام خانوادگی", "Name"),
            ("{@.father_name}", "نام پدر", "Father's name"),
        ),
    ),
    "civil.birth_date": Use(
        "identity",
        required=("birth_date",),
        rule={"field": "@.birth_date", "op": "lte", "value": ADULT_BORN_BY},
        reason=(
            "not_adult",
            "بر پایه ثبت احوال، شما هنوز ۱۸ سال تمام ندارید و این خدمت برای افراد ۱۸ سال "
            "و بالاتر است.",
            "According to Civil Registration you are not yet 18; this service is for adults.",
        ),
        lines=(("{@.birth_date|jdate}", "تاریخ تولد", "Date of birth"),),
        decisive=True,
    ),
    "civil.marital_status": Use("identity", required=("marital_status",)),
    "civil.household": Use("household", required=("members",)),
    "civil.photo": Use("photo", required=("photo",)),
    "civil.birth_record": Use(
        "birth-record",
        required=("birth_registration_number",),
        lines=(("{@.birth_place}", "محل تولد", "Place of birth"),),
    ),
    "civil.death_record": Use(
        "death-record",
        required=("deceased",),
        rule={"field": "@.deceased", "op": "false"},
        reason=(
            "deceased",
            "ثبت احوال این شخص را درگذشته ثبت کرده است.",
            "Civil Registration records this person as deceased.",
        ),
    ),
    "post.address": Use(
        "residence",
        rule={"field": "@.postcode", "op": "not_empty"},
        reason=(
            "no_residence",
            "در سامانه نشانی شرکت ملی پست، محل سکونتی به نام شما ثبت نشده است.",
            "The National Post Company's address registry holds no residence registered for you.",
        ),
        lines=(
            ("{@.postcode}", "کد پستی محل سکونت", "Postcode of residence"),
            ("{@.city}", "شهر", "City"),
        ),
        decisive=True,
    ),
    "ssaa.deed": Use(
        "deeds",
        required=("deeds",),
        rule={"field": "@.deeds", "op": "not_empty"},
        reason=(
            "no_property",
            "در سازمان ثبت اسناد و املاک کشور، سند مالکیتی به نام شما ثبت نشده است.",
            "The Deeds and Properties Registration Organization holds no property deed in "
            "your name.",
        ),
        lines=(("{@.deeds.0.registry_plate}", "پلاک ثبتی ملک", "Registry plate of the property"),),
        decisive=True,
    ),
    "ssi.insurance_record": Use(
        "insurance-record",
        required=("insured",),
        rule={"field": "@.insured", "op": "true"},
        reason=(
            "not_insured",
            "در سازمان تأمین اجتماعی سابقه بیمه‌ای به نام شما ثبت نشده است.",
            "The Social Security Organization holds no insurance record in your name.",
        ),
        lines=(("{@.months_contributed}", "ماه‌های پرداخت حق بیمه", "Months of contributions"),),
        decisive=True,
    ),
    # A person's company is the employer their social insurance names (the registry of legal
    # persons is asked by the legal person's national ID, never by a person's national code).
    "ssaa.company": Use(
        "company",
        required=("name", "status"),
        rule={"field": "@.status", "op": "eq", "value": "active"},
        reason=(
            "company_inactive",
            "در سازمان ثبت اسناد و املاک کشور، شخص حقوقی محل کار شما فعال نیست (منحل شده است).",
            "The Deeds and Properties Registration Organization records the legal person you "
            "work for as not active (dissolved).",
        ),
        lines=(
            ("{@.name}", "نام شخص حقوقی", "Legal person"),
            ("{@.national_id}", "شناسه ملی شخص حقوقی", "Legal person's national ID"),
        ),
        decisive=True,
        subject="ssi.insurance_record:employer_national_id",
    ),
    "science.degree": Use(
        "education-status",
        required=("degrees",),
        rule={"field": "@.degrees", "op": "not_empty"},
        reason=(
            "no_degree",
            "در وزارت علوم، تحقیقات و فناوری مدرک دانشگاهی به نام شما ثبت نشده است.",
            "The Ministry of Science, Research and Technology holds no university degree in "
            "your name.",
        ),
        lines=(
            ("{@.degrees.0.level|degree_level}", "مقطع تحصیلی", "Degree"),
            ("{@.degrees.0.field}", "رشته", "Field"),
        ),
        decisive=True,
    ),
    "science.student_status": Use(
        "education-status",
        required=("student",),
        rule={"field": "@.student.enrolled", "op": "true"},
        reason=(
            "not_enrolled",
            "در سامانه امور دانشجویان، شما در حال حاضر دانشجوی هیچ دانشگاهی ثبت نشده‌اید.",
            "The national student records show no current enrolment at any university.",
        ),
        lines=(("{@.student.university}", "دانشگاه", "University"),),
        decisive=True,
    ),
    "education.school_record": Use(
        "school-record",
        required=("in_school",),
        rule={"field": "@.diploma_year", "op": "not_empty"},
        reason=(
            "no_diploma",
            "در وزارت آموزش و پرورش دیپلم پایان تحصیلات متوسطه به نام شما ثبت نشده است.",
            "The Ministry of Education holds no secondary-school diploma in your name.",
        ),
        lines=(("{@.diploma_year|jyear}", "سال اخذ دیپلم", "Diploma year"),),
        decisive=True,
    ),
    # A person's hospital births are the births the Ministry of Health records to them as mother.
    "health.birth_record": Use(
        "births-of-mother",
        required=("births",),
        rule={"field": "@.births", "op": "not_empty"},
        reason=(
            "no_birth",
            "در وزارت بهداشت ولادتی در بیمارستان ثبت نشده است که شما مادر نوزاد آن باشید.",
            "The Ministry of Health records no hospital birth with you as the mother.",
        ),
        lines=(("{@.births.0.hospital}", "بیمارستان محل ولادت", "Hospital of birth"),),
        decisive=True,
    ),
    "judiciary.criminal_record": Use(
        "criminal-record",
        required=("has_record",),
        rule={"field": "@.has_record", "op": "false"},
        reason=(
            "criminal_record",
            "در قوه قضاییه برای شما سابقه محکومیت کیفری ثبت شده است.",
            "The Judiciary records a criminal conviction in your name.",
        ),
        decisive=True,
    ),
    "martyrs.veteran_status": Use(
        "veteran-status",
        required=("is_veteran",),
        rule={"field": "@.is_veteran", "op": "true"},
        reason=(
            "not_veteran",
            "در بنیاد شهید و امور ایثارگران، وضعیت ایثارگری برای شما ثبت نشده است.",
            "The Foundation of Martyrs and Veterans Affairs holds no veteran status for you.",
        ),
        lines=(("{@.status|veteran_status}", "وضعیت ایثارگری", "Veteran status"),),
        decisive=True,
    ),
    "relief.beneficiary": Use(
        "beneficiary",
        required=("beneficiary",),
        rule={"field": "@.beneficiary", "op": "true"},
        reason=(
            "not_beneficiary",
            "در کمیته امداد امام خمینی (ره) شما مددجوی تحت پوشش ثبت نشده‌اید.",
            "The Imam Khomeini Relief Committee does not record you as a beneficiary.",
        ),
        lines=(("{@.programme}", "برنامه حمایتی", "Support programme"),),
        decisive=True,
    ),
}
# Shahkar's mobile-ownership match is asked with the mobile number as a query, not by a person's
# national code: the engine, which asks about one person by national code, cannot make it.


class GeneratorError(RuntimeError):
    """The table of uses does not match what the registries publish, or a card cannot be run."""


@cache
def published_services() -> dict[tuple[str, str], dict[str, Any]]:
    """(registry, data service code) → the registry's published service (its path parameter,
    key fields and the fields of each item)."""
    from panjereh.registries.catalogue import SERVICES

    return {(registry, s["code"]): s for registry, rows in SERVICES.items() for s in rows}


def _fields_of(registry: str, service: str, items: Iterable[str]) -> set[str]:
    published = published_services()[(registry, service)]
    found = set(published["key_fields"])
    for item in items:
        found.update(published["items"][item])
    return found


def _top(path: str) -> str:
    return path.split(".", 1)[1].split(".", 1)[0]


@cache
def check_uses() -> None:
    """Every use names a data service that publishes its item, asked by a person's (or, when
    chained, the named record's) identifier, and reads only fields that service returns."""
    for item, use in USES.items():
        registry = REGISTRY_ITEMS[item][0]
        published = published_services().get((registry, use.service))
        if published is None or item not in published["items"]:
            raise GeneratorError(f"{registry}/{use.service} does not publish {item}")
        if use.subject == "applicant" and published.get("param") != "national_code":
            raise GeneratorError(f"{registry}/{use.service} is not asked by national code")
        fields = _fields_of(registry, use.service, [item])
        paths = [use.rule["field"]] if use.rule else []
        paths += [p for template, *_labels in use.lines for p in _placeholders(template)]
        for path in paths:
            if _top(path) not in fields:
                raise GeneratorError(f"{item}: {registry}/{use.service} returns no {path}")
        for name in use.required:
            if name not in fields:
                raise GeneratorError(f"{item}: {registry}/{use.service} returns no {name}")


def _placeholders(template: str) -> list[str]:
    from panjereh.services.labels import PLACEHOLDER_RE

    return [path for path, _fmt in PLACEHOLDER_RE.findall(template)]


# -- which items, in which fetches ------------------------------------------------------------


@dataclass
class Fetch:
    name: str
    registry: str
    service: str
    items: list[str] = field(default_factory=list)
    subject: str = "applicant"


def fetch_name(registry: str, service: str) -> str:
    return f"{registry}_{service}".replace("-", "_")


def plan_fetches(items: Iterable[str]) -> list[Fetch]:
    """The fetches that read ``items``: one per data service, in the order the items come,
    a fetch whose subject another record names after that record's fetch."""
    check_uses()
    fetches: dict[str, Fetch] = {}
    for item in items:
        use = USES.get(item)
        if use is None:
            raise GeneratorError(f"the engine cannot fetch {item} about a person")
        registry = REGISTRY_ITEMS[item][0]
        name = fetch_name(registry, use.service)
        fetch = fetches.setdefault(name, Fetch(name, registry, use.service))
        if item not in fetch.items:
            fetch.items.append(item)
        if use.subject != "applicant":
            source_item, source_field = use.subject.split(":")
            source = USES[source_item]
            source_name = fetch_name(REGISTRY_ITEMS[source_item][0], source.service)
            if source_name not in fetches or source_item not in fetches[source_name].items:
                raise GeneratorError(f"{item} needs {source_item} fetched before it")
            fetch.subject = f"{source_name}.{source_field}"
    return list(fetches.values())


def executable_items(drawn: Iterable[str]) -> list[str]:
    """The registry items a smart card of the simulated dataset lists, from the items drawn
    for it: those the engine can fetch about the applicant (Shahkar's query-only match is
    dropped), the social insurance record before a company (it names the company), the birth
    date when no other item gives a rule that refuses anybody (the age of majority), in the
    order the definition fetches them (the order its card lists them in)."""
    wanted = [item for item in dict.fromkeys(drawn) if item in USES]
    if "ssaa.company" in wanted and "ssi.insurance_record" not in wanted:
        wanted.insert(wanted.index("ssaa.company"), "ssi.insurance_record")
    if not any(USES[item].decisive for item in wanted):
        wanted.append("civil.birth_date")
    return [item for fetch in plan_fetches(wanted) for item in fetch.items]


# -- the definitions ---------------------------------------------------------------------------


def code_for(service_id: str) -> str:
    return f"{CODE_PREFIX}{service_id}"


def _agency(agency: dict[str, Any]) -> dict[str, str]:
    return {
        "code": agency["code"],
        "name_fa": agency["name_fa"],
        "name_en": agency.get("name_en") or "",
        "kind": agency.get("kind") or "organisation",
    }


def _typed(entry: dict[str, Any]) -> dict[str, Any]:
    typed = {
        "code": entry["code"],
        "label_fa": entry["label_fa"],
        "label_en": entry.get("label_en") or "",
        "source": InputSource.USER.value,
        "max_length": 2000 if entry["code"] == "request_description" else 200,
        "required": True,
    }
    if entry.get("item"):
        typed["item"] = entry["item"]
    return typed


def _common(card: dict[str, Any], agency: dict[str, Any], smart: bool) -> dict[str, Any]:
    return {
        "code": code_for(card["service_id"]),
        "version": 1,
        "service_id": card["service_id"],
        "agency": _agency(agency),
        "title_fa": card["title_fa"],
        "title_en": card["title_en"],
        "smart": smart,
        "assurance_level": card["min_assurance_level"],
        "target_minutes": card["target_minutes"],
        "fee_rials": card["fee"],
    }


def smart_spec(card: dict[str, Any], agency: dict[str, Any]) -> dict[str, Any]:
    """The smart definition of a smart card (its fields as the catalogue keeps them)."""
    items = [e["item"] for e in card["inputs"] if e.get("source") == InputSource.REGISTRY]
    typed = [e for e in card["inputs"] if e.get("source") == InputSource.USER]
    if any(e.get("source") not in (InputSource.REGISTRY, InputSource.USER) for e in card["inputs"]):
        raise GeneratorError(f"{card['service_id']}: a smart card asks for a document")
    fetches = plan_fetches(items)
    if [i for f in fetches for i in f.items] != items:
        raise GeneratorError(f"{card['service_id']}: items not in fetch order: {items}")
    data, eligibility, lines = [], [], []
    for fetch in fetches:
        required: list[str] = []
        for item in fetch.items:
            use = USES[item]
            required += [name for name in use.required if name not in required]
            if use.rule:
                code, fa, en = use.reason
                rule = {**use.rule, "field": use.rule["field"].replace("@", fetch.name, 1)}
                eligibility.append({"rule": rule, "reason": {"code": code, "fa": fa, "en": en}})
            for template, label_fa, label_en in use.lines:
                value = template.replace("{@.", "{" + fetch.name + ".")
                lines.append({"label_fa": label_fa, "label_en": label_en, "value": value})
        data.append(
            {
                "name": fetch.name,
                "registry": fetch.registry,
                "service": fetch.service,
                "items": list(fetch.items),
                "subject": fetch.subject,
                "required": required,
            }
        )
    lines.insert(0, {"label_fa": "کد ملی", "label_en": "National code", "value": "{subject}"})
    holders = [REGISTRY_HOLDERS[f.registry] for f in fetches]
    holders = list(dict.fromkeys(holders))
    from_fa = "، ".join(fa for fa, _en in holders)
    from_en = ", ".join(en for _fa, en in holders)
    identity = next((f.name for f in fetches if "civil.identity" in f.items), None)
    who_fa = f"{{{identity}.first_name}} {{{identity}.last_name}} " if identity else ""
    who_en = f"{{{identity}.first_name}} {{{identity}.last_name}}, " if identity else ""
    title_fa, title_en = card["title_fa"], card["title_en"]
    spec = _common(card, agency, smart=True)
    spec.update(
        {
            "data": data,
            "inputs": [_typed(e) for e in typed],
            "uploads": [],
            "in_person_steps": [],
            "steps": [
                {
                    "code": "fetch",
                    "kind": "automatic",
                    "label_fa": f"استعلام برخط از {from_fa}",
                    "label_en": f"Online inquiry to {from_en}",
                },
                {
                    "code": "decide",
                    "kind": "automatic",
                    "label_fa": "بررسی خودکار شرایط",
                    "label_en": "Automatic check of the conditions",
                },
                {
                    "code": "issue",
                    "kind": "automatic",
                    "label_fa": "صدور سند امضاشده",
                    "label_en": "Signed document issued",
                },
            ],
            "eligibility": eligibility,
            "decision": {
                "approved": {
                    "fa": f"درخواست «{title_fa}» شما پذیرفته شد و سند آن صادر شد.",
                    "en": f"Your application for “{title_en}” was accepted and its document "
                    "issued.",
                },
                "rejected": {
                    "fa": f"درخواست «{title_fa}» شما پذیرفته نشد.",
                    "en": f"Your application for “{title_en}” was not accepted.",
                },
            },
            "document": {
                "type": f"sim-{card['service_id']}",
                "title_fa": title_fa,
                "title_en": title_en,
                "statement_fa": f"گواهی می‌شود درخواست «{title_fa}» {who_fa}به کد ملی {{subject}} "
                f"بر پایه استعلام برخط از {from_fa} بررسی و پذیرفته شد.",
                "statement_en": f"This certifies that the application for “{title_en}” of "
                f"{who_en}national code {{subject}}, was checked against {from_en} online and "
                "accepted.",
                "fields": lines,
                "valid_days": VALID_DAYS[int(card["service_id"]) % len(VALID_DAYS)],
            },
        }
    )
    return spec


# Why each document of the dataset is still asked for, and why each visit is still needed:
# (English label, reason in Persian, reason in English). Honest: where a registry does hold the
# data, the reason says the agency has not yet switched to the exchange.
DOCUMENTS: dict[str, tuple[str, str, str]] = {
    "تصویر کارت ملی": (
        "Copy of the national ID card",
        "ثبت احوال همین مشخصات را نگه می‌دارد، اما این دستگاه هنوز استعلام از تبادل اطلاعات "
        "را جایگزین تصویر کارت نکرده است.",
        "Civil Registration holds the same particulars, but the agency has not yet replaced "
        "the copy with an inquiry through the exchange.",
    ),
    "تصویر صفحه اول شناسنامه": (
        "Copy of the first page of the birth certificate",
        "ثبت احوال همین مشخصات را نگه می‌دارد، اما این دستگاه هنوز استعلام از تبادل اطلاعات "
        "را جایگزین تصویر شناسنامه نکرده است.",
        "Civil Registration holds the same particulars, but the agency has not yet replaced "
        "the copy with an inquiry through the exchange.",
    ),
    "عکس ۳×۴ جدید": (
        "A recent 3×4 photograph",
        "دستگاه عکس تازه می‌خواهد؛ تصویر چهره‌ای که ثبت احوال نگه می‌دارد ممکن است قدیمی باشد.",
        "The agency asks for a recent photograph; the one Civil Registration holds may be old.",
    ),
    "اصل سند مالکیت": (
        "Original property deed",
        "سازمان ثبت اسناد اصالت سند را از راه تبادل اطلاعات پاسخ می‌دهد، اما این دستگاه هنوز "
        "به این استعلام نپیوسته است.",
        "The Deeds Registration Organization answers deed authenticity through the exchange, "
        "but the agency has not yet joined that inquiry.",
    ),
    "گواهی اشتغال به کار از کارفرما": (
        "Certificate of employment from the employer",
        "هیچ پایگاه پایه‌ای هنوز گواهی اشتغال را نگه نمی‌دارد (سوابق بیمه شغل را نشان نمی‌دهد).",
        "No base registry holds employment certificates yet (the insurance record does not "
        "show the job).",
    ),
    "تصویر مدرک تحصیلی": (
        "Copy of the education certificate",
        "وزارت علوم مدارک دانشگاهی را نگه می‌دارد، اما نه همه مدارک (مانند مدارک خارج از "
        "کشور)، و این دستگاه هنوز به استعلام نپیوسته است.",
        "The Ministry of Science holds university degrees, but not every certificate (such "
        "as those from abroad), and the agency has not yet joined the inquiry.",
    ),
    "فرم تکمیل‌شده و امضاشده درخواست": (
        "Completed and signed application form",
        "این دستگاه هنوز فرم کاغذی امضاشده را به فرم برخط تبدیل نکرده است.",
        "The agency has not yet turned its signed paper form into an online form.",
    ),
    "گواهی پزشکی": (
        "Medical certificate",
        "هیچ پایگاه پایه‌ای هنوز گواهی پزشکی را نگه نمی‌دارد.",
        "No base registry holds medical certificates yet.",
    ),
}
VISITS: dict[str, tuple[str, str, str]] = {
    "مراجعه حضوری به دفتر پیشخوان خدمات دولت برای احراز هویت": (
        "Visit to a government service counter for identity checking",
        "این دستگاه هنوز احراز هویت پنجره ملی را برای این خدمت نپذیرفته است.",
        "The agency does not yet accept the national window's identity assurance for this service.",
    ),
    "مراجعه به اداره کل استان برای تحویل اصل مدارک": (
        "Visit to the provincial office to hand in the original documents",
        "دستگاه هنوز اصل کاغذی مدارک را می‌بیند و نسخه الکترونیکی را نمی‌پذیرد.",
        "The agency still checks the original paper documents and accepts no electronic copy.",
    ),
    "بازدید کارشناس از محل": (
        "An officer's visit to the place",
        "کارشناس باید محل را ببیند؛ هیچ پایگاهی وضع محل را نشان نمی‌دهد.",
        "An officer must see the place; no registry shows its condition.",
    ),
    "انگشت‌نگاری در دفتر خدمات": (
        "Fingerprinting at a service office",
        "اثر انگشت فقط حضوری گرفته می‌شود.",
        "Fingerprints are taken in person only.",
    ),
}


def _asked(table: dict[str, tuple[str, str, str]]) -> dict[str, tuple[str, str, str]]:
    """``table`` keyed by the labels as the catalogue keeps them (normalised)."""
    from panjereh.common.persian import normalize

    return {normalize(label): value for label, value in table.items()}


def human_spec(card: dict[str, Any], agency: dict[str, Any]) -> dict[str, Any]:
    """The human-path definition of a connected card that is not smart: what the card asks
    (typed inputs, documents, visits, each document and visit with its reason), an officer's
    review, then a signed decision letter."""
    typed = [e for e in card["inputs"] if e.get("source") == InputSource.USER]
    documents = [e for e in card["inputs"] if e.get("source") == InputSource.DOCUMENT]
    if [e["label_fa"] for e in documents] != list(card["documents_required"]):
        raise GeneratorError(f"{card['service_id']}: documents and their inputs differ")
    uploads = []
    for entry in documents:
        label_en, reason_fa, reason_en = _asked(DOCUMENTS)[entry["label_fa"]]
        uploads.append(
            {
                "code": entry["code"],
                "label_fa": entry["label_fa"],
                "label_en": entry.get("label_en") or label_en,
                "reason": reason_fa,
                "reason_en": reason_en,
                "required": True,
            }
        )
    visits = []
    for label_fa in card["in_person_steps"]:
        label_en, reason_fa, reason_en = _asked(VISITS)[label_fa]
        visits.append(
            {
                "label_fa": label_fa,
                "label_en": label_en,
                "reason": reason_fa,
                "reason_en": reason_en,
            }
        )
    title_fa, title_en = card["title_fa"], card["title_en"]
    lines = [{"label_fa": "کد ملی", "label_en": "National code", "value": "{subject}"}]
    lines += [
        {
            "label_fa": e["label_fa"],
            "label_en": e.get("label_en") or "",
            "value": f"{{input.{e['code']}}}",
        }
        for e in typed
    ]
    spec = _common(card, agency, smart=False)
    spec.update(
        {
            "data": [],
            "inputs": [_typed(e) for e in typed],
            "uploads": uploads,
            "in_person_steps": visits,
            "steps": [
                {
                    "code": "review",
                    "kind": "manual",
                    "label_fa": "بررسی کارشناس دستگاه",
                    "label_en": "Review by an officer of the agency",
                },
                {
                    "code": "issue",
                    "kind": "automatic",
                    "label_fa": "صدور نامه تصمیم امضاشده",
                    "label_en": "Signed decision letter issued",
                },
            ],
            "eligibility": [],
            "decision": {
                "approved": {
                    "fa": f"درخواست «{title_fa}» شما پس از بررسی کارشناس پذیرفته شد.",
                    "en": f"Your application for “{title_en}” was accepted after an officer's "
                    "review.",
                },
                "rejected": {
                    "fa": f"درخواست «{title_fa}» شما پس از بررسی کارشناس پذیرفته نشد.",
                    "en": f"Your application for “{title_en}” was not accepted after an "
                    "officer's review.",
                },
            },
            "document": {
                "type": f"sim-{card['service_id']}-decision",
                "title_fa": f"نامه پذیرش درخواست «{title_fa}»",
                "title_en": f"Decision on the application for “{title_en}”",
                "statement_fa": f"درخواست «{title_fa}» به کد ملی {{subject}} پس از بررسی "
                "کارشناس پذیرفته شد.",
                "statement_en": f"The application for “{title_en}” of national code {{subject}} "
                "was accepted after an officer's review.",
                "fields": lines,
                "valid_days": VALID_DAYS[int(card["service_id"]) % len(VALID_DAYS)],
            },
        }
    )
    return spec


def is_smart_card(card: dict[str, Any]) -> bool:
    return bool(card.get("service_id")) and card["smart_status"] == "approved"


def is_human_card(card: dict[str, Any]) -> bool:
    """A connected card with an ID that is not on the smart path (the proposed and certified
    ones are on their way to a smart definition and get none here)."""
    return (
        bool(card.get("service_id"))
        and card["scope"] == "connectable"
        and card["connected"]
        and card["smart_status"] == "none"
    )


def is_on_the_way_card(card: dict[str, Any]) -> bool:
    """A connected card the agency proposed as smart (or AEO certified smart-eligible) that is
    not approved yet: its definition fetches what the smart one will, but an officer still
    reviews each application until it is approved."""
    return (
        bool(card.get("service_id"))
        and card["scope"] == "connectable"
        and card["connected"]
        and card["smart_status"] in ("proposed", "certified")
    )


def on_the_way_spec(card: dict[str, Any], agency: dict[str, Any]) -> dict[str, Any]:
    """The definition of a card on its way to smart: the smart definition's fetches, rules and
    document, not claimed smart, with an officer's review before the document is issued."""
    spec = smart_spec(card, agency)
    spec["smart"] = False
    review = {
        "code": "review",
        "kind": "manual",
        "label_fa": "بررسی کارشناس دستگاه (تا تأیید هوشمندسازی)",
        "label_en": "Review by an officer of the agency (until it is approved as smart)",
    }
    spec["steps"] = [step for step in spec["steps"] if step["code"] != "issue"]
    spec["steps"] += [review] + [
        step for step in smart_spec(card, agency)["steps"] if step["code"] == "issue"
    ]
    return spec


def shipped() -> dict[str, str]:
    """Service ID → agency code of the definition files shipped with Panjereh."""
    from panjereh.services import definitions as loader

    found = {}
    for path in sorted(loader.DEFINITIONS_DIR.iterdir()):
        if path.suffix in (".json", ".yaml", ".yml"):
            try:
                spec = loader.read_file(path)
                found[str(spec["service_id"])] = str(spec["agency"]["code"])
            except (ValueError, OSError, KeyError, TypeError):
                continue
    return found


def specs_for_dataset(profile: str, seed: int | None = None) -> list[dict[str, Any]]:
    """The definitions :func:`seed` writes for the dataset ``profile`` (computed in memory):
    none for a card a shipped definition file implements (its file names the card's agency,
    so the designer's operations accept it)."""
    from . import dataset

    agency_plans, cards = dataset.build(profile, dataset.DEFAULT_SEED if seed is None else seed)
    agencies = {plan.fields["code"]: plan.fields for plan in agency_plans}
    files = shipped()
    covered = {
        card.fields["service_id"]
        for card in cards
        if files.get(card.fields["service_id"]) == card.agency.code
    }
    return specs_for(((c.fields, agencies[c.agency.code]) for c in cards), exclude=covered)


def specs_for(
    cards: Iterable[tuple[dict[str, Any], dict[str, Any]]], *, exclude: Iterable[str] = ()
) -> list[dict[str, Any]]:
    """The definitions of (card fields, agency fields) pairs, smart ones first, by service ID;
    none for the service IDs in ``exclude``."""
    smart, human = [], []
    skip = set(exclude)
    for card, agency in cards:
        if card.get("service_id") in skip:
            continue
        if is_smart_card(card):
            smart.append(smart_spec(card, agency))
        elif is_human_card(card):
            human.append(human_spec(card, agency))
        elif is_on_the_way_card(card):
            human.append(on_the_way_spec(card, agency))
    return sorted(smart, key=lambda s: s["service_id"]) + sorted(
        human, key=lambda s: s["service_id"]
    )


def dumps(specs: list[dict[str, Any]]) -> bytes:
    """The specs as canonical bytes (to compare two runs)."""
    return json.dumps(specs, ensure_ascii=False, sort_keys=True).encode("utf-8")


# -- writing -----------------------------------------------------------------------------------


@dataclass
class SeedResult:
    smart: int = 0
    human: int = 0
    events: int = 0
    shipped: list[str] = field(default_factory=list)  # the definition files loaded
    skipped: bool = False


def _events(smart: bool) -> list[tuple[str, str, str]]:
    """(from, to, note) of the moves create_draft, submit, certify (smart only) and publish
    make, as the system."""
    moves = [("", "draft", GENERATED_NOTE), ("draft", "submitted", GENERATED_NOTE)]
    if smart:
        moves.append(("submitted", "certified", CERTIFIED_NOTE))
    moves.append(("certified" if smart else "submitted", "published", GENERATED_NOTE))
    return moves


def seed(*, validate: bool = True) -> SeedResult:
    """Load the definition files shipped with Panjereh (through the operations), then write a
    published definition for every smart card and every connected card off the smart path
    that has none. Nothing is written when generated definitions exist already. Every spec is
    checked with ``services.definitions.validate`` first (``validate=False`` skips it, for a
    caller that has just checked the same specs); one refused spec writes nothing."""
    from django.db import transaction
    from django.db.models import Q
    from django.utils import timezone

    from panjereh.catalogue import search
    from panjereh.catalogue.models import Service
    from panjereh.services import definitions as loader
    from panjereh.services.models import DefinitionEvent, DefinitionStatus, ServiceDefinition

    result = SeedResult()
    if ServiceDefinition.objects.filter(code__startswith=CODE_PREFIX).exists():
        result.skipped = True
        return result
    with transaction.atomic():
        shipped = loader.load()
        result.shipped = shipped.loaded + shipped.unchanged
        taken = set(
            ServiceDefinition.objects.filter(active=True).values_list("service_id", flat=True)
        )
        cards = (
            Service.objects.filter(Q(smart_status="approved") | Q(connected=True))
            .exclude(Q(service_id__isnull=True) | Q(service_id="") | Q(pk__in=taken))
            .select_related("agency")
            .order_by("service_id")
        )
        by_id = {card.service_id: card for card in cards}
        specs = specs_for(
            (_card_fields(card), _agency_fields(card.agency)) for card in by_id.values()
        )
        if validate:
            for spec in specs:
                problems = loader.validate(spec)
                if problems:
                    raise GeneratorError(f"{spec['code']}: {problems}")
        now = timezone.now()
        rows = []
        for spec in specs:
            card = by_id[spec["service_id"]]
            rows.append(
                ServiceDefinition(
                    code=spec["code"],
                    version=spec["version"],
                    service=card,
                    agency_id=card.agency_id,
                    smart=spec["smart"],
                    title_fa=spec["title_fa"],
                    title_en=spec.get("title_en", ""),
                    assurance_level=spec["assurance_level"],
                    target_minutes=spec["target_minutes"],
                    spec=spec,
                    digest=loader.digest(spec),
                    active=True,
                    status=DefinitionStatus.PUBLISHED,
                    loaded_at=now,
                    published_at=now,
                )
            )
        ServiceDefinition.objects.bulk_create(rows, batch_size=500)
        events = [
            DefinitionEvent(
                definition=row,
                at=now,
                by=None,
                by_system=True,
                from_status=from_status,
                to_status=to_status,
                note=note,
            )
            for row in rows
            for from_status, to_status, note in _events(row.smart)
        ]
        DefinitionEvent.objects.bulk_create(events, batch_size=1000)
    search.public_changed()
    result.smart = sum(1 for row in rows if row.smart)
    result.human = len(rows) - result.smart
    result.events = len(events)
    return result


def _card_fields(card) -> dict[str, Any]:
    names = (
        "service_id", "title_fa", "title_en", "scope", "connected", "smart_status", "inputs",
        "documents_required", "in_person_steps", "fee", "target_minutes", "min_assurance_level",
    )  # fmt: skip
    return {name: getattr(card, name) for name in names}


def _agency_fields(agency) -> dict[str, Any]:
    return {
        "code": agency.code,
        "name_fa": agency.name_fa,
        "name_en": agency.name_en,
        "kind": agency.kind,
    }


def provision(resolution_number: str = "1404/demo", write=None) -> int:
    """Grants for every active definition that reads data and lacks one (the agency's
    consumer system and an approved grant per data service it reads, ``services.nix``); the
    definitions already covered are skipped. The number of definitions provisioned.

    Each agency joins the exchange once (``nix.join_exchange``: member code, key, consumer
    system); the grants are made in one bulk ``exchange.operations.ensure_grants`` (one
    definition at a time, the first start spent about 80 s here)."""
    from panjereh.catalogue import roles
    from panjereh.catalogue.models import Agency
    from panjereh.exchange.models import ACTIVE_STATES, ConsumerSystem, DataService, Grant
    from panjereh.exchange.operations import ensure_grants
    from panjereh.services import nix
    from panjereh.services.models import ServiceDefinition

    started = time.perf_counter()
    services = {(s.subsystem, s.code): s for s in DataService.objects.all()}
    granted = set(
        Grant.objects.filter(state__in=ACTIVE_STATES).values_list(
            "consumer_id", "purpose_id", "service_id"
        )
    )
    joined = set(
        ConsumerSystem.objects.filter(subsystem=nix.SUBSYSTEM, enabled=True).values_list(
            "agency_id", flat=True
        )
    )
    wishes = []
    done = 0
    # Only what is needed: the cards' and agencies' other columns (JSON) cost most of a run
    # that finds everything granted.
    definitions = (
        ServiceDefinition.objects.filter(active=True)
        .select_related("agency", "service")
        .only("code", "spec", "agency", "service", "agency__code", "service__agency")
        .order_by("code")
    )
    for definition in definitions:
        wanted = {
            services.get((f"{registry}-registry", code)): items
            for (registry, code), items in nix.data_wanted(definition).items()
        }
        if not definition.spec.get("data") or None in wanted:
            continue  # fetches nothing (needs no grant), or from a registry not on the exchange
        if all((definition.agency_id, definition.service_id, s.pk) in granted for s in wanted):
            continue
        done += 1
        if definition.agency_id not in joined:
            nix.join_exchange(Agency.objects.get(pk=definition.agency_id))
            joined.add(definition.agency_id)
        wishes.extend(
            (definition.agency, service, sorted(items), definition.service)
            for service, items in wanted.items()
        )
    made = ensure_grants(wishes, actor=roles.SYSTEM, resolution_number=resolution_number)
    if write and done:
        write(
            f"Granted the data of {done} definitions ({made} grants, in bulk) in "
            f"{time.perf_counter() - started:.1f} s."
        )
    return done
