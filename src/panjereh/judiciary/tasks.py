"""Background work of the judicial e-services: the same functions under Celery beat (the job
table, ``common.periodic``) and the demo's worker."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="judiciary.read_cases")
def read_cases() -> int:
    """Read the courts' case-event feed from its cursor (``cases.read_feed``): how many events
    were newly recorded. A failing read is counted on the cursor and tried again later."""
    from . import cases

    return cases.read_feed()


@shared_task(name="judiciary.send_bills")
def send_bills() -> int:
    """Bills whose next try to reach the court is due (``pleadings.send_due``): how many the
    court received. A bill the court could not be reached for waits for its next turn."""
    from . import pleadings

    return pleadings.send_due()
