"""Background work of the official mailbox: the same functions under Celery and the demo's
worker. Bulk sends are queued to Celery at commit (``PANJEREH_TASKS=celery``) and picked up by
the job ``mailbox-bulk`` in any case, so a lost task loses no item."""

from __future__ import annotations

from celery import shared_task

from panjereh.common.conf import setting


@shared_task(name="mailbox.process_batch", acks_late=True)
def process_batch(batch_id: int) -> int:
    """One chunk of a batch, then the next chunk queued while items remain due: the chunk size
    is the rate (``PANJEREH_MAILBOX_BULK_CHUNK`` items a run)."""
    import time

    from . import operations

    started = time.monotonic()
    handled = operations.process_items(batch_id=batch_id)
    if handled:
        # The next chunk a second after this one began (at once if this one took longer).
        countdown = max(0.0, 1.0 - (time.monotonic() - started))
        process_batch.apply_async((batch_id,), countdown=countdown)
    return handled


def queue(batch_id: int) -> None:
    if setting("PANJEREH_TASKS", "") == "celery":
        process_batch.delay(batch_id)
