"""Playwright (sync API) against pytest-django's live server, in the system Chromium.

Playwright's sync API runs an event loop in the test thread, which makes Django refuse
database access as "async unsafe"; the tests never share a connection with that loop, so the
check is switched off here. One browser serves the whole session; each test gets a fresh
context and page, and a failing test leaves a screenshot under ``test-artifacts/``.

Every page any browser test visits is checked (axe-core, no sideways scrolling, the digits of
its language): see ``checks.py``. The journeys run twice through the ``variant`` fixture: in
Persian on a 360×780 touch phone and in English on a 1280×800 desktop.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from . import checks

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
checks.install()

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
PHONE = {"width": 360, "height": 780}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Collect what the test's pages showed; fail the test once its body has run."""
    checks.current = checks.Collector(item.nodeid)
    try:
        result = yield
        checks.check_open_pages()
    except BaseException:
        _screenshot_open_pages(item)
        raise
    finally:
        collector, checks.current = checks.current, None
    checks.totals["pages"] += collector.pages
    checks.totals["seconds"] += collector.seconds
    checks.totals["known"] += len(collector.known)
    if collector.known:
        item.add_report_section("call", "known page problems", "\n".join(map(str, collector.known)))
    if collector.problems:
        raise AssertionError(collector.report())
    return result


def _screenshot_open_pages(item) -> None:
    """A failed test's pages, including those of contexts the test opened itself."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^\w.-]+", "_", item.nodeid)[-140:]
    for n, page in enumerate(list(checks.tracked_pages())):
        with contextlib.suppress(Exception):  # a closed or crashed page has nothing to show
            page.screenshot(path=str(ARTIFACTS / f"{name}-page{n}.png"), full_page=True)


def pytest_terminal_summary(terminalreporter):
    if checks.totals["pages"]:
        terminalreporter.write_line(
            "browser page checks: {pages} documents checked in {seconds:.1f}s;"
            " {known} known problem(s) let through (tests/browser/checks.py KNOWN)".format(
                **checks.totals
            )
        )


@dataclass(frozen=True)
class Variant:
    """One way the journeys run: a language and the device it is read on."""

    lang: str
    device: str

    @property
    def prefix(self) -> str:
        """Where the language starts in the address: Persian has none, English "/en"."""
        return "" if self.lang == "fa" else "/en"

    @property
    def mobile(self) -> bool:
        return self.device == "phone"

    def context_options(self) -> dict:
        return {
            "viewport": PHONE if self.mobile else DESKTOP,
            "is_mobile": self.mobile,
            "has_touch": self.mobile,
            "device_scale_factor": 2 if self.mobile else 1,
            "locale": "fa-IR" if self.lang == "fa" else "en-US",
        }

    def new_context(self, browser, timeout: int = 15_000):
        context = browser.new_context(**self.context_options())
        context.set_default_timeout(timeout)
        return context

    def signed_in_context(self, browser, base_url: str, user):
        """A new context already signed in as ``user``: a session made by Django's test client
        (no SMS round; sign-on itself is tested in test_sso.py), its cookie for ``base_url``; a
        person at level 3 as if they had used their passkey in it (``tests.factories.sign_in``)."""
        from django.conf import settings
        from django.test import Client

        from tests.factories import sign_in

        client = Client()
        sign_in(client, user)
        context = self.new_context(browser)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": base_url}]
        )
        return context

    def gettext(self, message: str) -> str:
        """The interface's text in this variant's language (as the page shows it)."""
        from django.utils import translation

        with translation.override(self.lang):
            return translation.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int, **values) -> str:
        """A counted message, its placeholders filled (numbers in the variant's digits)."""
        from django.utils import translation

        with translation.override(self.lang):
            text = translation.ngettext(singular, plural, n)
        return text % {k: self.digits(v) for k, v in values.items()}

    def digits(self, text) -> str:
        """Digits in this variant's script."""
        from panjereh.common.persian import to_persian_digits

        return to_persian_digits(str(text)) if self.lang == "fa" else str(text)


VARIANTS = [Variant("fa", "phone"), Variant("en", "desktop")]


def chosen_variants() -> list[Variant]:
    """The variants this run takes: PANJEREH_BROWSER_VARIANTS, "all" (the default) or ids such
    as "fa-phone"; on SQLite PANJEREH_BROWSER_VARIANTS_SQLITE overrides it, so that
    scripts/test.sh can run both variants in one of its two legs only."""
    wanted = os.environ.get("PANJEREH_BROWSER_VARIANTS", "all")
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        wanted = os.environ.get("PANJEREH_BROWSER_VARIANTS_SQLITE", wanted)
    if wanted.strip() == "all":
        return VARIANTS
    ids = {part.strip() for part in wanted.split(",")}
    chosen = [v for v in VARIANTS if f"{v.lang}-{v.device}" in ids]
    assert chosen, f"no browser variant called {wanted!r}: use 'all', 'fa-phone' or 'en-desktop'"
    return chosen


@pytest.fixture(params=chosen_variants(), ids=lambda v: f"{v.lang}-{v.device}")
def variant(request) -> Variant:
    return request.param


@pytest.fixture
def variant_page(request, browser, variant) -> Iterator:
    """A fresh page for the variant (Persian phone or English desktop)."""
    context = variant.new_context(browser)
    page = context.new_page()
    yield page
    _finish(context, page, request)


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


# -- the simulated specialised permit portals (test_permit_routing.py) -----------------------

PERMIT_PORTAL_SECRETS = {
    "behinyab": "browser-test-secret-of-the-window-at-behinyab",
    "heritage": "browser-test-secret-of-the-window-at-heritage",
    "health": "browser-test-secret-of-the-window-at-health",
}


@pytest.fixture(scope="session")
def permit_portals_process(tmp_path_factory):
    from panjereh.portals.supervisor import Portals

    running = Portals(PERMIT_PORTAL_SECRETS, tmp_path_factory.mktemp("permit-portals")).start()
    yield running
    running.stop()


@pytest.fixture
def permit_portals(permit_portals_process, settings):
    """The portals forgotten, their clock fixed at now, the window (and its live server, in this
    process) pointed at them."""
    from django.utils import timezone

    from panjereh.permits import routing

    running = permit_portals_process
    running.control(reset=True, now=timezone.now().isoformat(timespec="seconds"))
    for name, url in running.urls.items():
        setattr(settings, f"PANJEREH_PORTAL_URL_{name.upper()}", url)
        setattr(settings, f"PANJEREH_PORTAL_SECRET_{name.upper()}", PERMIT_PORTAL_SECRETS[name])
    settings.PANJEREH_PORTAL_TIMEOUT = 2.0
    yield running
    for name in PERMIT_PORTAL_SECRETS:
        running.control(portal=name, mode="normal")
    running.control(reset=True)
    routing.close_connections()
