"""Fixtures of the exchange tests: real registry processes over HTTP, a provisioned exchange,
a consumer agency with its own key, and a helper that calls the gateway."""

from __future__ import annotations

import base64
import datetime as dt
import os
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

# The log is sealed with a key of this test run, never with a key lying in ./var.
os.environ["PANJEREH_LOG_SIGNING_KEY"] = base64.b64encode(
    Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
).decode()

from django.core.cache import cache  # noqa: E402
from django.utils import timezone  # noqa: E402

from panjereh.catalogue import roles
from panjereh.exchange import breaker, gateway, grants, provision  # noqa: E402
from panjereh.exchange.client import generate_key, make_assertion, public_jwks  # noqa: E402
from panjereh.exchange.models import DataService, Grant  # noqa: E402
from panjereh.registries import REGISTRIES  # noqa: E402
from panjereh.registries.population import Population  # noqa: E402
from panjereh.registries.supervisor import Cluster  # noqa: E402
from tests.factories import make_agency, make_service  # noqa: E402

AUDIENCE = "urn:panjereh:nix"


@pytest.fixture(scope="session")
def registries():
    cluster = Cluster("small", seed=1404).start()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def population() -> Population:
    return Population(seed=1404, size=10_000)


@pytest.fixture(autouse=True)
def _clean_state(registries, settings):
    # Tests seal explicitly; a background sealer thread would hold its own connection.
    settings.PANJEREH_EXCHANGE_SEAL_INTERVAL = 0
    breaker.reset()
    gateway.clear_caches()  # ids are reused after each test's rollback
    cache.clear()
    yield
    for name in REGISTRIES:
        if name not in registries.processes:
            registries.start_one(name)
        registries.control(name, mode="normal")
    breaker.reset()


@dataclass
class Exchange:
    client: Any  # django.test.Client
    consumer: Any
    purpose: Any
    system: Any
    key: Any
    client_id: str

    def service(self, registry: str, code: str) -> DataService:
        return DataService.objects.get(subsystem=f"{registry}-registry", code=code)

    def grant(self, service: DataService, items: list[str], **approval: Any) -> Grant:
        grant = grants.request_grant(
            self.consumer, service, items, self.purpose, actor=roles.SYSTEM
        )
        today = timezone.localdate()
        defaults = {
            "resolution_number": "1404/12",
            "resolution_session": "7",
            "resolution_date": today - dt.timedelta(days=30),
            "valid_until": today + dt.timedelta(days=365),
            "implementation_deadline": today + dt.timedelta(days=90),
        }
        defaults.update(approval)
        return grants.approve(grant, actor=roles.SYSTEM, **defaults)

    def headers(self, subject: str, *, key=None, token: str | None = None, **extra: str) -> dict:
        token = token or make_assertion(key or self.key, self.client_id, AUDIENCE)
        headers = {
            "Authorization": f"Bearer {token}",
            "X-Road-Client": self.client_id,
            "X-Road-UserId": subject,
            "X-Road-Issue": "APP-1404-000123",
        }
        headers.update(extra)
        return headers

    def call(
        self,
        service: DataService,
        rest: str,
        subject: str,
        *,
        items=None,
        query=None,
        **header_options,
    ):
        path = (
            f"/r1/IR/{service.provider.member_class}/{service.provider.member_code}/"
            f"{service.subsystem}/{service.code}"
        )
        if rest:
            path += f"/{rest}"
        params = dict(query or {})
        if items is not None:
            params["items"] = ",".join(items)
        return self.client.get(path, params, headers=self.headers(subject, **header_options))


@pytest.fixture
def exchange(db, client, registries) -> Exchange:
    provision.register_registries(registries.addresses())
    consumer = make_agency(name_en="Ministry of Cooperatives, Labour and Social Welfare")
    purpose = make_service(agency=consumer, title_en="Unemployment insurance")
    key = generate_key()
    system = provision.register_consumer(consumer, "welfare-portal", public_jwks(key))
    return Exchange(client, consumer, purpose, system, key, system.client_id)
