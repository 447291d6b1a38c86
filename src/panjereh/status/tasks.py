"""The monitor's periodic work: jobs of the one table (``panjereh.common.periodic``), sent by
Celery beat in production and run by the embedded worker in the demo. ``panjereh status probe``
runs one round by hand."""

from __future__ import annotations

import logging

from celery import shared_task

log = logging.getLogger(__name__)


def probe_interval() -> float:
    """Seconds between two probe rounds: ``PANJEREH_STATUS_INTERVAL`` (the job table's
    interval for ``status-probe``)."""
    from . import conf

    return float(conf.get("INTERVAL"))


@shared_task(name="status.probe_round")
def probe_round() -> int:
    """One round over every enabled system; returns how many checks failed. Each incident the
    round opens or resolves is logged (a warning: the demo's console shows it)."""
    from . import monitor

    def told(incident) -> None:
        log.warning("%s", monitor.describe_incident(incident))

    return sum(1 for _system, result in monitor.probe_round(on_incident=told) if not result.ok)


@shared_task(name="status.sync_systems")
def sync_systems() -> dict[str, int]:
    from . import monitor

    return monitor.sync_systems()


@shared_task(name="status.rollup")
def rollup() -> dict[str, int]:
    from . import monitor

    return monitor.rollup()
