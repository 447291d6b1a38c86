"""Real Celery processes (worker and beat) for the PostgreSQL leg of ``make test``.

``scripts/test.sh`` runs the suite a second time on a throw-away PostgreSQL with a throw-away
Redis beside it (``REDIS_URL`` for the cache, ``CELERY_BROKER_URL`` for the broker). There the
tests using these fixtures start ``celery -A panjereh.conf.celery worker`` and ``beat`` as
processes of their own, connected to pytest-django's test database (the tests are
``transaction=True``: what they write is committed, so the worker sees it) and to the broker;
without Redis and PostgreSQL they are skipped with the reason.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest

needs_redis_and_postgresql = pytest.mark.skipif(
    not (
        os.environ.get("REDIS_URL")
        and os.environ.get("CELERY_BROKER_URL")
        and os.environ.get("DATABASE_URL", "").startswith("postgres")
    ),
    reason="needs PostgreSQL and Redis (REDIS_URL, CELERY_BROKER_URL): the PostgreSQL leg of "
    "make test (scripts/test.sh) starts both",
)

# A task a killed worker left is handed out again this many seconds after it was taken.
VISIBILITY_TIMEOUT = 5


def database_url_for_processes() -> str:
    """The URL of pytest-django's test database (the processes must use the same one)."""
    from django.db import connection

    s = connection.settings_dict
    user = quote(s["USER"] or "")
    password = f":{quote(s['PASSWORD'])}" if s.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{s['HOST']}:{s['PORT']}/{s['NAME']}"


def process_env(**extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_processes(),
        "PANJEREH_MODE": "test",
        "DJANGO_SETTINGS_MODULE": "panjereh.conf.settings",
        "PANJEREH_CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        "PANJEREH_DB_CONN_MAX_AGE": "0",
        "PANJEREH_LOG_LEVEL": "INFO",
    }
    env.update(extra)
    return env


def empty_broker() -> None:
    """Nothing left in the test run's broker by an earlier test (queued or unacknowledged)."""
    import redis

    redis.Redis.from_url(os.environ["CELERY_BROKER_URL"]).flushdb()


class CeleryProcess:
    """A Celery worker or beat in a process group of its own (a prefork worker is a main
    process and its pool's children: a kill takes them all)."""

    def __init__(self, kind: str, log_path: Path, env: dict[str, str], *args: str) -> None:
        self.kind = kind
        self.log_path = log_path
        self._log = open(log_path, "ab")  # noqa: SIM115 -- closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "panjereh.conf.celery", kind, *args],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"celery {self.kind} did not log {text!r}:\n{self.log()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL the whole group: no warm shutdown, no acknowledgement."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self._log.close()


def start_worker(tmp_path: Path, env: dict[str, str], name: str = "w1") -> CeleryProcess:
    worker = CeleryProcess(
        "worker",
        tmp_path / f"celery-{name}.log",
        env,
        "--loglevel=INFO",
        "--concurrency=1",
        f"--hostname={name}@%h",
        "--without-gossip",
        "--without-mingle",
    )
    worker.wait_for_log("ready.")
    return worker


def start_beat(tmp_path: Path, env: dict[str, str]) -> CeleryProcess:
    beat = CeleryProcess(
        "beat",
        tmp_path / "celery-beat.log",
        env,
        "--loglevel=INFO",
        f"--schedule={tmp_path / 'beat-schedule'}",
        "--pidfile=",
    )
    beat.wait_for_log("beat: Starting")
    return beat


@pytest.fixture
def celery_processes(tmp_path):
    """Start Celery processes against the test database and the broker; all stopped after
    the test (by their process group)."""
    started: list[CeleryProcess] = []
    empty_broker()

    class Processes:
        def worker(self, name: str = "w1", **env: str) -> CeleryProcess:
            started.append(start_worker(tmp_path, process_env(**env), name))
            return started[-1]

        def beat(self, **env: str) -> CeleryProcess:
            started.append(start_beat(tmp_path, process_env(**env)))
            return started[-1]

    yield Processes()
    for process in reversed(started):
        process.stop()
    empty_broker()


def wait_until(predicate, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")
