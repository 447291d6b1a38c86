"""The Celery app for production background work.

The broker comes from ``CELERY_BROKER_URL`` or ``REDIS_URL``. The task functions live in
``panjereh.services.tasks``; the embedded default (``panjereh worker``) calls the very same
functions in process, polling the database for due applications, so both modes run one code.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "panjereh.conf.settings")

app = Celery("panjereh")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["panjereh.services", "panjereh.status"])

# Retries after backoff (and work a crashed worker left), alerts, and registry events.
app.conf.beat_schedule = {
    "services-process-due": {"task": "services.process_due", "schedule": 2.0},
    "inbox-deliver": {"task": "inbox.deliver_notifications", "schedule": 5.0},
    "inbox-poll-births": {"task": "inbox.poll_registry_events", "schedule": 60.0},
    "status-probe": {"task": "status.probe_round", "schedule": 30.0},
    "status-sync": {"task": "status.sync_systems", "schedule": 300.0},
    "status-rollup": {"task": "status.rollup", "schedule": 3600.0},
}


@app.on_after_finalize.connect
def _housekeeping(sender, **_kwargs) -> None:
    # The same housekeeping jobs as the embedded worker's (panjereh.common.periodic).
    from panjereh.common.periodic import jobs

    for name, (_target, every) in jobs().items():
        sender.conf.beat_schedule[f"periodic-{name}"] = {
            "task": "common.periodic",
            "schedule": float(every),
            "args": (name,),
        }
