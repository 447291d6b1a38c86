"""The engine as a consumer of the national exchange.

Every data item is fetched over HTTP through the gateway (never from the applicant and never
from a registry directly), as the issuing agency's consumer system ``smart-services``, with the
application's service as the purpose (``X-Panjereh-Purpose``), the person as ``X-Road-UserId``
and the tracking code as ``X-Road-Issue``, so each call lands in the exchange's message log
and in the citizen's "who read my data" page. The same pattern as
``panjereh.identity.registry_checks``.

``PANJEREH_SERVICES_EXCHANGE_URL`` (setting or environment) names the gateway; by default the
public address of this installation.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings
from django.utils import timezone

from panjereh.catalogue import roles
from panjereh.catalogue.models import Agency

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


# Consumer faults that are only a matter of time (the rate limit) are retried like outages.
_TRANSIENT_CONSUMER_CODES = {"rate_limited", "replayed_assertion", "expired_assertion"}


@dataclass(frozen=True)
class Answer:
    found: bool
    record: dict[str, Any]
    message_id: str


_local = threading.local()


def _http() -> httpx.Client:
    client = getattr(_local, "http", None)
    if client is None:
        timeout = float(getattr(settings, "PANJEREH_SERVICES_HTTP_TIMEOUT", 10))
        client = httpx.Client(timeout=httpx.Timeout(timeout, connect=3.0), trust_env=False)
        _local.http = client
    return client


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
    from panjereh.exchange import conf
    from panjereh.exchange.models import DataService

    service = (
        DataService.objects.filter(subsystem=f"{registry}-registry", code=code, enabled=True)
        .select_related("provider")
        .first()
    )
    if service is None:
        # The definition names a service the exchange does not have: a definition error.
        raise ExchangeRefused(
            registry, f"no data service {registry}/{code} on the exchange", "unknown_service", ""
        )
    return f"{conf.get('INSTANCE')}/{service.path()}"


def fetch(
    definition: ServiceDefinition,
    fetch_spec: dict[str, Any],
    subject: str,
    *,
    issue: str,
) -> Answer:
    """One data fetch of a definition for ``subject``; raises :class:`ProviderUnavailable`."""
    from panjereh.exchange import conf
    from panjereh.exchange.client import make_assertion

    registry = fetch_spec["registry"]
    system = _consumer(definition.agency)
    row = keys.active_key(definition.agency, AgencyKey.Use.EXCHANGE)
    assertion = make_assertion(keys.private_key(row), system.client_id, conf.get("AUDIENCE"))
    url = f"{gateway_url()}/r1/{_address(registry, fetch_spec['service'])}/{subject}"
    headers = {
        "Authorization": f"Bearer {assertion}",
        "X-Road-Client": system.client_id,
        "X-Road-UserId": subject,
        "X-Road-Issue": issue,
        "X-Panjereh-Purpose": definition.service.service_id or "",
        "Accept": "application/json",
    }
    params = {"items": ",".join(fetch_spec["items"])}
    try:
        response = _http().get(url, params=params, headers=headers)
    except httpx.HTTPError as exc:
        raise ProviderUnavailable(registry, type(exc).__name__) from exc
    message_id = response.headers.get("X-Road-Id", "")
    if response.status_code == 404:
        try:
            body = response.json()
        except ValueError:
            body = {}
        # The gateway's own 404 (no such service) is a fault; the registry's is "no record".
        if isinstance(body, dict) and body.get("found") is False:
            return Answer(False, {}, message_id)
        if isinstance(body, dict) and body.get("fault") == "consumer":
            raise ExchangeRefused(
                registry,
                str(body.get("message", ""))[:300],
                str(body.get("code", "")),
                str(body.get("incident", "")),
            )
        raise ProviderUnavailable(registry, "exchange answered 404")
    if response.status_code != 200:
        log.warning("exchange refused %s: %s %s", url, response.status_code, response.text[:300])
        try:
            body = response.json()
        except ValueError:
            body = {}
        if (
            isinstance(body, dict)
            and body.get("fault") == "consumer"
            and body.get("code") not in _TRANSIENT_CONSUMER_CODES
        ):
            raise ExchangeRefused(
                registry,
                str(body.get("message", ""))[:300],
                str(body.get("code", "")),
                str(body.get("incident", "")),
            )
        raise ProviderUnavailable(registry, f"exchange answered {response.status_code}")
    try:
        return Answer(True, response.json(), message_id)
    except ValueError as exc:
        raise ProviderUnavailable(registry, "answer is not JSON") from exc


# -- provisioning (demo and tests; production grants come from the Working Group) ------------


def provision(definition: ServiceDefinition, *, resolution_number: str, valid_days: int = 365):
    """Register the agency's consumer system and approved grants for the definition's data."""
    from panjereh.exchange import grants
    from panjereh.exchange import provision as exchange_provision
    from panjereh.exchange.models import DataService, Grant, GrantState

    agency = definition.agency
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
    system = exchange_provision.register_consumer(
        agency, SUBSYSTEM, {"keys": exchange_keys}, title="Panjereh smart services"
    )
    today = timezone.localdate()
    wanted: dict[tuple[str, str], set[str]] = {}
    for fetch_spec in definition.spec["data"]:
        wanted.setdefault((fetch_spec["registry"], fetch_spec["service"]), set()).update(
            fetch_spec["items"]
        )
    feed = definition.spec.get("proactive")
    if feed:
        wanted.setdefault((feed["registry"], feed["service"]), set()).update(feed["items"])
    for (registry, code), items in wanted.items():
        service = DataService.objects.get(subsystem=f"{registry}-registry", code=code)
        active = Grant.objects.filter(
            consumer=agency,
            service=service,
            purpose=definition.service,
            state__in=[GrantState.APPROVED, GrantState.IMPLEMENTED],
        )
        if any(set(items) <= set(g.items or g.requested_items) for g in active):
            continue
        grant = grants.request_grant(
            agency, service, sorted(items), definition.service, actor=roles.SYSTEM
        )
        grants.approve(
            grant,
            resolution_number=resolution_number,
            resolution_session="1",
            resolution_date=today,
            valid_until=today + dt.timedelta(days=valid_days),
            actor=roles.SYSTEM,
        )
    return system
