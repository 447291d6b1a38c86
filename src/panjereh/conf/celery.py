"""The Celery app for production background work.

The broker comes from ``CELERY_BROKER_URL`` or ``REDIS_URL``. The task functions live in the
apps' ``tasks`` modules; the embedded default (``panjereh worker``) calls the very same
functions in process. What runs when is one table, ``panjereh.common.periodic``: beat's
schedule is made from it, and the embedded worker reads it too.
"""

from __future__ import annotations

import os

from celery import Celery

from panjereh.common.periodic import beat_schedule

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "panjereh.conf.settings")

app = Celery("panjereh")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(
    [
        "panjereh.services",
        "panjereh.status",
        "panjereh.identity",
        "panjereh.mailbox",
        "panjereh.judiciary",
        "panjereh.appointments",
        "panjereh.credit",
        "panjereh.assets",
    ]
)


@app.on_after_configure.connect
def _beat_schedule(sender, source, **_kwargs) -> None:
    """Beat sends every job of the one table (``panjereh.common.periodic``) as
    ``common.periodic``; the table is read once the configuration is, after Django's settings
    (never while this module is imported with them)."""
    source.beat_schedule = beat_schedule()
