"""Smart services under a real Celery worker (the PostgreSQL leg of ``make test``, with Redis
as the broker): an application is carried by the worker to its document, and a worker killed
(SIGKILL, whole process group) in the middle of one leaves work that a restarted worker
finishes exactly once (the task is acknowledged late and the broker hands it out again)."""

from __future__ import annotations

import pytest

from tests.celery_fixtures import (  # noqa: F401
    VISIBILITY_TIMEOUT,
    celery_processes,
    needs_redis_and_postgresql,
    wait_until,
)

from .conftest import citizen, clean_adult, submit

pytestmark = [
    needs_redis_and_postgresql,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


def _worker_env(smart, tmp_path) -> dict[str, str]:
    return {
        "PANJEREH_SERVICES_EXCHANGE_URL": smart.url,
        "PANJEREH_SERVICES_LEASE_SECONDS": "2",
        "PANJEREH_SERVICES_HTTP_TIMEOUT": "30",
        "PANJEREH_VAR": str(tmp_path),
    }


def _state(application) -> str:
    application.refresh_from_db()
    return application.state


def test_a_celery_worker_carries_an_application_to_its_document(
    smart,
    population,
    settings,
    tmp_path,
    celery_processes,  # noqa: F811
):
    from panjereh.services.models import Document

    settings.PANJEREH_TASKS = "celery"  # queued to the broker at commit
    worker = celery_processes.worker(**_worker_env(smart, tmp_path))
    user = citizen(population, lambda i: clean_adult(population, i))
    application = submit("no-criminal-record", user, purpose="test")
    wait_until(lambda: _state(application) == "issued", 90, "the worker to issue the document")
    assert Document.objects.filter(application=application).count() == 1
    assert "services.process_application" in worker.log()  # the worker ran it, nobody else


def test_a_killed_worker_s_application_is_finished_once_after_the_restart(
    smart,
    registries,
    population,
    settings,
    tmp_path,
    celery_processes,  # noqa: F811
):
    from panjereh.inbox.models import Message
    from panjereh.services.models import Document, FetchedData, JourneyEvent
    from panjereh.services.notices import link

    settings.PANJEREH_TASKS = "celery"
    env = _worker_env(smart, tmp_path)
    first = celery_processes.worker("w1", **env)
    # The Judiciary answers slowly, so the worker is surely inside that call when killed.
    registries.control("judiciary", mode="slow", delay_ms=4000)
    user = citizen(population, lambda i: clean_adult(population, i))
    application = submit("no-criminal-record", user, purpose="test")

    def asked_judiciary() -> bool:
        events = JourneyEvent.objects.filter(application=application, kind="data_requested")
        return any(e.data.get("registry") == "judiciary" for e in events)

    wait_until(asked_judiciary, 60, "the judiciary request")
    first.kill()
    assert _state(application) == "fetching"  # killed mid-task
    assert not Document.objects.filter(application=application).exists()
    registries.control("judiciary", mode="normal")

    second = celery_processes.worker("w2", **env)
    wait_until(
        lambda: _state(application) == "issued",
        60 + 3 * VISIBILITY_TIMEOUT,
        "the restarted worker to finish the application",
    )
    assert "services.process_application" in second.log()  # handed out again by the broker
    # Exactly once: one document, one issued event, one inbox message, each fetch stored once.
    assert Document.objects.filter(application=application).count() == 1
    assert JourneyEvent.objects.filter(application=application, kind="issued").count() == 1
    assert Message.objects.filter(link_url=link(application)["link_url"]).count() == 1
    assert FetchedData.objects.filter(application=application).count() == 2
