"""``panjereh portals run | control``: the portals from the command line, without Django."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import httpx
import pytest

pytestmark = pytest.mark.slow


def _command(*args: str) -> list[str]:
    return [sys.executable, "-c", "from panjereh.cli import main; main()", "portals", *args]


def test_run_refuses_to_start_without_a_secret(tmp_path):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PANJEREH_PORTAL_SECRET")}
    done = subprocess.run(  # noqa: S603 -- our own interpreter and arguments
        _command("run", "--port", "0", "--state-dir", str(tmp_path)),
        env=environ,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2 and "PANJEREH_PORTAL_SECRET_BEHINYAB" in done.stderr


def test_run_serves_the_portals_with_secrets_from_the_environment(tmp_path):
    environ = {**os.environ, "PANJEREH_PORTAL_SECRET_HERITAGE": "a-secret-from-the-environment"}
    process = subprocess.Popen(  # noqa: S603 -- our own interpreter and arguments
        _command("run", "--port", "0", "--state-dir", str(tmp_path)),
        env=environ,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("heritage: http://127.0.0.1:")
        base = line.split(": ", 1)[1].strip().removesuffix("/heritage/api/v1")
        health = httpx.get(f"{base}/_health", trust_env=False).json()
        assert health == {"ok": True, "portals": ["heritage"]}  # only the portals with a secret
        moved = subprocess.run(  # noqa: S603
            _command("control", "--url", base, "--advance", "60"),
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert moved.returncode == 0 and json.loads(moved.stdout)["clock"] == "running"
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(15)
    assert (tmp_path / "portals.sqlite3").exists()
