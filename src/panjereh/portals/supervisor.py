"""Start, address, switch, restart and stop the simulated permit portals' process.

Used by ``panjereh portals``, the tests and (later) the window's demo. The portals are one child
process; with ``port=0`` it binds an ephemeral loopback port and reports it on its first output
line; a restart binds the same port again, and finds its state in ``state_dir``.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from . import PORTALS


class PortalsStartError(RuntimeError):
    """The portals' process did not come up."""


class Portals:
    """The simulated permit portals: one process serving each portal under its base path."""

    def __init__(
        self,
        secrets: dict[str, str],
        state_dir: Path | str,
        *,
        keys: dict[str, str] | None = None,
        seed: int = 1405,
        host: str = "127.0.0.1",
        port: int = 0,
        webhook_backoff: float = 1.0,
    ) -> None:
        unknown = set(secrets) - set(PORTALS)
        if not secrets or unknown or not all(secrets.values()):
            raise ValueError(f"give a secret for some of {', '.join(PORTALS)}")
        self.credentials = {
            name: {"key": (keys or {}).get(name, "panjereh"), "secret": secret}
            for name, secret in secrets.items()
        }
        self.state_dir = Path(state_dir)
        self.seed, self.host, self.port = seed, host, port
        self.webhook_backoff = webhook_backoff
        self.process: subprocess.Popen | None = None
        self.owner_pid = os.getpid()

    def start(self, timeout: float = 15.0) -> Portals:
        command = [
            sys.executable,
            "-m",
            "panjereh.portals.server",
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--state-dir",
            str(self.state_dir),
            "--seed",
            str(self.seed),
            "--webhook-backoff",
            str(self.webhook_backoff),
            "--parent-pid",
            str(os.getpid()),
        ]
        # Our own interpreter and module with arguments we built: no untrusted input.
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stdin=subprocess.PIPE)  # noqa: S603
        assert process.stdout is not None and process.stdin is not None
        process.stdin.write(json.dumps(self.credentials).encode() + b"\n")  # never in argv/env
        process.stdin.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([process.stdout], [], [], 0.1)
            if ready:
                line = process.stdout.readline()
                if line:
                    self.port = int(json.loads(line)["port"])
                    self.process = process
                    return self
                break
            if process.poll() is not None:
                break
        process.kill()
        process.wait()
        raise PortalsStartError("the simulated permit portals did not start")

    def stop(self, timeout: float = 5.0, *, kill: bool = False) -> None:
        """Stop the process: SIGTERM (or SIGKILL with ``kill``, a crash), then wait."""
        if os.getpid() != self.owner_pid or self.process is None:
            return
        process, self.process = self.process, None
        if process.poll() is None:
            if kill:
                process.kill()
            else:
                process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stdout:
            process.stdout.close()

    def restart(self, *, kill: bool = False) -> Portals:
        """Stop (or kill) the process and start it again on the same port, with its state."""
        self.stop(kill=kill)
        return self.start()

    def __enter__(self) -> Portals:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def urls(self) -> dict[str, str]:
        """Each portal's API base address."""
        return {name: f"{self.url}/{name}/api/v1" for name in self.credentials}

    def control(self, **switch: Any) -> dict[str, Any]:
        return control(self.url, **switch)


def control(base_url: str, **switch: Any) -> dict[str, Any]:
    """Set the switch: ``portal=`` with ``mode``/``delay_ms``/``status``/``rate`` or
    ``decide={...}``; ``now``, ``advance``, ``webhook_backoff``, ``webhook_max_attempts``,
    ``reset``. With no arguments, read it."""
    data = json.dumps(switch).encode() if switch else None
    request = urllib.request.Request(  # noqa: S310 -- a loopback http URL we built
        f"{base_url}/_control",
        data=data,
        method="POST" if switch else "GET",
        headers={"Content-Type": "application/json"},
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=10) as response:
        return json.loads(response.read())


def secrets_from_environment(environ: dict[str, str] | None = None) -> dict[str, str]:
    """``PANJEREH_PORTAL_SECRET_<PORTAL>`` for each portal that has one."""
    environ = dict(os.environ if environ is None else environ)
    return {
        name: environ[f"PANJEREH_PORTAL_SECRET_{name.upper()}"]
        for name in PORTALS
        if environ.get(f"PANJEREH_PORTAL_SECRET_{name.upper()}")
    }


def main(argv: list[str]) -> int:
    """``panjereh portals run | control``: no Django; another organisation's program."""
    parser = argparse.ArgumentParser(prog="panjereh portals", description=__doc__)
    sub = parser.add_subparsers(dest="action", required=True)
    run = sub.add_parser("run", help="Serve the portals until Ctrl+C or SIGTERM.")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8792)
    run.add_argument(
        "--state-dir",
        type=Path,
        default=Path(os.environ.get("PANJEREH_VAR", "var")) / "portals",
    )
    run.add_argument("--seed", type=int, default=1405)
    ctl = sub.add_parser("control", help="Read or set the switch of running portals.")
    ctl.add_argument("--url", default="http://127.0.0.1:8792")
    ctl.add_argument("--portal", choices=sorted(PORTALS))
    ctl.add_argument("--mode", choices=["normal", "slow", "fail", "drop"])
    ctl.add_argument("--delay-ms", type=int)
    ctl.add_argument("--advance", type=float, help="Move the portals' clock on, in seconds.")
    args = parser.parse_args(argv)
    if args.action == "control":
        switch: dict[str, Any] = {}
        if args.mode:
            if not args.portal:
                parser.error("--mode needs --portal")
            switch.update(portal=args.portal, mode=args.mode)
            if args.delay_ms is not None:
                switch["delay_ms"] = args.delay_ms
        if args.advance:
            switch["advance"] = args.advance
        print(json.dumps(control(args.url, **switch), ensure_ascii=False, indent=2))
        return 0
    secrets = secrets_from_environment()
    if not secrets:
        parser.error(
            "set at least one of "
            + ", ".join(f"PANJEREH_PORTAL_SECRET_{name.upper()}" for name in PORTALS)
        )
    portals = Portals(
        secrets, args.state_dir, seed=args.seed, host=args.host, port=args.port
    ).start()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    for name, url in portals.urls.items():
        print(f"{name}: {url}", flush=True)
    print("Ctrl+C stops them.", flush=True)
    try:
        while not stop.wait(1.0):
            if portals.process is None or portals.process.poll() is not None:
                print("the portals stopped; starting them again", file=sys.stderr, flush=True)
                portals.process = None
                portals.start()
    finally:
        portals.stop()
    return 0
