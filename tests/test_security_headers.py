"""Content-Security-Policy: every HTML page carries a strict policy (no inline script or
style), and no template or HTML-writing code needs an exception to it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "panjereh"

# Rendered to PDF by WeasyPrint on the server, never served to a browser as a page.
PDF_TEMPLATES = re.compile(r"_pdf\.html$")
INLINE = {
    "inline script": re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.I),
    "event handler attribute": re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I),
    "style attribute": re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I),
    "style element": re.compile(r"<style\b", re.I),
    "javascript: address": re.compile(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", re.I),
}


def _templates():
    for path in sorted(SRC.glob("**/templates/**/*.html")):
        if not PDF_TEMPLATES.search(path.name):
            yield path


def test_the_template_scan_sees_every_app():
    apps = {path.relative_to(SRC).parts[0] for path in _templates()}
    assert {"portal", "identity", "services", "status", "oversight", "feedback"} <= apps


@pytest.mark.parametrize("kind", sorted(INLINE))
def test_no_template_has_inline_code_the_policy_would_block(kind):
    pattern = INLINE[kind]
    found = [
        f"{path.relative_to(SRC)}: {match.group(0)[:80]}"
        for path in _templates()
        for match in pattern.finditer(path.read_text(encoding="utf-8"))
    ]
    assert found == [], f"{kind} in templates (move it to a static file): {found}"


def test_no_python_code_writes_inline_style_or_handlers_into_pages():
    # Code that builds HTML (charts, widgets) meets the same policy as templates.
    pattern = re.compile(r"""<[a-z][^'"]*\s(style|on[a-z]+)\s*=""", re.I)
    found = [
        f"{path.relative_to(SRC)}:{number}"
        for path in sorted(SRC.glob("**/*.py"))
        if "migrations" not in path.parts
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert found == []


def test_the_scan_catches_what_it_looks_for():
    sample = '<p style="x" onclick="y()"><script>alert(1)</script><a href="javascript:z()"><style>'
    assert all(pattern.search(sample) for pattern in INLINE.values())
    assert not INLINE["inline script"].search('<script src="/static/a.js" defer></script>')


PAGES = [
    "/",
    "/en/",
    "/search/?q=%DA%AF%D8%B0%D8%B1%D9%86%D8%A7%D9%85%D9%87",
    "/account/login/",
    "/account/register/",
    "/services/verify/",
    "/status/",
    "/transparency/",
    "/admin/login/",
]


def _directives(header: str) -> dict[str, list[str]]:
    out = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


@pytest.mark.django_db
@pytest.mark.parametrize("path", PAGES)
def test_every_html_page_has_a_strict_policy(client, path):
    response = client.get(path)
    assert response.status_code == 200, path
    assert response["Content-Type"].startswith("text/html")
    policy = _directives(response["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert not any("'unsafe-inline'" in values for values in policy.values())


def test_production_settings_have_the_same_policy(tmp_path):
    """Production mode (read in a fresh interpreter, as the server would) installs the
    middleware and the same strict policy."""
    env = {
        **os.environ,
        "PANJEREH_MODE": "production",
        "PANJEREH_SECRET_KEY": "a production-like secret for this check",
        "PANJEREH_VAR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "panjereh.conf.settings",
    }
    code = (
        "import json; from django.conf import settings as s; "
        "print(json.dumps([s.MIDDLEWARE, s.CONTENT_SECURITY_POLICY, s.SECURE_HSTS_SECONDS]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    middleware, policy, hsts = json.loads(result.stdout.strip().splitlines()[-1])
    assert "csp.middleware.CSPMiddleware" in middleware
    assert policy["DIRECTIVES"]["script-src"] == ["'self'"]
    assert policy["DIRECTIVES"]["style-src"] == ["'self'"]
    assert hsts > 0
