"""Background tasks of identity: the same functions under Celery and the embedded worker."""

from __future__ import annotations

from celery import shared_task

from panjereh.common.conf import setting


def use_celery() -> bool:
    """Production mode (``PANJEREH_TASKS=celery``), as for the services' tasks."""
    return setting("PANJEREH_TASKS", "") == "celery"


@shared_task(name="identity.deliver_backchannel", acks_late=True)
def deliver_backchannel(ids: list[int]) -> int:
    """The first attempt of back-channel logouts written at a sign-out; failures stay pending
    for :func:`panjereh.identity.backchannel.retry_due` (the periodic job)."""
    from . import backchannel

    return sum(1 for result in backchannel.deliver(ids) if result["ok"])
