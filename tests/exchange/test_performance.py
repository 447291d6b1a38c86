"""What the exchange does to be fast must not weaken what it guarantees: kept connections to the
registries, the grant cache (invalidated by every grant change), the log insert."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

import pytest

from panjereh.catalogue import roles
from panjereh.exchange import gateway, grants, log, stats
from panjereh.exchange.models import Grant, GrantState, LogRecord, MonthlyStat, Outcome

pytestmark = pytest.mark.django_db


def _log(response) -> LogRecord:
    return LogRecord.objects.get(x_road_id=response["X-Road-Id"])


def test_registry_keeps_the_connection_alive(registries, population):
    address = urlsplit(registries.url("civil"))
    conn = http.client.HTTPConnection(address.hostname, address.port, timeout=5)
    code = population.national_code(5)
    conn.request("GET", f"/identity/{code}")
    first = conn.getresponse()
    assert first.version == 11 and first.status == 200
    assert first.getheader("Content-Length")
    first.read()
    sock = conn.sock
    # A POST whose body the registry ignores must not leave bytes behind on the connection.
    conn.request("POST", f"/identity/{code}", body=b'{"ignored": true}')
    refused = conn.getresponse()
    assert refused.status == 405
    refused.read()
    conn.request("GET", "/_health")
    health = conn.getresponse()
    assert health.status == 200 and b'"ok": true' in health.read()
    assert conn.sock is sock  # all three on one TCP connection
    conn.request("GET", "/_health", headers={"Connection": "close"})
    last = conn.getresponse()
    assert last.getheader("Connection") == "close"
    last.read()
    conn.close()


def test_a_restarted_provider_is_reached_on_a_new_connection(
    exchange, population, registries, settings
):
    settings.PANJEREH_EXCHANGE_RETRIES = 0  # the closed connection must be noticed, not retried
    service = exchange.service("civil", "identity")
    exchange.grant(service, ["civil.identity"])
    code = population.national_code(12)
    assert exchange.call(service, code, code).status_code == 200
    port = urlsplit(registries.url("civil")).port
    registries.stop_one("civil")
    registries.start_one("civil")
    assert urlsplit(registries.url("civil")).port == port
    response = exchange.call(service, code, code)
    assert response.status_code == 200, response.content


def test_revocation_takes_effect_on_the_next_call_with_the_grant_cached(exchange, population):
    service = exchange.service("civil", "identity")
    grant = exchange.grant(service, ["civil.identity"])
    code = population.national_code(13)
    for _ in range(3):  # warm the cache (and move the grant to implemented)
        assert exchange.call(service, code, code).status_code == 200
    assert (grant.consumer_id, service.pk) in gateway._grant_rows

    grants.revoke(Grant.objects.get(pk=grant.pk), note="withdrawn", actor=roles.SYSTEM)

    response = exchange.call(service, code, code)
    assert response.status_code == 403 and response.json()["code"] == "grant_revoked"
    assert _log(response).outcome == Outcome.REFUSED


def test_a_grant_change_in_another_process_reaches_this_one_through_the_cache(exchange, population):
    service = exchange.service("civil", "identity")
    grant = exchange.grant(service, ["civil.identity"])
    code = population.national_code(14)
    assert exchange.call(service, code, code).status_code == 200
    # Another gateway process revokes: the row changes without this process's signals, and that
    # process bumps the generation in the shared cache.
    Grant.objects.filter(pk=grant.pk).update(state=GrantState.REVOKED)
    gateway.GENERATION.bump()

    response = exchange.call(service, code, code)
    assert response.status_code == 403 and response.json()["code"] == "grant_revoked"


def test_a_new_grant_is_seen_at_once(exchange, population):
    service = exchange.service("civil", "identity")
    code = population.national_code(15)
    refused = exchange.call(service, code, code)
    assert refused.json()["code"] == "no_grant"
    exchange.grant(service, ["civil.identity"])
    assert exchange.call(service, code, code).status_code == 200


def test_no_answer_leaves_unlogged(exchange, population, monkeypatch):
    service = exchange.service("civil", "identity")
    exchange.grant(service, ["civil.identity"])
    code = population.national_code(16)

    def broken(**_values):
        raise RuntimeError("disk full")

    monkeypatch.setattr(gateway, "insert_record", broken)
    response = exchange.call(service, code, code)
    assert response.status_code == 503
    body = response.json()
    assert body["code"] == "log_unavailable" and "first_name" not in body
    assert not LogRecord.objects.filter(x_road_id=response["X-Road-Id"]).exists()


def test_the_log_row_matches_the_orm_row(exchange, population):
    service = exchange.service("civil", "identity")
    grant = exchange.grant(service, ["civil.identity", "civil.birth_date"])
    code = population.national_code(17)
    response = exchange.call(service, code, code, items=["civil.birth_date"])
    record = _log(response)
    assert record.created_at.tzinfo is not None
    assert record.items == ["civil.birth_date"] and record.grant_id == grant.pk
    assert record.consumer_system_id == exchange.system.pk
    assert record.service_id == service.pk and record.provider_id == service.provider_id
    assert record.seq == LogRecord.objects.count() and len(record.hash) == 64
    assert record.hash == log.chain_hash(
        LogRecord.objects.filter(seq=record.seq - 1).values_list("hash", flat=True).first()
        or log.GENESIS,
        record,
    )
    assert record.latency_us > 0 and record.http_status == 200


def test_rollup_percentiles_from_the_histogram(exchange, population):
    service = exchange.service("civil", "identity")
    exchange.grant(service, ["civil.identity"])
    code = population.national_code(18)
    for _ in range(5):
        exchange.call(service, code, code)
    latencies = sorted(LogRecord.objects.values_list("latency_us", flat=True))
    month = stats.month_key(LogRecord.objects.first().created_at)
    stats.rollup(month)
    row = MonthlyStat.objects.get(month=month, service=service)
    assert row.calls == 5
    assert row.latency_p50_ms == latencies[2] / 1000
    assert row.latency_p95_ms == latencies[4] / 1000
    assert row.latency_p99_ms == latencies[4] / 1000
