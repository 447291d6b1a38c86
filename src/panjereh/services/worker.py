"""The embedded worker: runs the periodic jobs of the one table (``panjereh.common.periodic``)
in process, the same task functions Celery runs in production.

``panjereh worker`` runs :func:`run`; ``panjereh demo`` starts it as a child process with
:func:`start_child`. Killing it at any moment loses nothing: the state is in the database and
another run continues when the killed run's lease expires.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable

from django.db import close_old_connections

from panjereh.common.periodic import Schedule


def run(
    *,
    interval: float = 0.2,
    events_every: float | None = None,
    once: bool = False,
    write: Callable[[str], None] = print,
) -> None:
    """Run the due jobs every ``interval`` seconds until SIGTERM or Ctrl+C (``once``: every job
    once, now). ``events_every`` changes how often the life-event feeds are read (0: never)."""
    stopping = False

    def stop(*_args) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    every = {} if events_every is None else {"proactive-read-feeds": events_every}
    schedule = Schedule(every=every)
    write("worker ready")
    if once:
        close_old_connections()
        schedule.run_all()
        return
    while not stopping:
        close_old_connections()
        schedule.run_due()
        time.sleep(interval)


class Child:
    def __init__(self, process: subprocess.Popen) -> None:
        self.process = process

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def start_child(extra_args: list[str] | None = None) -> Child:
    command = [sys.executable, "-m", "panjereh", "worker", *(extra_args or [])]
    return Child(subprocess.Popen(command, stdin=subprocess.DEVNULL))  # noqa: S603
