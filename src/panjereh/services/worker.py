"""The embedded worker: polls the database and runs the task functions in process.

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

from . import tasks


def run(
    *,
    interval: float = 0.2,
    events_every: float = 30.0,
    once: bool = False,
    write: Callable[[str], None] = print,
) -> None:
    stopping = False

    def stop(*_args) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    last_events = 0.0
    housekeeping = Schedule()
    write("worker ready")
    while not stopping:
        close_old_connections()
        busy = tasks.process_due(limit=20)
        tasks.deliver_notifications()
        if events_every and time.monotonic() - last_events >= events_every:
            last_events = time.monotonic()
            busy += tasks.poll_registry_events()
        housekeeping.run_due()
        if once:
            return
        if not busy:
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
