"""Identity checks against the base registries, made through the national exchange.

The national window is a consumer system of the exchange like any agency's: it calls the
gateway over HTTP with its own signed client assertion, under the grants the Interoperability
Working Group approved for it, and every call lands in the exchange's message log that the
citizen can read. This module is the only place in the identity app that knows how; everything
else uses :func:`match_identity`, :func:`mobile_belongs_to` and :func:`photo_matches`.

The call itself (assertion, headers, pooled connection, timeout, size cap, typed errors) is
``panjereh.exchange.client.NixClient``; this module knows which registry services and items
the checks need and how their answers decide them.

Settings (a Django setting wins over the environment variable of the same name):

- ``PANJEREH_IDENTITY_EXCHANGE_URL``: the gateway's base address (default: the public address);
- ``PANJEREH_IDENTITY_NIX_KEY``: the national window's consumer private key as a JWK (JSON);
  outside production one is generated into ``VAR_DIR/identity/`` on first use.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from panjereh.common import keyfiles

log = logging.getLogger(__name__)

SUBSYSTEM = "national-window"
# (registry subsystem, service code, data items the national window asks for)
IDENTITY = (
    "civil-registry",
    "identity",
    ["civil.identity", "civil.birth_date", "civil.death_record"],
)
PHOTO = ("civil-registry", "photo", ["civil.photo"])
MOBILE = ("shahkar-registry", "mobile-owner", ["shahkar.mobile_owner"])
# A legal person's directors and signatories (businesses.py: who may act for a company).
REPRESENTATIVES = ("ssaa-registry", "representatives", ["ssaa.company"])
SERVICES = [IDENTITY, PHOTO, MOBILE, REPRESENTATIVES]
# The national window's own service in the catalogue, named as the purpose of every call.
PURPOSE_TITLE_FA = "ثبت‌نام و احراز هویت در پنجره ملی"
PURPOSE_TITLE_EN = "Registration and identity assurance at the national window"


class RegistryUnavailable(Exception):
    """The exchange or the registry did not answer usably; nothing may be decided on it."""


@dataclass(frozen=True)
class CivilRecord:
    national_code: str
    first_name: str
    last_name: str
    father_name: str
    birth_date: dt.date
    sex: str
    alive: bool


@dataclass(frozen=True)
class CompanyRecord:
    """A legal person as the company registry names it today, with who represents it:
    ``representatives`` is a tuple of (national code, role, since ISO date)."""

    national_id: str
    name: str
    active: bool
    representatives: tuple[tuple[str, str, str], ...]

    def roles_of(self, national_code: str) -> set[str]:
        return {role for code, role, _since in self.representatives if code == national_code}

    def as_dict(self) -> dict[str, Any]:
        return {
            "national_id": self.national_id,
            "name": self.name,
            "active": self.active,
            "representatives": [list(r) for r in self.representatives],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CompanyRecord:
        return cls(
            national_id=data["national_id"],
            name=data["name"],
            active=bool(data["active"]),
            representatives=tuple(tuple(r) for r in data["representatives"]),
        )


# -- the checks ---------------------------------------------------------------------------------


def company_record(national_id: str) -> CompanyRecord | None:
    """The company registry's record of ``national_id`` with its current directors and
    signatories, or None if the registry holds no such legal person. The company is the
    inquiry's subject (X-Road-UserId): the exchange log files the call under it."""
    answer = _call(REPRESENTATIVES, national_id, rest=national_id)
    if answer is None:
        return None
    try:
        rows = tuple(
            (str(r["national_code"]), str(r["role"]), str(r.get("since") or ""))
            for r in answer["representatives"]
        )
        return CompanyRecord(
            national_id=str(answer["national_id"]),
            name=str(answer["name"]),
            active=answer.get("status") != "dissolved",
            representatives=rows,
        )
    except (KeyError, TypeError) as exc:
        raise RegistryUnavailable(f"unexpected company answer: {exc}") from exc


def match_identity(national_code: str, birth_date: dt.date) -> CivilRecord | None:
    """The Civil Registration record if ``national_code`` exists with this birth date."""
    answer = _call(
        IDENTITY, national_code, rest=national_code, query={"birth_date": birth_date.isoformat()}
    )
    if answer is None or answer.get("match") is not True:
        return None
    try:
        return CivilRecord(
            national_code=answer["national_code"],
            first_name=answer["first_name"],
            last_name=answer["last_name"],
            father_name=answer.get("father_name") or "",
            birth_date=dt.date.fromisoformat(answer["birth_date"]),
            sex=answer.get("sex") or "",
            alive=bool(answer.get("alive", True)),
        )
    except (KeyError, ValueError) as exc:
        raise RegistryUnavailable(f"unexpected identity answer: {exc}") from exc


def civil_identity(national_code: str) -> CivilRecord | None:
    """The Civil Registration record of ``national_code`` (no birth date to match), or None if
    the registry holds no such person: whether a person exists, e.g. before an official notice
    is kept for someone not yet signed up (mailbox)."""
    answer = _call(IDENTITY, national_code, rest=national_code)
    if answer is None:
        return None
    try:
        return CivilRecord(
            national_code=answer["national_code"],
            first_name=answer["first_name"],
            last_name=answer["last_name"],
            father_name=answer.get("father_name") or "",
            birth_date=dt.date.fromisoformat(answer["birth_date"]),
            sex=answer.get("sex") or "",
            alive=bool(answer.get("alive", True)),
        )
    except (KeyError, ValueError) as exc:
        raise RegistryUnavailable(f"unexpected identity answer: {exc}") from exc


def mobile_belongs_to(national_code: str, mobile: str) -> bool:
    """True if the mobile-ownership registry says ``mobile`` is registered to this person."""
    answer = _call(MOBILE, national_code, query={"national_code": national_code, "mobile": mobile})
    return bool(answer and answer.get("match") is True)


def photo_matches(national_code: str, image: bytes) -> bool:
    """True if ``image`` matches the person's Civil Registration photo.

    The simulated registry holds a synthetic picture per person; the simulated "face match" is
    equality of the image content. A real deployment puts a face-matching service here, behind
    the same function.
    """
    answer = _call(PHOTO, national_code, rest=national_code)
    photo = (answer or {}).get("photo") or ""
    if not photo:
        return False
    encoded = photo.split(",", 1)[1] if photo.startswith("data:") else photo
    try:
        reference = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise RegistryUnavailable("the registry photo is not readable") from exc
    return hashlib.sha256(reference).digest() == hashlib.sha256(image.strip()).digest()


# -- calling the gateway ------------------------------------------------------------------------


def gateway_url() -> str:
    from panjereh.common.addresses import exchange_url

    return exchange_url("PANJEREH_IDENTITY_EXCHANGE_URL")


def _key_path() -> Path:
    return Path(settings.VAR_DIR) / "identity" / "nix-consumer-key.json"


def consumer_key():
    """The national window's private key for client assertions (an Ed25519 JWK)."""
    from joserfc.jwk import OKPKey

    from panjereh.exchange.client import generate_key

    text = keyfiles.load_or_create(
        "PANJEREH_IDENTITY_NIX_KEY",
        _key_path(),
        lambda: json.dumps(generate_key().as_dict(private=True)).encode(),
    )
    return OKPKey.import_key(json.loads(text))


def _consumer():
    from panjereh.exchange.models import ConsumerSystem

    system = (
        ConsumerSystem.objects.filter(subsystem=SUBSYSTEM, enabled=True)
        .select_related("agency")
        .first()
    )
    if system is None:
        raise RegistryUnavailable("the national window is not registered as an exchange consumer")
    return system


def _address(spec: tuple[str, str, list[str]]) -> str:
    """The service's X-Road address, from the exchange's directory of data services."""
    from panjereh.exchange.client import service_address

    subsystem, code, _items = spec
    address = service_address(subsystem, code)
    if address is None:
        raise RegistryUnavailable(f"no data service {subsystem}/{code} on the exchange")
    return address


def _call(spec, national_code: str, *, rest: str = "", query: dict[str, str] | None = None):
    """One call through the gateway; the answer, None for "no such record", or an error."""
    from panjereh.exchange import client as nix_client

    system = _consumer()
    client = nix_client.NixClient(gateway_url(), system.client_id, consumer_key(), timeout=10.0)
    try:
        reply = client.get(
            _address(spec) + (f"/{rest}" if rest else ""),
            user_id=national_code,
            purpose=purpose_service_id(system),
            items=spec[2],
            params=query,
        )
    except nix_client.ExchangeUnreachable as exc:
        log.warning("exchange call to %s failed: %s", spec[1], exc.reason)
        raise RegistryUnavailable(exc.reason) from exc
    except nix_client.AnswerNotJSON as exc:
        raise RegistryUnavailable("the exchange answer is not JSON") from exc
    except nix_client.GatewayRefusal as exc:
        if exc.status == 404:
            return None
        raise RegistryUnavailable(f"exchange answered {exc.status}") from exc
    return reply.data if reply.found else None


def purpose_service_id(system, title_en: str = PURPOSE_TITLE_EN) -> str:
    """The catalogue service ID of the window's purpose service called ``title_en`` at the
    consumer ``system``'s agency (the purpose its exchange calls name), or ""."""
    from panjereh.catalogue.models import Service

    service = (
        Service.objects.filter(agency_id=system.agency_id, title_en=title_en)
        .exclude(service_id="")
        .values_list("service_id", flat=True)
        .first()
    )
    return service or ""


# -- registering the national window as a consumer ------------------------------------------


def provision(agency, *, resolution_number: str, valid_days: int = 365) -> Any:
    """Register the national window's consumer system for ``agency`` (the platform operator),
    its public key, its purpose service, and approved grants for its services (the civil
    identity, photo and mobile checks, and companies' representatives).

    Used by ``panjereh identity_exchange`` in the demo and by the tests; in production the
    grants are decided by the Interoperability Working Group in the exchange's back office.
    """
    return grant_window(
        agency,
        SERVICES,
        purpose=(PURPOSE_TITLE_FA, PURPOSE_TITLE_EN),
        number_base=900_000_000,
        resolution_number=resolution_number,
        valid_days=valid_days,
    )


def grant_window(
    agency,
    services,
    *,
    purpose: tuple[str, str],
    number_base: int,
    resolution_number: str,
    valid_days: int = 365,
) -> Any:
    """The window's consumer system at ``agency`` (registered with its public key), the
    window's purpose service titled ``purpose`` (Persian, English; made once, its service ID
    drawn from ``number_base`` and the agency), and approved grants under it on ``services``
    ([(subsystem, code, items)]). For the window's own calls: identity's registry checks
    (:func:`provision`), the billers (``payments.billing``)."""
    from panjereh.catalogue import operations, roles
    from panjereh.catalogue.models import Service
    from panjereh.catalogue.rules import make_service_id
    from panjereh.exchange import provision as exchange_provision
    from panjereh.exchange.client import public_jwks
    from panjereh.exchange.models import DataService
    from panjereh.exchange.operations import ensure_grant

    title_fa, title_en = purpose
    system = exchange_provision.register_consumer(
        agency, SUBSYSTEM, public_jwks(consumer_key()), title="Panjereh national window"
    )
    service = Service.objects.filter(agency=agency, title_en=title_en).first()
    if service is None:
        service = operations.save_service(
            Service(agency=agency),
            {
                "service_id": make_service_id(f"{number_base + agency.pk:09d}"),
                "title_fa": title_fa,
                "title_en": title_en,
                "recipients": ["G2C"],
                "category": "other",
                "channels": ["web"],
                "scope": "connectable",
                "connected": True,
                "connection_form": "direct",
                "min_assurance_level": 1,
            },
            author=operations.SYSTEM,
        )
    for subsystem, code, items in services:
        ensure_grant(
            agency,
            DataService.objects.get(subsystem=subsystem, code=code),
            items,
            actor=roles.SYSTEM,
            purpose=service,
            resolution_number=resolution_number,
            valid_days=valid_days,
        )
    return system
