"""Helpers every benchmark shares: a free loopback port, percentiles, waiting for a server,
the CPU a server process tree has used, stopping a server by its PID; the machine, the load
average and a figure's verdict against its goal.

The benchmarks run as scripts (``python benchmarks/<name>/run.py``); each puts this folder on
``sys.path`` and imports from here.
"""

from __future__ import annotations

import os
import platform
import signal
import socket
import subprocess
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], fraction: float) -> float:
    """The value at ``fraction`` (0–1) of the sorted values (nearest rank); 0.0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(fraction * (len(ordered) - 1))))]


def wait_http(url: str, timeout: float = 60, *, any_status: bool = False) -> None:
    """Wait until ``url`` answers 200 (or anything at all, with ``any_status``)."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            response = httpx.get(url, timeout=1, trust_env=False)
            if any_status or response.status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system, waited-for children included) used so far by ``pid`` and
    its live children (a server's worker processes), from ``/proc``; 0.0 without it."""
    ticks = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    try:
        entries = list(Path("/proc").iterdir())
    except OSError:
        return 0.0
    for entry in entries:
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:  # field 4, the parent's pid
                pids.append(int(entry.name))
    total = 0.0
    for one in pids:
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(x) for x in fields[11:15]) / ticks  # utime stime cutime cstime
    return total


def stop_server(server: subprocess.Popen, timeout: float = 10) -> None:
    """SIGTERM, then SIGKILL if it has not stopped within ``timeout`` seconds."""
    if server.poll() is not None:
        return
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


class LoadClient:
    """A load generator's HTTP/1.1 client: one kept-alive connection (``http.client``),
    reopened after an error. It costs a fraction of httpx's CPU per request, which matters
    when the load generator shares the machine's cores with the server it measures (load
    tools such as wrk or k6 are lighter still)."""

    def __init__(self, base: str, timeout: float = 30.0) -> None:
        from urllib.parse import urlparse

        parts = urlparse(base)
        self.host, self.port, self.timeout = parts.hostname, parts.port or 80, timeout
        self._connection = None

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
    ) -> tuple[int, bytes]:
        import http.client

        for attempt in (1, 2):
            if self._connection is None:
                self._connection = http.client.HTTPConnection(
                    self.host, self.port, timeout=self.timeout
                )
            try:
                self._connection.request(method, path, body=body, headers=headers or {})
                response = self._connection.getresponse()
                return response.status, response.read()
            except (http.client.HTTPException, OSError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def post_form(self, path: str, fields: dict, headers: dict | None = None):
        from urllib.parse import urlencode

        return self.request(
            "POST",
            path,
            urlencode(fields).encode(),
            {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})},
        )

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def __enter__(self) -> LoadClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def machine() -> dict:
    info = {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory_gib"] = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return info


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def verdict(name: str, figure: float, goal: float, unit: str, *, lower_is_better=True) -> dict:
    ratio = figure / goal if goal else 0.0
    met = ratio <= 1 if lower_is_better else ratio >= 1
    print(
        f"  {name}: {figure:.1f} {unit}; goal {goal:g} {unit}; ratio {ratio:.2f}; "
        f"{'met' if met else 'NOT met'}",
        flush=True,
    )
    return {"figure": round(figure, 2), "goal": goal, "ratio": round(ratio, 3), "met": met}
