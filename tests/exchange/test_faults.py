"""A provider that fails, is slow or is down: clear errors, incidents, the circuit breaker."""

from __future__ import annotations

import time

import pytest

from panjereh.exchange import breaker
from panjereh.exchange.models import LogRecord, Outcome

pytestmark = pytest.mark.django_db


def test_failing_provider_gives_a_provider_fault_with_an_incident(exchange, registries, population):
    service = exchange.service("relief", "beneficiary")
    exchange.grant(service, ["relief.beneficiary"])
    registries.control("relief", mode="fail", status=500)
    code = population.national_code(8)
    response = exchange.call(service, code, code)
    assert response.status_code == 502
    body = response.json()
    assert body["fault"] == "provider" and body["code"] == "provider_error"
    assert body["incident"].startswith("NIX-")
    record = LogRecord.objects.get(x_road_id=response["X-Road-Id"])
    assert record.outcome == Outcome.PROVIDER_ERROR and record.incident == body["incident"]


def test_idempotent_read_is_retried_once(exchange, registries, population, settings):
    settings.PANJEREH_EXCHANGE_BREAKER_THRESHOLD = 100
    service = exchange.service("relief", "beneficiary")
    exchange.grant(service, ["relief.beneficiary"])
    registries.control("relief", mode="fail", status=503)
    before = registries.control("relief")["requests"]
    code = population.national_code(8)
    assert exchange.call(service, code, code).status_code == 502
    assert registries.control("relief")["requests"] - before == 2


def test_slow_provider_times_out(exchange, registries, population, settings):
    settings.PANJEREH_EXCHANGE_RETRIES = 0
    service = exchange.service("martyrs", "veteran-status")
    service.timeout_ms = 300
    service.save()
    exchange.grant(service, ["martyrs.veteran_status"])
    registries.control("martyrs", mode="slow", delay_ms=1500)
    code = population.national_code(0)
    started = time.monotonic()
    response = exchange.call(service, code, code)
    assert time.monotonic() - started < 1.2
    assert response.status_code == 504
    assert response.json()["code"] == "provider_timeout"
    assert response.json()["fault"] == "provider"


def test_provider_down_gives_a_clear_error(exchange, registries, population):
    service = exchange.service("martyrs", "veteran-status")
    exchange.grant(service, ["martyrs.veteran_status"])
    registries.stop_one("martyrs")  # nothing listens on its port: connection refused
    code = population.national_code(0)
    response = exchange.call(service, code, code)
    assert response.status_code == 502
    assert response.json()["code"] == "provider_unreachable"
    assert response.json()["incident"]


def test_circuit_opens_after_failures_and_closes_again(exchange, registries, population, settings):
    settings.PANJEREH_EXCHANGE_BREAKER_THRESHOLD = 3
    settings.PANJEREH_EXCHANGE_BREAKER_COOLDOWN = 0.5
    settings.PANJEREH_EXCHANGE_RETRIES = 0
    service = exchange.service("ssi", "insurance-record")
    exchange.grant(service, ["ssi.insurance_record"])
    code = population.national_code(4)
    registries.control("ssi", mode="fail", status=503)

    codes = [exchange.call(service, code, code).json()["code"] for _ in range(3)]
    assert codes == ["provider_error"] * 3
    assert breaker.state(service.provider_id) == breaker.OPEN

    reached = registries.control("ssi")["requests"]
    response = exchange.call(service, code, code)
    assert response.status_code == 503 and response.json()["code"] == "circuit_open"
    assert registries.control("ssi")["requests"] == reached  # the provider was spared

    registries.control("ssi", mode="normal")
    time.sleep(0.6)
    response = exchange.call(service, code, code)
    assert response.status_code == 200
    assert breaker.state(service.provider_id) == breaker.CLOSED


def test_half_open_trial_failure_opens_again(exchange, registries, population, settings):
    settings.PANJEREH_EXCHANGE_BREAKER_THRESHOLD = 1
    settings.PANJEREH_EXCHANGE_BREAKER_COOLDOWN = 0.3
    settings.PANJEREH_EXCHANGE_RETRIES = 0
    service = exchange.service("ssi", "insurance-record")
    exchange.grant(service, ["ssi.insurance_record"])
    code = population.national_code(4)
    registries.control("ssi", mode="fail", status=500)
    exchange.call(service, code, code)
    time.sleep(0.35)
    assert exchange.call(service, code, code).json()["code"] == "provider_error"  # the trial
    assert exchange.call(service, code, code).json()["code"] == "circuit_open"


def test_incomplete_records_pass_through_filtered(exchange, registries, population):
    service = exchange.service("civil", "identity")
    exchange.grant(service, ["civil.identity", "civil.birth_date"])
    registries.control("civil", mode="incomplete")
    code = population.national_code(21)
    response = exchange.call(service, code, code)
    assert response.status_code == 200
    body = response.json()
    assert body["national_code"] == code
    assert None in body.values()  # blanked fields reach the consumer as missing, not invented
    assert set(body) <= {
        "national_code",
        "match",
        "first_name",
        "last_name",
        "father_name",
        "sex",
        "birth_date",
        "birth_date_jalali",
    }


def test_dropped_connection_is_a_provider_fault(exchange, registries, population):
    service = exchange.service("health", "birth-record")
    exchange.grant(service, ["health.birth_record"])
    registries.control("health", mode="drop")
    code = population.national_code(6)
    response = exchange.call(service, code, code)
    assert response.status_code == 502 and response.json()["fault"] == "provider"
