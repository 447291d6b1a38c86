"""Housekeeping jobs: each runs at its own interval; a failing job is logged and retried at its
next turn without stopping the others; every default job's target exists."""

from __future__ import annotations

import pytest
from django.utils.module_loading import import_string

from panjereh.common import periodic

calls: list[str] = []


def ok_job() -> None:
    calls.append("ok")


def bad_job() -> None:
    calls.append("bad")
    raise RuntimeError("registry down")


def test_jobs_run_at_their_intervals_and_a_failure_does_not_stop_the_others(settings, caplog):
    settings.PANJEREH_PERIODIC_JOBS = {
        "fast": ("tests.test_periodic.ok_job", 5),
        "slow": ("tests.test_periodic.bad_job", 20),
    }
    now = [100.0]
    schedule = periodic.Schedule(clock=lambda: now[0])
    calls.clear()
    assert schedule.run_due() == []  # nothing runs at start-up
    now[0] = 106
    assert schedule.run_due() == ["fast"]
    now[0] = 121
    assert schedule.run_due() == ["fast", "slow"]
    assert calls == ["ok", "ok", "bad"]
    assert "periodic job slow" in caplog.text
    now[0] = 142
    assert schedule.run_due() == ["fast", "slow"]  # the failed one is tried again


def test_every_default_job_names_something_that_exists():
    from django.core.management import get_commands

    for name, (target, every) in periodic.DEFAULT_JOBS.items():
        if isinstance(every, str):  # an interval that is a setting of its own
            assert callable(import_string(every)), name
        assert periodic.jobs()[name][1] > 0, name
        if target.startswith("command:"):
            assert target.split(":", 1)[1] in get_commands(), name
        else:
            assert callable(import_string(target)), name


@pytest.mark.django_db
def test_the_default_jobs_run_on_an_empty_database():
    for name in periodic.DEFAULT_JOBS:
        assert periodic.run(name), name


def test_beat_and_the_embedded_worker_read_the_one_job_table(settings):
    from panjereh.conf.celery import app

    # Beat's schedule is the table, every job sent as ``common.periodic`` with its name.
    assert set(app.conf.beat_schedule) == set(periodic.jobs())
    for name, (_target, every) in periodic.jobs().items():
        entry = app.conf.beat_schedule[name]
        assert entry == {"task": "common.periodic", "schedule": float(every), "args": (name,)}
    assert app.tasks["common.periodic"]  # the task beat sends is registered
    # The embedded worker runs the same table, the health checks included.
    settings.PANJEREH_PERIODIC_JOBS = {
        "fast": ("tests.test_periodic.ok_job", 5),
        "status-probe": ("tests.test_periodic.ok_job", 30),
    }
    schedule = periodic.Schedule()
    assert schedule.every == {"fast": 5, "status-probe": 30}
    assert set(periodic.beat_schedule()) == {"fast", "status-probe"}
    assert periodic.Schedule(every={"fast": 0}).every == {"status-probe": 30}  # 0: never


def test_the_status_probe_is_a_job_at_the_status_interval(settings):
    target, every = periodic.DEFAULT_JOBS["status-probe"]
    assert target == "panjereh.status.tasks.probe_round"
    settings.PANJEREH_STATUS_INTERVAL = 12.5
    assert periodic.jobs()["status-probe"] == (target, 12.5)
    assert periodic.beat_schedule()["status-probe"]["schedule"] == 12.5
    every = periodic.Schedule().every  # the embedded worker runs them all
    assert every["status-probe"] == 12.5
    assert {"status-sync", "status-rollup"} <= set(every)
    settings.PANJEREH_STATUS_INTERVAL = None  # not set: the environment, else the default
    assert periodic.jobs()["status-probe"][1] == 30.0  # the documented default


@pytest.mark.django_db
def test_the_embedded_worker_runs_every_job_of_the_table_once(settings, monkeypatch):
    from panjereh.services import worker

    monkeypatch.setattr(worker.signal, "signal", lambda *_args: None)  # pytest keeps its own

    settings.PANJEREH_PERIODIC_JOBS = {
        "fast": ("tests.test_periodic.ok_job", 5),
        "slow": ("tests.test_periodic.bad_job", 20),
    }
    calls.clear()
    worker.run(once=True, write=lambda _text: None)
    assert calls == ["ok", "bad"]
