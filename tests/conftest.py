import os

import pytest

os.environ.setdefault("PANJEREH_MODE", "test")


def pytest_collection_modifyitems(config, items):
    """``PANJEREH_TEST_SHARD=k/n`` (scripts/test.sh) keeps the tests of every n-th test module,
    starting from the k-th, in the order of their paths: n runs with k = 1..n run every test
    exactly once between them, whatever tests are added."""
    shard = os.environ.get("PANJEREH_TEST_SHARD", "")
    if not shard:
        return
    k, n = (int(part) for part in shard.split("/"))
    assert 1 <= k <= n, f"PANJEREH_TEST_SHARD={shard!r}: expected k/n with 1 <= k <= n"
    modules = sorted({item.nodeid.split("::")[0] for item in items})
    mine = {module for i, module in enumerate(modules) if i % n == k - 1}
    kept, other = [], []
    for item in items:
        (kept if item.nodeid.split("::")[0] in mine else other).append(item)
    if other:
        config.hook.pytest_deselected(items=other)
        items[:] = kept


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the site's default language: a test that activates another one
    (or a request through the client that leaves it active) must not change what the next
    test's ``reverse()`` or ``gettext`` give, whichever tests share a process (the shards)."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()
