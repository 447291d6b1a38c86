"""The per-process TTL cache and the shared generation that invalidates it."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from panjereh.common.ttlcache import Generation, TTLCache


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


class Loader:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> int:
        self.calls += 1
        return self.calls


def test_a_value_is_kept_until_its_time_is_up():
    now = [100.0]
    kept = TTLCache(5.0, clock=lambda: now[0])
    load = Loader()
    assert kept.get("k", load) == 1
    now[0] += 4.9
    assert kept.get("k", load) == 1
    now[0] += 0.2
    assert kept.get("k", load) == 2
    assert load.calls == 2


def test_a_moved_generation_reloads_at_once():
    kept = TTLCache(60.0)
    generation = Generation("test:generation")
    load = Loader()
    assert kept.get("k", load, generation=generation.read()) == 1
    assert kept.get("k", load, generation=generation.read()) == 1
    generation.bump()
    assert kept.get("k", load, generation=generation.read()) == 2
    assert load.calls == 2


def test_a_lost_generation_comes_back_with_a_value_nobody_held():
    generation = Generation("test:generation")
    seen = {generation.read()}
    for _ in range(5):
        cache.delete(generation.key)  # evicted or flushed
        generation.bump()  # the next change starts it anew
        seen.add(generation.read())
    assert len(seen) == 6


def test_the_generation_is_shared_through_the_django_cache():
    # Two processes are two Generation objects over one cache.
    mine, theirs = Generation("test:generation"), Generation("test:generation")
    before = mine.read()
    theirs.bump()
    assert mine.read() != before


def test_ttl_zero_keeps_nothing_and_a_callable_ttl_is_read_each_time():
    ttl = {"value": 0.0}
    kept = TTLCache(lambda: ttl["value"])
    load = Loader()
    assert [kept.get("k", load), kept.get("k", load)] == [1, 2]
    assert "k" not in kept
    ttl["value"] = 10.0
    assert [kept.get("k", load), kept.get("k", load)] == [3, 3]


def test_the_cache_is_bounded_and_clears():
    kept = TTLCache(60.0, max_entries=3)
    for key in range(3):
        kept.get(key, Loader())
    assert len(kept) == 3
    kept.get("one more", Loader())
    assert len(kept) == 1
    kept.clear()
    assert len(kept) == 0
