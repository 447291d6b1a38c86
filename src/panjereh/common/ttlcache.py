"""Values a process keeps for a few seconds, dropped at once when a shared generation moves.

Some rows are read on every request and change rarely (the exchange's consumer systems, data
services and grants). A process may keep them for a short time (:class:`TTLCache`), but where the
documentation promises that a change takes effect "from the next call", a time limit is not
enough: every change bumps a :class:`Generation`, a counter in the Django cache (Redis in
production, so every process on every host sees it), and each request reads the counter once
and passes it to the cache, which reloads any value kept under another generation.

A generation whose key has gone from the cache (evicted, flushed) comes back with a random
value, never with one a process may still hold values under.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from django.core.cache import cache

T = TypeVar("T")


class Generation:
    """A counter in the Django cache that every change of some data bumps."""

    def __init__(self, key: str) -> None:
        self.key = key

    def read(self) -> int:
        """The current value (one cache read; one more, and a write, if the key is missing)."""
        value = cache.get(self.key)
        if value is None:
            cache.add(self.key, _fresh(), timeout=None)
            value = cache.get(self.key)
        return value

    def bump(self) -> None:
        """Move the counter, so that values read under the old one are not used again."""
        try:
            cache.incr(self.key)
        except ValueError:  # missing: start anew from a value nobody holds
            cache.add(self.key, _fresh(), timeout=None)


def _fresh() -> int:
    return secrets.randbits(62)


class TTLCache:
    """A per-process map of values, each kept at most ``ttl`` seconds and only while the
    generation it was loaded under is current.

    ``ttl`` is a number or a function returning one (read on each lookup, so a setting can
    change it); 0 or less keeps nothing. When more than ``max_entries`` values are held the
    map is emptied (the values are cheap to load again; a bound matters more than a policy).
    ``clock`` is for tests.
    """

    def __init__(
        self,
        ttl: float | Callable[[], float],
        *,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl
        self._clock = clock
        self._max_entries = max_entries
        self._values: dict[Hashable, tuple[float, Any, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, load: Callable[[], T], *, generation: Any = None) -> T:
        """The value kept for ``key`` if fresh and of ``generation``; else ``load()``, kept."""
        ttl = float(self._ttl() if callable(self._ttl) else self._ttl)
        if ttl <= 0:
            return load()
        now = self._clock()
        hit = self._values.get(key)
        if hit is not None and now - hit[0] < ttl and hit[1] == generation:
            return hit[2]
        value = load()
        with self._lock:
            if len(self._values) >= self._max_entries:
                self._values.clear()
            self._values[key] = (now, generation, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()

    def __contains__(self, key: Hashable) -> bool:
        return key in self._values

    def __len__(self) -> int:
        return len(self._values)
