"""The seven registries added for the whole state's data: tax, vehicles, health insurance,
welfare, vocational certificates, location and foreign nationals. Each is its own process that
publishes its data items, answers deterministically and fails the way the others do."""

from __future__ import annotations

import time

import httpx
import pytest

from panjereh.catalogue.vocab import REGISTRY_ITEMS
from panjereh.registries import REGISTRIES
from panjereh.registries.catalogue import ORGANISATIONS, SERVICES
from panjereh.registries.population import (
    Population,
    fida_check_digit,
    is_valid_fida,
    is_valid_legal_person_id,
    is_valid_national_code,
    is_valid_vin,
    luhn_check_digit,
)
from panjereh.registries.supervisor import Cluster

NEW = ("tax", "vehicle", "insurance", "welfare", "vocational", "location", "foreign")
PERSON = 4 * 10  # a household father: old enough for most records


def _known_key(population: Population, registry: str, service: dict) -> str:
    """A path parameter that names an existing record of ``service``."""
    param = service["param"]
    if param == "national_code":
        return population.national_code(PERSON)
    if param == "postcode":
        k = next(k for k in range(population.households) if population.geo(k))
        return population.postcode(k)
    if param == "vin":
        v = next(v for v in range(2 * population.households) if population.vehicle(v))
        return population.vehicle(v)["vin"]
    if param == "certificate_number":
        i = next(i for i in range(population.size) if population.certificates(i))
        return population.certificate_number(i, 0)
    if param == "fida_code":
        return population.fida(7)
    raise AssertionError(param)


def _unknown_key(service: dict) -> str:
    return {
        "national_code": "1234567890",
        "postcode": "0123456789",
        "vin": "1M8GDM9AXKP042788",  # a valid VIN nobody here has
        "certificate_number": "000000000000",
        "fida_code": "100000000000",
    }[service["param"]]


def _services(registries: tuple[str, ...] = NEW):
    return [(name, service) for name in registries for service in SERVICES[name]]


@pytest.fixture(scope="module")
def fresh():
    """The new registries once more, in processes of their own started for this module."""
    cluster = Cluster("small", seed=1404, registries=NEW).start()
    yield cluster
    cluster.stop()


def test_every_registry_is_started_by_the_supervisor():
    assert set(NEW) <= set(REGISTRIES) and len(REGISTRIES) == 18
    assert set(Cluster("small").addresses()) == set(REGISTRIES)


@pytest.mark.parametrize("name", NEW)
def test_openapi_publishes_items_of_the_national_vocabulary(registries, name):
    description = httpx.get(f"{registries.url(name)}/openapi.json", trust_env=False).json()
    info = description["info"]
    assert info["x-panjereh-registry"] == name
    assert is_valid_legal_person_id(info["x-panjereh-member-code"])
    assert (info["x-panjereh-member-code"], info["x-panjereh-name-fa"], info["title"]) == (
        ORGANISATIONS[name]
    )
    # The asset inquiry's services on the vehicle registry are tested with registries/assets.py.
    own = {service["code"] for service in SERVICES[name]}
    paths = [p for p in description["paths"].values() if p["get"]["operationId"] in own]
    assert 1 <= len(paths) <= 3
    for operation in (path["get"] for path in paths):
        fields = operation["responses"]["200"]["content"]["application/json"]["schema"]
        for code, item_fields in operation["x-panjereh-items"].items():
            assert REGISTRY_ITEMS[code][0] == name  # the item is this registry's
            assert REGISTRY_ITEMS[code][1] and REGISTRY_ITEMS[code][2]  # Persian and English
            assert set(item_fields) <= set(fields["properties"])


@pytest.mark.parametrize(
    ("name", "service"), _services(), ids=lambda v: v if isinstance(v, str) else v["code"]
)
def test_known_subject_is_answered_the_same_by_a_fresh_process(
    registries, fresh, population, name, service
):
    path = f"/{service['code']}/{_known_key(population, name, service)}"
    with httpx.Client(trust_env=False) as http:
        first = http.get(registries.url(name) + path)
        again = http.get(registries.url(name) + path)
        other = http.get(fresh.url(name) + path)
    assert first.status_code == 200, first.text
    assert first.json() == again.json() == other.json()
    assert fresh.processes[name].pid != registries.processes[name].pid
    record = first.json()
    for field in service["key_fields"]:
        assert record[field]
    for fields in service["items"].values():
        assert set(fields) <= set(record)


@pytest.mark.parametrize(
    ("name", "service"), _services(), ids=lambda v: v if isinstance(v, str) else v["code"]
)
def test_unknown_subject_is_404_in_the_shape_of_the_other_registries(registries, name, service):
    with httpx.Client(trust_env=False) as http:
        civil = http.get(f"{registries.url('civil')}/identity/1234567890")
        answer = http.get(f"{registries.url(name)}/{service['code']}/{_unknown_key(service)}")
        probe = http.get(f"{registries.url(name)}/{service['code']}/0000000000")  # status probe
    assert civil.status_code == answer.status_code == probe.status_code == 404
    assert set(answer.json()) == set(civil.json()) == {"found", "detail"}
    assert answer.json()["found"] is False


@pytest.mark.parametrize("name", NEW)
def test_fault_switch_fails_slows_and_drops(registries, population, name):
    service = SERVICES[name][0]
    url = f"{registries.url(name)}/{service['code']}/{_known_key(population, name, service)}"
    try:
        registries.control(name, mode="fail", status=503)
        assert httpx.get(url, trust_env=False).status_code == 503
        registries.control(name, mode="slow", delay_ms=300)
        started = time.monotonic()
        assert httpx.get(url, trust_env=False).status_code == 200
        assert time.monotonic() - started >= 0.3
        registries.control(name, mode="drop")
        with pytest.raises(httpx.TransportError):
            httpx.get(url, trust_env=False)
        registries.control(name, mode="incomplete")
        blank = httpx.get(url, trust_env=False).json()
        assert all(blank[k] for k in service["key_fields"])
    finally:
        registries.control(name, mode="normal")
    assert httpx.get(url, trust_env=False).status_code == 200


def test_identifier_check_rules():
    population = Population(seed=7, size=1_000_000)
    for f in (0, 1, 12_345, population.foreigners - 1):
        code = population.fida(f)
        assert len(code) == 12 and is_valid_fida(code) and population.foreigner_of_fida(code) == f
        assert not is_valid_national_code(code)  # foreign nationals have no national code
        wrong = code[:5] + str((int(code[5]) + 1) % 10) + code[6:]
        assert not is_valid_fida(wrong)
    assert fida_check_digit("10000000000") == 1  # 1 × 12 = 12, remainder 1
    assert population.foreigner_of_fida("0" + population.fida(3)[1:]) is None
    assert is_valid_vin("1M8GDM9AXKP042788")  # the textbook VIN with check character X
    assert not is_valid_vin("1M8GDM9A1KP042788")
    assert luhn_check_digit("7992739871") == 3  # the textbook Luhn example
    for v in range(2 * population.households)[:400]:
        vehicle = population.vehicle(v)
        if vehicle:
            assert is_valid_vin(vehicle["vin"]) and population.vehicle_of_vin(vehicle["vin"]) == v


def test_registries_agree_with_each_other(registries, population):
    with httpx.Client(trust_env=False) as http:
        for person in range(0, 400, 3):
            code = population.national_code(person)
            vehicles = http.get(f"{registries.url('vehicle')}/owned-vehicles/{code}").json()
            for vehicle in vehicles["vehicles"]:
                assert vehicle["owner_national_code"] == code
                by_vin = http.get(f"{registries.url('vehicle')}/vehicle/{vehicle['vin']}").json()
                assert by_vin == vehicle
            for certificate in population.certificates(person):
                number = certificate["certificate_number"]
                answer = http.get(f"{registries.url('vocational')}/certificate/{number}").json()
                assert answer["holder_national_code"] == code
            residence = http.get(f"{registries.url('post')}/residence/{code}").json()
            geo = http.get(f"{registries.url('location')}/residence-geo/{code}").json()
            assert geo["postcode"] == residence["postcode"]
            civil = http.get(f"{registries.url('civil')}/household/{code}").json()
            welfare = http.get(f"{registries.url('welfare')}/household/{code}").json()
            alive = {m["national_code"] for m in civil["members"] if m["alive"]}
            assert {m["national_code"] for m in welfare["members"]} == alive
            if population.insurance_record(person)["insured"]:
                coverage = http.get(f"{registries.url('insurance')}/coverage/{code}").json()
                assert coverage["insurer"] == "ssi" and coverage["relation"] == "main_insured"


def test_distributions_are_plausible():
    population = Population(seed=1404, size=10_000)
    deciles = {population.subsidy(4 * k)["decile"] for k in range(population.households)}
    assert deciles == set(range(1, 11))
    relief = [k for k in range(population.households) if population.household(k)["relief"]]
    assert all(population.subsidy(4 * k)["decile"] <= 2 for k in relief)
    covered = sum(population.health_coverage(i)["covered"] for i in range(2_000))
    assert 0.85 < covered / 2_000 < 0.99  # a few percent have no basic health insurance
    permits = [population.foreigner(f) for f in range(population.foreigners)]
    assert population.foreigners == 500
    assert sum(p["nationality_code"] == "AFG" for p in permits) > 0.8 * len(permits)
    assert any(not p["valid"] for p in permits) and any(p["valid"] for p in permits)


@pytest.mark.django_db
def test_new_registries_are_reachable_through_the_gateway_with_a_grant(exchange, population):
    code = population.national_code(PERSON)
    taxpayer = exchange.service("tax", "taxpayer")
    assert taxpayer.provider.member_code == ORGANISATIONS["tax"][0]
    refused = exchange.call(taxpayer, code, code)
    assert refused.status_code == 403, refused.content
    exchange.grant(taxpayer, ["tax.income_bracket"])

    response = exchange.call(taxpayer, code, code)

    assert response.status_code == 200, response.content
    assert response.json() == {"national_code": code, **population.income_bracket(PERSON)}

    permit = exchange.service("foreign", "residence-permit")
    exchange.grant(permit, ["foreign.residence_permit"])
    fida = population.fida(7)
    # The FIDA code names the person the call is about: it must be the call's subject.
    assert exchange.call(permit, fida, code).json()["code"] == "subject_mismatch"
    answer = exchange.call(permit, fida, fida)
    assert answer.status_code == 200, answer.content
    assert answer.json()["fida_code"] == fida
    assert answer.json()["valid"] == population.foreigner(7)["valid"]
    assert "first_name" not in answer.json()  # foreign.identity was not granted
