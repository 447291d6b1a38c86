"""The judiciary's Financial Convictions Registry: a record derived from the seed, served by its
own process, published on the exchange under the judiciary's member code."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from panjereh.registries import catalogue, convictions
from panjereh.registries.population import Population
from panjereh.registries.supervisor import Cluster


@pytest.fixture(scope="module")
def process():
    cluster = Cluster("small", seed=1404, registries=(convictions.NAME,)).start()
    yield cluster
    cluster.stop()


def _get(url: str) -> httpx.Response:
    return httpx.get(url, trust_env=False, timeout=10)


def test_the_record_is_derived_from_the_seed_and_consistent():
    one, two = Population(seed=1404, size=10_000), Population(seed=1404, size=10_000)
    records = [convictions.status(one, i) for i in range(3000)]
    assert records == [convictions.status(two, i) for i in range(3000)]
    other = Population(seed=1405, size=10_000)
    assert records != [convictions.status(other, i) for i in range(3000)]
    with_some = [r for r in records if r["has_open_convictions"]]
    # About one adult in twelve: between 3% and 12% of everyone.
    assert 0.03 * len(records) < len(with_some) < 0.12 * len(records)
    assert any(r["instalments"] for r in with_some) and any(r["count"] > 1 for r in with_some)
    for i, record in enumerate(records):
        person = one.person(i)
        if record["has_open_convictions"]:
            assert person["age"] >= 18
            assert 1 <= record["count"] <= 3 and record["total_rials"] >= 5_000_000
            oldest = dt.date.fromisoformat(record["oldest_date"])
            assert person["birth_date"].year + 18 <= oldest.year
            assert record["oldest_date_jalali"].count("/") == 2
        else:
            assert record["count"] == 0 and record["total_rials"] == 0
            assert record["oldest_date"] is None and record["instalments"] is False


def test_the_process_answers_the_status_with_its_time(process, population):
    i = next(i for i in range(500) if convictions.status(population, i)["count"])
    code = population.national_code(i)
    answer = _get(f"{process.url(convictions.NAME)}/financial-status/{code}")
    assert answer.status_code == 200
    data = answer.json()
    as_of = dt.datetime.fromisoformat(data.pop("as_of"))
    assert abs((as_of - dt.datetime.now(dt.UTC)).total_seconds()) < 60
    assert data == convictions.status(population, i)
    # The registry's clock is set through /_control, as the other registries'.
    process.control(convictions.NAME, now="2026-03-21T09:00:00+00:00")
    try:
        again = _get(f"{process.url(convictions.NAME)}/financial-status/{code}").json()
        assert again["as_of"] == "2026-03-21T09:00:00+00:00"
    finally:
        process.control(convictions.NAME, now=None)


def test_unknown_codes_and_other_methods_are_refused(process, population):
    base = f"{process.url(convictions.NAME)}/financial-status"
    unknown = next(
        f"{body}{d}"
        for body in (f"{n:09d}" for n in range(1, 10_000))
        for d in range(10)
        if population.index_of(f"{body}{d}") is None
    )
    assert _get(f"{base}/{unknown}").status_code == 404
    assert _get(f"{base}/{unknown}").json()["found"] is False
    code = population.national_code(1)
    wrong = code[:9] + str((int(code[9]) + 1) % 10)
    assert _get(f"{base}/{wrong}").status_code == 404
    assert _get(f"{process.url(convictions.NAME)}/no-such/{code}").status_code == 404
    posted = httpx.post(f"{base}/{code}", content=b"{}", trust_env=False, timeout=10)
    assert posted.status_code == 405


def test_fault_switch_applies(process, population):
    code = population.national_code(2)
    process.control(convictions.NAME, mode="fail", status=503)
    try:
        assert _get(f"{process.url(convictions.NAME)}/financial-status/{code}").status_code == 503
    finally:
        process.control(convictions.NAME, mode="normal")
    assert _get(f"{process.url(convictions.NAME)}/financial-status/{code}").status_code == 200


def test_published_description_is_the_judiciary_s(process):
    description = _get(f"{process.url(convictions.NAME)}/openapi.json").json()
    info = description["info"]
    assert info["x-panjereh-registry"] == "convictions"
    assert info["x-panjereh-member-code"] == catalogue.ORGANISATIONS["judiciary"][0]
    operation = description["paths"]["/financial-status/{national_code}"]["get"]
    assert operation["x-panjereh-items"] == {"convictions.financial_status": convictions.FIELDS}
    assert operation["x-panjereh-key-fields"] == ["national_code"]


@pytest.mark.django_db
def test_registered_on_the_exchange_with_a_label(process):
    from panjereh.exchange import provision
    from panjereh.exchange.models import DataService, item_label

    services = provision.register_registry(process.url(convictions.NAME))
    assert [s.code for s in services] == ["financial-status"]
    service = DataService.objects.get(subsystem="convictions-registry", code="financial-status")
    assert service.provider.member_code == catalogue.ORGANISATIONS["judiciary"][0]
    assert item_label("convictions.financial_status", "fa") == "وضعیت محکومیت‌های مالی"
    assert item_label("convictions.financial_status", "en") == "Financial-conviction status"
