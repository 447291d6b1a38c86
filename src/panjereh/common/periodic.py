"""What runs when: one table of periodic jobs, read by Celery beat (production) and by the
embedded worker (``panjereh worker``, started by the demo).

A job is a dotted path to a function taking no argument, or ``command:<name>`` for a
management command, with the seconds between runs: a number, or the dotted path of a function
giving it (for an interval that is a setting of its own, as the status probe's
``PANJEREH_STATUS_INTERVAL``; read whenever the table is). The table is the setting
``PANJEREH_PERIODIC_JOBS`` (name → (target, seconds)), by default :data:`DEFAULT_JOBS`; apps
are named by path only, so this module depends on none of them. Beat sends each job as the task
``common.periodic`` with the job's name (:func:`beat_schedule`); the embedded worker runs the
due ones in its loop (:class:`Schedule`). A failing job is logged and tried again at its next
turn; it never stops the worker or the other jobs.

The health checks (``status-*``) are jobs like any other: beat sends them in production; in the
demo the embedded worker runs them, a process apart from the web server, so a probe round sees
the national window go down too. ``panjereh status probe`` runs one round by hand.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.core.management import call_command
from django.utils.module_loading import import_string

log = logging.getLogger(__name__)

DEFAULT_JOBS: dict[str, tuple[str, float | str]] = {
    # Smart services: applications whose next attempt is due (retries after backoff, and work
    # a crashed worker left once its lease expired; new applications are queued at commit under
    # Celery), email/SMS alerts.
    "services-process-due": ("panjereh.services.tasks.process_due", 1),
    "inbox-deliver": ("panjereh.services.tasks.deliver_notifications", 2),
    # Fees (services.fees): rejected applications' refunds asked again when the first request
    # did not get through; applications unpaid for PANJEREH_SERVICES_UNPAID_DAYS closed.
    "services-fee-refunds": ("panjereh.services.fees.refund_due", 300),
    "services-close-unpaid": ("panjereh.services.fees.close_unpaid", 3600),
    # The registries' life-event feeds (births, deaths, marriages, 18th birthdays,
    # retirements), read from each subscription's cursor: they start proactive services.
    "proactive-read-feeds": ("panjereh.proactive.operations.read_feeds", 30),
    # Health checks of the window, the exchange, registries and agency windows (every
    # PANJEREH_STATUS_INTERVAL seconds, 30 by default).
    "status-probe": ("panjereh.status.tasks.probe_round", "panjereh.status.tasks.probe_interval"),
    "status-sync": ("panjereh.status.tasks.sync_systems", 300),
    "status-rollup": ("panjereh.status.tasks.rollup", 3600),
    # The exchange's message log: sign new records (the only sealer), expire grants past their
    # validity, roll up this and last month.
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
    # Payments: ask the provider about payments whose callback never came or whose verify
    # failed (each with its own doubling backoff, PANJEREH_PAYMENTS_CHECK_AFTER/_MAX), refunds
    # the provider has not confirmed, and the last days' settlement files.
    "payments-reconcile": ("panjereh.payments.operations.reconcile_due", 10),
    "payments-refunds": ("panjereh.payments.operations.submit_refunds_due", 60),
    # What a captured payment pays for, told again if the first try right after the capture
    # did not happen (``payments.purposes``: an outbox).
    "payments-tell-purposes": ("panjereh.payments.purposes.tell_due", 15),
    "payments-settlement": ("panjereh.payments.operations.reconcile_recent_settlements", 3600),
    # The official mailbox: bulk sends made available a chunk at a time (the rate), notices
    # deemed served once their days have passed, signed status callbacks owed to agencies.
    "mailbox-bulk": ("panjereh.mailbox.operations.process_items", 2),
    "mailbox-serve-due": ("panjereh.mailbox.operations.serve_due", 60),
    "mailbox-callbacks": ("panjereh.mailbox.operations.send_callbacks", 5),
    # Notices kept for people who never signed up: closed after PANJEREH_MAILBOX_HELD_DAYS,
    # the sender told to serve on paper.
    "mailbox-held-expire": ("panjereh.mailbox.operations.expire_held", 3600),
    # Permits (docs/portals.md): approval-based applications sent to their authority's
    # specialised portal (retries after a doubling delay), and each portal's event feed read
    # from its cursor into the applications' trace (and overruns of the legal time marked).
    "permits-send": ("panjereh.permits.routing.send_due", 15),
    "permits-read-portals": ("panjereh.permits.routing.read_portals", 30),
    # Issued permits past their last day become expired, the holder told (permits.holding).
    "permits-expire": ("panjereh.permits.holding.expire_due", 86400),
    # Case progress (docs/judiciary.md): the courts' case-event feed read from its cursor;
    # each party told once per new stage, hearing and decision.
    "judiciary-read-cases": ("panjereh.judiciary.cases.read_feed", 30),
    # Credit checks (docs/credit.md) past their consents' expiry closed, results kept for the
    # readers erased.
    "credit-expire": ("panjereh.credit.operations.expire_due", 600),
    # Bills (لوایح) not yet received by the courts' system, tried again after their backoff
    # (judiciary.pleadings).
    "judiciary-send-bills": ("panjereh.judiciary.tasks.send_bills", 15),
    # A judge's asset inquiries (docs/assets.md): registry calls and freeze items due (after
    # their backoff, or whose Celery task was lost).
    "assets-due": ("panjereh.assets.operations.run_due", 5),
    # Appointments (docs/appointments.md): holds past their minutes give their seat back,
    # reminders the day before through the official mailbox, unmarked past bookings no-shows.
    "appointments-expire-holds": ("panjereh.appointments.operations.expire_holds", 30),
    "appointments-remind": ("panjereh.appointments.operations.send_reminders", 900),
    "appointments-no-shows": ("panjereh.appointments.operations.mark_no_shows", 900),
}


def _seconds(every: float | str) -> float:
    return float(import_string(every)()) if isinstance(every, str) else float(every)


def jobs() -> dict[str, tuple[str, float]]:
    """The table, each interval in seconds (an interval named by a function is asked now)."""
    table = getattr(settings, "PANJEREH_PERIODIC_JOBS", DEFAULT_JOBS)
    return {name: (target, _seconds(every)) for name, (target, every) in table.items()}


def beat_schedule() -> dict[str, dict]:
    """Celery beat's schedule: every job of the table as the task ``common.periodic``."""
    return {
        name: {"task": "common.periodic", "schedule": float(every), "args": (name,)}
        for name, (_target, every) in jobs().items()
    }


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
    one interval after the worker starts (not all at once on start-up). ``every`` changes a
    job's interval for this worker (0: never); ``skip`` leaves jobs out."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        *,
        every: dict[str, float] | None = None,
        skip: frozenset[str] | set[str] = frozenset(),
    ) -> None:
        self.clock = clock
        self.every = {name: seconds for name, (_t, seconds) in jobs().items() if name not in skip}
        self.every.update({name: s for name, s in (every or {}).items() if name in jobs()})
        self.every = {name: seconds for name, seconds in self.every.items() if seconds > 0}
        start = clock()
        self.next_run = {name: start + seconds for name, seconds in self.every.items()}

    def run_due(self) -> list[str]:
        now = self.clock()
        ran = []
        for name, seconds in self.every.items():
            if now >= self.next_run[name]:
                self.next_run[name] = now + seconds
                run(name)
                ran.append(name)
        return ran

    def run_all(self) -> list[str]:
        """Every job once, now."""
        for name in self.every:
            run(name)
        return list(self.every)
