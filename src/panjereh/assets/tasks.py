"""Background work of the asset inquiry: the same functions under Celery and the demo's worker.

Under ``PANJEREH_TASKS=celery`` each registry call of a new inquiry is its own task, so the four
registries are asked in parallel by the workers; a call that failed is queued again after its
backoff. The periodic job ``assets-due`` (:func:`run_due`) runs whatever is due in any case, so
a lost task loses no call and no freeze.
"""

from __future__ import annotations

import datetime as dt

from celery import shared_task

from panjereh.common.conf import setting


def use_celery() -> bool:
    return setting("PANJEREH_TASKS", "") == "celery"


@shared_task(name="assets.ask_registry", acks_late=True)
def ask_registry(call_id: int) -> str:
    from . import operations

    return operations.ask(call_id)


@shared_task(name="assets.send_freeze", acks_late=True)
def send_freeze(item_id: int) -> str:
    from . import operations

    return operations.send(item_id)


@shared_task(name="assets.run_due")
def run_due(limit: int = 50) -> int:
    from . import operations

    return operations.run_due(limit)


def queue_calls(ids: list[int]) -> None:
    if use_celery():
        for call_id in ids:
            ask_registry.delay(call_id)


def queue_items(ids: list[int]) -> None:
    if use_celery():
        for item_id in ids:
            send_freeze.delay(item_id)


def retry_call(call_id: int, delay: dt.timedelta) -> None:
    if use_celery():
        ask_registry.apply_async((call_id,), countdown=delay.total_seconds())


def retry_item(item_id: int, delay: dt.timedelta) -> None:
    if use_celery():
        send_freeze.apply_async((item_id,), countdown=delay.total_seconds())
