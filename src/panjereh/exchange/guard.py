"""One-use client assertions and rate-limit counters for the gateway processes of one host.

Every call through the gateway records its assertion's ``jti`` (a replayed assertion is refused)
and counts against its system's rate limit; both must hold across all the host's gateway
processes. With Redis (several hosts) they live in the Django cache. Without it the Django cache
is diskcache (SQLite files shared by the processes), where the two are two write transactions
per call, each pickling its value and keeping the cache's size accounts; and a writer that finds
a SQLite database locked sleeps in SQLite's busy handler (1, 2, 5, 10 ms …) however briefly the
lock is held, so under load the gateway threads spent more time waiting there than working.

The guard keeps both in one small SQLite database of its own (``VAR_DIR/exchange-guard.sqlite3``,
WAL) with one write transaction for both checks, and that transaction is shared:

- the threads of a process hand their checks to whichever of them writes next, which runs every
  check waiting at that moment in one transaction (group commit) and gives each thread its
  answer;
- the processes take turns through an exclusive ``flock`` on a lock file next to the database,
  which the kernel hands to the next waiter as soon as it is released (no sleeping and
  polling), before ``BEGIN IMMEDIATE``.

Each check is decided inside the transaction, in order: a ``jti`` already recorded and not
expired is a replay (and is not counted); otherwise it is recorded and the counter incremented,
its new value returned. Expired rows are deleted at most every ``PURGE_EVERY`` seconds.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from pathlib import Path

PURGE_EVERY = 30.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jti (key TEXT PRIMARY KEY, expires REAL NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS counter (
    key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires REAL NOT NULL
) WITHOUT ROWID;
"""
_RECORD_JTI = (
    "INSERT INTO jti (key, expires) VALUES (?, ?) "
    "ON CONFLICT (key) DO UPDATE SET expires = excluded.expires WHERE jti.expires < ?"
)
_COUNT = (
    "INSERT INTO counter (key, count, expires) VALUES (?, 1, ?) "
    "ON CONFLICT (key) DO UPDATE SET count = count + 1 RETURNING count"
)


class HostLock:
    """An exclusive lock across the threads and processes of a host: a thread lock, then an
    ``flock`` on ``path`` (opened once per process). Waiting writers queue in the kernel and
    the next one runs as soon as the lock is released, where SQLite's busy handler would have
    them sleep and poll."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self._thread_lock = threading.Lock()
        self._fd: int | None = None
        self._pid = 0

    def __enter__(self) -> HostLock:
        self._thread_lock.acquire()
        try:
            if self._fd is None or self._pid != os.getpid():  # a forked child opens its own
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
                self._pid = os.getpid()
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        except BaseException:
            self._thread_lock.release()
            raise
        return self

    def __exit__(self, *_exc) -> None:
        try:
            assert self._fd is not None
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()


class Job:
    """One thread's item in a :class:`GroupCommit` batch: the batch runner sets ``result`` (and
    ``done``) or ``error``."""

    __slots__ = ("args", "done", "result", "error")

    def __init__(self, args) -> None:
        self.args = args
        self.done = False
        self.result = None
        self.error: BaseException | None = None

    def finish(self, result=None) -> None:
        self.result, self.done = result, True


class GroupCommit:
    """Group commit for the threads of one process: each thread queues its job and whichever
    thread writes next runs every job waiting at that moment in one call of ``run_batch``
    (one transaction); a thread returns once its own job is decided. A job the runner left
    undecided (it was interrupted) fails; the runner's exception fails the whole batch."""

    def __init__(self, run_batch) -> None:
        self._run_batch = run_batch
        self._pending: list[Job] = []
        self._pending_lock = threading.Lock()
        self._writer_lock = threading.Lock()

    def submit(self, args):
        job = Job(args)
        with self._pending_lock:
            self._pending.append(job)
        with self._writer_lock:
            if not job.done and job.error is None:
                with self._pending_lock:
                    batch, self._pending = self._pending, []
                try:
                    self._run_batch(batch)
                except Exception as exc:
                    for waiting in batch:
                        if not waiting.done:
                            waiting.error = exc
                finally:
                    for waiting in batch:
                        if not waiting.done and waiting.error is None:
                            waiting.error = RuntimeError("the transaction was interrupted")
        if job.error is not None:
            raise job.error
        return job.result


class Guard:
    """The host's record of used assertions and rate counters (one per database path)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._conn: sqlite3.Connection | None = None
        self._pid = 0
        self._group = GroupCommit(self._run)
        self._host_lock = HostLock(f"{self.path}.lock")
        self._purged = 0.0

    # -- connections ------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        # Used only by the writer of the moment (``GroupCommit``): one connection per
        # process, opened again in a forked child.
        conn = self._conn
        if conn is None or self._pid != os.getpid():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                self.path, timeout=10.0, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(_SCHEMA)
            self._conn = conn
            self._pid = os.getpid()
        return conn

    # -- the check --------------------------------------------------------------------------

    def admit(
        self, jti_key: str, jti_ttl: float, counter_key: str, counter_ttl: float
    ) -> tuple[bool, int]:
        """Record ``jti_key`` for ``jti_ttl`` seconds and count one against ``counter_key``
        (kept ``counter_ttl`` seconds): (False, 0) if the jti was already recorded, else
        (True, the counter's new value)."""
        now = time.time()
        return self._group.submit((jti_key, now + jti_ttl, counter_key, now + counter_ttl))

    def _run(self, batch: list[Job]) -> None:
        conn = self._connection()
        with self._host_lock:
            now = time.time()
            conn.execute("BEGIN IMMEDIATE")
            try:
                results = []
                for job in batch:
                    jti_key, jti_expires, counter_key, counter_expires = job.args
                    if conn.execute(_RECORD_JTI, (jti_key, jti_expires, now)).rowcount != 1:
                        results.append((False, 0))  # a replay: recorded already, not counted
                        continue
                    (count,) = conn.execute(_COUNT, (counter_key, counter_expires)).fetchone()
                    results.append((True, count))
                if now - self._purged > PURGE_EVERY:
                    conn.execute("DELETE FROM jti WHERE expires < ?", (now,))
                    conn.execute("DELETE FROM counter WHERE expires < ?", (now,))
                    self._purged = now
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        for job, result in zip(batch, results, strict=True):  # decided once committed
            job.finish(result)


_guards: dict[str, Guard] = {}
_guards_lock = threading.Lock()


def for_path(path: Path) -> Guard:
    key = str(path)
    guard = _guards.get(key)
    if guard is None:
        with _guards_lock:
            guard = _guards.setdefault(key, Guard(path))
    return guard
