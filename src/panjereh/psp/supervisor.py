"""Start, address, fault-switch and stop the simulated PSP process.

Used by ``panjereh psp``, the tests and the benchmark. The PSP is a child process; with
``port=0`` it binds an ephemeral loopback port and reports it on its first output line.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
import urllib.request
from typing import Any


class PSPStartError(RuntimeError):
    """The PSP process did not come up."""


class PSP:
    """One simulated PSP process."""

    def __init__(
        self,
        secret: str,
        *,
        merchant: str = "panjereh",
        host: str = "127.0.0.1",
        port: int = 0,
        verify_deadline: float = 900.0,
        token_life: float = 1200.0,
    ) -> None:
        self.secret, self.merchant, self.host, self.port = secret, merchant, host, port
        self.verify_deadline, self.token_life = verify_deadline, token_life
        self.process: subprocess.Popen | None = None
        self.owner_pid = os.getpid()

    def start(self, timeout: float = 15.0) -> PSP:
        command = [
            sys.executable,
            "-m",
            "panjereh.psp.server",
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--merchant",
            self.merchant,
            "--verify-deadline",
            str(self.verify_deadline),
            "--token-life",
            str(self.token_life),
            "--parent-pid",
            str(os.getpid()),
        ]
        # Our own interpreter and module with arguments we built: no untrusted input.
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stdin=subprocess.PIPE)  # noqa: S603
        assert process.stdout is not None and process.stdin is not None
        process.stdin.write(self.secret.encode() + b"\n")  # the secret: never in argv or env
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
        raise PSPStartError("the simulated PSP did not start")

    def stop(self, timeout: float = 5.0) -> None:
        if os.getpid() != self.owner_pid or self.process is None:
            return
        process, self.process = self.process, None
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stdout:
            process.stdout.close()

    def __enter__(self) -> PSP:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def control(self, **switch: Any) -> dict[str, Any]:
        return control(self.url, **switch)


def control(base_url: str, **switch: Any) -> dict[str, Any]:
    """Set the PSP's switch (``mode``, ``verify_deadline``, ``clock_offset``, ``tamper``);
    with no arguments, read it."""
    data = json.dumps(switch).encode() if switch else None
    request = urllib.request.Request(  # noqa: S310 -- a loopback http URL we built
        f"{base_url}/_control",
        data=data,
        method="POST" if switch else "GET",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        return json.loads(response.read())
