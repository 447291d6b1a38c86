"""The asset registries (registries/assets.py): banks and stock as registries of their own,
asset services on ssaa and vehicle; records from the seed; freezes idempotent per order id."""

from __future__ import annotations

import io
import json

import pytest

from panjereh.registries import assets
from panjereh.registries.population import Population
from panjereh.registries.server import RegistryApp

POP = Population(seed=1404, size=10_000)


def call(app: RegistryApp, method: str, path: str, body: dict | bytes | None = None):
    data = body if isinstance(body, bytes) else json.dumps(body).encode() if body else b""
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "CONTENT_LENGTH": str(len(data)),
        "wsgi.input": io.BytesIO(data),
        "panjereh.fault": "normal",
    }
    status = []
    out = b"".join(app(environ, lambda s, h: status.append(int(s.split()[0]))))
    return status[0], json.loads(out)


@pytest.fixture(scope="module")
def apps():
    return {name: RegistryApp(name, POP) for name in ("banks", "stock", "ssaa", "vehicle")}


@pytest.fixture(scope="module")
def rich():
    book = assets.AssetBook(POP)
    for i in range(0, 4000, 4):
        code = POP.national_code(i)
        if book.accounts(code) and book.holdings(code) and book.properties(code):
            if book.vehicles(code):
                return code
    raise AssertionError("nobody holds every kind of asset")


def test_inquiries_answer_the_same_records_from_the_seed(apps, rich):
    first = {
        name: call(apps[name], "GET", f"/{code}/{rich}")
        for name, code in (
            ("banks", "accounts"),
            ("stock", "holdings"),
            ("ssaa", "properties"),
            ("vehicle", "vehicle-assets"),
        )
    }
    again = {
        name: call(RegistryApp(name, Population(seed=1404, size=10_000)), "GET", path)
        for name, path in (
            ("banks", f"/accounts/{rich}"),
            ("stock", f"/holdings/{rich}"),
            ("ssaa", f"/properties/{rich}"),
            ("vehicle", f"/vehicle-assets/{rich}"),
        )
    }
    assert first == again
    status, banks = first["banks"]
    assert status == 200 and banks["freeze_online"] is True
    assert banks["total_balance"] == sum(a["balance"] for a in banks["accounts"])
    assert all(a["iban"].startswith("IR") and len(a["iban"]) == 26 for a in banks["accounts"])
    assert first["stock"][1]["freeze_online"] is False
    assert first["vehicle"][1]["freeze_online"] is False
    assert first["ssaa"][1]["freeze_online"] is True
    # The vehicles are the traffic police's own (the owned-vehicles service's VINs).
    owned = call(apps["vehicle"], "GET", f"/owned-vehicles/{rich}")[1]["vehicles"]
    assert {v["vin"] for v in owned} == {v["vin"] for v in first["vehicle"][1]["vehicles"]}
    # Another seed, other records.
    other = RegistryApp("banks", Population(seed=7, size=10_000))
    assert call(other, "GET", f"/accounts/{rich}") != first["banks"]


def test_unknown_people_and_companies_are_not_found(apps):
    for path in ("/accounts/0012345679", "/accounts/12345678901", "/accounts/abc"):
        status, body = call(apps["banks"], "GET", path)
        assert status == 404 and body["found"] is False
    company = POP.company_id(3)
    assert call(apps["banks"], "GET", f"/accounts/{company}")[0] == 200


def test_block_is_idempotent_per_order_id(apps, rich):
    bank = RegistryApp("banks", POP)
    account = call(bank, "GET", f"/accounts/{rich}")[1]["accounts"][0]
    order = {"national_code": rich, "iban": account["iban"], "amount": 1000, "case_number": "1"}
    first = call(bank, "POST", "/block/order-1", order)
    again = call(bank, "POST", "/block/order-1", order)
    assert first == again and first[0] == 200 and first[1]["blocked"] == 1000
    assert call(bank, "GET", "/block/order-1") == first
    after = call(bank, "GET", f"/accounts/{rich}")[1]["accounts"][0]
    assert after["blocked"] == 1000 and after["available"] == account["available"] - 1000
    # The same order id for another account: refused; another order blocks again.
    assert call(bank, "POST", "/block/order-1", {**order, "iban": "IR0"})[0] == 409
    assert call(bank, "POST", "/block/order-2", order)[1]["blocked"] == 1000
    # More than the balance blocks what is there.
    big = {**order, "amount": account["balance"] * 10}
    assert call(bank, "POST", "/block/order-3", big)[1]["blocked"] == account["balance"] - 2000
    # Bad bodies.
    assert call(bank, "POST", "/block/order-4", b"\x00not json")[0] == 400
    assert call(bank, "POST", "/block/order-4", {**order, "amount": "x"})[0] == 400
    assert call(bank, "POST", "/block/order-4", {**order, "amount": 0})[0] == 400
    assert call(bank, "POST", "/block/order-4", {**order, "iban": "IR00"})[0] == 404
    assert call(bank, "GET", "/block/order-4")[0] == 404


def test_seizure_is_idempotent_and_shows_on_the_property(rich):
    deeds = RegistryApp("ssaa", POP)
    prop = call(deeds, "GET", f"/properties/{rich}")[1]["properties"][0]
    order = {"national_code": rich, "serial": prop["serial"], "case_number": "1404"}
    first = call(deeds, "POST", "/seizure/s-1", order)
    assert first == call(deeds, "POST", "/seizure/s-1", order) and first[0] == 200
    seized = call(deeds, "GET", f"/properties/{rich}")[1]["properties"][0]
    assert seized["seized"] and len(seized["seizures"]) == 1
    assert call(deeds, "POST", "/seizure/s-2", {**order, "serial": "00000000"})[0] == 404
    # The deeds office's own services still answer beside the new ones.
    assert call(deeds, "GET", f"/deeds/{rich}")[0] == 200


def test_stock_and_vehicles_have_no_online_freeze(apps, rich):
    assert call(apps["stock"], "POST", f"/holdings/{rich}", {})[0] == 405
    assert call(apps["vehicle"], "POST", f"/vehicle-assets/{rich}", {})[0] == 405
    assert call(apps["stock"], "GET", "/block/x")[0] == 404


def test_published_descriptions_name_the_items(apps):
    for name, app in apps.items():
        description = json.loads(app.description)
        paths = description["paths"]
        for service in assets.SERVICES[name]:
            operation = paths[f"/{service['code']}/{{{service['param']}}}"]
            assert set(operation) == set(service["methods"])
            assert operation["get"]["x-panjereh-items"] == service["items"]
    assert (
        json.loads(apps["banks"].description)["info"]["x-panjereh-member-code"]
        == (assets.ORGANISATIONS["banks"][0])
    )
    assert "/deeds/{national_code}" in json.loads(apps["ssaa"].description)["paths"]
