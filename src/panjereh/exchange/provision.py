"""Register providers and consumers on the exchange (idempotent).

:func:`register_registry` reads a registry's published OpenAPI description over HTTP, as the
exchange would read a real agency's, and creates or updates its agency (by exchange member
code) and one data service per path, pointed at the registry's address.
"""

from __future__ import annotations

from typing import Any

import httpx
from django.db import transaction

from panjereh.catalogue import operations
from panjereh.catalogue.models import Agency
from panjereh.catalogue.vocab import REGISTRY_ITEMS

from .models import ConsumerSystem, DataService

# The catalogue agencies that run each registry, most specific first. When the catalogue has
# the agency, the registry is registered under it (with its exchange member code); otherwise
# an agency is created for it.
CATALOGUE_CODES: dict[str, tuple[str, ...]] = {
    "civil": ("nocr",),
    "shahkar": ("cra",),
    "post": ("post",),
    "ssaa": ("ssaa",),
    "health": ("mohme-hq", "mohme"),
    "science": ("msrt-hq", "msrt"),
    "education": ("moe-hq", "moe"),
    "judiciary": ("judiciary",),
    "martyrs": ("martyrs",),
    "relief": ("relief",),
    "ssi": ("ssi",),
    "tax": ("inta",),
    "vehicle": ("traffic-police", "faraja"),
    "insurance": ("ihio",),
    "welfare": ("mcls-hq", "mcls"),
    "vocational": ("tvto",),
    "location": ("post",),
    "foreign": ("bafia",),
    "courts": ("judiciary",),
    "convictions": ("judiciary",),
}


def _provider_agency(member_code: str, registry: str, name_fa: str, name_en: str) -> Agency:
    for code in CATALOGUE_CODES.get(registry, ()):
        agency = Agency.objects.filter(code=code).first()
        if agency is not None:
            if not agency.member_code:
                agency = operations.save_agency(
                    agency,
                    {"member_code": member_code},
                    note="joined the exchange",
                    author=operations.SYSTEM,
                )
            return agency
    agency = Agency.objects.filter(member_class="GOV", member_code=member_code).first()
    if agency is not None:
        return agency
    return operations.save_agency(
        Agency(),
        {
            "code": f"nix-{registry}",
            "name_fa": name_fa,
            "name_en": name_en,
            "kind": "organisation",
            "connection_status": "connected",
            "connection_form": "national_system",
            "member_class": "GOV",
            "member_code": member_code,
        },
        note="registered as an exchange provider",
        author=operations.SYSTEM,
    )


def _items(codes_to_fields: dict[str, list[str]]) -> list[dict[str, Any]]:
    items = []
    for code, fields in codes_to_fields.items():
        _registry, label_fa, label_en = REGISTRY_ITEMS.get(code, ("", code, code))
        items.append(
            {"code": code, "fields": list(fields), "label_fa": label_fa, "label_en": label_en}
        )
    return items


@transaction.atomic
def register_registry(
    base_url: str, *, description: dict[str, Any] | None = None, http: httpx.Client | None = None
) -> list[DataService]:
    """Create or update the provider and data services a registry at ``base_url`` publishes."""
    base_url = base_url.rstrip("/")
    if description is None:
        getter = http.get if http is not None else httpx.get
        response = getter(f"{base_url}/openapi.json", timeout=10)
        response.raise_for_status()
        description = response.json()
    info = description["info"]
    registry = info["x-panjereh-registry"]
    agency = _provider_agency(
        info["x-panjereh-member-code"], registry, info["x-panjereh-name-fa"], info["title"]
    )
    services = []
    for operation in (op["get"] for op in description["paths"].values()):
        code = operation["x-panjereh-service-code"]
        service, _created = DataService.objects.update_or_create(
            provider=agency,
            subsystem=f"{registry}-registry",
            code=code,
            defaults={
                "version": info.get("version", "1.0"),
                "title_fa": operation["x-panjereh-title-fa"],
                "title_en": operation["summary"],
                "openapi": {
                    "openapi": description["openapi"],
                    "info": info,
                    "operation": operation,
                },
                "items": _items(operation["x-panjereh-items"]),
                "key_fields": operation["x-panjereh-key-fields"],
                "legal_basis": operation.get("x-panjereh-legal-basis", ""),
                "upstream_base_url": f"{base_url}/{code}",
            },
        )
        services.append(service)
    return services


def register_registries(addresses: dict[str, str]) -> dict[str, list[DataService]]:
    # One client for all: building an httpx client (its TLS context) costs more than the calls.
    with httpx.Client(trust_env=False, verify=False) as http:  # noqa: S501 -- loopback http only
        return {name: register_registry(url, http=http) for name, url in addresses.items()}


def register_consumer(
    agency: Agency, subsystem: str, jwks: dict[str, Any], *, title: str = ""
) -> ConsumerSystem:
    system, _created = ConsumerSystem.objects.update_or_create(
        agency=agency, subsystem=subsystem, defaults={"jwks": jwks, "title": title, "enabled": True}
    )
    return system
