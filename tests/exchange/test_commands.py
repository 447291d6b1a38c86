"""The registries' command and the demo's start-up: real processes, stopped cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from panjereh.exchange.models import DataService
from panjereh.registries import REGISTRIES
from panjereh.registries.catalogue import SERVICES


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still "exists" until its parent reaps it; count it as gone.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.slow
def test_registries_run_writes_addresses_and_stops_on_sigterm(tmp_path):
    env = {**os.environ, "PANJEREH_VAR": str(tmp_path), "PANJEREH_HOME": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    command = [sys.executable, "-m", "panjereh.cli", "registries", "run", "--profile", "small"]
    runner = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    addresses = tmp_path / "registries.json"
    try:
        deadline = time.monotonic() + 30
        while not addresses.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        data = json.loads(addresses.read_text())
        assert len(data["registries"]) == len(REGISTRIES) == 18
        health = httpx.get(f"{data['registries']['post']}/_health", trust_env=False).json()
        assert health == {"registry": "post", "ok": True}
        children = list(data["pids"].values())
        assert all(_alive(pid) for pid in children)
    finally:
        runner.send_signal(signal.SIGTERM)
        runner.wait(15)
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in children)
    assert not addresses.exists()


@pytest.mark.django_db
def test_demo_start_up_registers_providers_idempotently(monkeypatch, settings, tmp_path):
    from panjereh.demo.exchange import start_registries
    from panjereh.registries import assets, billers, convictions, courts

    monkeypatch.setenv("PANJEREH_REGISTRY_PORT_BASE", "0")  # free ports
    settings.VAR_DIR = tmp_path
    first = start_registries("small", write=lambda _text: None)
    try:
        count = DataService.objects.count()
        # 35 data services (with the companies' representatives), the 3 life-event feeds and
        # the judiciary's 2 SANA services, and the registries the demo starts beside them: the
        # simulated billers, the Financial Convictions Registry, the courts' case system and the
        # asset registries (banks and stock, and the asset services of deeds and vehicles)
        assert sum(len(services) for services in SERVICES.values()) == 40
        beside = (
            len(billers.SERVICES)
            + len(convictions.SERVICES)
            + len(courts.SERVICES)
            + sum(len(services) for services in assets.SERVICES.values())
        )
        assert count == 40 + beside
        assert (tmp_path / "registries.json").exists()
    finally:
        first.stop()
    assert not (tmp_path / "registries.json").exists()
    second = start_registries("small", write=lambda _text: None)
    try:
        assert DataService.objects.count() == count  # updated in place, not duplicated
        civil = DataService.objects.get(subsystem="civil-registry", code="identity")
        assert civil.upstream_base_url == f"{second.url('civil')}/identity"
    finally:
        second.stop()
