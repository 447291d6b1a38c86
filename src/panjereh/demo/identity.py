"""The identity part of ``panjereh demo``: the national window as an exchange consumer, and
the two sample agency windows as child processes.

For the demo command (after the registries are registered)::

    from panjereh.demo.identity import start_identity_demo
    windows = start_identity_demo(host, self.stdout.write)
    try: ... serve ...
    finally: windows.stop()
"""

from __future__ import annotations

import signal
import subprocess
import sys
from dataclasses import dataclass, field

from django.core.management import call_command

from panjereh.identity.management.commands.sso_windows import WINDOWS, write_window_configs


@dataclass
class WindowProcesses:
    processes: list[subprocess.Popen] = field(default_factory=list)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()


def start_identity_demo(issuer: str, write=print) -> WindowProcesses:
    """Provision the national window's identity checks and start windows A and B."""
    call_command("identity_exchange")
    paths = write_window_configs(issuer)
    handle = WindowProcesses(
        [
            subprocess.Popen(  # noqa: S603 - our own module with arguments we built
                [sys.executable, "-m", "panjereh.samples.agency_window", "--config", path]
            )
            for path in paths
        ]
    )
    write(
        "Sample agency windows (sign in through the national window): "
        + ", ".join(f"http://127.0.0.1:{port}/" for _name, _title, port in WINDOWS)
    )
    return handle
