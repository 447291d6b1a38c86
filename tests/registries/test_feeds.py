"""The registries' life-event feeds: published in order with a cursor, derived from the
population, a new event appears when the registry's clock reaches it, and the exchange passes
a consumer only the event types its grant covers."""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request

import pytest

from panjereh.registries.catalogue import SERVICES, openapi
from panjereh.registries.events import FEEDS, Feed

NEWS_DAY = dt.datetime(2025, 3, 21, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _wall_clocks(registries):
    yield
    for name in FEEDS:
        registries.control(name, now=None)


def _get(registries, name: str, query: str = "") -> tuple[int, dict]:
    url = f"{registries.url(name)}/events" + (f"?{query}" if query else "")
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:  # noqa: S310 -- loopback
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_each_feed_is_published_with_its_items():
    for registry, types in FEEDS.items():
        service = next(s for s in SERVICES[registry] if s["code"] == "events")
        assert sorted(f for fields in service["items"].values() for f in fields) == sorted(
            types.values()
        )
        operation = openapi(registry)["paths"]["/events"]["get"]
        assert operation["x-panjereh-items"] == service["items"]
        assert {p["name"] for p in operation["parameters"]} == {"after", "limit"}
        assert all(p["in"] == "query" for p in operation["parameters"])


def test_the_feed_pages_in_order_and_never_repeats(registries):
    registries.control("civil", now=NEWS_DAY.isoformat())
    seen: list[dict] = []
    cursor = ""
    for _page in range(200):
        status, page = _get(
            registries, "civil", f"after={cursor}&limit=500" if cursor else "limit=500"
        )
        assert status == 200
        events = [e for field in ("deaths", "marriages", "comings_of_age") for e in page[field]]
        events.sort(key=lambda e: e["cursor"])
        if events:
            assert events[0]["cursor"] > cursor and page["next"] == events[-1]["cursor"]
        seen.extend(events)
        cursor = page["next"]
        if not page["has_more"]:
            break
    cursors = [e["cursor"] for e in seen]
    assert cursors == sorted(cursors) and len(set(cursors)) == len(cursors)
    assert {e["type"] for e in seen} == {"death", "marriage", "coming_of_age"}
    assert all(dt.datetime.fromisoformat(e["published_at"]) <= NEWS_DAY for e in seen)
    # Nothing new until the clock moves: the cursor stays.
    status, page = _get(registries, "civil", f"after={cursor}")
    assert status == 200 and page["next"] == cursor and not page["has_more"]
    assert not any(page[f] for f in ("deaths", "marriages", "comings_of_age"))


def test_a_new_event_appears_when_the_clock_reaches_it(registries, population):
    feed = Feed("civil", population)
    upcoming = next(
        e for e in feed.all() if dt.datetime.fromisoformat(e["published_at"]) > NEWS_DAY
    )
    assert upcoming["type"] == "coming_of_age"  # the 18th birthdays ahead of the registry's day
    published = dt.datetime.fromisoformat(upcoming["published_at"])
    before = (published - dt.timedelta(seconds=1)).isoformat()
    assert registries.control("civil", now=before)["now"] == before
    tail = f"{int(published.timestamp()) - 86400:011d}-"
    _status, page = _get(registries, "civil", f"after={tail}")
    assert upcoming["id"] not in [e["id"] for e in page["comings_of_age"]]
    registries.control("civil", now=(published + dt.timedelta(seconds=1)).isoformat())
    _status, page = _get(registries, "civil", f"after={tail}")
    assert page["comings_of_age"][-1]["id"] == upcoming["id"]
    # Derived from the population: the 18th birthday of the person it names.
    person = population.person(population.index_of(upcoming["subjects"][0]))
    assert upcoming["occurred_on"][5:] == person["birth_date"].isoformat()[5:] or (
        person["birth_date"].isoformat()[5:] == "02-29"
    )
    assert int(upcoming["occurred_on"][:4]) == person["birth_date"].year + 18


def test_a_birth_names_the_parents_and_the_child(registries, population):
    registries.control("health", now=NEWS_DAY.isoformat())
    _status, page = _get(registries, "health", "after=01740000000-&limit=5")
    birth = page["births"][0]
    child = population.index_of(birth["related_national_code"])
    person = population.person(child)
    assert birth["occurred_on"] == person["birth_date"].isoformat()
    assert birth["subjects"] == [
        population.national_code(person["mother"]),
        population.national_code(person["father"]),
    ]
    assert birth["id"] == f"birth-{birth['related_national_code']}"


@pytest.mark.parametrize(
    "query", ["after=nonsense", "after=1'--", "limit=0", "limit=100000", "limit=x"]
)
def test_a_bad_cursor_or_limit_is_refused(registries, query):
    status, answer = _get(registries, "health", query)
    assert status == 400 and answer["detail"]


def test_the_clock_is_refused_without_its_zone(registries):
    request = urllib.request.Request(  # noqa: S310 -- loopback
        f"{registries.url('health')}/_control",
        data=json.dumps({"now": "2025-03-21T09:00:00"}).encode(),
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)  # noqa: S310
    assert refused.value.code == 400
    assert registries.control("health")["now"] is None


@pytest.mark.django_db
def test_the_exchange_passes_only_the_granted_event_types(exchange, registries):
    registries.control("civil", now=NEWS_DAY.isoformat())
    service = exchange.service("civil", "events")
    exchange.grant(service, ["civil.death_events"])
    subject = exchange.consumer.member_code.zfill(11)  # the consumer itself: no one person
    cursor, deaths = "00946684800-", []
    for _page in range(30):  # the deaths among the civil events since 2000
        answer = exchange.call(
            service,
            "",
            subject,
            items=["civil.death_events"],
            query={"after": cursor, "limit": "500"},
        )
        assert answer.status_code == 200, answer.content
        data = answer.json()
        assert set(data) == {"deaths", "next", "has_more"}  # no marriages, no 18th birthdays
        deaths += data["deaths"]
        cursor = data["next"]
        if not data["has_more"]:
            break
    assert deaths and all(e["type"] == "death" for e in deaths)
    refused = exchange.call(service, "", subject, items=["civil.marriage_events"])
    assert refused.status_code == 403
