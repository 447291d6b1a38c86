"""Fixtures of the portal tests."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from panjereh.catalogue import search

from .data import Catalogue, build_catalogue


@pytest.fixture
def catalogue(db) -> Catalogue:
    cat = build_catalogue()
    # The factories' saves already invalidate it; start every test from a fresh index anyway.
    search.invalidate()
    return cat


@pytest.fixture(autouse=True)
def fresh_caches():
    """Tests roll their rows back, so IDs and therefore catalogue snapshots repeat from one
    test to the next: forget the index and the cached page bodies around every test."""
    search.invalidate()
    cache.clear()
    yield
    search.invalidate()
    cache.clear()
