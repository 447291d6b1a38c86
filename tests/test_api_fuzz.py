"""API fuzz: schemathesis generates requests from docs/openapi.yaml and sends them to the WSGI
application; no answer may be a 5xx, and every answer must be one the document declares (status
code, content type and body schema: nullable fields, 400/404 answers).

Runs on PostgreSQL only (``make test``'s PostgreSQL leg), where a NUL byte in a query parameter
or an integer of 2**63 or more reaches the database driver and used to answer 500; SQLite
accepts both. Bounded: a fixed number of examples per operation, no shrinking, well under two
minutes. Besides the random cases, every query and path parameter of every operation is sent
the hostile values the random search might miss (NUL, lone surrogate, 2**63, 10**30, -1, RTL
override, a 10,000-character string), so they are covered on every run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

DATABASE_URL = os.environ.get("DATABASE_URL", "")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not DATABASE_URL.startswith(("postgres://", "postgresql://")),
        reason="the API fuzz runs on PostgreSQL (make test's PostgreSQL leg): SQLite accepts "
        "the NUL bytes and 64-bit overflows that PostgreSQL refuses",
    ),
]

EXAMPLES = 50  # per operation and mode: 5 operations x 2 modes x 50, about a minute
DOCUMENT = Path(__file__).resolve().parent.parent / "docs" / "openapi.yaml"
# Percent-encoded as sent on the wire: NUL, a lone surrogate and a byte that is not UTF-8,
# integers past 64 bits, a negative, an RTL override, an overlong string.
HOSTILE = [
    "a%00b",
    "%00",
    "%ED%A0%80",
    "%FF",
    str(2**63),
    str(10**30),
    "-1",
    "%E2%80%AEkcatta",
    "x" * 10000,
]


def _raw(operation: dict) -> list[dict]:
    return [p for p in operation.get("parameters", []) if p.get("in") in {"query", "path"}]


def _operations() -> list[tuple[str, str, list[dict]]]:
    document = yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))
    return [
        (path, method, _raw(operation))
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method == "get"
    ]


@pytest.fixture
def app(db, monkeypatch, request):
    """The WSGI application over a small catalogue, without the anonymous rate limit (the fuzz
    sends hundreds of requests a minute)."""
    from django.core import signals
    from django.core.wsgi import get_wsgi_application
    from django.db import close_old_connections
    from rest_framework.throttling import AnonRateThrottle

    from tests.factories import make_agency, make_service

    monkeypatch.setattr(AnonRateThrottle, "allow_request", lambda self, request, view: True)
    # A real WSGI call ends by closing old database connections, which would close the
    # test's own (inside its transaction); Django's test client disconnects the same handlers.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    request.addfinalizer(lambda: signals.request_started.connect(close_old_connections))
    request.addfinalizer(lambda: signals.request_finished.connect(close_old_connections))
    ministry = make_agency(code="moh", kind="ministry")
    child = make_agency(code="moh-hosp", parent=ministry)
    make_service(child, title_fa="نوبت‌دهی بیمارستان", recipients=["G2C"])
    make_service(ministry, title_fa="پروانه مطب", recipients=["G2B"])
    return get_wsgi_application()


@pytest.mark.parametrize(("path", "method", "parameters"), _operations())
def test_hostile_values_in_every_parameter_answer_no_server_error(app, path, method, parameters):
    from django.test import Client

    client = Client()
    samples = {"code": "moh", "service_id": "0000000000"}
    declared = _declared_statuses(path, method)
    for parameter in parameters:
        for value in HOSTILE:
            url = path
            for other in parameters:
                if other["in"] == "path":
                    chosen = value if other is parameter else samples.get(other["name"], "1")
                    url = url.replace("{" + other["name"] + "}", chosen)
            if parameter["in"] == "query":
                url += f"?{parameter['name']}={value}"
            response = client.get(url)
            assert response.status_code < 500, (url[:200], response.status_code)
            assert str(response.status_code) in declared, (url[:200], response.status_code)


def _declared_statuses(path: str, method: str) -> set[str]:
    document = yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))
    return set(document["paths"][path][method]["responses"])


# Values schemathesis is made to send in every parameter (explicit examples, before the random
# ones): its random strings hold a NUL only now and then, and its integers rarely pass 2**63.
EXPLICIT = ["a\x00b", 2**63, 2**64 + 1, -(2**63) - 1, "\u202e" + "x" * 5000]


def _explicit_cases(operation, parameters: list[dict]):
    samples = {"code": "moh", "service_id": "0000000000"}
    path = {p["name"]: samples.get(p["name"], "1") for p in parameters if p["in"] == "path"}
    for parameter in parameters:
        for value in EXPLICIT:
            if parameter["in"] == "query":
                yield operation.Case(path_parameters=path, query={parameter["name"]: value})
            else:
                yield operation.Case(path_parameters={**path, parameter["name"]: str(value)})


def _runner(app, checks, failures: list, label: str):
    from django.db import transaction

    def run(case):
        # Each call in a savepoint rolled back after it: a database error in one (PostgreSQL
        # then refuses every later statement of the transaction) stays that call's.
        savepoint = transaction.savepoint()
        try:
            # Plain answers: the WSGI transport hands back the bytes as sent, and a gzipped
            # answer (GZipMiddleware, for clients that accept it) is decoded by HTTP clients,
            # not by it.
            response = case.call(app=app, headers={"Accept-Encoding": "identity"})
        finally:
            transaction.savepoint_rollback(savepoint)
        try:
            case.validate_response(response, checks=checks)
        except (AssertionError, BaseExceptionGroup) as error:  # schemathesis' FailureGroup
            failures.append(f"{label}: {case.path_parameters} {case.query!r:.200}: {error}")
            raise

    return run


def test_schemathesis_finds_no_server_error_and_no_undocumented_answer(app):
    import schemathesis
    from hypothesis import HealthCheck, Phase, example, given, settings
    from hypothesis.errors import Unsatisfiable
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    schema = schemathesis.openapi.from_path(str(DOCUMENT))
    parameters = {(path, method): raw for path, method, raw in _operations()}
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() != "GET":
            continue
        explicit = list(_explicit_cases(operation, parameters[(operation.path, "get")]))
        # Positive cases fit the document (any string, NUL included: allow-x00 is on by
        # default); negative ones break it (wrong types, integers out of range).
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            run = _runner(app, checks, failures, f"{operation.label} ({mode})")
            test = given(case=operation.as_strategy(generation_mode=mode))(run)
            if mode == GenerationMode.POSITIVE:
                for case in explicit:
                    test = example(case=case)(test)
            test = settings(
                max_examples=EXAMPLES,
                # The same examples on every run: CI fails for a change, not for a draw.
                derandomize=True,
                deadline=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
                database=None,
            )(test)
            found = len(failures)
            try:
                test()
            except Unsatisfiable:
                # No request breaks this operation's document (a bare string path parameter
                # has no invalid value): nothing negative to send.
                assert mode == GenerationMode.NEGATIVE, operation.label
            except (Exception, BaseExceptionGroup):
                if len(failures) == found:  # not a check's failure: the test itself is wrong
                    raise
    assert not failures, "\n\n".join(failures)
