"""Start, address, fault-switch and stop the registry processes.

Used by ``panjereh registries run``, ``panjereh demo``, the tests and the benchmark. Each
registry is a child process; with ``port_base=0`` each binds an ephemeral loopback port and
reports it on its first output line, so parallel test runs never race for ports.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from . import PROFILES, REGISTRIES


class RegistryStartError(RuntimeError):
    """A registry process did not come up."""


class Cluster:
    """The registry processes of one run."""

    def __init__(
        self,
        profile: str = "small",
        *,
        seed: int = 1404,
        port_base: int = 0,
        host: str = "127.0.0.1",
        size: int | None = None,
        registries: tuple[str, ...] = REGISTRIES,
    ) -> None:
        self.size = size or PROFILES[profile]
        self.seed = seed
        self.host = host
        self.registries = registries
        self.ports: dict[str, int] = {
            name: (port_base + n if port_base else 0) for n, name in enumerate(registries)
        }
        self.processes: dict[str, subprocess.Popen] = {}
        # Only the process that started the registries stops them: a forked web worker that
        # exits (and unwinds the same call stack) must leave them running.
        self.owner_pid = os.getpid()
        self.addresses_file: Path | None = None

    # -- lifecycle --------------------------------------------------------------------------

    def _spawn(self, name: str) -> subprocess.Popen:
        command = [
            sys.executable,
            "-m",
            "panjereh.registries.server",
            "--registry",
            name,
            "--host",
            self.host,
            "--port",
            str(self.ports[name]),
            "--seed",
            str(self.seed),
            "--size",
            str(self.size),
            "--parent-pid",
            str(os.getpid()),
        ]
        # Our own interpreter and module with arguments we built: no untrusted input.
        return subprocess.Popen(command, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)  # noqa: S603

    def _await_port(self, name: str, process: subprocess.Popen, deadline: float) -> int:
        assert process.stdout is not None
        while time.monotonic() < deadline:
            ready, _, _ = select.select([process.stdout], [], [], 0.1)
            if ready:
                line = process.stdout.readline()
                if not line:
                    break
                return int(json.loads(line)["port"])
            if process.poll() is not None:
                break
        process.kill()
        raise RegistryStartError(f"registry {name} did not start")

    def start(self, timeout: float = 30.0) -> Cluster:
        """Start every registry (in parallel) and wait until each listens."""
        started = {name: self._spawn(name) for name in self.registries}
        deadline = time.monotonic() + timeout
        try:
            for name, process in started.items():
                self.ports[name] = self._await_port(name, process, deadline)
                self.processes[name] = process
        except RegistryStartError:
            for process in started.values():
                if process.poll() is None:
                    process.terminate()
            raise
        return self

    def start_one(self, name: str, timeout: float = 15.0) -> None:
        """(Re)start one registry on the port it had."""
        process = self._spawn(name)
        self.ports[name] = self._await_port(name, process, time.monotonic() + timeout)
        self.processes[name] = process

    def stop_one(self, name: str, timeout: float = 5.0) -> None:
        if os.getpid() != self.owner_pid:
            return
        process = self.processes.pop(name, None)
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stdout:
            process.stdout.close()

    def stop(self) -> None:
        if os.getpid() != self.owner_pid:
            return
        for name in list(self.processes):
            process = self.processes[name]
            if process.poll() is None:
                process.terminate()
        for name in list(self.processes):
            self.stop_one(name)
        if self.addresses_file is not None:
            self.addresses_file.unlink(missing_ok=True)  # nobody should find stale addresses

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses and faults ---------------------------------------------------------------

    def url(self, name: str) -> str:
        return f"http://{self.host}:{self.ports[name]}"

    def addresses(self) -> dict[str, str]:
        return {name: self.url(name) for name in self.registries}

    def write(self, path: Path) -> None:
        """Write the addresses where other programs (the demo, the exchange) can find them."""
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "size": self.size,
            "seed": self.seed,
            "pids": {name: p.pid for name, p in self.processes.items()},
            "registries": self.addresses(),
        }
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(data, indent=2))
        temporary.replace(path)
        self.addresses_file = path

    def control(self, name: str, **fault: Any) -> dict[str, Any]:
        return control(self.url(name), **fault)


def control(base_url: str, **fault: Any) -> dict[str, Any]:
    """Set a registry's fault switch (``mode=..., delay_ms=..., status=..., rate=...``);
    with no arguments, read it."""
    data = json.dumps(fault).encode() if fault else None
    request = urllib.request.Request(  # noqa: S310 -- a loopback http URL we built
        f"{base_url}/_control",
        data=data,
        method="POST" if fault else "GET",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        return json.loads(response.read())


def read_addresses(path: Path) -> dict[str, str]:
    return json.loads(path.read_text())["registries"]
