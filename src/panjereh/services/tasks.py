"""Background tasks: the same functions under Celery (production) and ``panjereh worker``.

- :func:`process_application` advances one application (idempotent, leased);
- :func:`process_due` advances every application whose next attempt is due (retries after
  backoff, and anything a crashed worker left half done once its lease expired);
- :func:`deliver_notifications` sends pending email/SMS alerts.

(Proactive services are started by ``panjereh.proactive``'s periodic job, reading the
registries' life-event feeds.)

With ``PANJEREH_TASKS=celery`` a new application is queued to Celery at commit; otherwise the
in-process worker picks it up from the database on its next poll.
"""

from __future__ import annotations

import logging

from celery import shared_task

from panjereh.common.conf import setting

log = logging.getLogger(__name__)


def use_celery() -> bool:
    return setting("PANJEREH_TASKS", "") == "celery"


@shared_task(name="services.process_application", acks_late=True)
def process_application(application_id: int) -> str:
    from . import engine

    return engine.advance(application_id)


@shared_task(name="services.process_due")
def process_due(limit: int = 20) -> int:
    from . import engine

    ids = engine.due(limit)
    for application_id in ids:
        try:
            process_application(application_id)
        except Exception:
            # One broken application must not stop the others; its lease expires and it is
            # retried, and the error is in the log.
            log.exception("application %s failed", application_id)
    return len(ids)


@shared_task(name="inbox.deliver_notifications")
def deliver_notifications(limit: int = 50) -> int:
    from panjereh.inbox import notify

    return notify.deliver_pending(limit)


@shared_task(name="common.periodic")
def periodic(name: str) -> bool:
    """One housekeeping job of ``panjereh.common.periodic`` (Celery beat schedules them)."""
    from panjereh.common import periodic as jobs

    return jobs.run(name)


def enqueue(application_id: int) -> None:
    """Hand a new (or newly runnable) application to the background workers."""
    if use_celery():
        process_application.delay(application_id)
