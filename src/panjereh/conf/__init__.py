"""Settings, URLs, WSGI and the Celery app.

The Celery app is loaded with Django (Celery's documented pattern) so that the apps' tasks,
written with ``celery.shared_task`` (no app imports ``conf``), are sent through it.
"""

from .celery import app as celery_app

__all__ = ["celery_app"]
