"""The gateway's one-use assertions and rate counters live in the Django cache (Redis in
production and the PostgreSQL run, the host's disk cache in the demo), exact under concurrent
threads and shared by processes; and the log's inserts, each its own transaction, are all
chained and committed under concurrent threads."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest
from django.core.cache import cache

from panjereh.exchange import guard, log
from panjereh.exchange.client import make_assertion
from panjereh.exchange.models import LogRecord


@pytest.fixture(autouse=True)
def _own_anchor(settings, tmp_path):
    """Seals committed here (transactional tests) are anchored in this test's own file."""
    settings.PANJEREH_EXCHANGE_ANCHOR_PATH = str(tmp_path / "anchor.jsonl")


@pytest.fixture
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def test_an_assertion_is_admitted_once_and_counted(empty_cache):
    assert guard.admit("jti:a", 60, "rate:1", 120) == (True, 1)
    assert guard.admit("jti:a", 60, "rate:1", 120) == (False, 0)  # replayed: not counted
    assert guard.admit("jti:b", 60, "rate:1", 120) == (True, 2)
    assert guard.admit("jti:c", 60, "rate:2", 120) == (True, 1)


def test_an_expired_record_no_longer_blocks(empty_cache):
    assert guard.admit("jti:a", 1, "rate:1", 120) == (True, 1)
    time.sleep(1.1)
    assert guard.admit("jti:a", 60, "rate:1", 120) == (True, 2)


SNIPPET = """
import sys
import django
django.setup()
from panjereh.exchange import guard
print(*guard.admit(sys.argv[1], 60, "rate", 120))
"""


def _admit_in_a_demo_process(var_dir, jti: str) -> str:
    env = {
        **os.environ,
        "PANJEREH_MODE": "demo",
        "PANJEREH_VAR": str(var_dir),
        "DJANGO_SETTINGS_MODULE": "panjereh.conf.settings",
    }
    env.pop("REDIS_URL", None)
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", SNIPPET, jti], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_demo_processes_of_a_host_share_assertions_and_counters(tmp_path):
    """Without Redis (the demo) the guard is the host's disk cache, through Django's cache
    framework: no store of its own beside it."""
    assert _admit_in_a_demo_process(tmp_path, "jti:x") == "True 1"
    assert _admit_in_a_demo_process(tmp_path, "jti:x") == "False 0"  # replay in another process
    assert _admit_in_a_demo_process(tmp_path, "jti:y") == "True 2"  # the counter went on
    assert not list(tmp_path.glob("exchange-guard*"))


def test_concurrent_threads_lose_no_count_and_no_replay(empty_cache):
    results: list[tuple[str, tuple[bool, int]]] = []
    lock = threading.Lock()
    start = threading.Barrier(16)

    def worker(n: int) -> None:
        start.wait()
        for i in range(25):
            jti = f"jti:{(n * 25 + i) % 200}"  # every jti twice among the 400 calls
            answer = guard.admit(jti, 60, "rate", 120)
            with lock:
                results.append((jti, answer))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    admitted = [jti for jti, (fresh, _count) in results if fresh]
    assert sorted(admitted) == sorted({jti for jti, _answer in results})  # each jti once
    counts = sorted(count for _jti, (fresh, count) in results if fresh)
    assert counts == list(range(1, 201))  # every admitted call counted exactly once


def test_the_gateway_keeps_assertions_and_counters_in_the_django_cache(
    exchange, population, settings, tmp_path
):
    """With the demo's disk cache too, the gateway's replay and rate records are the cache's
    (where every process of the host finds them), not a database of the gateway's own."""
    settings.CACHES = {
        "default": {
            "BACKEND": "panjereh.common.cache.SharedDiskCache",
            "LOCATION": str(tmp_path / "cache"),
        }
    }
    settings.VAR_DIR = tmp_path
    from django.core.cache import caches

    disk = caches["default"]
    service = exchange.service("education", "school-record")
    exchange.grant(service, ["education.school_record"])
    exchange.system.rate_per_minute = 2
    exchange.system.save()
    code = population.national_code(2)
    token = make_assertion(exchange.key, exchange.client_id, "urn:panjereh:nix")
    assert exchange.call(service, code, code, token=token).status_code == 200
    minute = int(time.time() // 60)
    counted = [disk.get(f"nix:rate:{exchange.system.pk}:{m}") for m in (minute - 1, minute)]
    assert 1 in counted
    replay = exchange.call(service, code, code, token=token)
    assert replay.status_code == 401 and replay.json()["code"] == "replayed_assertion"
    assert exchange.call(service, code, code).status_code == 200
    limited = exchange.call(service, code, code)
    assert limited.status_code == 429 and limited.json()["code"] == "rate_limited"
    assert not list(tmp_path.glob("exchange-guard*"))


def _insert(x_road_id: str) -> None:
    from django.utils import timezone

    log.insert_record(
        created_at=timezone.now(),
        x_road_id=x_road_id,
        method="GET",
        path="test",
        outcome="ok",
        http_status=200,
        latency_us=1,
        items=[],
    )


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="SQLite's in-memory test database is shared-cache, whose table locks no writer "
    "waits for; the demo's database file serialises its writers (the PostgreSQL run checks "
    "the head's row lock)",
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_log_inserts_are_all_committed(exchange):
    """Outside a transaction every thread's row is committed and chained (none lost, none
    twice, one unbroken chain in commit order)."""
    from django.db import connection

    assert not connection.in_atomic_block
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def worker(n: int) -> None:
        from django.db import connections

        start.wait()
        try:
            for i in range(20):
                _insert(f"group-{n}-{i}")
        except BaseException as exc:  # noqa: BLE001 -- reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    ids = LogRecord.objects.filter(x_road_id__startswith="group-").values_list(
        "x_road_id", flat=True
    )
    assert sorted(ids) == sorted(f"group-{n}-{i}" for n in range(8) for i in range(20))
    rows = list(LogRecord.objects.order_by("id").values_list("seq", flat=True))
    assert rows == list(range(1, 161))
    assert log.seal_pending() == 160
    result = log.verify()
    assert result.problem is None and result.checked == 160 and result.unsealed == 0


@pytest.mark.django_db(transaction=True)
def test_records_are_chained_at_insert_and_sealed_by_range(exchange):
    """Each committed insert carries its number and hash; the sealer signs ranges of them and
    writes no record; the unsealed tail verifies too."""
    from panjereh.exchange.models import LogHead, Seal

    for i in range(5):
        _insert(f"seal-{i}")
    assert list(LogRecord.objects.order_by("id").values_list("seq", flat=True)) == [1, 2, 3, 4, 5]
    assert LogHead.objects.get(pk=1).last_seq == 5
    hashes_before = dict(LogRecord.objects.values_list("seq", "hash"))
    assert log._seal_batch(3) == 3
    assert dict(LogRecord.objects.values_list("seq", "hash")) == hashes_before
    seal = Seal.objects.get()
    assert (seal.first_seq, seal.last_seq, seal.last_hash) == (1, 3, hashes_before[3])
    for i in range(5, 8):
        _insert(f"seal-{i}")
    result = log.verify()
    assert result.problem is None and result.checked == 8 and result.unsealed == 5
    assert log.seal_pending(batch_size=4) == 5
    assert [(s.first_seq, s.last_seq) for s in Seal.objects.all()] == [(1, 3), (4, 7), (8, 8)]
    result = log.verify()
    assert result.problem is None and result.checked == 8 and result.unsealed == 0


@pytest.mark.django_db(transaction=True)
def test_the_migration_chains_records_written_before_chaining_at_insert(exchange):
    """Records an older version inserted unchained (seq null) are chained after the head, in
    insertion order, by migration 0003, and the whole log then verifies."""
    import importlib

    from django.apps import apps
    from django.db import connection
    from django.utils import timezone

    migration = importlib.import_module("panjereh.exchange.migrations.0003_chain_at_insert")
    for i in range(3):
        _insert(f"chained-{i}")
    for i in range(2):  # as the old gateway inserted them: no number, no hash
        LogRecord.objects.create(
            created_at=timezone.now(),
            x_road_id=f"legacy-{i}",
            method="GET",
            path="test",
            outcome="ok",
            http_status=200,
            latency_us=1,
            items=["civil.identity"],
        )

    class Editor:
        pass

    editor = Editor()
    editor.connection = connection
    migration.chain_unchained(apps, editor)
    rows = list(LogRecord.objects.order_by("id").values_list("x_road_id", "seq"))
    assert [seq for _x, seq in rows] == [1, 2, 3, 4, 5]
    assert log.seal_pending() == 5
    result = log.verify()
    assert result.problem is None and result.checked == 5
