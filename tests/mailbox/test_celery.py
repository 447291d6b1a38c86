"""A bulk send under a real Celery worker (the PostgreSQL leg of ``make test``, Redis as the
broker): the batch is queued at commit, the worker makes its items available a chunk at a time,
and every item ends as one notice."""

from __future__ import annotations

import pytest

from panjereh.mailbox.models import Batch, Notice
from tests.celery_fixtures import (  # noqa: F401
    celery_processes,
    needs_redis_and_postgresql,
    wait_until,
)
from tests.factories import UserFactory

from .conftest import national_code

pytestmark = [
    needs_redis_and_postgresql,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


def test_a_celery_worker_makes_a_batch_available_in_chunks(
    sender,
    settings,
    tmp_path,
    celery_processes,  # noqa: F811
):
    settings.PANJEREH_TASKS = "celery"  # queued to the broker at commit
    worker = celery_processes.worker(
        PANJEREH_VAR=str(tmp_path), PANJEREH_MAILBOX_BULK_CHUNK="40", PANJEREH_TASKS="celery"
    )
    model = UserFactory._meta.model
    codes = [national_code() for _ in range(120)]
    model.objects.bulk_create([model(username=f"c-{code}", national_code=code) for code in codes])
    items = [{"to": {"national_code": c}, "subject": "دادنامه", "body": "متن"} for c in codes]
    response = sender.post("batches", {"items": items}, key="celery-list")
    assert response.status_code == 202, response.content
    batch = Batch.objects.get(reference=response.json()["id"])
    wait_until(lambda: Batch.objects.get(pk=batch.pk).status == "done", 120, "the worker to finish")
    notices = Notice.objects.filter(batch=batch)
    assert notices.count() == 120
    assert sorted(notices.values_list("recipient", flat=True)) == sorted(codes)
    assert worker.log().count("mailbox.process_batch") >= 3  # one chunk of 40 a run
