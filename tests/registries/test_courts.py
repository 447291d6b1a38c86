"""The judiciary's simulated case system (``courts``): cases derived from the seed, the event
feed with its cursor, bills received once per case and text, the ``_control`` actions, many
request threads at once, and its services published and called through the exchange."""

from __future__ import annotations

import hashlib
import json
import threading
import urllib.error
import urllib.request

import pytest
from django.core.cache import cache

from panjereh.exchange import breaker, gateway, provision
from panjereh.exchange.client import generate_key, public_jwks
from panjereh.registries import courts as courts_module
from panjereh.registries.billers import mod11
from panjereh.registries.courts import CourtBook
from panjereh.registries.population import Population
from panjereh.registries.supervisor import Cluster
from tests.exchange.conftest import Exchange
from tests.factories import make_agency, make_service

POPULATION = Population(seed=1404, size=10_000)


@pytest.fixture(autouse=True)
def _clean_state():
    """These tests need only the courts, not the session's other registries."""
    yield


@pytest.fixture(scope="module")
def courts():
    cluster = Cluster("small", seed=1404, registries=("courts",)).start()
    yield cluster
    cluster.stop()


def call(courts, path: str, data=None) -> tuple[int, dict]:
    request = urllib.request.Request(  # noqa: S310 -- the test's own loopback process
        f"{courts.url('courts')}{path}",
        data=json.dumps(data).encode() if data is not None else None,
        method="POST" if data is not None else "GET",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def code(i: int) -> str:
    return POPULATION.national_code(i)


def filed(courts, a: int, b: int, kind: str = "criminal") -> dict:
    roles = {"criminal": ("complainant", "accused"), "civil": ("plaintiff", "defendant")}[kind]
    status, answer = call(
        courts,
        "/_control",
        {
            "file_case": {
                "kind": kind,
                "parties": [
                    {"national_code": code(a), "role": roles[0]},
                    {"national_code": code(b), "role": roles[1]},
                ],
            }
        },
    )
    assert status == 200, answer
    return answer


def bill(number: str, who: int, text: str = "متن لایحه") -> dict:
    return {
        "case_number": number,
        "national_code": code(who),
        "template": "defence",
        "title": "لایحه دفاعیه",
        "text": text,
        "sha256": hashlib.sha256(text.encode()).hexdigest(),
    }


def everything(courts, after: str = "") -> list[dict]:
    events: list[dict] = []
    while True:
        status, page = call(
            courts, f"/events?limit=7&after={after}" if after else "/events?limit=7"
        )
        assert status == 200
        assert all(e["cursor"] > after for e in page["events"])
        events += page["events"]
        after = page["next"]
        if not page["has_more"]:
            return events


def test_the_seeded_cases_are_the_same_each_time_and_both_parties_see_them():
    one, two = CourtBook(POPULATION), CourtBook(POPULATION)
    counts: dict[int, int] = {}
    for i in range(0, 2000, 3):
        mine = one.cases_of(code(i))
        assert mine == two.cases_of(code(i))
        counts[len(mine)] = counts.get(len(mine), 0) + 1
        for case in mine:
            number = case["number"]
            assert int(number[-1]) == mod11(number[:-1])
            assert case["stage"] in courts_module.STAGES
            assert [e["event_id"] for e in case["events"]][0] == f"{number}-h0"
            others = [p["national_code"] for p in case["parties"] if p["national_code"] != code(i)]
            assert len(others) == 1 and len(case["parties"]) == 2
            assert number in [c["number"] for c in one.cases_of(others[0])]
            assert {p["role"] for p in case["parties"]} in (
                {"plaintiff", "defendant"},
                {"complainant", "accused"},
            )
    assert counts[0] > counts.get(1, 0) > counts.get(2, 0) > 0  # most none, some one or two
    assert set(counts) <= {0, 1, 2}
    assert one.find("140310000000000") is None and one.find("12") is None


def test_a_filed_case_moves_on_through_the_feed(courts):
    start = everything(courts)
    last = start[-1]["cursor"] if start else ""
    case = filed(courts, 2001, 2005)
    status, stage = call(courts, "/_control", {"advance": case["number"], "kind": "stage"})
    assert status == 200 and stage["stage"] == "referred"
    status, hearing = call(
        courts,
        "/_control",
        {"advance": case["number"], "kind": "hearing", "hearing_at": "2027-01-10T09:30:00+03:30"},
    )
    assert hearing["detail"]["hearing_at_jalali"] == "1405/10/20 09:30"
    status, decision = call(
        courts, "/_control", {"advance": case["number"], "kind": "decision", "summary": "برائت"}
    )
    assert decision["stage"] == "decided" and decision["detail"]["summary_fa"] == "برائت"
    news = everything(courts, last)
    mine = [e for e in news if e["case_number"] == case["number"]]
    assert [e["kind"] for e in mine] == ["filed", "stage", "hearing", "decision"]
    assert len({e["event_id"] for e in news}) == len(news)
    assert mine[0]["case"]["kind"] == "criminal" and mine[0]["parties"][1]["role"] == "accused"
    status, answer = call(courts, f"/cases/{code(2005)}")
    assert status == 200
    listed = next(c for c in answer["cases"] if c["number"] == case["number"])
    assert listed["stage"] == "decided" and len(listed["events"]) == 4


def test_control_and_feed_refuse_bad_input(courts):
    assert call(courts, "/_control", {"advance": "1405900000000", "kind": "stage"})[0] == 404
    case = filed(courts, 2011, 2015)
    for bad in (
        {"advance": case["number"], "kind": "verdict"},
        {"advance": case["number"], "kind": "stage", "stage": "nowhere"},
        {"advance": case["number"], "kind": "hearing", "hearing_at": "2027-01-10T09:30"},
        {"file_case": {"kind": "civil", "parties": []}},
        {"file_case": {"kind": "space", "parties": [{"national_code": code(1), "role": "other"}]}},
        {"file_case": {"parties": [{"national_code": "12\x00", "role": "other"}]}},
        {"file_case": "yes"},
    ):
        status, answer = call(courts, "/_control", bad)
        assert status == 400, bad
        assert answer["detail"]
    assert call(courts, "/events?after=nonsense")[0] == 400
    assert call(courts, "/events?limit=0")[0] == 400
    assert call(courts, "/events?limit=501")[0] == 400
    assert call(courts, "/cases/12")[0] == 400
    assert call(courts, "/cases/0000000000") == (200, {"national_code": "0000000000", "cases": []})


def test_a_bill_is_received_once_per_case_and_text(courts):
    case = filed(courts, 2021, 2025)
    before = everything(courts)
    status, receipt = call(courts, "/pleadings", bill(case["number"], 2025))
    assert status == 201 and receipt["court_reference"] and receipt["received_at"]
    status, again = call(courts, "/pleadings", bill(case["number"], 2025))
    assert (status, again) == (200, receipt)
    news = everything(courts, before[-1]["cursor"])
    assert [e["kind"] for e in news if e["case_number"] == case["number"]] == ["pleading"]
    digest = bill(case["number"], 2025)["sha256"]
    assert call(courts, f"/pleadings?case_number={case['number']}&sha256={digest}") == (
        200,
        receipt,
    )
    assert call(courts, f"/pleadings?case_number={case['number']}&sha256={'0' * 64}")[0] == 404
    assert call(courts, "/pleadings", bill(case["number"], 2029))[0] == 403  # not a party
    assert call(courts, "/pleadings", bill("140590099999999", 2025))[0] == 404
    wrong = {**bill(case["number"], 2025), "sha256": "a" * 64}
    assert call(courts, "/pleadings", wrong)[0] == 400
    assert call(courts, "/pleadings", bill(case["number"], 2025, "x\x00y"))[0] == 400
    assert call(courts, "/pleadings", bill(case["number"], 2025, "x" * 100_001))[0] == 400
    assert call(courts, "/pleadings", {"case_number": case["number"]})[0] == 400
    assert call(courts, "/pleadings", [1, 2])[0] == 400


def test_many_request_threads_at_once_lose_and_repeat_nothing(courts):
    start = everything(courts)
    last = start[-1]["cursor"] if start else ""
    case = filed(courts, 2031, 2035)
    numbers, references, errors = [], [], []

    def work(n: int) -> None:
        try:
            numbers.append(filed(courts, 2041 + n, 2045 + n)["number"])
            status, receipt = call(courts, "/pleadings", bill(case["number"], 2035, f"متن {n % 3}"))
            assert status in (200, 201)
            references.append((n % 3, receipt["court_reference"]))
        except Exception as exc:  # noqa: BLE001 -- reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(set(numbers)) == 24
    assert len({ref for _n, ref in references}) == 3  # one reference per text
    news = everything(courts, last)
    cursors = [e["cursor"] for e in news]
    assert cursors == sorted(cursors) and len(set(cursors)) == len(cursors)
    assert len([e for e in news if e["kind"] == "filed"]) == 25
    assert len([e for e in news if e["kind"] == "pleading"]) == 3


def test_the_fault_switch_still_applies_and_control_still_answers(courts):
    courts.control("courts", mode="fail", status=503)
    try:
        assert call(courts, "/events")[0] == 503
        assert filed(courts, 2101, 2105)["number"]  # the control address is never faulted
    finally:
        courts.control("courts", mode="normal")
    assert call(courts, "/events")[0] == 200


@pytest.mark.django_db
def test_published_and_called_through_the_exchange(courts, client, settings):
    settings.PANJEREH_EXCHANGE_SEAL_INTERVAL = 0
    gateway.clear_caches()
    breaker.reset()
    cache.clear()
    services = {s.code: s for s in provision.register_registry(courts.url("courts"))}
    assert set(services) == {"cases", "events", "pleadings"}
    assert {s.subsystem for s in services.values()} == {"courts-registry"}
    assert {s.provider.member_code for s in services.values()} == {courts_module.MEMBER_CODE}
    assert services["events"].key_fields == ["next", "has_more"]
    consumer = make_agency(name_en="National window")
    purpose = make_service(agency=consumer, title_en="Following judicial cases")
    key = generate_key()
    system = provision.register_consumer(consumer, "national-window", public_jwks(key))
    nix = Exchange(client, consumer, purpose, system, key, system.client_id)
    for service, item in (
        ("cases", "courts.cases"),
        ("events", "courts.case_events"),
        ("pleadings", "courts.pleading"),
    ):
        nix.grant(services[service], [item])
    case = filed(courts, 2201, 2205)
    answer = nix.call(services["cases"], code(2205), code(2205), items=["courts.cases"])
    assert answer.status_code == 200, answer.content
    assert case["number"] in [c["number"] for c in answer.json()["cases"]]
    assert nix.call(services["cases"], code(2205), code(2201)).status_code == 403  # not them
    feed = nix.call(services["events"], "", consumer.member_code, query={"limit": "500"})
    assert feed.status_code == 200 and "events" in feed.json()
    path = (
        f"/r1/IR/{services['pleadings'].provider.member_class}/"
        f"{services['pleadings'].provider.member_code}/courts-registry/pleadings"
    )
    sent = client.post(
        path,
        data=json.dumps(bill(case["number"], 2205), ensure_ascii=False),
        content_type="application/json",
        headers=nix.headers(code(2205)),
    )
    assert sent.status_code == 201, sent.content
    assert set(sent.json()) >= {"court_reference", "received_at", "case_number", "sha256"}
    again = client.post(
        path,
        data=json.dumps(bill(case["number"], 2205), ensure_ascii=False),
        content_type="application/json",
        headers=nix.headers(code(2205)),
    )
    assert again.status_code == 200 and again.json() == sent.json()
