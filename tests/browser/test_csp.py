"""Pages work under the Content-Security-Policy: no CSP violation in the console, and the
behaviour that used inline script or style still happens (from static files)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def _watch(page) -> list[str]:
    violations: list[str] = []

    def on_console(message):
        text = message.text
        if "Content Security Policy" in text or "Refused to" in text:
            violations.append(text)

    page.on("console", on_console)
    return violations


def test_the_agency_page_draws_its_bars_without_inline_style(page, live_server, live_catalogue):
    violations = _watch(page)
    page.goto(f"{live_server.url}/agencies/health-ministry/")
    header = page.context.request.get(f"{live_server.url}/agencies/health-ministry/")
    assert "script-src 'self'" in header.headers["content-security-policy"]
    widths = page.eval_on_selector_all(".bar span", "els => els.map(e => e.style.width)")
    assert widths and all(w.endswith("%") for w in widths)
    assert violations == []


def test_a_qr_link_to_the_verify_page_submits_its_token(page, live_server, db):
    violations = _watch(page)
    page.goto(f"{live_server.url}/services/verify/#t=not.a.document")
    page.wait_for_selector("#verification")  # the form was submitted by verify.js
    assert page.input_value("#id_token") == "not.a.document"
    assert violations == []


def test_the_status_and_sign_in_pages_raise_no_csp_violation(page, live_server, db):
    violations = _watch(page)
    for path in ("/status/", "/account/login/", "/en/account/register/", "/transparency/"):
        page.goto(live_server.url + path)
    assert violations == []
