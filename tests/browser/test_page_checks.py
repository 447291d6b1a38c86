"""The checks every visited page goes through (checks.py) do catch what they are for: a serious
axe-core violation, a page wider than the phone, and digits of the other script; and they pass
a page that has none of these. The pages are served by Playwright's router, so no server runs."""

from __future__ import annotations

import pytest

from . import checks

pytestmark = [pytest.mark.browser]

SITE = "http://checks.invalid"

BAD_FA = """<!doctype html><html lang="fa" dir="rtl"><head><meta name="viewport" content="width=device-width, initial-scale=1"><title>بد</title></head><body>
<main><h1>صفحه</h1>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<div style="width: 900px">پهن</div>
<p>کد رهگیری 12345</p>
<p><code dir="ltr">GET /r1/identity/42</code></p>
<p lang="en">Version 2</p>
</main></body></html>"""

BAD_EN = """<!doctype html><html lang="en" dir="ltr"><head><meta name="viewport" content="width=device-width, initial-scale=1"><title>Bad</title></head><body>
<main><h1>Page</h1><p>Paid ۲۵۰٬۰۰۰ rials، yesterday</p>
<p lang="fa">نسخه ۲</p></main></body></html>"""

GOOD_FA = """<!doctype html><html lang="fa" dir="rtl"><head><meta name="viewport" content="width=device-width, initial-scale=1"><title>خوب</title></head><body>
<main><h1>صفحه</h1><p>کد رهگیری ۱۲۳۴۵، امروز</p><img src="data:," alt="نشان"></main>
</body></html>"""


def _visit(phone_page, html: str) -> checks.Collector:
    phone_page.route(
        f"{SITE}/**",
        lambda route: route.fulfill(body=html, content_type="text/html; charset=utf-8"),
    )
    outer, checks.current = checks.current, checks.Collector("inner")
    try:
        phone_page.goto(f"{SITE}/page/")
        checks.check_page(phone_page)
        return checks.current
    finally:
        checks.current = outer


def test_a_bad_persian_page_fails_on_axe_overflow_and_latin_digits(phone_page):
    found = _visit(phone_page, BAD_FA)
    by_check = {p.check: p for p in found.problems}
    assert "axe:image-alt" in by_check, found.report()
    assert "img" in by_check["axe:image-alt"].detail
    assert "div" in by_check["overflow"].detail, by_check["overflow"].detail
    assert by_check["overflow"].lang == "fa" and by_check["overflow"].viewport == "360×780"
    digits = [p.detail for p in found.problems if p.check == "digits"]
    assert len(digits) == 1 and "12345" in digits[0], digits
    # Code marked left-to-right and text marked English may keep Latin digits.


def test_a_bad_english_page_fails_on_persian_digits_and_the_arabic_comma(phone_page):
    found = _visit(phone_page, BAD_EN)
    digits = [p.detail for p in found.problems if p.check == "digits"]
    assert len(digits) == 1 and "۲۵۰٬۰۰۰" in digits[0], digits
    assert not [p for p in found.problems if p.check == "overflow"]


def test_a_good_page_passes(phone_page):
    found = _visit(phone_page, GOOD_FA)
    assert found.problems == [], found.report()
    assert found.pages == 1
