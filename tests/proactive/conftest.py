"""Fixtures of the proactive-services tests: the smart-services fixtures (real registry
processes, the gateway of the live server, the definitions provisioned) and the two clocks of
a life event, the window's (time-machine) and the registry's (its ``/_control``)."""

from __future__ import annotations

import datetime as dt
from functools import cache

import pytest
import time_machine

from tests.services.conftest import (  # noqa: F401 -- fixtures and helpers shared
    REGISTRY_NEWS_DAY,
    REGISTRY_REFERENCE,
    TWO_YEARS_ON,
    _clean_state,
    _english_messages,
    citizen,
    population,
    recent_mother,
    registries,
    run_until_settled,
    smart,
)

# The window subscribes to the birth feed on this day; the births after it are news on
# REGISTRY_NEWS_DAY (those of the 60 days before it, the certificate's window).
SUBSCRIBED_ON = dt.datetime(2025, 1, 1, 9, 0, tzinfo=dt.UTC)
FEED_REGISTRIES = ("health", "civil", "ssi")


@pytest.fixture(autouse=True)
def _registry_clocks(registries):  # noqa: F811
    yield
    for name in FEED_REGISTRIES:
        if name in registries.processes:
            registries.control(name, now=None)


def newborn():
    from panjereh.services import definitions

    return definitions.active("newborn-birth-certificate")


def subscribe(definition, on: dt.datetime = SUBSCRIBED_ON):
    """The window subscribes to the definition's feed on ``on``."""
    from panjereh.proactive import operations

    with time_machine.travel(on, tick=False):
        return operations.subscribe(definition)


def consent(user, given: bool = True):
    from panjereh.proactive import operations

    return operations.set_consent(user, given)


def read_at(registries, definition, moment: dt.datetime, registry: str = "health") -> int:  # noqa: F811
    """Both clocks at ``moment``, the window reads the definition's feed: services started."""
    from panjereh.proactive import operations

    registries.control(registry, now=moment.isoformat())
    with time_machine.travel(moment, tick=True):
        return operations.read(definition)


def births_after(population, mother, since: dt.datetime, until: dt.date):  # noqa: F811
    """The mother's hospital births published after ``since`` that occurred in the 60 days to
    ``until``."""
    feed = feed_of("health", population)
    children = {
        b["child_national_code"] for b in population.hospital_births_of_mother(mother.index)
    }
    return [
        e
        for e in feed.all()
        if e["related_national_code"] in children
        and dt.datetime.fromisoformat(e["published_at"]) >= since
        and until - dt.timedelta(days=60) <= dt.date.fromisoformat(e["occurred_on"]) <= until
    ]


@cache
def feed_of(registry: str, population):  # noqa: F811
    """The registry's feed as its process computes it (the same population)."""
    from panjereh.registries.events import Feed

    feed = Feed(registry, population)
    feed.all()
    return feed
