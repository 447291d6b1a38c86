"""The gateway against a consumer that probes it: the subject the provider is asked about is the
subject logged, paths cannot leave the granted service, bad bytes and oversized bodies are
refused with JSON and logged, a disabled service is refused from the next call."""

from __future__ import annotations

import pytest

from panjereh.catalogue.models import AgencyMembership
from panjereh.common.drain import DRAIN_FACTOR
from panjereh.exchange import gateway, operations, queries
from panjereh.exchange.models import DataService, LogRecord, Outcome
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _log(response) -> LogRecord:
    return LogRecord.objects.get(x_road_id=response["X-Road-Id"])


def _prefix(service: DataService) -> str:
    return (
        f"/r1/IR/{service.provider.member_class}/{service.provider.member_code}/"
        f"{service.subsystem}/{service.code}"
    )


# -- the subject is bound -------------------------------------------------------------------


def test_asking_about_another_person_than_the_named_subject_is_refused(exchange, population):
    service = exchange.service("civil", "identity")
    exchange.grant(service, ["civil.identity"])
    person_a, person_b = population.national_code(30), population.national_code(31)

    response = exchange.call(service, person_b, person_a)

    assert response.status_code == 403, response.content
    body = response.json()
    assert body["fault"] == "consumer" and body["code"] == "subject_mismatch"
    assert "first_name" not in body
    record = _log(response)
    assert record.outcome == Outcome.REFUSED and record.reason == "subject_mismatch"
    assert record.subject == person_a
    # Neither person's "who read my data" shows a read.
    assert not queries.accesses_to(person_a).exists()
    assert not queries.accesses_to(person_b).exists()


def test_the_provider_is_not_asked_when_the_subject_does_not_match(
    exchange, population, registries
):
    service = exchange.service("civil", "identity")
    exchange.grant(service, ["civil.identity"])
    before = registries.control("civil")["requests"]
    exchange.call(service, population.national_code(31), population.national_code(30))
    assert registries.control("civil")["requests"] == before


def test_a_subject_in_the_query_is_bound_too(exchange, population):
    service = exchange.service("shahkar", "mobile-owner")
    exchange.grant(service, ["shahkar.mobile_owner"])
    person_a, person_b = population.national_code(32), population.national_code(33)
    mobile = population.mobile(33) or "09120000000"

    other = exchange.call(
        service, "", person_a, query={"national_code": person_b, "mobile": mobile}
    )
    assert other.status_code == 403 and other.json()["code"] == "subject_mismatch"

    path = f"{_prefix(service)}?national_code={person_a}&national_code={person_b}&mobile={mobile}"
    doubled = exchange.client.get(path, headers=exchange.headers(person_a))
    assert doubled.status_code == 403 and doubled.json()["code"] == "subject_mismatch"

    own = exchange.call(service, "", person_b, query={"national_code": person_b, "mobile": mobile})
    assert own.status_code == 200, own.content
    assert not queries.accesses_to(person_a).exists()


def _parameters(service: DataService) -> list[dict]:
    return service.openapi["operation"]["parameters"]


def test_every_data_service_binds_its_person_parameters(exchange, population):
    """Each provisioned service: a person parameter (path or query) naming someone else than
    X-Road-UserId is refused; other parameters (postcode, deed serial) are not persons."""
    person_a, person_b = population.national_code(34), population.national_code(35)
    bound = 0
    for service in DataService.objects.select_related("provider"):
        person_parameters = [
            p for p in _parameters(service) if p["name"] in gateway.SUBJECT_PARAMETERS
        ]
        if not person_parameters:
            continue
        parameter = person_parameters[0]
        query = {p["name"]: person_b for p in person_parameters if p["in"] == "query"}
        rest = person_b if parameter["in"] == "path" else ""
        response = exchange.call(service, rest, person_a, query=query)
        assert response.status_code == 403, (service, response.content)
        assert response.json()["code"] == "subject_mismatch", service
        bound += 1
    assert bound >= 15  # every registry but the address and deed lookups
    assert LogRecord.objects.filter(reason="subject_mismatch").count() == bound
    assert not queries.accesses_to(person_a).exists()
    assert not queries.accesses_to(person_b).exists()


def test_a_service_asks_only_for_its_declared_path(exchange, population):
    service = exchange.service("civil", "identity")
    exchange.grant(service, ["civil.identity"])
    code = population.national_code(36)
    for rest in (f"{code}/extra", "", f"{code}/"):
        response = exchange.call(service, rest, code)
        assert response.status_code == 400, (rest, response.content)
        assert response.json()["code"] == "bad_path"


# -- paths cannot leave the service ---------------------------------------------------------


@pytest.mark.parametrize(
    "rest",
    [
        "%2e%2e/household/{code}",
        "..%2fhousehold%2f{code}",
        "{code}/..%2F..%2Fhousehold%2F{code}",
        "%2E%2E%2Fhousehold%2F{code}",
        "{code}%2F..%2F..%2Fhousehold%2F{code}",
        "%252e%252e%252fhousehold%252f{code}",
        "{code}%252f..",
        "./{code}",
        "{code}%5c..%5chousehold",
    ],
)
def test_dot_segments_and_encoded_slashes_are_refused(exchange, population, registries, rest):
    service = exchange.service("civil", "identity")
    exchange.grant(service, ["civil.identity"])
    code = population.national_code(37)
    before = registries.control("civil")["requests"]
    path = f"{_prefix(service)}/{rest.format(code=code)}"
    response = exchange.client.get(path, headers=exchange.headers(code))
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "bad_path"
    assert _log(response).outcome == Outcome.REFUSED
    assert registries.control("civil")["requests"] == before  # never forwarded


def test_the_forwarded_path_is_the_checked_one(exchange, population):
    service = exchange.service("civil", "identity")
    exchange.grant(service, ["civil.identity"])
    code = population.national_code(38)
    response = exchange.call(service, code, code)
    assert response.status_code == 200
    assert response.json()["national_code"] == code


# -- bad bytes ------------------------------------------------------------------------------


def _nul_request(exchange, service, code, where):
    headers = exchange.headers(code)
    path = f"{_prefix(service)}/{code}"
    if where == "path":
        return exchange.client.get(f"{path}%00", headers=headers)
    if where == "query":
        return exchange.client.get(f"{path}?birth_date=1990%0001-01", headers=headers)
    if where == "query_name":
        return exchange.client.get(f"{path}?x%00y=1", headers=headers)
    if where == "items":
        return exchange.client.get(f"{path}?items=civil.identity%00", headers=headers)
    if where == "issue":
        headers["X-Road-Issue"] = "APP-1404\x00-1"
        return exchange.client.get(path, headers=headers)
    if where == "user":
        headers["X-Road-UserId"] = f"{code}\x00"
        return exchange.client.get(path, headers=headers)
    if where == "client":
        headers["X-Road-Client"] = exchange.client_id + "\x00"
        return exchange.client.get(path, headers=headers)
    if where == "purpose":
        headers["X-Panjereh-Purpose"] = "12\x003"
        return exchange.client.get(path, headers=headers)
    if where == "body":
        return exchange.client.post(
            path, b'{"a": "\x00"}', content_type="application/json", headers=headers
        )
    raise AssertionError(where)


@pytest.mark.parametrize(
    "where", ["path", "query", "query_name", "items", "issue", "user", "client", "purpose", "body"]
)
def test_a_nul_byte_anywhere_is_a_clear_400_and_logged(exchange, population, where):
    service = exchange.service("civil", "identity")
    exchange.grant(service, ["civil.identity", "civil.birth_date"])
    code = population.national_code(39)
    response = _nul_request(exchange, service, code, where)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["fault"] == "consumer" and body["code"] == "bad_input"
    record = _log(response)
    assert record.outcome == Outcome.REFUSED and record.reason == "bad_input"
    assert "\x00" not in record.path + record.subject + record.issue + record.client


def test_a_query_with_too_many_fields_is_a_clear_400_and_logged(exchange, population, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 50
    service = exchange.service("civil", "identity")
    exchange.grant(service, ["civil.identity"])
    code = population.national_code(47)
    query = "&".join(f"f{i}=1" for i in range(60))
    response = exchange.client.get(
        f"{_prefix(service)}/{code}?{query}", headers=exchange.headers(code)
    )
    assert response.status_code == 400 and response.json()["code"] == "bad_input"
    assert _log(response).outcome == Outcome.REFUSED


# -- oversized bodies -----------------------------------------------------------------------


def test_an_oversized_body_is_refused_with_json_and_logged(exchange, population, settings):
    settings.PANJEREH_EXCHANGE_MAX_REQUEST_BYTES = 64 * 1024
    service = exchange.service("civil", "identity")
    exchange.grant(service, ["civil.identity"])
    code = population.national_code(40)
    path = f"{_prefix(service)}/{code}"
    response = exchange.client.post(
        path, b"x" * (65 * 1024), content_type="application/json", headers=exchange.headers(code)
    )
    assert response.status_code == 413, response.content
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "body_too_large"
    record = _log(response)
    assert record.outcome == Outcome.REFUSED and record.reason == "body_too_large"


def test_a_body_over_djangos_own_limit_is_refused_with_json_and_logged(exchange, population):
    service = exchange.service("civil", "identity")
    exchange.grant(service, ["civil.identity"])
    code = population.national_code(41)
    path = f"{_prefix(service)}/{code}"
    response = exchange.client.post(
        path,
        b"x" * (3 * 1024 * 1024),
        content_type="application/json",
        headers=exchange.headers(code),
    )
    assert response.status_code == 413, response.content[:200]
    assert response.json()["code"] == "body_too_large"
    assert _log(response).reason == "body_too_large"


def test_an_oversized_form_post_is_refused_with_json_and_logged(exchange, population):
    service = exchange.service("civil", "identity")
    code = population.national_code(42)
    path = f"{_prefix(service)}/{code}"
    response = exchange.client.post(
        path, {"f": "x" * (3 * 1024 * 1024)}, headers=exchange.headers(code)
    )
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"
    assert _log(response).outcome == Outcome.REFUSED


def _oversized_request(exchange, service, code: str, size: int):
    from django.test import RequestFactory

    path = f"{_prefix(service)}/{code}"
    request = RequestFactory().post(
        path, b"x" * size, content_type="application/json", headers=exchange.headers(code)
    )
    return request, path[len("/r1/") :]


def test_a_refused_body_is_read_so_the_connection_can_carry_the_next_request(
    exchange, population, settings
):
    """A server that answers before reading the body leaves it on the connection (Granian and
    gunicorn then close it, often while announcing keep-alive): the client's next request on it
    went unanswered. The gateway reads and drops a refused body up to DRAIN_FACTOR times the
    limit."""
    settings.PANJEREH_EXCHANGE_MAX_REQUEST_BYTES = 10_000
    service = exchange.service("civil", "identity")
    request, path = _oversized_request(exchange, service, population.national_code(45), 50_000)
    response = gateway.gateway(request, path)
    assert response.status_code == 413
    assert request.read() == b""  # nothing left on the connection
    assert "Connection" not in response


def test_a_body_too_large_to_read_closes_the_connection(exchange, population, settings):
    settings.PANJEREH_EXCHANGE_MAX_REQUEST_BYTES = 1_000
    service = exchange.service("civil", "identity")
    size = DRAIN_FACTOR * 1_000 + 1
    request, path = _oversized_request(exchange, service, population.national_code(46), size)
    response = gateway.gateway(request, path)
    assert response.status_code == 413 and response["Connection"] == "close"
    assert _log(response).reason == "body_too_large"


# -- disabling a service --------------------------------------------------------------------


def _provider_editor(service: DataService):
    user = UserFactory()
    user.save()
    AgencyMembership.objects.create(user=user, agency=service.provider, role="editor")
    return user


def test_disabling_a_service_refuses_the_very_next_call(exchange, population):
    service = exchange.service("civil", "identity")
    exchange.grant(service, ["civil.identity"])
    code = population.national_code(43)
    editor = _provider_editor(service)
    assert exchange.call(service, code, code).status_code == 200

    operations.set_service_enabled(service, False, actor=editor, reason="maintenance")

    response = exchange.call(service, code, code)
    assert response.status_code == 503 and response.json()["code"] == "service_disabled"
    assert _log(response).reason == "service_disabled"

    operations.set_service_enabled(service, True, actor=editor)
    assert exchange.call(service, code, code).status_code == 200


def test_a_service_disabled_by_another_process_is_refused_on_the_next_call(exchange, population):
    service = exchange.service("civil", "identity")
    exchange.grant(service, ["civil.identity"])
    code = population.national_code(44)
    assert exchange.call(service, code, code).status_code == 200
    # Another process disables it: the row changes without this process's signals, and that
    # process moves the shared generation (operations.set_service_enabled does).
    DataService.objects.filter(pk=service.pk).update(enabled=False)
    gateway.GENERATION.bump()

    response = exchange.call(service, code, code)
    assert response.status_code == 503 and response.json()["code"] == "service_disabled"


def test_switching_a_service_moves_the_shared_generation(exchange):
    service = exchange.service("civil", "identity")
    editor = _provider_editor(service)
    before = gateway.GENERATION.read()
    operations.set_service_enabled(service, False, actor=editor, reason="")
    assert gateway.GENERATION.read() != before


def test_only_the_providers_editors_switch_a_service(exchange):
    from django.core.exceptions import PermissionDenied

    service = exchange.service("civil", "identity")
    stranger = UserFactory()
    stranger.save()
    viewer = UserFactory()
    viewer.save()
    AgencyMembership.objects.create(user=viewer, agency=service.provider, role="viewer")
    for user in (stranger, viewer):
        with pytest.raises(PermissionDenied):
            operations.set_service_enabled(service, False, actor=user)
    service.refresh_from_db()
    assert service.enabled


def test_a_foreign_nationals_fida_code_is_bound_to_the_subject_too(exchange, population):
    service = exchange.service("foreign", "person")
    exchange.grant(service, ["foreign.identity"])
    fida_a, fida_b = population.fida(1), population.fida(2)
    assert len(fida_a) == 12

    other = exchange.call(service, fida_b, fida_a)
    assert other.status_code == 403, other.content
    assert other.json()["code"] == "subject_mismatch"

    own = exchange.call(service, fida_b, fida_b)
    assert own.status_code == 200, own.content
    assert own.json()["fida_code"] == fida_b
