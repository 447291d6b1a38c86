"""Lighthouse against the window as production serves it, on loopback.

The server is Django's live-server thread (pytest-django's, without its static-files handler):
the static files are collected by production's storage (content-hashed names, Brotli and gzip
copies) and served by the WhiteNoise middleware with their one-year headers, so that
Lighthouse measures what a phone receives. Lighthouse (tests/browser/node_modules, pinned in
tests/browser/package.json) runs the system Chromium headless at its default mobile settings:
a Moto G Power-sized screen, simulated slow 4G and a 4x slower CPU.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import connections
from django.test.testcases import LiveServerThread

from tests.lighthouse.production_static import production_static

ROOT = Path(__file__).resolve().parents[2]
LIGHTHOUSE = ROOT / "tests/browser/node_modules/lighthouse/cli/index.js"
CHROMIUM = os.environ.get("PANJEREH_CHROMIUM", "/usr/bin/chromium")
CHROME_FLAGS = (
    "--headless=new --no-sandbox --disable-gpu --disable-background-networking"
    " --disable-component-update --disable-sync --no-first-run"
)
CATEGORIES = ("performance", "accessibility", "best-practices")
# The scores of the run, shown at the end of the session (passing or not).
SCORES: list[str] = []


def pytest_terminal_summary(terminalreporter):
    if SCORES:
        terminalreporter.write_line("Lighthouse (mobile), scores out of 100:")
        for line in SCORES:
            terminalreporter.write_line("  " + line)


@dataclass
class Report:
    name: str
    url: str
    scores: dict[str, int]
    failing: dict[str, list[str]] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)

    def line(self) -> str:
        scores = "  ".join(f"{c} {self.scores[c]}" for c in CATEGORIES)
        metrics = ", ".join(f"{k} {v:.0f} ms" for k, v in self.metrics.items())
        return f"{self.name:10} {scores}  ({metrics})"


def lighthouse(name: str, url: str, out: Path, headers: dict[str, str] | None = None) -> Report:
    """Run Lighthouse on ``url`` (mobile, its defaults); its scores out of 100, the audits that
    did not pass in each category (with what they found), and the main timings."""
    assert LIGHTHOUSE.exists(), "npm ci --prefix tests/browser (scripts/test.sh does it)"
    assert Path(CHROMIUM).exists(), f"no Chromium at {CHROMIUM}"
    node = shutil.which("node")
    assert node, "Lighthouse needs Node.js"
    target = out / f"{name}.json"
    command = [
        node,
        str(LIGHTHOUSE),
        url,
        "--output=json",
        f"--output-path={target}",
        f"--only-categories={','.join(CATEGORIES)}",
        f"--chrome-flags={CHROME_FLAGS}",
        "--max-wait-for-load=60000",
        "--disable-full-page-screenshot",
        "--quiet",
    ]
    if headers:
        command.append(f"--extra-headers={json.dumps(headers)}")
    env = {**os.environ, "CHROME_PATH": CHROMIUM}
    # Lighthouse's own failures to record a page (NO_NAVSTART, NO_FCP: "Please run Lighthouse
    # again", seen on a busy machine) are retried; a third one fails the test.
    for attempt in range(3):
        target.unlink(missing_ok=True)
        run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)
        result = json.loads(target.read_text()) if target.exists() else {}
        failure = run.stderr[-3000:] if run.returncode else result.get("runtimeError")
        if not failure:
            break
        if attempt == 2:
            raise AssertionError(f"Lighthouse on {url}: {failure}")
    assert result["finalDisplayedUrl"].split("?")[0] == url.split("?")[0], (
        f"{url} ended at {result['finalDisplayedUrl']}"
    )
    audits = result["audits"]
    report = Report(name, url, {})
    for category in CATEGORIES:
        data = result["categories"][category]
        report.scores[category] = round(data["score"] * 100)
        failing = []
        for ref in data["auditRefs"]:
            audit = audits[ref["id"]]
            if ref["weight"] and audit["score"] is not None and audit["score"] < 0.9:
                items = audit.get("details", {}).get("items", [])[:3]
                found = "; ".join(
                    str(item.get("node", {}).get("snippet") or item.get("url") or item)[:160]
                    for item in items
                )
                failing.append(f"{ref['id']} ({audit['score']}): {audit['title']} {found}")
        report.failing[category] = failing
    for metric in ("first-contentful-paint", "largest-contentful-paint", "total-blocking-time"):
        report.metrics[metric.replace("-", " ")] = audits[metric]["numericValue"]
    return report


@pytest.fixture
def production_server(transactional_db, tmp_path) -> Iterator[str]:
    """The window on a free loopback port, its static files as production serves them. The
    shared cache is emptied before and after: no page kept with the other static names."""
    cache.clear()
    with production_static(tmp_path / "static"):
        # An in-memory SQLite test database is shared with the server's thread, as
        # pytest-django's live_server does; PostgreSQL's is opened by the thread itself.
        shared = {
            c.alias: c for c in connections.all() if c.vendor == "sqlite" and c.is_in_memory_db()
        }
        for connection in shared.values():
            connection.inc_thread_sharing()
        thread = LiveServerThread(
            "127.0.0.1", static_handler=lambda app: app, connections_override=shared, port=0
        )
        thread.daemon = True
        thread.start()
        thread.is_ready.wait()
        if thread.error:
            raise thread.error
        try:
            yield f"http://127.0.0.1:{thread.port}"
        finally:
            thread.terminate()
            for connection in shared.values():
                connection.dec_thread_sharing()
            cache.clear()
