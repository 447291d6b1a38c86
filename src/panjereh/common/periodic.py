"""Periodic housekeeping, run by the embedded worker (``panjereh worker``, started by the demo)
and, in production, by Celery beat: one list of jobs for both.

A job is a dotted path to a function taking no argument, or ``command:<name>`` for a
management command, with the seconds between runs. The list is the setting
``PANJEREH_PERIODIC_JOBS`` (name → (target, seconds)); apps are named by path only, so this
module depends on none of them. A failing job is logged and tried again at its next turn;
it never stops the worker or the other jobs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.core.management import call_command
from django.utils.module_loading import import_string

log = logging.getLogger(__name__)

DEFAULT_JOBS: dict[str, tuple[str, float]] = {
    # The exchange's message log: chain and sign new records (gateway processes also do it in
    # the background), expire grants past their validity, roll up this and last month.
    "exchange-seal": ("panjereh.exchange.log.seal_pending", 15),
    "exchange-expire-grants": ("panjereh.exchange.grants.expire_due", 600),
    "exchange-rollup": ("panjereh.exchange.stats.rollup_recent", 900),
    # Sign-outs an agency window did not accept yet; one-time codes and old sessions.
    "identity-backchannel-retry": ("panjereh.identity.backchannel.retry_due", 5),
    "identity-purge": ("command:identity_purge", 3600),
    # Journey roll-up for the service performance figures (this and last month).
    "oversight-journey-rollup": ("panjereh.oversight.servperf.rollup_recent", 900),
    # Participation: publish last week's "services of the week" once the week is over (again
    # harmlessly if already published) and close consultations past their closing date.
    "participation-publish-week": ("panjereh.participation.operations.publish_due", 900),
    "participation-close-expired": ("panjereh.participation.operations.close_expired", 900),
}


def jobs() -> dict[str, tuple[str, float]]:
    return dict(getattr(settings, "PANJEREH_PERIODIC_JOBS", DEFAULT_JOBS))


def _callable(target: str) -> Callable[[], object]:
    if target.startswith("command:"):
        name = target.split(":", 1)[1]
        return lambda: call_command(name, verbosity=0)
    return import_string(target)


def run(name: str) -> bool:
    """Run one job now; False when it failed (logged)."""
    target, _every = jobs()[name]
    try:
        _callable(target)()
    except Exception:
        log.exception("periodic job %s (%s) failed; it runs again at its next turn", name, target)
        return False
    return True


class Schedule:
    """Which jobs are due, by the monotonic clock of one worker process. Each job first runs
    one interval after the worker starts (not all at once on start-up)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        start = clock()
        self.next_run = {name: start + every for name, (_t, every) in jobs().items()}

    def run_due(self) -> list[str]:
        now = self.clock()
        ran = []
        for name, (_target, every) in jobs().items():
            due = self.next_run.setdefault(name, now + every)
            if now >= due:
                self.next_run[name] = now + every
                run(name)
                ran.append(name)
        return ran
