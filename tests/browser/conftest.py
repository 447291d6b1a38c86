"""Playwright (sync API) against pytest-django's live server, in the system Chromium.

Playwright's sync API runs an event loop in the test thread, which makes Django refuse
database access as "async unsafe"; the tests never share a connection with that loop, so the
check is switched off here. One browser serves the whole session; each test gets a fresh
context and page, and a failing test leaves a screenshot under ``test-artifacts/``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = os.environ.get("PANJEREH_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("PANJEREH_TEST_ARTIFACTS", "test-artifacts"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(scope="session")
def browser():
    from playwright import sync_api

    # Browser tests never skip silently: `make test` installs Debian's chromium when missing.
    assert Path(CHROMIUM).exists(), f"no Chromium at {CHROMIUM}: apt-get install chromium"
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _open_page(browser, request, viewport: dict, mobile: bool):
    context = browser.new_context(
        viewport=viewport,
        is_mobile=mobile,
        has_touch=mobile,
        device_scale_factor=2 if mobile else 1,
        # Language comes from the address, never from the browser's preferences.
        locale="en-US",
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    return context, page


def _finish(context, page, request) -> None:
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)[-150:]
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    context.close()


@pytest.fixture
def page(request, browser) -> Iterator:
    """A desktop page (1280×800)."""
    context, page = _open_page(browser, request, DESKTOP, False)
    yield page
    _finish(context, page, request)


@pytest.fixture(params=["desktop", "phone"])
def device_page(request, browser) -> Iterator:
    """The same journey on a desktop (1280×800) and on a phone (360×740)."""
    mobile = request.param == "phone"
    context, page = _open_page(browser, request, PHONE if mobile else DESKTOP, mobile)
    yield page
    _finish(context, page, request)


@pytest.fixture
def phone_page(request, browser) -> Iterator:
    context, page = _open_page(browser, request, PHONE, True)
    yield page
    _finish(context, page, request)


@pytest.fixture
def live_catalogue(transactional_db):
    """The portal tests' catalogue, written for the live server to read (same process, so
    the index and the cached page bodies are shared and start empty)."""
    from django.core.cache import cache

    from panjereh.catalogue import search
    from tests.portal.data import build_catalogue

    search.invalidate()
    cache.clear()
    catalogue = build_catalogue()
    search.invalidate()
    yield catalogue
    search.invalidate()
    cache.clear()
