"""Rules from the law that every service identity card must satisfy.

Each rule returns :class:`Violation` objects with a stable code, the field and a translated
message. :func:`check_service` is used by every write (operations), by the importer (per row)
and by the catalogue linter (over the whole catalogue).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.utils.translation import gettext as _

from panjereh.common.persian import normalize, squash

from .vocab import (
    REGISTRY_ITEMS,
    Category,
    Channel,
    InputSource,
    LifeEvent,
    Recipient,
    Scope,
    ServiceLevel,
    SmartStatus,
)

SERVICE_ID_RE = re.compile(r"^\d{10}$")


@dataclass(frozen=True)
class Violation:
    code: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def luhn_check_digit(digits: str) -> str:
    """The Luhn check digit for a string of digits (the ID's last digit)."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def make_service_id(prefix9: str) -> str:
    return prefix9 + luhn_check_digit(prefix9)


def is_valid_service_id(value: str) -> bool:
    return bool(SERVICE_ID_RE.match(value or "")) and luhn_check_digit(value[:-1]) == value[-1]


def _get(card: Any, name: str, default=None):
    if isinstance(card, dict):
        return card.get(name, default)
    return getattr(card, name, default)


def check_service(card: Any) -> list[Violation]:
    """Every rule violation of one card (a Service or a dict of its fields)."""
    found: list[Violation] = []
    sid = _get(card, "service_id") or ""
    smart = _get(card, "smart_status") or SmartStatus.NONE
    scope = _get(card, "scope") or Scope.CONNECTABLE

    if sid and not is_valid_service_id(sid):
        found.append(
            Violation(
                "id.malformed",
                "service_id",
                _("A service ID is ten digits whose last digit is a check digit."),
            )
        )
    if not sid and _get(card, "connected"):
        found.append(
            Violation(
                "id.missing_connected",
                "connected",
                _("A service without a service ID cannot be marked connected."),
            )
        )
    if not sid and smart != SmartStatus.NONE:
        found.append(
            Violation(
                "id.missing_smart",
                "smart_status",
                _("A service without a service ID cannot be proposed as smart."),
            )
        )
    if scope == Scope.EXEMPT:
        if (
            not (_get(card, "exemption_reason") or "").strip()
            or not (_get(card, "exemption_document") or "").strip()
        ):
            found.append(
                Violation(
                    "exempt.unjustified",
                    "exemption_document",
                    _("An exemption needs a reason and a justification document."),
                )
            )
        if _get(card, "connected"):
            found.append(
                Violation(
                    "exempt.connected", "connected", _("An exempt service cannot be connected.")
                )
            )
        if smart != SmartStatus.NONE:
            found.append(
                Violation("exempt.smart", "smart_status", _("An exempt service cannot be smart."))
            )
    fee = _get(card, "fee") or 0
    if isinstance(fee, int | float) and fee < 0:
        found.append(Violation("fee.negative", "fee", _("The fee cannot be negative.")))
    level = _get(card, "min_assurance_level")
    if level is not None and level not in (1, 2, 3, 4):
        found.append(
            Violation(
                "assurance.range", "min_assurance_level", _("The assurance level is 1, 2, 3 or 4.")
            )
        )
    if _get(card, "level") and _get(card, "level") not in ServiceLevel.values:
        found.append(Violation("level.unknown", "level", _("Unknown service level.")))
    for name, allowed in (
        ("recipients", Recipient.values),
        ("life_events", LifeEvent.values),
        ("channels", Channel.values),
    ):
        unknown = [v for v in (_get(card, name) or []) if v not in allowed]
        if unknown:
            found.append(
                Violation(
                    f"{name}.unknown",
                    name,
                    _("Unknown values: %(values)s") % {"values": ", ".join(unknown)},
                )
            )
    if (_get(card, "category") or "other") not in Category.values:
        found.append(Violation("category.unknown", "category", _("Unknown category.")))
    found.extend(_check_inputs(_get(card, "inputs") or []))
    if smart != SmartStatus.NONE:
        found.extend(check_smart(card))
    return found


def _check_inputs(inputs: list) -> list[Violation]:
    found = []
    for index, item in enumerate(inputs, start=1):
        if not isinstance(item, dict) or item.get("source") not in InputSource.values:
            found.append(
                Violation(
                    "inputs.malformed",
                    "inputs",
                    _("Input %(n)s needs a source: registry, user or document.") % {"n": index},
                )
            )
            continue
        if item["source"] == InputSource.REGISTRY and item.get("item") not in REGISTRY_ITEMS:
            found.append(
                Violation(
                    "inputs.unknown_item",
                    "inputs",
                    _("Input %(n)s names an unknown registry item.") % {"n": index},
                )
            )
    return found


def check_smart(card: Any) -> list[Violation]:
    """Art. 107(h): a smart service takes no document, no visit, and no registry-held data."""
    found = []
    if _get(card, "documents_required"):
        found.append(
            Violation(
                "smart.documents",
                "documents_required",
                _("A smart service may not ask the applicant for documents."),
            )
        )
    if _get(card, "in_person_steps"):
        found.append(
            Violation(
                "smart.in_person",
                "in_person_steps",
                _("A smart service may not ask for an in-person step."),
            )
        )
    for item in _get(card, "inputs") or []:
        if not isinstance(item, dict):
            continue
        if item.get("source") == InputSource.DOCUMENT:
            found.append(
                Violation(
                    "smart.upload",
                    "inputs",
                    _("A smart service may not ask for an upload: %(label)s")
                    % {"label": item.get("label_fa") or item.get("code", "")},
                )
            )
        if item.get("source") == InputSource.USER and item.get("item") in REGISTRY_ITEMS:
            found.append(
                Violation(
                    "smart.registry_item_typed",
                    "inputs",
                    _(
                        "A smart service may not ask the applicant to type what a base registry holds: "
                        "%(label)s"
                    )
                    % {"label": REGISTRY_ITEMS[item["item"]][1]},
                )
            )
    return found


# --- Art. 107(ح) of the 7th Plan: the once-only principle, for every card ----------------------

# The clause, as the oversight obligations and docs/catalogue.md quote it (report 21035, Table 3;
# a rendering of the clause, not the Plan's verbatim text).
ONCE_ONLY_BASIS_FA = (
    "بند «ح» ماده ۱۰۷ قانون برنامه هفتم پیشرفت: دستگاه‌ها ظرف یک سال دریافت دستی هر مدرکی را که "
    "به پایگاه‌های اطلاعاتی پایه (موضوع ماده ۱۰ قانون مدیریت داده‌ها و اطلاعات ملی) مربوط است، "
    "یا الزام کاربران به بارگذاری آن را متوقف می‌کنند (اصل یک بار ورود اطلاعات)."
)
ONCE_ONLY_BASIS_EN = (
    "Art. 107(h) [ح] of the 7th Development Plan Law: within one year, agencies stop taking by hand, "
    "or making users upload, any document tied to the base registries (Art. 10 of the National "
    "Data and Information Management Law): the once-only principle."
)
ONCE_ONLY_CLAUSE = "plan7-107-h"

# Who holds each registry's data (the custodian named to the applicant).
REGISTRY_HOLDERS: dict[str, tuple[str, str]] = {
    "civil": ("سازمان ثبت احوال کشور", "National Organization for Civil Registration"),
    "shahkar": (
        "سامانه شاهکار (سازمان تنظیم مقررات)",
        "Shahkar (Communications Regulatory Authority)",
    ),
    "post": ("شرکت ملی پست", "National Post Company"),
    "ssaa": ("سازمان ثبت اسناد و املاک کشور", "Deeds and Properties Registration Organization"),
    "health": ("وزارت بهداشت، درمان و آموزش پزشکی", "Ministry of Health and Medical Education"),
    "science": ("وزارت علوم، تحقیقات و فناوری", "Ministry of Science, Research and Technology"),
    "education": ("وزارت آموزش و پرورش", "Ministry of Education"),
    "judiciary": ("قوه قضاییه", "the Judiciary"),
    "martyrs": ("بنیاد شهید و امور ایثارگران", "Martyrs and Veterans Affairs Foundation"),
    "relief": ("کمیته امداد امام خمینی (ره)", "Imam Khomeini Relief Committee"),
    "ssi": ("سازمان تأمین اجتماعی", "Social Security Organization"),
    "tax": ("سازمان امور مالیاتی کشور", "Iranian National Tax Administration"),
    "vehicle": ("پلیس راهور فراجا", "Traffic Police"),
    "insurance": ("سازمان بیمه سلامت ایران", "Iran Health Insurance Organization"),
    "welfare": ("پایگاه اطلاعات رفاه ایرانیان", "Iranian Welfare Database"),
    "vocational": (
        "سازمان آموزش فنی و حرفه‌ای کشور",
        "Technical and Vocational Training Organization",
    ),
    "location": (
        "شرکت ملی پست (سامانه نشانی مکان‌محور)",
        "National Post Company (location-based addresses)",
    ),
    "foreign": (
        "اداره کل امور اتباع و مهاجرین خارجی",
        "Bureau for Aliens and Foreign Immigrants' Affairs",
    ),
}

# Common names of documents and data, each with the registry item that holds it. Matching is on
# squashed search keys (common.persian), so «كارت ملي», «کارت‌ملی» and «کارت ملی» meet. Rules are
# tried in order and a matched phrase is used up, so the specific («شناسنامه متوفی») goes before
# the general («شناسنامه»). ``unless`` names phrases that make a match something else
# («نشانی رایانامه» is an email address, not a postal one).
ONCE_ONLY_NAMES: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    # (registry item, names (Persian or English), unless)
    (
        "civil.death_record",
        ("گواهی فوت", "گواهی وفات", "رونوشت وفات", "شناسنامه متوفی", "death certificate"),
        (),
    ),
    ("civil.birth_record", ("شناسنامه نوزاد", "شناسنامه فرزند", "ثبت ولادت"), ()),
    (
        "civil.household",
        (
            "اعضای خانوار",
            "شناسنامه اعضای خانواده",
            "شناسنامه همسر",
            "شناسنامه فرزندان",
            "household members",
        ),
        (),
    ),
    (
        "civil.marital_status",
        (
            "سند ازدواج",
            "عقدنامه",
            "قباله ازدواج",
            "سند طلاق",
            "طلاق نامه",
            "گواهی تجرد",
            "وضعیت تأهل",
            "وضعیت تاهل",
            "marriage certificate",
            "marital status",
        ),
        (),
    ),
    (
        "civil.identity",
        (
            "کارت ملی",
            "کارت شناسایی ملی",
            "شناسنامه",
            "مشخصات هویتی",
            "national id card",
            "national identity card",
            "birth certificate",
        ),
        ("شناسنامه خدمت", "شناسنامه فنی", "شناسنامه ساختمان", "شناسنامه خودرو", "شناسنامه کالا"),
    ),
    ("civil.birth_date", ("تاریخ تولد", "date of birth"), ()),
    (
        "civil.photo",
        (
            "عکس ۳×۴",
            "عکس ۴×۳",
            "عکس پرسنلی",
            "قطعه عکس",
            "تصویر چهره",
            "عکس چهره",
            "passport photo",
        ),
        (),
    ),
    ("health.birth_record", ("گواهی ولادت", "گواهی تولد", "hospital birth record"), ()),
    (
        "ssaa.deed",
        (
            "سند مالکیت",
            "سند ملک",
            "سند تک برگ",
            "سند منگوله",
            "اصالت سند",
            "title deed",
            "property deed",
        ),
        (),
    ),
    (
        "ssaa.company",
        (
            "روزنامه رسمی",
            "آگهی تأسیس",
            "آگهی تاسیس",
            "آخرین تغییرات شرکت",
            "اساسنامه شرکت",
            "مشخصات شخص حقوقی",
            "official gazette",
        ),
        (),
    ),
    (
        "post.address",
        (
            "کد پستی",
            "کدپستی",
            "نشانی",
            "آدرس",
            "قبض آب",
            "قبض برق",
            "قبض گاز",
            "postcode",
            "postal code",
            "address",
        ),
        (
            "رایانامه",
            "ایمیل",
            "پست الکترونیک",
            "پست الکترونیکی",
            "نشانی اینترنتی",
            "وبگاه",
            "سایت",
            "email",
            "e-mail",
            "web address",
            "ip address",
        ),
    ),
    (
        "judiciary.criminal_record",
        ("سوء پیشینه", "سو پیشینه", "سوءپیشینه", "سابقه کیفری", "criminal record"),
        (),
    ),
    (
        "education.school_record",
        ("دیپلم", "کارنامه تحصیلی", "ریز نمرات", "سوابق تحصیلی", "school record", "diploma"),
        (),
    ),
    (
        "science.student_status",
        ("گواهی اشتغال به تحصیل", "کارت دانشجویی", "وضعیت دانشجویی", "student status"),
        (),
    ),
    (
        "science.degree",
        (
            "مدرک تحصیلی",
            "دانشنامه",
            "گواهی فراغت از تحصیل",
            "گواهی موقت پایان تحصیلات",
            "مدرک دانشگاهی",
            "university degree",
        ),
        (),
    ),
    (
        "martyrs.veteran_status",
        (
            "کارت ایثارگری",
            "کارت جانبازی",
            "کارت رزمندگی",
            "گواهی ایثارگری",
            "وضعیت ایثارگری",
            "veteran status",
        ),
        (),
    ),
    (
        "relief.beneficiary",
        ("کارت مددجویی", "معرفی نامه کمیته امداد", "وضعیت مددجویی", "گواهی مددجویی"),
        (),
    ),
    ("insurance.health_coverage", ("دفترچه بیمه سلامت", "کارت بیمه سلامت", "بیمه سلامت"), ()),
    ("vehicle.driving_licence", ("گواهینامه رانندگی", "driving licence"), ()),
    ("vehicle.plate", ("کارت خودرو", "سند خودرو", "برگ سبز خودرو", "کارت ماشین"), ()),
    ("vocational.certificates", ("گواهینامه مهارت", "مدرک فنی و حرفه ای"), ()),
    ("tax.clearance", ("مفاصاحساب مالیاتی", "مفاصا حساب مالیاتی", "گواهی مالیاتی"), ()),
    ("welfare.subsidy_decile", ("دهک درآمدی", "دهک خانوار"), ()),
    ("foreign.residence_permit", ("کارت اقامت", "کارت آمایش", "پروانه اقامت"), ()),
    (
        "ssi.insurance_record",
        (
            "سوابق بیمه",
            "سابقه بیمه",
            "سابقه پرداخت حق بیمه",
            "لیست بیمه",
            "دفترچه بیمه",
            "social insurance record",
        ),
        (),
    ),
    ("shahkar.mobile_owner", ("مالکیت سیم کارت", "تطابق شماره همراه", "sim card ownership"), ()),
)
# Only the start of a long text is read: a card's entries are names, not essays.
ONCE_ONLY_MAX_TEXT = 500


def once_only_key(text: Any) -> str:
    """The key once-only names are compared on: squashed, hamza dropped."""
    return squash(str(text or "")[:ONCE_ONLY_MAX_TEXT]).replace("ء", "")


def _compile_names() -> list[tuple[str, list[str], list[str]]]:
    rules = [
        (item, [once_only_key(n) for n in names], [once_only_key(u) for u in unless])
        for item, names, unless in ONCE_ONLY_NAMES
    ]
    # The registries' own labels of their items are names too (new items included).
    for item, (_registry, label_fa, label_en) in REGISTRY_ITEMS.items():
        rules.append((item, [once_only_key(label_fa), once_only_key(label_en)], []))
    return [(item, [k for k in keys if len(k) >= 3], unless) for item, keys, unless in rules]


_NAMES = _compile_names()


def registry_items_named(text: Any) -> list[str]:
    """The registry items a document's or datum's name asks for (in order, without repeats)."""
    return list(_items_named(str(text or "")[:ONCE_ONLY_MAX_TEXT]))


@lru_cache(maxsize=8192)
def _items_named(text: str) -> tuple[str, ...]:
    # Catalogues repeat the same few names on thousands of cards: each is read once.
    key = once_only_key(text)
    found: list[str] = []
    if not key:
        return ()
    for item, keys, unless in _NAMES:
        if any(u and u in key for u in unless):
            continue
        for name in keys:
            if name in key:
                key = key.replace(name, "|")  # used up
                if item in REGISTRY_ITEMS and item not in found:
                    found.append(item)
    return tuple(found)


@dataclass(frozen=True)
class OnceOnlyFinding:
    """A card asks for something a base registry holds (Art. 107(ح)).

    ``kind`` is what the card asks for: ``document`` (a document named on the card), ``upload``
    (an input to upload), ``typed`` (data to type) or ``in_person`` (an in-person step that
    names it); ``asked`` is the card's own words; ``item`` the registry item that holds it.
    """

    item: str
    kind: str
    field: str
    asked: str

    @property
    def registry(self) -> str:
        return REGISTRY_ITEMS[self.item][0]

    @property
    def item_fa(self) -> str:
        return REGISTRY_ITEMS[self.item][1]

    @property
    def item_en(self) -> str:
        return REGISTRY_ITEMS[self.item][2]

    @property
    def holder_fa(self) -> str:
        return REGISTRY_HOLDERS.get(self.registry, (self.registry, self.registry))[0]

    @property
    def holder_en(self) -> str:
        return REGISTRY_HOLDERS.get(self.registry, (self.registry, self.registry))[1]

    @property
    def message_fa(self) -> str:
        verb = {
            "document": "مدرک «%s» را می‌خواهد",
            "upload": "بارگذاری «%s» را می‌خواهد",
            "typed": "وارد کردن «%s» را از متقاضی می‌خواهد",
            "in_person": "در مراجعه حضوری «%s» را می‌خواهد",
        }[self.kind] % self.asked
        return (
            f"این خدمت {verb}؛ «{self.item_fa}» در {self.holder_fa} نگهداری می‌شود و باید از "
            "همان‌جا استعلام شود (بند «ح» ماده ۱۰۷ برنامه هفتم)."
        )

    @property
    def message_en(self) -> str:
        verb = {
            "document": "asks for the document “%s”",
            "upload": "asks the applicant to upload “%s”",
            "typed": "asks the applicant to type “%s”",
            "in_person": "asks for “%s” at an in-person step",
        }[self.kind] % self.asked
        return (
            f"This service {verb}. A base registry holds it ({self.item_en}, kept by the "
            f"{self.holder_en}): it must be fetched from there, not asked of the applicant "
            "(Art. 107(h) of the 7th Plan)."
        ).replace("the the ", "the ")

    @property
    def message(self) -> str:
        from django.utils.translation import get_language

        return self.message_en if (get_language() or "fa").startswith("en") else self.message_fa

    def as_dict(self) -> dict[str, str]:
        return {
            "item": self.item,
            "kind": self.kind,
            "field": self.field,
            "asked": self.asked,
            "registry": self.registry,
            "holder_fa": self.holder_fa,
            "holder_en": self.holder_en,
            "message_fa": self.message_fa,
            "message_en": self.message_en,
        }


def _label(entry: Any) -> str:
    if isinstance(entry, dict):
        return str(entry.get("label_fa") or entry.get("title_fa") or entry.get("label_en") or "")
    return str(entry or "")


def _names_of(entry: Any) -> list[str]:
    """Every name an entry goes by (Persian and English labels, its code)."""
    if isinstance(entry, dict):
        return [
            str(entry[k])
            for k in ("label_fa", "title_fa", "label_en", "title_en")
            if isinstance(entry.get(k), str) and entry.get(k)
        ]
    return [str(entry)] if isinstance(entry, str) else []


def once_only_findings(card: Any) -> list[OnceOnlyFinding]:
    """Every document or typed datum ``card`` asks for that a base registry holds.

    ``card`` is a Service, a ServiceVersion's ``data`` or any dict of card fields
    (``documents_required``, ``inputs``, ``in_person_steps``); smart or not. The one source of
    truth for Art. 107(ح): the linter, the publishing check, the transparency page and the
    service designer all ask it.
    """
    found: list[OnceOnlyFinding] = []
    seen: set[tuple[str, str, str]] = set()

    def add(item: str, kind: str, field: str, asked: str) -> None:
        asked = normalize(asked)[:200]
        key = (item, kind, asked)
        if item in REGISTRY_ITEMS and key not in seen:
            seen.add(key)
            found.append(OnceOnlyFinding(item, kind, field, asked))

    def named(entry: Any) -> list[str]:
        items: list[str] = []
        for name in _names_of(entry):
            items += [i for i in registry_items_named(name) if i not in items]
        return items

    documents = _get(card, "documents_required") or []
    for entry in documents if isinstance(documents, list) else []:
        for item in named(entry):
            add(item, "document", "documents_required", _label(entry))
    inputs = _get(card, "inputs") or []
    for entry in inputs if isinstance(inputs, list) else []:
        if not isinstance(entry, dict):
            continue
        source = entry.get("source")
        if source == InputSource.REGISTRY:
            continue  # fetched from the registry: what the law asks for
        kind = "upload" if source == InputSource.DOCUMENT else "typed"
        items = []
        if entry.get("item") in REGISTRY_ITEMS:
            items.append(entry["item"])
        items += [i for i in named(entry) if i not in items]
        for item in items:
            add(item, kind, "inputs", _label(entry) or REGISTRY_ITEMS[item][1])
    steps = _get(card, "in_person_steps") or []
    for entry in steps if isinstance(steps, list) else []:
        for item in named(entry):
            add(item, "in_person", "in_person_steps", _label(entry))
    return found
