"""Rules from the law that every service identity card must satisfy.

Each rule returns :class:`Violation` objects with a stable code, the field and a translated
message. :func:`check_service` is used by every write (operations), by the importer (per row)
and by the catalogue linter (over the whole catalogue).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

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
