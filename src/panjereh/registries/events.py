"""Life events the registries publish as a feed with a cursor (pub/sub over pull).

A registry that records life events serves them at ``GET /events?after=<cursor>&limit=N``, in
the order they were published: a birth (the Ministry of Health's hospital births), a death in
a family, a marriage and a person's 18th birthday (Civil Registration), a retirement (Social
Security). Every event is derived from the synthetic population, so every registry process
agrees on them; what the feed shows depends only on the registry's clock: an event is
published at ``published_at`` and appears once the clock has reached it. The cursor of an
event is its publication second and id (``"<epoch seconds, 11 digits>-<id>"``): a later
event always has a greater cursor, so a consumer that keeps the cursor of the last event it
read never misses nor re-reads one.

The answer lists each type under a field of its own (``births``, ``deaths``, …), each field
one data item of the registry's description, so the exchange passes a consumer only the types
its grant covers (a window granted births sees no deaths); ``next`` and ``has_more`` are key
fields, always passed. Events older than the feed's retention (from 2000) are not kept.
"""

from __future__ import annotations

import bisect
import datetime as dt
import random
import re
import threading
from typing import Any

from .population import HOUSEHOLD_SIZE, REFERENCE_DATE, Population, jalali

FLOOR = dt.date(2000, 1, 1)  # the feed's retention: nothing older is served
# 18th birthdays and retirements ahead of the population's day are published when the clock
# reaches them; this is how far ahead the feed computes them.
HORIZON = REFERENCE_DATE + dt.timedelta(days=5 * 366)
MAX_LIMIT = 500
DEFAULT_LIMIT = 100
CURSOR_RE = re.compile(r"^[0-9]{11}-[a-z0-9-]{0,80}$")

# registry: {event type: the answer's field}; the field is the type's data item.
FEEDS: dict[str, dict[str, str]] = {
    "health": {"birth": "births"},
    "civil": {"death": "deaths", "marriage": "marriages", "coming_of_age": "comings_of_age"},
    "ssi": {"retirement": "retirements"},
}
EVENT_TYPES = tuple(t for types in FEEDS.values() for t in types)
RETIREMENT_AGE = {"male": 60, "female": 55}


class BadCursor(ValueError):
    """The ``after`` or ``limit`` of a feed request is not one the feed gave or accepts."""


def _birthday(born: dt.date, years: int) -> dt.date:
    try:
        return born.replace(year=born.year + years)
    except ValueError:  # 29 February in a common year
        return dt.date(born.year + years, 3, 1)


def _at(day: dt.date, seconds: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC) + dt.timedelta(seconds=seconds)


def _event(
    pop: Population,
    kind: str,
    key: str,
    occurred: dt.date,
    published: dt.datetime,
    subjects: list[int],
    related: int | None,
    **extra: Any,
) -> dict[str, Any]:
    event_id = f"{kind.replace('_', '-')}-{key}"
    return {
        "cursor": f"{int(published.timestamp()):011d}-{event_id}",
        "id": event_id,
        "type": kind,
        "occurred_on": occurred.isoformat(),
        "occurred_on_jalali": jalali(occurred),
        "published_at": published.isoformat(),
        "subjects": [pop.national_code(s) for s in subjects],
        "related_national_code": pop.national_code(related) if related is not None else None,
        **extra,
    }


def _family(pop: Population, i: int) -> list[int]:
    """The living members of person ``i``'s household other than ``i``."""
    k = pop.person(i)["household"]
    members = range(HOUSEHOLD_SIZE * k, HOUSEHOLD_SIZE * k + HOUSEHOLD_SIZE)
    return [j for j in members if j != i and pop.person(j)["alive"]]


def _events_of(pop: Population, registry: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i in range(pop.size):
        k, role = divmod(i, HOUSEHOLD_SIZE)
        if registry == "health" and (role < 2 or pop.household(k)["years"][role] < FLOOR.year):
            continue  # only children born since the retention floor: no need to draw the rest
        p = pop.person(i)
        code = pop.national_code(i)
        rng = random.Random(f"{pop.seed}:event:{i}")  # noqa: S311 -- synthetic data
        lag = rng.randrange(3600, 12 * 3600)  # the registry records it hours after the fact
        if registry == "health":
            birth = pop.hospital_birth(i)
            if birth and p["birth_date"] >= FLOOR:
                moment = dt.datetime.fromisoformat(birth["birth_time"]).replace(tzinfo=dt.UTC)
                parents = [j for j in (p["mother"], p["father"]) if j is not None]
                out.append(
                    _event(
                        pop,
                        "birth",
                        code,
                        p["birth_date"],
                        moment + dt.timedelta(seconds=lag),
                        parents,
                        i,
                        hospital=birth["hospital"],
                        city=birth["city"],
                        sex=birth["sex"],
                    )
                )
        elif registry == "civil":
            death = p["death_date"]
            if death is not None and death >= FLOOR:
                family = _family(pop, i)
                if family:
                    out.append(
                        _event(pop, "death", code, death, _at(death, 86400 + lag), family, i)
                    )
            eighteen = _birthday(p["birth_date"], 18)
            if FLOOR <= eighteen <= HORIZON and (death is None or death > eighteen):
                out.append(
                    _event(pop, "coming_of_age", code, eighteen, _at(eighteen, lag), [i], None)
                )
            if p["role"] >= 2 and p["marital_status"] == "married":
                first = _birthday(p["birth_date"], 20)
                span = max(1, (REFERENCE_DATE - first).days)
                married = first + dt.timedelta(days=rng.randrange(span))
                if FLOOR <= married <= REFERENCE_DATE:
                    out.append(_event(pop, "marriage", code, married, _at(married, lag), [i], None))
        elif registry == "ssi":
            age = RETIREMENT_AGE[p["sex"]]
            retired = _birthday(p["birth_date"], age)
            alive_then = p["death_date"] is None or p["death_date"] > retired
            if FLOOR <= retired <= HORIZON and alive_then and rng.random() < 0.5:
                out.append(_event(pop, "retirement", code, retired, _at(retired, lag), [i], None))
    out.sort(key=lambda e: e["cursor"])
    return out


class Feed:
    """The events of one registry, computed once (on the first request) and kept in order."""

    def __init__(self, registry: str, population: Population) -> None:
        self.registry = registry
        self.population = population
        self.fields = FEEDS.get(registry, {})
        self.lock = threading.Lock()
        self.events: list[dict[str, Any]] | None = None
        self.cursors: list[str] = []

    def all(self) -> list[dict[str, Any]]:
        with self.lock:
            if self.events is None:
                self.events = _events_of(self.population, self.registry)
                self.cursors = [e["cursor"] for e in self.events]
            return self.events

    def page(self, now: dt.datetime, after: str = "", limit: int = DEFAULT_LIMIT) -> dict[str, Any]:
        """The events published by ``now`` after the cursor ``after``, at most ``limit``."""
        if after and not CURSOR_RE.match(after):
            raise BadCursor("after must be a cursor this feed gave")
        if not 1 <= limit <= MAX_LIMIT:
            raise BadCursor(f"limit must be between 1 and {MAX_LIMIT}")
        horizon = f"{int(now.timestamp()):011d}."  # "." sorts after "-": the whole second
        events = self.all()
        start = bisect.bisect_right(self.cursors, after)
        end = bisect.bisect_left(self.cursors, horizon)
        chosen = events[start : min(end, start + limit)] if start < end else []
        answer: dict[str, Any] = {field: [] for field in self.fields.values()}
        for event in chosen:
            answer[self.fields[event["type"]]].append(event)
        return {
            "next": chosen[-1]["cursor"] if chosen else after,
            "has_more": end - start > limit,
            **answer,
        }


class Clock:
    """A registry's "now": the wall clock, or a moment set through ``/_control`` (tests, demos)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.fixed: dt.datetime | None = None

    def now(self) -> dt.datetime:
        with self.lock:
            return self.fixed or dt.datetime.now(dt.UTC)

    def set(self, value: str | None) -> None:
        moment = None
        if value:
            moment = dt.datetime.fromisoformat(value)
            if moment.tzinfo is None:
                raise ValueError("now must carry its time zone")
        with self.lock:
            self.fixed = moment

    def as_dict(self) -> dict[str, Any]:
        with self.lock:
            return {"now": self.fixed.isoformat() if self.fixed else None}
