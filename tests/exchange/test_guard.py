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


def test_the_guard_is_used_with_the_shared_disk_cache(settings, monkeypatch, tmp_path):
    monkeypatch.setattr(gateway, "_guard_choice", None)
    settings.CACHES = {
        "default": {"BACKEND": "panjereh.common.cache.SharedDiskCache", "LOCATION": str(tmp_path)}
    }
    chosen = gateway._guard()
    assert isinstance(chosen, guard.Guard)
    assert chosen.path == Path(settings.VAR_DIR) / gateway.GUARD_FILE
    monkeypatch.setattr(gateway, "_guard_choice", None)
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache"}}
    assert gateway._guard() is None  # several hosts: the cache holds them


def test_the_gateway_refuses_replays_and_limits_rates_through_the_guard(
    exchange, population, tmp_path, monkeypatch
):
    monkeypatch.setattr(gateway, "_guard_choice", (guard.Guard(tmp_path / "guard.sqlite3"),))
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
def test_sealing_prepared_outside_the_lock_keeps_the_chain(exchange):
    """Outside a transaction the sealer hashes and signs a batch before taking the write lock;
    if another sealer moved the head meanwhile, the batch is computed again under the lock."""
    from panjereh.exchange.models import LogHead

    for i in range(5):
        _insert(f"seal-{i}")
    assert log._seal_batch(3) == 3  # prepared outside the lock, head unchanged: used as is
    for i in range(5, 8):
        _insert(f"seal-{i}")
    # A batch prepared against the head before the last seal is stale: it is recomputed.
    stale_records = list(LogRecord.objects.filter(seq__isnull=True).order_by("id")[:2])
    stale = (0, log.GENESIS, stale_records, log._chain(stale_records, 0, log.GENESIS))
    assert log._seal_batch_in_transaction(2, stale) == 2
    assert log.seal_pending() == 3
    head = LogHead.objects.get(pk=1)
    assert head.last_seq == 8
    result = log.verify()
    assert result.problem is None and result.checked == 8


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
