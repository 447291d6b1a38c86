"""The monitor's periodic work as Celery tasks (production); ``panjereh status probe`` and the
demo's child process call the same functions in a loop."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="status.probe_round")
def probe_round() -> int:
    """One round over every enabled system; returns how many checks failed."""
    from . import monitor

    return sum(1 for _system, result in monitor.probe_round() if not result.ok)


@shared_task(name="status.sync_systems")
def sync_systems() -> dict[str, int]:
    from . import monitor

    return monitor.sync_systems()


@shared_task(name="status.rollup")
def rollup() -> dict[str, int]:
    from . import monitor

    return monitor.rollup()
