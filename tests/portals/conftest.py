"""Fixtures of the permit portals' tests: the simulated portals as a real process over HTTP,
a signed client as the window would be, and a webhook receiver."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from panjereh.portals.server import signed_headers
from panjereh.portals.supervisor import Portals

SECRETS = {
    "behinyab": "test-secret-of-the-window-at-behinyab",
    "heritage": "test-secret-of-the-window-at-heritage",
    "health": "test-secret-of-the-window-at-health",
}
START = "2026-03-21T05:30:00+00:00"  # 1 Farvardin 1405, 09:00 in Tehran
CODE = "0012345679"  # a national code with a valid check digit


@pytest.fixture(scope="session")
def portals(tmp_path_factory):
    running = Portals(SECRETS, tmp_path_factory.mktemp("portals"), webhook_backoff=0.05).start()
    yield running
    running.stop()
    while _clients:
        _clients.pop().close()


@pytest.fixture(autouse=True)
def _fresh(request):
    if "portals" not in request.fixturenames:
        yield
        return
    running = request.getfixturevalue("portals")
    running.control(reset=True, now=START, webhook_backoff=0.05, webhook_max_attempts=10)
    yield
    running.control(reset=True)


def call(
    running: Portals,
    portal: str,
    method: str,
    path: str,
    data: Any = None,
    *,
    body: bytes | None = None,
    secret: str | None = None,
    key: str = "panjereh",
    headers: dict[str, str] | None = None,
    timeout: float = 5.0,
) -> httpx.Response:
    """A call signed as the window signs it (``path`` after ``/<portal>/api/v1/``)."""
    target = f"/{portal}/api/v1/{path}"
    if body is None:
        body = json.dumps(data, ensure_ascii=False).encode() if data is not None else b""
    signed = signed_headers((secret or SECRETS[portal]).encode(), key, method, target, body)
    return _client().request(
        method,
        running.url + target,
        content=body,
        headers={**signed, "Content-Type": "application/json", **(headers or {})},
        timeout=timeout,
    )


_clients: list[httpx.Client] = []


def _client() -> httpx.Client:
    """One client for the session (a new one per call would build a TLS context each time)."""
    if not _clients:
        _clients.append(httpx.Client(trust_env=False))
    return _clients[0]


def application(reference: str = "W-0001", **fields: Any) -> dict[str, Any]:
    return {
        "reference": reference,
        "permit_type": "operation",
        "applicant": {"national_code": CODE, "name": "زهرا احمدی"},
        "title": "کارگاه تولید قطعات پلاستیکی",
        "details": {"capacity_tonnes": 120, "province": "زنجان", "description": "خط دوم\nتولید"},
        **fields,
    }


def submit(
    running: Portals, portal: str = "behinyab", *, timeout: float = 5.0, **fields: Any
) -> httpx.Response:
    return call(running, portal, "POST", "applications", application(**fields), timeout=timeout)


def feed(running: Portals, portal: str, after: str = "", limit: int = 100) -> dict[str, Any]:
    answer = call(running, portal, "GET", f"events?after={after}&limit={limit}")
    assert answer.status_code == 200, answer.text
    return answer.json()


def everything(running: Portals, portal: str, limit: int = 100) -> list[dict[str, Any]]:
    """Every event of a portal's feed, read page by page."""
    events, cursor = [], ""
    while True:
        page = feed(running, portal, cursor, limit)
        events += page["events"]
        cursor = page["next"]
        if not page["has_more"]:
            return events


@dataclass
class Receiver:
    """The window's webhook endpoint: refuses the first ``refuse`` posts, then acknowledges."""

    refuse: int = 0
    posts: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/permits/hook?from=portal"


@pytest.fixture
def receiver():
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 -- http.server's name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with state.lock:
                state.posts.append({"headers": dict(self.headers), "body": body, "path": self.path})
                refused = len(state.posts) <= state.refuse
            self.send_response(500 if refused else 204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    state.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=state.server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield state
    state.server.shutdown()
    state.server.server_close()
    thread.join()
