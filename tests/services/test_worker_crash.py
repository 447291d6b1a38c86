"""Kill the worker process (SIGKILL) in the middle of an application, start it again: the
application completes, and only once.

Everything runs as separate processes on one SQLite file, as in the embedded demo: the
gateway (``panjereh serve``), the worker (``panjereh worker``) and the registries of the
exchange tests' cluster.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from .conftest import clean_adult

pytestmark = pytest.mark.slow

SETUP = """
import json, sys
from panjereh.exchange import provision
from panjereh.identity.models import User
from panjereh.services import definitions, nix
from panjereh.services.models import ServiceDefinition
result = definitions.load()
assert not result.refused, result.refused
provision.register_registries(json.loads(sys.argv[1]))
for d in ServiceDefinition.objects.filter(active=True):
    nix.provision(d, resolution_number="1404/test")
User.objects.create(username="crash", national_code=sys.argv[2], assurance_level=3)
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(env: dict, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "panjereh", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _query(db: Path, sql: str, *params) -> list[tuple]:
    with sqlite3.connect(db, timeout=20) as conn:
        return conn.execute(sql, params).fetchall()


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_sigkill_mid_application_then_restart_completes_once(registries, population, tmp_path):
    person = next(i for i in range(population.size) if clean_adult(population, i))
    national_code = population.national_code(person)
    port = _free_port()
    env = {
        **os.environ,
        "PANJEREH_VAR": str(tmp_path),
        "PANJEREH_MODE": "test",
        "PANJEREH_SERVICES_EXCHANGE_URL": f"http://127.0.0.1:{port}",
        "PANJEREH_SERVICES_LEASE_SECONDS": "2",
        "PANJEREH_SERVICES_HTTP_TIMEOUT": "30",
        "PANJEREH_TASKS": "inprocess",
    }
    env.pop("DATABASE_URL", None)
    db = tmp_path / "panjereh.sqlite3"
    _run(env, "migrate", "-v0")
    setup = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup()\n" + SETUP,
            json.dumps(registries.addresses()),
            national_code,
        ],
        env={**env, "DJANGO_SETTINGS_MODULE": "panjereh.conf.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert setup.returncode == 0, setup.stderr[-2000:]
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "panjereh",
            "serve",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    worker = None
    try:
        _wait_for(lambda: _ok(f"http://127.0.0.1:{port}/services/jwks.json"), 30, "the gateway")
        # The Judiciary answers slowly, so the worker is surely inside that call when killed.
        registries.control("judiciary", mode="slow", delay_ms=4000)
        worker = _worker(env)
        out = _run(
            env,
            "services",
            "submit",
            "no-criminal-record",
            "--national-code",
            national_code,
            "--input",
            "purpose=test",
            "--key",
            "crash-1",
        )
        tracking = json.loads(out)["tracking_code"]
        app_id = _query(db, "SELECT id FROM services_application WHERE tracking_code=?", tracking)[
            0
        ][0]

        def asked_judiciary() -> bool:
            rows = _query(
                db,
                "SELECT data FROM services_journeyevent WHERE application_id=? AND kind='data_requested'",
                app_id,
            )
            return any(json.loads(r[0]).get("registry") == "judiciary" for r in rows)

        _wait_for(asked_judiciary, 30, "the judiciary request")
        time.sleep(0.5)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        state = _query(db, "SELECT state FROM services_application WHERE id=?", app_id)[0][0]
        assert state == "fetching"  # killed mid-application
        assert _query(db, "SELECT count(*) FROM services_document")[0][0] == 0

        registries.control("judiciary", mode="normal")
        worker = _worker(env)
        _wait_for(
            lambda: (
                _query(db, "SELECT state FROM services_application WHERE id=?", app_id)[0][0]
                == "issued"
            ),
            60,
            "the application to be issued after the restart",
        )
        # Exactly once: one application, one document, one issued event, one inbox message.
        assert _query(db, "SELECT count(*) FROM services_application")[0][0] == 1
        assert (
            _query(db, "SELECT count(*) FROM services_document WHERE application_id=?", app_id)[0][
                0
            ]
            == 1
        )
        assert (
            _query(
                db,
                "SELECT count(*) FROM services_journeyevent WHERE application_id=? AND kind='issued'",
                app_id,
            )[0][0]
            == 1
        )
        assert (
            _query(
                db, "SELECT count(*) FROM inbox_message WHERE dedupe_key=?", f"decision:{tracking}"
            )[0][0]
            == 1
        )
        assert (
            _query(db, "SELECT count(*) FROM services_fetcheddata WHERE application_id=?", app_id)[
                0
            ][0]
            == 2
        )
    finally:
        for process in (worker, server):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()


def _ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1, trust_env=False).status_code == 200
    except httpx.HTTPError:
        return False


def _worker(env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "panjereh", "worker", "--events-every", "0"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
