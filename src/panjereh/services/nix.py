"""The engine as a consumer of the national exchange.

Every data item is fetched over HTTP through the gateway (never from the applicant and never
from a registry directly), as the issuing agency's consumer system ``smart-services``, with the
application's service as the purpose (``X-Panjereh-Purpose``), the person as ``X-Road-UserId``
and the tracking code as ``X-Road-Issue``, so each call lands in the exchange's message log
and in the citizen's "who read my data" page. The same pattern as
``panjereh.identity.registry_checks``.

The call itself (assertion, headers, pooled connection, timeout, size cap, typed errors) is
``panjereh.exchange.client.NixClient``; this module knows which registry service and items a
definition asks for and turns the client's errors into :class:`ProviderUnavailable` (retry
later) and :class:`ExchangeRefused` (a person must look).

``PANJEREH_SERVICES_EXCHANGE_URL`` (setting or environment) names the gateway; by default the
public address of this installation. ``PANJEREH_SERVICES_HTTP_TIMEOUT`` (seconds, default 10)
bounds each call.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from panjereh.catalogue import roles
from panjereh.catalogue.models import Agency
from panjereh.common.conf import setting

from . import keys
from .models import AgencyKey, ServiceDefinition

log = logging.getLogger(__name__)
SUBSYSTEM = "smart-services"


class ProviderUnavailable(Exception):
    """The exchange or the registry behind it gave no usable answer; retry later."""

    def __init__(self, registry: str, detail: str) -> None:
        super().__init__(f"{registry}: {detail}")
        self.registry = registry
        self.detail = detail


class ExchangeRefused(ProviderUnavailable):
    """The exchange refused the call as the consumer's fault (no or expired grant, an item
    outside it, a bad assertion): retrying will not help; a person must look at it."""

    def __init__(self, registry: str, detail: str, code: str, incident: str) -> None:
        super().__init__(registry, detail)
        self.code = code
        self.incident = incident


@dataclass(frozen=True)
class Answer:
    found: bool
    record: dict[str, Any]
    message_id: str


def timeout() -> float:
    """Seconds the engine waits for one answer through the exchange."""
    return float(setting("PANJEREH_SERVICES_HTTP_TIMEOUT", 10.0))


def gateway_url() -> str:
    from panjereh.common.addresses import exchange_url

    return exchange_url("PANJEREH_SERVICES_EXCHANGE_URL")


def _consumer(agency: Agency):
    from panjereh.exchange.models import ConsumerSystem

    system = ConsumerSystem.objects.filter(agency=agency, subsystem=SUBSYSTEM, enabled=True).first()
    if system is None:
        # Nobody registered the agency's system: no retry will register it.
        raise ExchangeRefused(
            "exchange", f"{agency.code} has no consumer system", "no_consumer_system", ""
        )
    return system


def _address(registry: str, code: str) -> str:
    from panjereh.exchange.client import service_address

    address = service_address(f"{registry}-registry", code)
    if address is None:
        # The definition names a service the exchange does not have: a definition error.
        raise ExchangeRefused(
            registry, f"no data service {registry}/{code} on the exchange", "unknown_service", ""
        )
    return address


def error_for(registry: str, exc: Exception) -> ProviderUnavailable:
    """The engine's error for a call the exchange client could not complete: retry later
    (:class:`ProviderUnavailable`), or stop retrying (:class:`ExchangeRefused`) when the exchange
    blames the consumer for something time will not mend."""
    from panjereh.exchange import client as nix_client

    if isinstance(exc, nix_client.ExchangeUnreachable):  # incl. timeouts and oversized answers
        return ProviderUnavailable(registry, exc.reason)
    if isinstance(exc, nix_client.GatewayRefusal):
        # A 404 that is not the registry's "no record" is the gateway's own (no such service).
        if exc.consumer_fault and (exc.status == 404 or not exc.transient):
            return ExchangeRefused(registry, exc.message, exc.code, exc.incident)
        return ProviderUnavailable(registry, f"exchange answered {exc.status}")
    return ProviderUnavailable(registry, "answer is not JSON")


def fetch(
    definition: ServiceDefinition,
    fetch_spec: dict[str, Any],
    subject: str,
    *,
    issue: str,
) -> Answer:
    """One data fetch of a definition for ``subject``; raises :class:`ProviderUnavailable`
    (:class:`ExchangeRefused` when retrying cannot help)."""
    from panjereh.exchange import client as nix_client

    registry = fetch_spec["registry"]
    system = _consumer(definition.agency)
    row = keys.active_key(definition.agency, AgencyKey.Use.EXCHANGE)
    client = nix_client.NixClient(
        gateway_url(), system.client_id, keys.private_key(row), timeout=timeout()
    )
    try:
        reply = client.get(
            f"{_address(registry, fetch_spec['service'])}/{subject}",
            user_id=subject,
            issue=issue,
            purpose=definition.service.service_id or "",
            items=fetch_spec["items"],
        )
    except nix_client.ExchangeError as exc:
        raise error_for(registry, exc) from exc
    if not reply.found:
        return Answer(False, {}, reply.message_id)
    return Answer(True, reply.data, reply.message_id)


# -- provisioning (demo and tests; production grants come from the Working Group) ------------


def data_wanted(definition: ServiceDefinition) -> dict[tuple[str, str], set[str]]:
    """The items the definition reads, by (registry, data service code): its fetches and its
    life-event feed; what its grants must cover."""
    wanted: dict[tuple[str, str], set[str]] = {}
    for fetch_spec in definition.spec.get("data", []):
        wanted.setdefault((fetch_spec["registry"], fetch_spec["service"]), set()).update(
            fetch_spec["items"]
        )
    feed = definition.spec.get("proactive")
    if feed:
        wanted.setdefault((feed["registry"], feed["service"]), set()).update(feed["items"])
    return wanted


def join_exchange(agency: Agency):
    """Make ``agency`` an exchange consumer: its member code (the demo gives one), its exchange
    key and its ``smart-services`` consumer system (idempotent); the consumer system."""
    from panjereh.exchange import provision as exchange_provision

    if not agency.member_code:
        # An agency must be an exchange member to consume; the demo gives it a member code.
        from panjereh.catalogue import operations

        agency = operations.save_agency(
            agency,
            {"member_code": f"2{agency.pk:010d}"},
            note="joined the exchange",
            author=operations.SYSTEM,
        )
    exchange_keys = [
        {**row.public_jwk, "kid": row.kid}
        for row in AgencyKey.objects.filter(agency=agency, use=AgencyKey.Use.EXCHANGE)
    ]
    if not exchange_keys:
        row = keys.active_key(agency, AgencyKey.Use.EXCHANGE)
        exchange_keys = [{**row.public_jwk, "kid": row.kid}]
    return exchange_provision.register_consumer(
        agency, SUBSYSTEM, {"keys": exchange_keys}, title="Panjereh smart services"
    )


def provision(definition: ServiceDefinition, *, resolution_number: str, valid_days: int = 365):
    """Register the agency's consumer system and approved grants for the definition's data."""
    from panjereh.exchange.models import DataService
    from panjereh.exchange.operations import ensure_grant

    system = join_exchange(definition.agency)
    agency = system.agency
    for (registry, code), items in data_wanted(definition).items():
        ensure_grant(
            agency,
            DataService.objects.get(subsystem=f"{registry}-registry", code=code),
            sorted(items),
            actor=roles.SYSTEM,
            purpose=definition.service,
            resolution_number=resolution_number,
            valid_days=valid_days,
        )
    return system
