"""The company registry names each company's directors and signatories; tests can change them."""

from __future__ import annotations

import httpx
import pytest

from panjereh.registries.population import Population, is_valid_legal_person_id
from panjereh.registries.supervisor import control

COMPANY = 3


def _get(url: str) -> httpx.Response:
    return httpx.get(url, trust_env=False, timeout=10)


def test_representatives_are_derived_from_the_seed():
    one, two = Population(seed=1404, size=10_000), Population(seed=1404, size=10_000)
    rows = one.company_representatives(COMPANY)
    assert rows == two.company_representatives(COMPANY)
    assert rows != Population(seed=1405, size=10_000).company_representatives(COMPANY)
    record = one.company(COMPANY)
    roles = [r["role"] for r in rows]
    assert roles.count("ceo") == 1 and roles.count("board") == 2 and "signatory" in roles
    assert (
        next(r for r in rows if r["role"] == "ceo")["national_code"]
        == (record["ceo_national_code"])
    )
    for row in rows:
        assert one.index_of(row["national_code"]) is not None
        assert record["registration_date"] <= row["since"] <= "2025-03-20"
        assert row["since_jalali"].count("/") == 2
    assert COMPANY in one.companies_of(record["ceo_national_code"])


def test_the_registry_answers_a_company_and_refuses_an_unknown_one(registries, population):
    national_id = population.company_id(COMPANY)
    answer = _get(f"{registries.url('ssaa')}/representatives/{national_id}")
    assert answer.status_code == 200
    data = answer.json()
    assert data["national_id"] == national_id and data["name"]
    assert data["representatives"] == population.company_representatives(COMPANY)
    # A well-formed ID the registry does not hold, and a wrong check digit.
    unknown = next(
        f"{body}{d}"
        for body in (str(10**9 + n) for n in range(1, 10_000))
        for d in range(10)
        if is_valid_legal_person_id(f"{body}{d}") and population.company_of_id(f"{body}{d}") is None
    )
    assert _get(f"{registries.url('ssaa')}/representatives/{unknown}").status_code == 404
    wrong = national_id[:10] + str((int(national_id[10]) + 1) % 10)
    assert _get(f"{registries.url('ssaa')}/representatives/{wrong}").status_code == 404


def test_a_control_request_changes_the_board_until_it_is_reset(registries, population):
    national_id = population.company_id(COMPANY)
    url = f"{registries.url('ssaa')}/representatives/{national_id}"
    seeded = population.company_representatives(COMPANY)
    remaining = [r for r in seeded if r["role"] != "board"]
    try:
        control(registries.url("ssaa"), representatives={national_id: remaining})
        changed = _get(url).json()["representatives"]
        assert [(r["national_code"], r["role"]) for r in changed] == [
            (r["national_code"], r["role"]) for r in remaining
        ]
        # Another company is untouched; the fault switch is untouched.
        other = population.company_id(COMPANY + 1)
        assert _get(f"{registries.url('ssaa')}/representatives/{other}").json()[
            "representatives"
        ] == population.company_representatives(COMPANY + 1)
        assert control(registries.url("ssaa"))["mode"] == "normal"
    finally:
        control(registries.url("ssaa"), representatives={national_id: None})
    assert _get(url).json()["representatives"] == seeded


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"x": [{"national_code": "1", "role": "owner"}]},
        {"x": [{"role": "ceo"}]},
        {"x": "ceo"},
    ],
)
def test_a_bad_control_body_is_refused_and_changes_nothing(registries, population, body):
    national_id = population.company_id(COMPANY)
    response = httpx.post(
        f"{registries.url('ssaa')}/_control",
        json={"representatives": body},
        trust_env=False,
        timeout=10,
    )
    assert response.status_code == 400
    answer = _get(f"{registries.url('ssaa')}/representatives/{national_id}").json()
    assert answer["representatives"] == population.company_representatives(COMPANY)
