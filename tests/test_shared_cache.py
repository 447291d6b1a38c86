"""Without Redis, the server processes of one host share one cache (on disk): a client
assertion used in one gunicorn worker is refused in another, and rate-limit counters add up."""

from __future__ import annotations

import os
import subprocess
import sys

SNIPPET = """
import django
django.setup()
from django.core.cache import cache
print(type(cache._cache if hasattr(cache, "_cache") else cache).__module__.split(".")[0])
print(cache.add("nix:jti:IR/GOV/1/sub:abc", 1, timeout=60))
print(cache.incr("rate", 1) if cache.add("rate", 0, timeout=60) or True else None)
"""


def _run(tmp_path) -> list[str]:
    env = {
        **os.environ,
        "PANJEREH_MODE": "demo",
        "PANJEREH_VAR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "panjereh.conf.settings",
    }
    env.pop("REDIS_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", SNIPPET], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_two_processes_share_one_cache_without_redis(tmp_path):
    first = _run(tmp_path)
    second = _run(tmp_path)
    assert first[0] == "diskcache"
    assert first[1:] == ["True", "1"]
    assert second[1:] == ["False", "2"]  # the assertion is used; the counter went on
