"""Phone benchmark (issue 18): what the home page costs a phone, and the citizen API's reads.

Run with ``.venv/bin/python benchmarks/phone/run.py``. Everything happens in a temporary
directory (SQLite, static files, cache) removed at the end; the server binds 127.0.0.1 on a
free port and is stopped by its process ID.

1. Migrate and seed the catalogue (``panjereh seed --profile national``, about a minute; the
   home page's figures come from it), collect the static files as production does
   (benchmarks/phone/lean_settings.py: WhiteNoise's CompressedManifestStaticFilesStorage,
   content-hashed names kept a year, Brotli copies) and serve the window with
   ``panjereh serve`` (Granian) on loopback.
2. Page weight: the Persian home page in Chromium (/usr/bin/chromium, Playwright) on a
   360 × 780 phone, each response's bytes on the wire counted from the DevTools protocol
   (Network.loadingFinished's encodedDataLength: headers and the compressed body; nothing for
   what the HTTP cache or the service worker answered) plus what the service worker fetched
   itself (its installation: the offline pages), on the first visit (empty cache) and on a
   repeat visit in the same browser (HTTP cache and service worker warm). Several first visits,
   each in a new browser context; the bytes are the same each time, the time to first render
   (first-contentful-paint, Paint Timing API) is the median.
3. The same first visit under a phone's conditions, as Lighthouse's mobile preset simulates
   them: 150 ms round trip, 1.6 Mbit/s down, the CPU 4× slower (DevTools protocol emulation).
4. The citizen API (benchmarks/phone/api.py, issue 18's other half), when present: p95 of the
   main reads with 50 clients, through its ``measure(base_url, token_factory, clients=50)``.

Budgets: first visit <= 150 KB, repeat visit <= 20 KB, first render <= 1.0 s on loopback and
<= 1.8 s (Lighthouse's "good" first contentful paint) under the phone's conditions.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # benchmarks/benchlib.py
from benchlib import free_port, load, machine, stop_server, verdict, wait_http  # noqa: E402

ROOT = HERE.parents[1]
CHROMIUM = os.environ.get("PANJEREH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 360, "height": 780}
KB = 1024
FIRST_VISIT_BUDGET_KB = 150.0
REPEAT_VISIT_BUDGET_KB = 20.0
FIRST_RENDER_BUDGET_MS = 1000.0
FIRST_RENDER_PHONE_BUDGET_MS = 1800.0
# Lighthouse's mobile preset (its "slow 4G" and a mid-range phone's CPU).
SLOW_4G = {
    "offline": False,
    "latency": 150,
    "downloadThroughput": 1638.4 * 1000 / 8,
    "uploadThroughput": 750 * 1000 / 8,
}
CPU_SLOWDOWN = 4


def setup(var: Path, profile: str) -> dict:
    env = {
        **os.environ,
        "PANJEREH_VAR": str(var),
        "PANJEREH_MODE": "demo",
        "PANJEREH_LOG_LEVEL": "ERROR",
        "DJANGO_SETTINGS_MODULE": "lean_settings",
        "PYTHONPATH": os.pathsep.join(
            [str(HERE), str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]
        ),
    }
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    env.pop("CELERY_BROKER_URL", None)
    panjereh = [sys.executable, "-m", "panjereh"]
    started = time.perf_counter()
    for command in (
        ["migrate", "-v0"],
        ["seed", "--profile", profile],
        ["collectstatic", "--noinput", "-v0"],
    ):
        subprocess.run(
            [*panjereh, *command], env=env, cwd=var, check=True, stdout=subprocess.DEVNULL
        )
    print(
        f"migrated, seeded ({profile}) and collected the static files in {time.perf_counter() - started:.0f} s",
        flush=True,
    )
    return env


def serve(env: dict, var: Path, port: int) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "panjereh",
            "serve",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
        ],
        env=env,
        cwd=var,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


class Meter:
    """The bytes a browser context fetched from the network: its pages' responses (DevTools
    protocol, per page) and its service worker's own requests (Playwright's events)."""

    def __init__(self, context) -> None:
        self.context = context
        self.worker: list[tuple[str, int]] = []
        context.on("requestfinished", self._worker_request)

    def _worker_request(self, request) -> None:
        if request.service_worker is None:
            return  # a page's request: counted by the page's DevTools session
        response = request.response()
        if response is None or response.from_service_worker:
            return
        sizes = request.sizes()
        self.worker.append((request.url, sizes["responseHeadersSize"] + sizes["responseBodySize"]))

    def visit(self, url: str, *, phone_conditions: bool = False) -> dict:
        page = self.context.new_page()
        cdp = self.context.new_cdp_session(page)
        responses: dict[str, dict] = {}
        finished: dict[str, int] = {}
        cdp.on("Network.responseReceived", lambda e: responses.__setitem__(e["requestId"], e))
        cdp.on(
            "Network.loadingFinished",
            lambda e: finished.__setitem__(e["requestId"], int(e["encodedDataLength"])),
        )
        cdp.send("Network.enable")
        if phone_conditions:
            cdp.send("Network.emulateNetworkConditions", SLOW_4G)
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
        worker_before = len(self.worker)
        page.goto(url, wait_until="load")
        page.wait_for_load_state("networkidle")
        fcp = page.evaluate(
            "(performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime || null"
        )
        # The service worker installs after the load (portal.js): wait for it, and for what it
        # fetches, before counting.
        page.evaluate(
            "navigator.serviceWorker ? Promise.race([navigator.serviceWorker.ready,"
            " new Promise(r => setTimeout(r, 10000))]).then(() => true) : true"
        )
        page.wait_for_timeout(500)
        rows = []
        for request_id, size in finished.items():
            response = responses.get(request_id, {}).get("response", {})
            cached = response.get("fromDiskCache") or response.get("fromServiceWorker")
            cached = cached or response.get("fromPrefetchCache")
            rows.append((response.get("url", "?"), 0 if cached else size))
        rows += self.worker[worker_before:]
        page.close()
        return {
            "bytes": sum(size for _, size in rows),
            "requests": sum(1 for _, size in rows if size),
            "fcp_ms": fcp,
            "rows": rows,
        }


def weigh(base: str, runs: int) -> dict:
    # Playwright reports a service worker's own requests in Chromium with this set.
    os.environ.setdefault("PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS", "1")
    from playwright.sync_api import sync_playwright

    home = base + "/"
    first, repeat, phone = [], [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        options = {
            "viewport": PHONE,
            "is_mobile": True,
            "has_touch": True,
            "device_scale_factor": 2,
            "locale": "fa-IR",
        }
        for _ in range(runs):
            context = browser.new_context(**options)
            meter = Meter(context)
            first.append(meter.visit(home))
            repeat.append(meter.visit(home))
            context.close()
        for _ in range(max(1, runs // 2)):
            context = browser.new_context(**options)
            phone.append(Meter(context).visit(home, phone_conditions=True))
            context.close()
        browser.close()
    return {"first": first, "repeat": repeat, "phone": phone}


def median(values: list) -> float:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else float("nan")


def report(weights: dict) -> dict:
    first, repeat, phone = weights["first"], weights["repeat"], weights["phone"]
    print("\nfirst visit, what was fetched (bytes on the wire):")
    for url, size in sorted(first[0]["rows"], key=lambda r: -r[1]):
        if size:
            print(f"  {size / KB:7.1f} KB  {url}")
    print("repeat visit:")
    for url, size in sorted(repeat[0]["rows"], key=lambda r: -r[1]):
        if size:
            print(f"  {size / KB:7.1f} KB  {url}")
    print("\nverdicts:")
    return {
        "first_visit_kb": verdict(
            "home page, first visit",
            max(r["bytes"] for r in first) / KB,
            FIRST_VISIT_BUDGET_KB,
            "KB",
        )
        | {"requests": first[0]["requests"]},
        "repeat_visit_kb": verdict(
            "home page, repeat visit",
            max(r["bytes"] for r in repeat) / KB,
            REPEAT_VISIT_BUDGET_KB,
            "KB",
        )
        | {"requests": repeat[0]["requests"]},
        "first_render_ms": verdict(
            "first render (FCP), first visit, loopback, median",
            median([r["fcp_ms"] for r in first]),
            FIRST_RENDER_BUDGET_MS,
            "ms",
        ),
        "repeat_render_ms": verdict(
            "first render (FCP), repeat visit, loopback, median",
            median([r["fcp_ms"] for r in repeat]),
            FIRST_RENDER_BUDGET_MS,
            "ms",
        ),
        "phone_render_ms": verdict(
            "first render (FCP), first visit, slow 4G and 4x slower CPU, median",
            median([r["fcp_ms"] for r in phone]),
            FIRST_RENDER_PHONE_BUDGET_MS,
            "ms",
        ),
    }


def citizen_api(base: str, env: dict, server_pid: int) -> dict | None:
    """benchmarks/phone/api.py's measure(), when it is there (the citizen API's benchmark):
    its token factory makes 50 people with a certificate and inbox messages, and an access
    token of the window's own app for each, in the served database (a child process in the
    server's environment)."""
    if not (HERE / "api.py").exists():
        print("\nbenchmarks/phone/api.py not present: the citizen API not measured")
        return None
    import api  # benchmarks/phone/api.py

    print("\ncitizen API (benchmarks/phone/api.py), 50 clients:", flush=True)
    return api.measure(base, api.token_factory, clients=50, env=env, server_pid=server_pid)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="national", choices=["national", "small"])
    parser.add_argument("--runs", type=int, default=5, help="First visits, each a new browser.")
    parser.add_argument("--no-api", action="store_true", help="Skip the citizen API's part.")
    parser.add_argument("--json", type=Path, help="Write the figures to this file too.")
    args = parser.parse_args()

    print("machine:", json.dumps(machine()), "load:", load(), flush=True)
    var = Path(tempfile.mkdtemp(prefix="panjereh-bench-phone-"))
    server = None
    try:
        env = setup(var, args.profile)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = serve(env, var, port)
        wait_http(base + "/", timeout=90)
        for _ in range(4):  # every worker's templates compiled, the search index built
            urllib.request.urlopen(base + "/", timeout=60).read()  # noqa: S310 (loopback)
        figures = {"machine": machine(), "load_before": load(), "profile": args.profile}
        figures["pages"] = report(weigh(base, args.runs))
        html = urllib.request.urlopen(base + "/", timeout=60).read()  # noqa: S310 (loopback)
        figures["pages"]["html"] = {"bytes": len(html), "gzip_bytes": len(gzip.compress(html))}
        print(
            f"  the home page's HTML: {len(html) / KB:.1f} KB plain, "
            f"{len(gzip.compress(html)) / KB:.1f} KB gzipped (as browsers receive it)"
        )
        if not args.no_api:
            figures["api"] = citizen_api(base, env, server.pid)
        figures["load_after"] = load()
        print("\nload:", figures["load_after"])
        if args.json:
            args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False))
    finally:
        if server is not None:
            stop_server(server)
        shutil.rmtree(var, ignore_errors=True)


if __name__ == "__main__":
    main()
