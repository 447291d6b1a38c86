"""Checks every page the browser suite visits: axe-core, no sideways scrolling, one digit script.

How a page gets checked: Playwright's ``Page`` and ``Locator`` methods are wrapped (at the class
level, for the browser tests' session) so that every call first looks whether the page's main
frame has navigated to a new document since the last check; if so, it waits for the document's
``load`` and checks it before the test's own call runs. So every document is checked in the
state it loaded in, the test's interactions never race the check, and a journey's every page
(goto, a click that navigates, a form submitted, a redirect) is covered without the tests
saying so. A page that is still unchecked when its context or page is closed, or when the test
ends, is checked then.

Three checks per document, for its language (``<html lang>``) and viewport:

1. axe-core (``tests/browser/node_modules/axe-core``, pinned in ``package.json``, installed by
   ``scripts/test.sh`` with ``npm ci``): any violation of impact *serious* or *critical* fails.
   The library is put in the page with ``page.evaluate`` of its source, which runs through the
   DevTools protocol and so is not subject to the page's Content-Security-Policy (a
   ``<script>`` tag added with ``add_script_tag`` would be refused by a strict ``script-src``,
   and ``bypass_csp`` would test a page the citizen never gets).
2. Reflow: ``document.documentElement.scrollWidth <= innerWidth`` (the layout viewport's width:
   on an emulated phone Chromium zooms out to fit a too-wide page and ``innerWidth`` grows with
   it, so ``clientWidth`` is used when smaller); the message names the elements that stick out.
3. Digits (issue 12, item 27): a Persian page shows no ASCII digit in visible text; an English
   page shows no Persian or Arabic-Indic digit and no Arabic comma «،». Text inside an element
   that declares another language (``lang``) follows that language; on a Persian page, code
   marked left-to-right (``<code dir="ltr">``, ``<pre dir="ltr">``, ``<kbd>``, ``<samp>``) may
   be Latin.

Problems are collected per test and fail the test after its body has run (the journey runs to
its end and every page it visited is reported), naming page, language, viewport, rule and
element. ``KNOWN`` is the short, dated list of problems another engineer is fixing; each entry is
a page path pattern, a check id and the issue item, never a blanket ignore.
"""

from __future__ import annotations

import functools
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, Error, Locator, Page

AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = ("serious", "critical")

# Known problems being fixed by others: (path, check id, detail, why). The path is a pattern
# matched in full against the page's path without the "/en" prefix; the check id is
# "axe:<rule>", "overflow" or "digits"; the detail is a pattern searched for in the problem's
# detail (for digits: the element and its text, one problem per element). Empty it as the
# fixes land.
KNOWN: list[tuple[str, str, str, str]] = []


@dataclass(frozen=True)
class Problem:
    url: str
    lang: str
    viewport: str
    check: str
    detail: str

    @property
    def path(self) -> str:
        path = urlsplit(self.url).path
        return path[3:] if path.startswith("/en/") else path

    def known(self) -> str | None:
        for pattern, check, detail, why in KNOWN:
            if (
                check == self.check
                and re.fullmatch(pattern, self.path)
                and re.search(detail, self.detail)
            ):
                return why
        return None

    def __str__(self) -> str:
        return f"[{self.lang} {self.viewport}] {self.url}\n    {self.check}: {self.detail}"


@dataclass
class Collector:
    """What one test's pages showed."""

    test: str
    problems: list[Problem] = field(default_factory=list)
    known: list[Problem] = field(default_factory=list)
    pages: int = 0
    seconds: float = 0.0

    def report(self) -> str:
        lines = [f"{len(self.problems)} problem(s) on the pages this test visited:"]
        lines += [str(p) for p in self.problems]
        return "\n".join(lines)


current: Collector | None = None
totals = {"pages": 0, "seconds": 0.0, "known": 0}
_busy = False
_tracked: dict[int, Page] = {}

_AXE_SOURCE: str | None = None


def axe_source() -> str:
    global _AXE_SOURCE
    if _AXE_SOURCE is None:
        assert AXE.exists(), f"no axe-core at {AXE}: run 'npm ci --prefix tests/browser'"
        _AXE_SOURCE = AXE.read_text(encoding="utf-8")
    return _AXE_SOURCE


# -- in the page ------------------------------------------------------------------------------

_DESCRIBE = """
const describe = (el) => {
  const parts = [];
  for (let e = el; e && e.nodeType === 1 && parts.length < 4; e = e.parentElement) {
    let part = e.localName;
    if (e.id) { parts.unshift(part + '#' + e.id); break; }
    const cls = [...e.classList].slice(0, 2).join('.');
    if (cls) part += '.' + cls;
    parts.unshift(part);
  }
  return parts.join(' > ');
};
"""

PAGE_FACTS = (
    """() => {
"""
    + _DESCRIBE
    + """
  const html = document.documentElement;
  const facts = {
    html: document.contentType === 'text/html' && !!document.body,
    lang: (html.lang || '').toLowerCase(),
    scrollWidth: html.scrollWidth,
    // On a phone (is_mobile) Chromium zooms out to fit a page that is too wide, and then
    // innerWidth grows with it (scrollWidth <= innerWidth would always hold); the layout
    // viewport's width (clientWidth) stays the screen's.
    innerWidth: Math.min(window.innerWidth, html.clientWidth),
    wide: [],
    digits: [],
  };
  if (!facts.html) return facts;
  if (facts.scrollWidth > facts.innerWidth) {
    // The elements that stick out and hold no child that does: where to look first.
    const out = (el) => {
      const r = el.getBoundingClientRect();
      return r.width > 0 && (r.right > facts.innerWidth + 1 || r.left < -1);
    };
    for (const el of document.body.querySelectorAll('*')) {
      if (!out(el) || [...el.children].some(out)) continue;
      const r = el.getBoundingClientRect();
      facts.wide.push(`${describe(el)} (${Math.round(r.left)}..${Math.round(r.right)}px)`);
      if (facts.wide.length >= 4) break;
    }
  }
  const fa = facts.lang.startsWith('fa');
  const wrong = fa ? /[0-9]/ : /[\\u06F0-\\u06F9\\u0660-\\u0669\\u060C]/;
  const visible = (el) => el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true});
  const ownLanguage = (el) => {
    const declared = (el.closest('[lang]')?.lang || facts.lang).toLowerCase();
    return declared.startsWith('fa') === fa;
  };
  const exempt = (el) => !ownLanguage(el) || (fa && el.closest('code[dir="ltr"], pre[dir="ltr"], kbd, samp'));
  const seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode() && facts.digits.length < 8) {
    const text = walker.currentNode.nodeValue;
    const el = walker.currentNode.parentElement;
    // A textarea's text is what was typed into it, not what the page says.
    if (!wrong.test(text) || !el || el.closest('script, style, noscript, template, textarea'))
      continue;
    if (!visible(el) || exempt(el) || seen.has(el)) continue;
    seen.add(el);
    facts.digits.push(`${describe(el)}: "${text.trim().slice(0, 60)}"`);
  }
  for (const el of document.body.querySelectorAll('[placeholder]')) {
    const text = el.getAttribute('placeholder');
    if (wrong.test(text) && visible(el) && !exempt(el))
      facts.digits.push(`${describe(el)} placeholder: "${text.slice(0, 60)}"`);
  }
  return facts;
}"""
)

RUN_AXE = """async (impacts) => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations
    .filter((v) => impacts.includes(v.impact))
    .map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.slice(0, 4).map((n) => n.target.join(' ')),
      more: Math.max(0, v.nodes.length - 4),
    }));
}"""


# -- the bookkeeping ---------------------------------------------------------------------------


def _state(page: Page) -> dict:
    state = page.__dict__.get("_pj_checks")
    if state is None:
        state = {"dirty": False}
        page.__dict__["_pj_checks"] = state

        def navigated(frame) -> None:
            if frame.parent_frame is None:
                state["dirty"] = True

        page.on("framenavigated", navigated)
        page.on("close", lambda _page: _tracked.pop(id(page), None))
        _tracked[id(page)] = page
    return state


def viewport_name(page: Page) -> str:
    size = page.viewport_size or {}
    return f"{size.get('width')}×{size.get('height')}"


def check_page(page: Page) -> None:
    """Check the page's current document (once) into the running test's collector."""
    global _busy
    state = _state(page)
    if not state["dirty"] or _busy or page.is_closed():
        return
    state["dirty"] = False
    if current is None:
        return
    _busy = True
    started = time.perf_counter()
    try:
        try:
            page.wait_for_load_state("load")
            facts = page.evaluate(PAGE_FACTS)
            if not facts["html"]:
                return
            if not page.evaluate("typeof window.axe !== 'undefined'"):
                page.evaluate(axe_source())
            violations = page.evaluate(RUN_AXE, list(BLOCKING_IMPACTS))
        except Error as error:
            if "context was destroyed" in str(error) or "navigat" in str(error):
                return  # the page moved on by itself (a redirect); the next document is checked
            raise
        current.pages += 1
        found: list[Problem] = []
        where = {"url": page.url, "lang": facts["lang"] or "?", "viewport": viewport_name(page)}
        for v in violations:
            targets = ", ".join(v["targets"]) + (f" (+{v['more']} more)" if v["more"] else "")
            detail = f"({v['impact']}) {v['help']}: {targets}"
            found.append(Problem(check=f"axe:{v['id']}", detail=detail, **where))
        if facts["scrollWidth"] > facts["innerWidth"]:
            detail = (
                f"page is {facts['scrollWidth']}px wide in a {facts['innerWidth']}px window; "
                + ("; ".join(facts["wide"]) or "no single element found")
            )
            found.append(Problem(check="overflow", detail=detail, **where))
        script = "ASCII" if facts["lang"].startswith("fa") else "Persian/Arabic"
        for text in facts["digits"]:
            detail = f"{script} digits in visible text: {text}"
            found.append(Problem(check="digits", detail=detail, **where))
        for problem in found:
            bucket = current.known if problem.known() else current.problems
            if problem not in bucket:  # the same page seen again in the same state
                bucket.append(problem)
    finally:
        _busy = False
        current.seconds += time.perf_counter() - started


def tracked_pages() -> list[Page]:
    return [page for page in _tracked.values() if not page.is_closed()]


def check_open_pages() -> None:
    for page in list(_tracked.values()):
        check_page(page)


# -- the wrapping -----------------------------------------------------------------------------

# Methods that do nothing on the page (locator builders, listeners, settings) stay unwrapped.
_SKIP = re.compile(
    r"(on|once|remove_listener|locator|frame_locator|frame|nth|filter|and_|or_|describe|"
    r"get_by_.*|expect_.*|set_default_.*|is_closed|add_init_script|route.*|unroute.*|"
    r"expose_.*|add_locator_handler|remove_locator_handler|opener|pause|"
    r"console_messages|page_errors|requests|clear_.*)"
)


def _wrap(cls, name: str, page_of) -> None:
    original = getattr(cls, name)
    if getattr(original, "_pj_wrapped", False):
        return

    @functools.wraps(original)
    def wrapper(self, *args, **kwargs):
        if not _busy:
            check_page(page_of(self))
        return original(self, *args, **kwargs)

    wrapper._pj_wrapped = True  # type: ignore[attr-defined]
    setattr(cls, name, wrapper)


def install() -> None:
    """Wrap Playwright's Page, Locator and BrowserContext.close (idempotent)."""
    import inspect

    for cls, page_of in ((Page, lambda page: page), (Locator, lambda loc: loc.page)):
        for name, value in list(vars(cls).items()):
            if name.startswith("_") or not inspect.isfunction(value) or _SKIP.fullmatch(name):
                continue
            _wrap(cls, name, page_of)
    close = BrowserContext.close
    if not getattr(close, "_pj_wrapped", False):

        @functools.wraps(close)
        def close_context(self, *args, **kwargs):
            for page in self.pages:
                if id(page) in _tracked:
                    check_page(page)
            return close(self, *args, **kwargs)

        close_context._pj_wrapped = True  # type: ignore[attr-defined]
        BrowserContext.close = close_context
