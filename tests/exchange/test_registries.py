"""The simulated registries agree with each other and answer over HTTP."""

from __future__ import annotations

import httpx
import pytest

from panjereh.registries.population import (
    Population,
    is_valid_legal_person_id,
    is_valid_national_code,
)


def test_identifiers_are_valid_and_reversible():
    population = Population(seed=7, size=1_000_000)
    for i in (0, 1, 999_999, 123_456):
        code = population.national_code(i)
        assert is_valid_national_code(code)
        assert population.index_of(code) == i
    assert is_valid_national_code("0499370899")  # a well-known valid code
    assert not is_valid_national_code("0499370898")
    assert population.index_of("0499370898") is None
    company = population.company_id(5)
    assert is_valid_legal_person_id(company) and population.company_of_id(company) == 5


def test_populations_are_deterministic_and_seeded():
    assert Population(seed=1, size=8).civil_identity(3) == Population(
        seed=1, size=8
    ).civil_identity(3)
    assert Population(seed=1, size=8).national_code(3) != Population(seed=2, size=8).national_code(
        3
    )


def test_some_records_are_incomplete_on_purpose():
    population = Population(seed=1404, size=10_000)
    households = range(population.households)
    assert any(population.address(k) is None for k in households)  # missing residence
    deeds = [population.deed(k) for k in households]
    assert any(d and d["area_m2"] is None for d in deeds)  # missing deed data


def test_registries_agree_over_http(registries, population):
    child = 4 * 10 + 2
    code = population.national_code(child)
    with httpx.Client(trust_env=False) as http:
        identity = http.get(f"{registries.url('civil')}/identity/{code}").json()
        household = http.get(f"{registries.url('civil')}/household/{code}").json()
        birth = http.get(f"{registries.url('health')}/birth-record/{code}")
        mother = household["mother_national_code"]
        if birth.status_code == 200:
            assert birth.json()["mother_national_code"] == mother
        father = household["father_national_code"]
        assert (
            identity["father_name"]
            == http.get(f"{registries.url('civil')}/identity/{father}").json()["first_name"]
        )
        residence = http.get(f"{registries.url('post')}/residence/{code}").json()
        if residence["postcode"]:
            address = http.get(f"{registries.url('post')}/address/{residence['postcode']}").json()
            assert address["city"] == residence["city"]
        mobile = population.mobile(4 * 10)
        if mobile:
            owner = http.get(
                f"{registries.url('shahkar')}/mobile-owner",
                params={"national_code": father, "mobile": mobile},
            ).json()
            assert owner["match"] is True
            other = http.get(
                f"{registries.url('shahkar')}/mobile-owner",
                params={"national_code": mother, "mobile": mobile},
            ).json()
            assert other["match"] is False
        assert http.get(f"{registries.url('civil')}/identity/1234567890").status_code == 404


@pytest.mark.parametrize("mode", ["fail", "slow"])
def test_fault_switch(registries, population, mode):
    url = registries.url("judiciary")
    code = population.national_code(3)
    registries.control("judiciary", mode=mode, delay_ms=300, status=503)
    with httpx.Client(trust_env=False, timeout=0.1) as http:
        if mode == "fail":
            assert http.get(f"{url}/criminal-record/{code}").status_code == 503
        else:
            with pytest.raises(httpx.TimeoutException):
                http.get(f"{url}/criminal-record/{code}")
    registries.control("judiciary", mode="normal")
    assert httpx.get(f"{url}/criminal-record/{code}", trust_env=False).status_code == 200
