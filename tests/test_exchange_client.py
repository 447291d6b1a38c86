# ruff: noqa: F811 -- the exchange fixtures are imported from tests/exchange/conftest.py
"""The one consumer client of the exchange (``exchange.client.NixClient``) and the one way to
provision a grant (``exchange.operations.ensure_grant``)."""

from __future__ import annotations

import io
import socket
import threading
import time

import httpx
import pytest
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from joserfc import jwt
from joserfc.jwk import KeySet

from panjereh.catalogue import roles
from panjereh.exchange import client as nix_client
from panjereh.exchange.client import NixClient, generate_key, public_jwks
from panjereh.exchange.models import (
    ConsumerSystem,
    Grant,
    GrantEvent,
    GrantState,
    LogRecord,
    Outcome,
)
from panjereh.exchange.operations import ensure_grant
from tests.exchange.conftest import (  # noqa: F401 -- fixtures
    _clean_state,
    exchange,
    population,
    registries,
)
from tests.factories import make_agency_staff

CLIENT_ID = "IR/GOV/10999999999/welfare-portal"


@pytest.fixture
def through_django():
    """An httpx client whose requests are served in this process by Django (the real gateway
    view, the test's database). Like Django's test client, the request does not close the
    test's database connection when it ends."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        with httpx.Client(transport=httpx.WSGITransport(app=WSGIHandler())) as http:
            yield http
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def _mocked(handler) -> NixClient:
    return NixClient(
        "http://exchange.test",
        CLIENT_ID,
        generate_key(),
        http=httpx.Client(transport=httpx.MockTransport(handler)),
        max_bytes=1000,
    )


# -- through the real gateway ---------------------------------------------------------------------


@pytest.mark.django_db
def test_the_client_assertion_and_headers_are_accepted_by_the_gateway(
    exchange, population, through_django
):
    service = exchange.service("civil", "identity")
    grant = exchange.grant(service, ["civil.identity"])
    code = population.national_code(70)
    client = NixClient("http://testserver", exchange.client_id, exchange.key, http=through_django)

    reply = client.get(
        f"IR/{service.path()}/{code}",
        user_id=code,
        issue="APP-1404-000777",
        purpose=exchange.purpose.service_id,
        items=["civil.identity"],
    )

    assert reply.found and reply.data["national_code"] == code
    assert reply.data["first_name"] == population.civil_identity(70)["first_name"]
    record = LogRecord.objects.get(x_road_id=reply.message_id)
    assert record.outcome == Outcome.OK and record.client == exchange.client_id
    assert record.subject == code and record.issue == "APP-1404-000777"
    assert record.purpose == exchange.purpose.service_id and record.grant_id == grant.pk


@pytest.mark.django_db
def test_a_call_without_a_grant_raises_a_consumer_refusal_that_retrying_cannot_fix(
    exchange, population, through_django
):
    service = exchange.service("civil", "identity")
    code = population.national_code(71)
    client = NixClient("http://testserver", exchange.client_id, exchange.key, http=through_django)

    with pytest.raises(nix_client.GatewayRefusal) as refused:
        client.get(f"IR/{service.path()}/{code}", user_id=code, items=["civil.identity"])

    assert refused.value.status == 403 and refused.value.code == "no_grant"
    assert refused.value.consumer_fault and not refused.value.transient
    assert refused.value.incident and refused.value.message_id


@pytest.mark.django_db
def test_an_assertion_signed_with_an_unregistered_key_is_refused(
    exchange, population, through_django
):
    service = exchange.service("civil", "identity")
    exchange.grant(service, ["civil.identity"])
    code = population.national_code(72)
    stranger = NixClient(
        "http://testserver", exchange.client_id, generate_key(), http=through_django
    )
    with pytest.raises(nix_client.GatewayRefusal) as refused:
        stranger.get(f"IR/{service.path()}/{code}", user_id=code, items=["civil.identity"])
    assert (refused.value.status, refused.value.code) == (401, "bad_assertion")


# -- the assertion and the headers ------------------------------------------------------------------


def test_headers_carry_a_fresh_signed_assertion_and_the_x_road_fields():
    key = generate_key()
    client = NixClient("http://exchange.test/", CLIENT_ID, key, audience="urn:panjereh:nix")

    first = client.headers("0012345678", issue="APP-1", purpose="12345678901")
    second = client.headers("0012345678")

    assert first["X-Road-Client"] == CLIENT_ID and first["X-Road-UserId"] == "0012345678"
    assert first["X-Road-Issue"] == "APP-1" and first["X-Panjereh-Purpose"] == "12345678901"
    assert first["Accept"] == "application/json"
    assert "X-Road-Issue" not in second and "X-Panjereh-Purpose" not in second
    keys = KeySet.import_key_set(public_jwks(key))
    claims = [
        jwt.decode(h["Authorization"].removeprefix("Bearer "), keys, algorithms=["Ed25519"]).claims
        for h in (first, second)
    ]
    for c in claims:
        assert c["iss"] == c["sub"] == CLIENT_ID and c["aud"] == "urn:panjereh:nix"
        assert 0 < c["exp"] - c["iat"] <= 60
    assert claims[0]["jti"] != claims[1]["jti"]  # one use per assertion


def test_the_request_goes_to_the_service_address_with_the_items():
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True}, headers={"X-Road-Id": "NIX-1"})

    reply = _mocked(handler).get(
        "IR/GOV/1/civil-registry/identity/0012345678",
        user_id="0012345678",
        items=["civil.identity", "civil.birth_date"],
        params={"birth_date": "1990-01-01"},
    )

    assert reply == nix_client.Reply(True, {"ok": True}, "NIX-1")
    (request,) = seen
    assert request.url.path == "/r1/IR/GOV/1/civil-registry/identity/0012345678"
    assert request.url.params["items"] == "civil.identity,civil.birth_date"
    assert request.url.params["birth_date"] == "1990-01-01"


# -- answers and errors -----------------------------------------------------------------------------


def test_the_registrys_no_record_is_a_reply_not_an_error():
    reply = _mocked(lambda r: httpx.Response(404, json={"found": False})).get("IR/x", user_id="1")
    assert not reply.found


@pytest.mark.parametrize(
    ("status", "body", "transient"),
    [
        (403, {"fault": "consumer", "code": "no_grant", "message": "m", "incident": "I"}, False),
        (429, {"fault": "consumer", "code": "rate_limited"}, True),
        (502, {"fault": "provider", "code": "provider_unavailable"}, True),
        (404, {"fault": "consumer", "code": "unknown_service"}, False),
        (500, "not json", True),
    ],
)
def test_refusals_are_typed_with_the_gateways_fault_and_code(status, body, transient):
    def handler(request):
        if isinstance(body, dict):
            return httpx.Response(status, json=body)
        return httpx.Response(status, text=body)

    with pytest.raises(nix_client.GatewayRefusal) as refused:
        _mocked(handler).get("IR/x", user_id="1")
    assert refused.value.status == status and refused.value.transient is transient
    assert refused.value.code == (body.get("code", "") if isinstance(body, dict) else "")


def test_a_200_that_is_not_json_is_a_typed_error():
    with pytest.raises(nix_client.AnswerNotJSON):
        _mocked(lambda r: httpx.Response(200, text="<html>")).get("IR/x", user_id="1")


def test_an_answer_over_the_size_cap_is_refused_whatever_its_framing():
    declared = _mocked(lambda r: httpx.Response(200, content=b"x" * 1001))
    with pytest.raises(nix_client.AnswerTooLarge):
        declared.get("IR/x", user_id="1")

    def chunked(request):  # no Content-Length: the cap counts what arrives
        return httpx.Response(200, content=iter([b'{"a": "', b"x" * 600, b"x" * 600, b'"}']))

    with pytest.raises(nix_client.AnswerTooLarge) as too_large:
        _mocked(chunked).get("IR/x", user_id="1")
    assert isinstance(too_large.value, nix_client.ExchangeUnreachable)

    just_fits = _mocked(lambda r: httpx.Response(200, json={"a": "x" * 900}))
    assert just_fits.get("IR/x", user_id="1").data == {"a": "x" * 900}


def test_the_default_cap_is_the_gateways_answer_cap_and_some(settings):
    settings.PANJEREH_EXCHANGE_MAX_RESPONSE_BYTES = 1000
    client = NixClient("http://exchange.test", CLIENT_ID, generate_key())
    assert client.max_bytes == 1000 + 65_536


@pytest.fixture
def silent_server():
    """A port that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    server.close()


def test_a_gateway_that_does_not_answer_in_time_raises_the_typed_timeout(silent_server):
    client = NixClient(silent_server, CLIENT_ID, generate_key(), timeout=0.3)
    started = time.monotonic()
    with pytest.raises(nix_client.ExchangeTimeout) as timed_out:
        client.get("IR/x", user_id="1")
    assert time.monotonic() - started < 5
    assert timed_out.value.reason == "ReadTimeout"
    assert isinstance(timed_out.value, nix_client.ExchangeUnreachable)


def test_nobody_listening_is_unreachable_not_a_timeout():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    client = NixClient(f"http://127.0.0.1:{port}", CLIENT_ID, generate_key(), timeout=2)
    with pytest.raises(nix_client.ExchangeUnreachable) as unreachable:
        client.get("IR/x", user_id="1")
    assert unreachable.value.reason == "ConnectError"


def test_clients_share_one_connection_pool_per_process():
    first = NixClient("http://a.test", CLIENT_ID, generate_key())
    second = NixClient("http://b.test", CLIENT_ID, generate_key())
    assert nix_client.http() is nix_client.http()
    assert first._http is None and second._http is None  # both use the process pool
    nix_client.close_connections()
    assert nix_client.http() is not None


# -- ensure_grant -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_ensure_grant_is_idempotent(exchange):
    service = exchange.service("civil", "identity")
    wanted = ["civil.identity", "civil.birth_date"]

    def ensure(items):
        return ensure_grant(
            exchange.consumer,
            service,
            items,
            actor=roles.SYSTEM,
            purpose=exchange.purpose,
            resolution_number="1404/9",
        )

    first = ensure(wanted)
    assert first.state == GrantState.APPROVED and sorted(first.items) == sorted(wanted)
    assert first.resolution_number == "1404/9"
    assert ensure(list(reversed(wanted))).pk == first.pk
    assert ensure(["civil.identity"]).pk == first.pk  # already covered
    assert Grant.objects.filter(consumer=exchange.consumer, service=service).count() == 1
    assert GrantEvent.objects.filter(grant=first).count() == 2  # requested, approved

    wider = ensure([*wanted, "civil.death_record"])
    assert wider.pk != first.pk and wider.state == GrantState.APPROVED
    assert ensure(["civil.death_record"]).pk in {first.pk, wider.pk}
    assert Grant.objects.filter(consumer=exchange.consumer, service=service).count() == 2


@pytest.mark.django_db
def test_ensure_grant_asks_the_actors_rights(exchange):
    service = exchange.service("civil", "identity")
    editor = make_agency_staff(exchange.consumer, role="editor")
    with pytest.raises(roles.NotPermitted):
        ensure_grant(
            exchange.consumer,
            service,
            ["civil.identity"],
            actor=editor,  # may ask for data, may not decide the grant
            purpose=exchange.purpose,
            resolution_number="1404/9",
        )
    assert not Grant.objects.filter(consumer=exchange.consumer, service=service).exists()


# -- what the smart-services engine makes of the client's errors -------------------------------------


@pytest.mark.parametrize(
    ("error", "refused", "detail"),
    [
        (nix_client.ExchangeTimeout("ReadTimeout"), False, "ReadTimeout"),
        (nix_client.ExchangeUnreachable("ConnectError"), False, "ConnectError"),
        (nix_client.AnswerTooLarge(), False, "AnswerTooLarge"),
        (nix_client.AnswerNotJSON("x"), False, "answer is not JSON"),
        (nix_client.GatewayRefusal(502, {"fault": "provider"}), False, "exchange answered 502"),
        (nix_client.GatewayRefusal(500, "not json"), False, "exchange answered 500"),
        (
            nix_client.GatewayRefusal(429, {"fault": "consumer", "code": "rate_limited"}),
            False,
            "exchange answered 429",
        ),
        (nix_client.GatewayRefusal(404, {}), False, "exchange answered 404"),
        (
            nix_client.GatewayRefusal(
                404, {"fault": "consumer", "code": "unknown_service", "message": "m"}
            ),
            True,
            "m",
        ),
        (
            nix_client.GatewayRefusal(
                403, {"fault": "consumer", "code": "no_grant", "message": "m", "incident": "I"}
            ),
            True,
            "m",
        ),
    ],
)
def test_the_engine_retries_outages_and_stops_at_consumer_faults(error, refused, detail):
    """services.engine waits and retries on ProviderUnavailable and sends ExchangeRefused to an
    officer: a timeout must stay the first, a missing grant the second."""
    from panjereh.services import nix

    mapped = nix.error_for("civil", error)
    assert isinstance(mapped, nix.ProviderUnavailable)
    assert isinstance(mapped, nix.ExchangeRefused) is refused
    assert mapped.registry == "civil" and mapped.detail == detail
    if refused:
        assert mapped.code == error.code and mapped.incident == error.incident


@pytest.mark.django_db
def test_provisioning_the_national_window_twice_makes_its_grants_once(exchange, settings, tmp_path):
    """``panjereh identity_exchange`` (the demo's set-up) provisions through ensure_grant."""
    from django.core.management import call_command

    from panjereh.identity import registry_checks

    settings.VAR_DIR = tmp_path  # the national window's demo key is generated here
    call_command("identity_exchange", "--resolution", "1404/demo", stdout=io.StringIO())
    system = ConsumerSystem.objects.get(subsystem=registry_checks.SUBSYSTEM)
    granted = Grant.objects.filter(consumer=system.agency, state=GrantState.APPROVED)
    assert granted.count() == len(registry_checks.SERVICES)
    assert set(granted.values_list("resolution_number", flat=True)) == {"1404/demo"}

    call_command("identity_exchange", "--resolution", "1404/demo", stdout=io.StringIO())
    assert Grant.objects.filter(consumer=system.agency).count() == len(registry_checks.SERVICES)
