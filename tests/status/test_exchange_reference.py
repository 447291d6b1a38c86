"""A gateway error's per-call NIX reference, typed into the lookup, leads to the outage (INC)
that covered the call, and says nothing about who called or about whom."""

from __future__ import annotations

import datetime as dt

import pytest

from panjereh.exchange import provision
from panjereh.exchange.log import insert_record
from panjereh.exchange.models import DataService
from panjereh.registries.catalogue import openapi
from panjereh.status import monitor
from panjereh.status.models import System, SystemKind

from .conftest import feed

pytestmark = pytest.mark.django_db


def _failed_call(service: DataService, at: dt.datetime, reference: str) -> None:
    # The row the gateway writes for a call the provider did not answer.
    insert_record(
        created_at=at,
        x_road_id=f"00000000-0000-4000-8000-{abs(hash(reference)) % 10**12:012d}",
        incident=reference,
        client="IR/GOV/10000001/test-consumer",
        provider_id=service.provider_id,
        service_id=service.pk,
        method="GET",
        path=f"IR/{service.path()}/0012345679",
        subject="0012345679",
        outcome="provider_error",
        fault="provider",
        reason="provider_unavailable",
        http_status=503,
        latency_us=1200,
        request_hash="0" * 64,
    )


def test_nix_reference_points_to_the_covering_incident(client, settings, time_machine):
    settings.PANJEREH_STATUS_BASE_URL = "http://127.0.0.1:8000"
    provision.register_registry("http://127.0.0.1:8100", description=openapi("civil"))
    monitor.sync_systems()
    system = System.objects.get(kind=SystemKind.REGISTRY)
    service = DataService.objects.get(code="identity")
    start = dt.datetime(2026, 12, 6, 7, 0, tzinfo=dt.UTC)
    time_machine.move_to(start, tick=False)
    feed(system, False)
    incident = feed(system, False, start + dt.timedelta(seconds=30))
    _failed_call(service, start + dt.timedelta(seconds=40), "NIX-20261206-0A1B2C3D")
    _failed_call(service, start - dt.timedelta(hours=2), "NIX-20261206-FFFF0000")
    time_machine.move_to(start + dt.timedelta(minutes=5), tick=False)

    response = client.get("/en/status/incidents/", {"id": "nix-20261206-0a1b2c3d"})
    assert response.status_code == 200
    html = response.content.decode()
    assert f'href="/en/status/incidents/{incident.public_id}/"' in html
    assert "National Organization for Civil Registration" in html
    assert "0012345679" not in html and "test-consumer" not in html

    alone = client.get("/en/status/incidents/", {"id": "NIX-20261206-FFFF0000"}).content.decode()
    assert "the failure was of this call only" in alone
    unknown = client.get("/en/status/incidents/", {"id": "NIX-20261206-12345678"})
    assert "The exchange has no call with this reference." in unknown.content.decode()


def test_exchange_reference_lookups_are_rate_limited(client):
    for _ in range(29):
        assert (
            client.get("/en/status/incidents/", {"id": "NIX-20261206-12345678"}).status_code == 200
        )
    blocked = client.get("/en/status/incidents/", {"id": "NIX-20261206-12345678"})
    assert blocked.status_code == 429
    assert "Too many look-ups" in blocked.content.decode()
    # Incident ids are not limited: they are a primary-key look-up.
    assert client.get("/en/status/incidents/", {"id": "INC-1405-0001"}).status_code == 404
