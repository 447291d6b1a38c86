"""The host's guard (one-use assertions and rate counters without Redis) and the log's group
commit: shared by all the host's processes, exact under concurrent threads, and wired into the
gateway when the cache is the shared disk cache."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from panjereh.exchange import gateway, guard, log
from panjereh.exchange.client import make_assertion
from panjereh.exchange.models import LogRecord


@pytest.fixture(autouse=True)
def _own_anchor(settings, tmp_path):
    """Seals committed here (transactional tests) are anchored in this test's own file."""
    settings.PANJEREH_EXCHANGE_ANCHOR_PATH = str(tmp_path / "anchor.jsonl")


SNIPPET = """
import sys
from panjereh.exchange.guard import Guard
g = Guard(sys.argv[1])
print(*g.admit(sys.argv[2], 60, "rate", 120))
"""


def _admit_in_another_process(path: Path, jti: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", SNIPPET, str(path), jti],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_an_assertion_is_admitted_once_and_counted(tmp_path):
    host = guard.Guard(tmp_path / "guard.sqlite3")
    assert host.admit("jti:a", 60, "rate:1", 120) == (True, 1)
    assert host.admit("jti:a", 60, "rate:1", 120) == (False, 0)  # replayed: not counted
    assert host.admit("jti:b", 60, "rate:1", 120) == (True, 2)
    assert host.admit("jti:c", 60, "rate:2", 120) == (True, 1)


def test_an_expired_record_no_longer_blocks(tmp_path):
    host = guard.Guard(tmp_path / "guard.sqlite3")
    assert host.admit("jti:a", -1, "rate:1", 120) == (True, 1)  # already expired
    assert host.admit("jti:a", 60, "rate:1", 120) == (True, 2)


def test_processes_of_the_host_share_the_guard(tmp_path):
    path = tmp_path / "guard.sqlite3"
    assert _admit_in_another_process(path, "jti:x") == "True 1"
    assert _admit_in_another_process(path, "jti:x") == "False 0"  # replay in another process
    assert _admit_in_another_process(path, "jti:y") == "True 2"  # the counter went on
    assert guard.Guard(path).admit("jti:x", 60, "rate", 120) == (False, 0)


def test_concurrent_threads_lose_no_count_and_no_replay(tmp_path):
    host = guard.Guard(tmp_path / "guard.sqlite3")
    results: list[tuple[str, tuple[bool, int]]] = []
    lock = threading.Lock()
    start = threading.Barrier(16)

    def worker(n: int) -> None:
        start.wait()
        for i in range(25):
            jti = f"jti:{(n * 25 + i) % 200}"  # every jti twice among the 400 calls
            answer = host.admit(jti, 60, "rate", 120)
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


def test_the_guard_is_used_with_the_shared_disk_cache(settings, tmp_path):
    """The choice follows the cache backend, and a changed setting is seen (no stale choice)."""
    settings.CACHES = {
        "default": {"BACKEND": "panjereh.common.cache.SharedDiskCache", "LOCATION": str(tmp_path)}
    }
    chosen = gateway._guard()
    assert isinstance(chosen, guard.Guard) and not gateway._shared_cache()
    assert chosen.path == Path(settings.VAR_DIR) / gateway.GUARD_FILE
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache"}}
    assert gateway._guard() is None and gateway._shared_cache()  # several hosts: the cache
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert gateway._guard() is None and not gateway._shared_cache()


def test_the_gateway_refuses_replays_and_limits_rates_through_the_guard(
    exchange, population, tmp_path, monkeypatch
):
    host_guard = guard.Guard(tmp_path / "guard.sqlite3")
    monkeypatch.setattr(gateway, "_cache_mode", lambda: ("disk", host_guard))
    service = exchange.service("education", "school-record")
    exchange.grant(service, ["education.school_record"])
    exchange.system.rate_per_minute = 2
    exchange.system.save()
    code = population.national_code(2)
    token = make_assertion(exchange.key, exchange.client_id, "urn:panjereh:nix")
    assert exchange.call(service, code, code, token=token).status_code == 200
    replay = exchange.call(service, code, code, token=token)
    assert replay.status_code == 401 and replay.json()["code"] == "replayed_assertion"
    assert exchange.call(service, code, code).status_code == 200
    limited = exchange.call(service, code, code)
    assert limited.status_code == 429 and limited.json()["code"] == "rate_limited"


@pytest.mark.django_db(transaction=True)
def test_concurrent_log_inserts_are_all_committed(exchange):
    """Outside a transaction the rows of concurrent threads are committed together, and every
    thread's row is in (none lost, none twice)."""
    from django.db import connection
    from django.utils import timezone

    assert not connection.in_atomic_block
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def worker(n: int) -> None:
        from django.db import connections

        start.wait()
        try:
            for i in range(20):
                log.insert_record(
                    created_at=timezone.now(),
                    x_road_id=f"group-{n}-{i}",
                    method="GET",
                    path="test",
                    outcome="ok",
                    http_status=200,
                    latency_us=1,
                    items=[],
                )
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
    # Chained as they were committed: numbers 1..160 in insertion order, one unbroken chain.
    rows = list(LogRecord.objects.order_by("id").values_list("seq", flat=True))
    assert rows == list(range(1, 161))
    assert log.seal_pending() == 160
    result = log.verify()
    assert result.problem is None and result.checked == 160 and result.unsealed == 0


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


def test_group_commit_fails_every_job_of_a_failed_batch_and_any_left_undecided():
    from panjereh.exchange.guard import GroupCommit

    def failing(batch):
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        GroupCommit(failing).submit("x")

    def forgetful(batch):  # decides nothing, as if interrupted
        return None

    with pytest.raises(RuntimeError, match="interrupted"):
        GroupCommit(forgetful).submit("x")

    def answering(batch):
        for job in batch:
            job.finish(job.args * 2)

    assert GroupCommit(answering).submit(21) == 42
