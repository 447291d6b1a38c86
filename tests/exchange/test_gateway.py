"""The gateway against the real registry processes: grants, items, authentication, refusals."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from panjereh.catalogue import roles
from panjereh.exchange import grants
from panjereh.exchange.client import generate_key, make_assertion
from panjereh.exchange.models import GrantEvent, GrantState, LogRecord, Outcome

pytestmark = pytest.mark.django_db


def _log(response) -> LogRecord:
    return LogRecord.objects.get(x_road_id=response["X-Road-Id"])


def test_granted_call_returns_only_granted_items(exchange, population):
    service = exchange.service("civil", "identity")
    grant = exchange.grant(service, ["civil.identity"])
    person = 4 * 17 + 2
    code = population.national_code(person)
    expected = population.civil_identity(person)

    response = exchange.call(service, code, code)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["national_code"] == code
    assert body["first_name"] == expected["first_name"]
    assert body["father_name"] == expected["father_name"]
    # The registry also sent birth date, marital status and death: not granted, not passed on.
    assert set(body) == {"national_code", "match", "first_name", "last_name", "father_name", "sex"}
    assert response["X-Road-Id"] and len(response["X-Road-Request-Hash"]) == 64
    record = _log(response)
    assert record.outcome == Outcome.OK and record.subject == code
    assert record.items == ["civil.identity"] and record.grant_id == grant.pk
    assert record.issue == "APP-1404-000123"
    assert record.purpose == exchange.purpose.service_id
    grant.refresh_from_db()
    assert grant.state == GrantState.IMPLEMENTED and grant.implemented_at is not None
    assert GrantEvent.objects.filter(grant=grant, to_state=GrantState.IMPLEMENTED).count() == 1


def test_identity_match_with_wrong_birth_date_says_no_match(exchange, population):
    service = exchange.service("civil", "identity")
    exchange.grant(service, ["civil.identity", "civil.birth_date"])
    code = population.national_code(40)
    response = exchange.call(service, code, code, query={"birth_date": "1900-01-01"})
    assert response.status_code == 200
    assert response.json() == {"national_code": code, "match": False}


def test_asking_for_an_item_outside_the_grant_is_refused_and_logged(exchange, population):
    service = exchange.service("civil", "identity")
    exchange.grant(service, ["civil.identity"])
    code = population.national_code(9)

    allowed = exchange.call(service, code, code, items=["civil.identity"])
    refused = exchange.call(service, code, code, items=["civil.identity", "civil.birth_date"])

    assert allowed.status_code == 200
    assert refused.status_code == 403
    body = refused.json()
    assert body["fault"] == "consumer" and body["code"] == "item_not_granted"
    assert "civil.birth_date" in body["message"] and body["incident"].startswith("NIX-")
    record = _log(refused)
    assert record.outcome == Outcome.REFUSED and record.reason == "item_not_granted"
    assert record.incident == body["incident"]


def test_asking_for_a_subset_of_the_grant_returns_just_that(exchange, population):
    service = exchange.service("science", "education-status")
    exchange.grant(service, ["science.degree", "science.student_status"])
    code = population.national_code(1)
    response = exchange.call(service, code, code, items=["science.student_status"])
    assert response.status_code == 200
    assert set(response.json()) == {"national_code", "student"}


def test_call_without_grant_is_refused_and_logged(exchange, population):
    service = exchange.service("judiciary", "criminal-record")
    code = population.national_code(0)
    response = exchange.call(service, code, code)
    assert response.status_code == 403
    assert response.json()["code"] == "no_grant"
    assert _log(response).outcome == Outcome.REFUSED
    assert _log(response).consumer_id == exchange.consumer.pk


def test_grant_not_yet_approved_is_refused(exchange, population):
    service = exchange.service("judiciary", "criminal-record")
    grants.request_grant(
        exchange.consumer,
        service,
        ["judiciary.criminal_record"],
        exchange.purpose,
        actor=roles.SYSTEM,
    )
    code = population.national_code(0)
    response = exchange.call(service, code, code)
    assert response.status_code == 403 and response.json()["code"] == "grant_not_approved"


def test_expired_grant_is_refused_and_the_grant_expires(exchange, population):
    service = exchange.service("relief", "beneficiary")
    today = timezone.localdate()
    grant = exchange.grant(
        service,
        ["relief.beneficiary"],
        resolution_date=today - dt.timedelta(days=400),
        valid_until=today - dt.timedelta(days=1),
    )
    code = population.national_code(5)
    response = exchange.call(service, code, code)
    assert response.status_code == 403 and response.json()["code"] == "grant_expired"
    grant.refresh_from_db()
    assert grant.state == GrantState.EXPIRED
    assert _log(response).reason == "grant_expired"


def test_revocation_takes_effect_on_the_next_call(exchange, population):
    service = exchange.service("ssi", "insurance-record")
    grant = exchange.grant(service, ["ssi.insurance_record"])
    code = population.national_code(12)
    assert exchange.call(service, code, code).status_code == 200

    grants.revoke(grant, note="resolution 1404/19 withdrew access", actor=roles.SYSTEM)

    response = exchange.call(service, code, code)
    assert response.status_code == 403 and response.json()["code"] == "grant_revoked"
    assert _log(response).outcome == Outcome.REFUSED
    assert [e.to_state for e in grant.events.all()] == [
        "requested",
        "approved",
        "implemented",
        "revoked",
    ]


def test_a_grant_to_another_agency_does_not_cover_this_one(exchange, population):
    from tests.factories import make_agency, make_service

    other = make_agency()
    service = exchange.service("martyrs", "veteran-status")
    grant = grants.request_grant(
        other,
        service,
        ["martyrs.veteran_status"],
        make_service(agency=other),
        actor=roles.SYSTEM,
    )
    grants.approve(
        grant,
        resolution_number="9",
        resolution_session="1",
        resolution_date=timezone.localdate(),
        valid_until=timezone.localdate() + dt.timedelta(days=10),
        actor=roles.SYSTEM,
    )
    code = population.national_code(0)
    assert exchange.call(service, code, code).json()["code"] == "no_grant"


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("missing", "missing_assertion"),
        ("other_key", "bad_assertion"),
        ("wrong_audience", "bad_assertion"),
        ("expired", "expired_assertion"),
        ("too_long", "bad_assertion"),
    ],
)
def test_consumer_must_prove_itself_with_a_signed_assertion(exchange, population, case, expected):
    service = exchange.service("post", "address")
    exchange.grant(service, ["post.address"])
    postcode = population.postcode(3)
    headers = exchange.headers(population.national_code(12))
    if case == "missing":
        headers["Authorization"] = "ApiKey 0123456789"
    elif case == "other_key":
        token = make_assertion(generate_key(), exchange.client_id, "urn:panjereh:nix")
        headers["Authorization"] = f"Bearer {token}"
    elif case == "wrong_audience":
        token = make_assertion(exchange.key, exchange.client_id, "urn:somewhere-else")
        headers["Authorization"] = f"Bearer {token}"
    elif case == "expired":
        token = make_assertion(exchange.key, exchange.client_id, "urn:panjereh:nix", lifetime=-120)
        headers["Authorization"] = f"Bearer {token}"
    elif case == "too_long":
        token = make_assertion(exchange.key, exchange.client_id, "urn:panjereh:nix", lifetime=86400)
        headers["Authorization"] = f"Bearer {token}"
    path = f"/r1/IR/GOV/{service.provider.member_code}/post-registry/address/{postcode}"
    response = exchange.client.get(path, headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == expected and response.json()["fault"] == "consumer"
    record = _log(response)
    assert record.outcome == Outcome.REFUSED and record.reason == expected


def test_an_assertion_is_good_for_one_call_only(exchange, population):
    service = exchange.service("post", "address")
    exchange.grant(service, ["post.address"])
    postcode = population.postcode(3)
    token = make_assertion(exchange.key, exchange.client_id, "urn:panjereh:nix")
    first = exchange.call(service, postcode, population.national_code(12), token=token)
    replay = exchange.call(service, postcode, population.national_code(12), token=token)
    assert first.status_code in (200, 404)
    assert replay.status_code == 401 and replay.json()["code"] == "replayed_assertion"


def test_unknown_client_and_unknown_service(exchange, population):
    service = exchange.service("post", "address")
    code = population.national_code(12)
    response = exchange.call(service, "1", code, **{"X-Road-Client": "IR/GOV/999/nobody"})
    assert response.status_code == 401 and response.json()["code"] == "unknown_client"
    path = f"/r1/IR/GOV/{service.provider.member_code}/post-registry/no-such-service/1"
    response = exchange.client.get(path, headers=exchange.headers(code))
    assert response.status_code == 404 and response.json()["code"] == "unknown_service"
    assert LogRecord.objects.filter(outcome=Outcome.REFUSED).count() == 2


def test_the_person_must_be_named(exchange, population):
    service = exchange.service("post", "address")
    exchange.grant(service, ["post.address"])
    response = exchange.call(service, population.postcode(3), "")
    assert response.status_code == 400 and response.json()["code"] == "missing_user"
    # Another member's code (8 digits) is no person, and not the caller's own.
    response = exchange.call(service, population.postcode(3), "20000041")
    assert response.status_code == 400 and response.json()["code"] == "missing_user"


def test_a_call_about_no_one_names_the_consumers_own_member_code(exchange, population):
    """A subscribing agency reads a life-event feed about no one person: it names itself,
    whatever the length of its member code (the demo's agencies have 8 digits)."""
    service = exchange.service("post", "address")
    exchange.grant(service, ["post.address"])
    agency = exchange.system.agency
    agency.member_code = "20000041"
    agency.save(update_fields=["member_code"])
    response = exchange.call(service, population.postcode(3), "20000041")
    assert response.json().get("code") != "missing_user", response.json()


def test_rate_limit_per_consumer_system(exchange, population):
    service = exchange.service("education", "school-record")
    exchange.grant(service, ["education.school_record"])
    exchange.system.rate_per_minute = 2
    exchange.system.save()
    code = population.national_code(2)
    statuses = [exchange.call(service, code, code).status_code for _ in range(3)]
    assert statuses[:2] == [200, 200]
    assert statuses[2] == 429


def test_a_missing_record_is_an_answer_not_a_failure(exchange):
    service = exchange.service("civil", "identity")
    exchange.grant(service, ["civil.identity"])
    response = exchange.call(service, "0000000000", "0000000000")
    assert response.status_code == 404 and response.json() == {"found": False}
    assert _log(response).outcome == Outcome.NOT_FOUND


def test_error_messages_follow_the_language(exchange, population):
    service = exchange.service("judiciary", "criminal-record")
    code = population.national_code(0)
    english = exchange.call(service, code, code, **{"Accept-Language": "en"})
    persian = exchange.call(service, code, code, **{"Accept-Language": "fa"})
    assert english.json()["message"] == "Your agency has no grant for this service."
    assert persian.json()["code"] == english.json()["code"] == "no_grant"
    assert persian.json()["message"] != english.json()["message"]
