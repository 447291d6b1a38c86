"""The exchange's periodic work under real Celery processes (the PostgreSQL leg of
``make test``): beat schedules the log's sealing from the one job table and a worker seals;
the monthly roll-up runs when the beat's own entry is sent to the worker."""

from __future__ import annotations

import pytest
from django.utils import timezone

from panjereh.exchange import log
from panjereh.exchange.models import LogRecord, MonthlyStat, Seal
from tests.celery_fixtures import (  # noqa: F401
    celery_processes,
    needs_redis_and_postgresql,
    wait_until,
)

pytestmark = [
    needs_redis_and_postgresql,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


def _log_calls(n: int) -> None:
    for i in range(n):
        log.insert_record(
            created_at=timezone.now(),
            x_road_id=f"periodic-{i}",
            method="GET",
            path="test",
            outcome="ok",
            http_status=200,
            latency_us=1_000 + i,
            items=[],
        )


def _env(settings, tmp_path) -> dict[str, str]:
    anchor = str(tmp_path / "anchor.jsonl")
    settings.PANJEREH_EXCHANGE_ANCHOR_PATH = anchor
    return {"PANJEREH_VAR": str(tmp_path), "PANJEREH_EXCHANGE_ANCHOR_PATH": anchor}


def test_beat_has_the_log_sealed_by_the_worker(settings, tmp_path, celery_processes):  # noqa: F811
    _log_calls(5)
    env = _env(settings, tmp_path)
    celery_processes.worker(**env)
    beat = celery_processes.beat(**env)
    wait_until(lambda: log.unsealed_count() == 0, 60, "beat's sealing job to run", interval=1)
    assert "Sending due task exchange-seal" in beat.log()
    assert Seal.objects.exists()
    result = log.verify()
    assert result.ok and result.checked == 5 and result.unsealed == 0


def test_the_roll_up_sent_as_beat_sends_it_is_run_by_the_worker(
    settings,
    tmp_path,
    celery_processes,  # noqa: F811
):
    from panjereh.conf.celery import app

    _log_calls(4)
    celery_processes.worker(**_env(settings, tmp_path))
    entry = app.conf.beat_schedule["exchange-rollup"]
    app.send_task(entry["task"], args=entry.get("args", ()), kwargs=entry.get("kwargs", {}))
    wait_until(MonthlyStat.objects.exists, 60, "the worker's roll-up")
    assert sum(MonthlyStat.objects.values_list("calls", flat=True)) == LogRecord.objects.count()
