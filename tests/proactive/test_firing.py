"""When a life event starts a service, and when it does not: once per event (two runs, two
workers), never for old events, never without consent, and nothing lost when the feed is down."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path

import pytest
import time_machine
from django.db import connection

from panjereh.common import periodic
from panjereh.inbox.models import Message
from panjereh.proactive import operations
from panjereh.proactive.models import Firing, Subscription
from panjereh.services import nix
from panjereh.services.models import Application

from .conftest import (
    REGISTRY_NEWS_DAY,
    REGISTRY_REFERENCE,
    SUBSCRIBED_ON,
    TWO_YEARS_ON,
    births_after,
    citizen,
    consent,
    newborn,
    read_at,
    recent_mother,
    subscribe,
)

pytestmark = pytest.mark.django_db(transaction=True)


def _mother(population, days: int = 50):
    return citizen(population, lambda i: recent_mother(population, i, days=days), level=2)


def test_a_birth_appears_when_the_registry_publishes_it_and_starts_once(
    smart, registries, population
):
    mother = _mother(population)
    consent(mother)
    definition = newborn()
    subscribe(definition)
    news = births_after(population, mother, SUBSCRIBED_ON, REGISTRY_REFERENCE)
    first = min(news, key=lambda e: e["published_at"])
    published = dt.datetime.fromisoformat(first["published_at"])
    # A second before the registry publishes it, the feed does not have it yet.
    assert read_at(registries, definition, published - dt.timedelta(seconds=1)) == 0
    assert not Application.objects.filter(user=mother).exists()
    # Published: it starts, once, however many runs follow.
    assert read_at(registries, definition, published + dt.timedelta(seconds=1)) == 1
    assert read_at(registries, definition, published + dt.timedelta(seconds=2)) == 0
    assert read_at(registries, definition, REGISTRY_NEWS_DAY) == len(news) - 1
    assert read_at(registries, definition, REGISTRY_NEWS_DAY) == 0
    assert Application.objects.filter(user=mother).count() == len(news)
    assert Firing.objects.filter(user=mother, outcome=Firing.Outcome.STARTED).count() == len(news)


def test_the_same_event_twice_starts_one_service(smart, registries, population):
    """Two workers that read the same page act on its events once: the database says so."""
    mother = _mother(population)
    consent(mother)
    definition = newborn()
    subscription = subscribe(definition)
    event = births_after(population, mother, SUBSCRIBED_ON, REGISTRY_REFERENCE)[0]
    with time_machine.travel(REGISTRY_NEWS_DAY, tick=True):
        assert operations.act(definition, subscription, event) == 1
        assert operations.act(definition, subscription, event) == 0
    assert Application.objects.filter(user=mother).count() == 1
    assert Message.objects.filter(user=mother, kind=Message.Kind.NOTICE).count() == 1


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="two writing connections at once: PostgreSQL"
)
def test_two_workers_racing_start_one_service_per_birth(smart, registries, population):
    mother = _mother(population)
    consent(mother)
    definition = newborn()
    subscribe(definition)
    news = births_after(population, mother, SUBSCRIBED_ON, REGISTRY_REFERENCE)
    registries.control("health", now=REGISTRY_NEWS_DAY.isoformat())
    barrier = threading.Barrier(2)
    results: list[object] = []

    def worker() -> None:
        from django.db import connections

        try:
            barrier.wait(10)
            results.append(operations.read(definition))
        except Exception as exc:  # noqa: BLE001 -- reported by the assertion below
            results.append(exc)
        finally:
            connections.close_all()

    with time_machine.travel(REGISTRY_NEWS_DAY, tick=True):
        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert all(isinstance(r, int) for r in results), results
    assert sum(results) == len(news)
    assert Application.objects.filter(user=mother).count() == len(news)
    assert Message.objects.filter(user=mother, kind=Message.Kind.NOTICE).count() == len(news)
    subscription = Subscription.objects.get(definition_code=definition.code)
    assert subscription.cursor >= max(e["cursor"] for e in news)


def test_events_before_the_subscription_are_never_acted_on(smart, registries, population):
    mother = _mother(population)
    consent(mother)
    definition = newborn()
    subscribe(definition, on=REGISTRY_NEWS_DAY)  # after the births
    assert read_at(registries, definition, REGISTRY_NEWS_DAY + dt.timedelta(hours=1)) == 0
    assert not Application.objects.exists()
    assert not Firing.objects.exists()
    assert not Message.objects.filter(user=mother).exists()


def test_a_birth_older_than_the_window_starts_nothing(smart, registries, population):
    mother = _mother(population, days=365)
    consent(mother)
    definition = newborn()
    subscribe(definition, on=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    # Two years on, the births of 2024 and 2025 are published after the subscription but are
    # no longer news: nobody is congratulated on a two-year-old.
    assert read_at(registries, definition, TWO_YEARS_ON) == 0
    assert not Application.objects.exists()
    assert not Message.objects.filter(user=mother).exists()
    assert not Firing.objects.exists()
    cursor = Subscription.objects.get(definition_code=definition.code).cursor
    assert cursor > "01704067200-"  # read through: the old events are behind it


def test_without_consent_nothing_starts_and_the_skip_is_recorded(smart, registries, population):
    mother = _mother(population)
    definition = newborn()
    subscribe(definition)
    news = births_after(population, mother, SUBSCRIBED_ON, REGISTRY_REFERENCE)
    assert read_at(registries, definition, REGISTRY_NEWS_DAY) == 0
    assert not Application.objects.exists()
    assert not Message.objects.filter(user=mother).exists()
    skipped = Firing.objects.filter(outcome=Firing.Outcome.NO_CONSENT)
    assert skipped.count() == len(news)
    # No personal data in a skip: no person, no application, the event only as a keyed hash.
    for row in skipped:
        assert row.user_id is None and row.application_id is None
        assert mother.national_code not in row.event_key
        assert all(e["related_national_code"] not in row.event_key for e in news)


def test_withdrawing_consent_stops_it(smart, registries, population):
    mother = _mother(population)
    consent(mother)
    consent(mother, given=False)
    definition = newborn()
    subscribe(definition)
    assert read_at(registries, definition, REGISTRY_NEWS_DAY) == 0
    assert not Application.objects.exists()
    assert Firing.objects.filter(outcome=Firing.Outcome.NO_CONSENT).exists()
    assert mother.proactive_consents.count() == 2  # the history is kept


def test_a_feed_outage_leaves_the_cursor_and_loses_nothing(smart, registries, population):
    mother = _mother(population)
    consent(mother)
    definition = newborn()
    before = subscribe(definition).cursor
    news = births_after(population, mother, SUBSCRIBED_ON, REGISTRY_REFERENCE)
    registries.control("health", mode="fail", status=503)
    with pytest.raises(nix.ProviderUnavailable):
        read_at(registries, definition, REGISTRY_NEWS_DAY)
    # The periodic job logs it and goes on: it starts nothing and moves nothing.
    with time_machine.travel(REGISTRY_NEWS_DAY, tick=True):
        assert periodic.run("proactive-read-feeds")
        assert operations.read_feeds() == 0
    subscription = Subscription.objects.get(definition_code=definition.code)
    assert subscription.cursor == before
    assert subscription.failed_at is not None and subscription.failure
    assert not Application.objects.exists()
    # The registry is back: the next run reads the same events and acts on them.
    registries.control("health", mode="normal")
    from panjereh.exchange import breaker

    breaker.reset()
    with time_machine.travel(REGISTRY_NEWS_DAY, tick=True):
        assert operations.read_feeds() == len(news)
    assert Application.objects.filter(user=mother).count() == len(news)


def test_the_job_is_in_the_one_table_of_periodic_jobs():
    target, every = periodic.DEFAULT_JOBS["proactive-read-feeds"]
    assert target == "panjereh.proactive.operations.read_feeds"
    assert every <= 60
    assert not any("poll-births" in name for name in periodic.DEFAULT_JOBS)


def test_every_trigger_is_an_event_type_of_the_feeds():
    from panjereh.registries.events import EVENT_TYPES, FEEDS
    from panjereh.services import proactive

    assert set(proactive.TRIGGERS) == set(EVENT_TYPES)
    assert proactive.FIELDS == {t: f for fields in FEEDS.values() for t, f in fields.items()}
    spec = json.loads(
        (Path(proactive.__file__).parent / "definitions/newborn-birth-certificate.json").read_text()
    )
    assert spec["proactive"]["trigger"] == "birth"
    assert spec["proactive"]["service"] == "events"
