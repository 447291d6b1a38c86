"""The Persian window on a 360 × 780 phone (issue 12, items 19–23).

Each page named in the issue is opened in Persian on a narrow phone, signed in where the page
needs it, with enough data for its tables to be drawn: no page may be wider than the screen
(WCAG 1.4.10), the signed-in header keeps to a fifth of the screen (its links behind a menu
button that works without scripts), every button is a 44 px target, breadcrumbs and result
lists carry no list numbers, and an unknown address shows the window's own Persian 404 page.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client

from panjereh.common.persian import to_persian_digits
from panjereh.identity import audit
from panjereh.identity.models import AuthEvent
from panjereh.participation import operations as participation
from tests.factories import make_agency, make_service
from tests.feedback.conftest import make_citizen
from tests.participation.conftest import make_moderator

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE_360 = {"width": 360, "height": 780}


@pytest.fixture
def world(transactional_db, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.PANJEREH_FEEDBACK_EVIDENCE_DIR = str(tmp_path / "evidence")
    cache.clear()
    agency = make_agency(
        code="ministry-of-long-names",
        name_fa="وزارت تعاون، کار و رفاه اجتماعی و امور مربوط به بیمه‌های همگانی",
        name_en="Ministry of Cooperatives, Labour and Social Welfare",
    )
    offline = [
        make_service(
            agency,
            title_fa="صدور مجوز فعالیت کسب‌وکارهای خانگی و مشاغل خرد " + "الف ب پ"[2 * n],
            title_en=f"Home business licence {n}",
            connected=False,
            connection_form="",
        )
        for n in range(3)
    ]
    citizen = make_citizen(mobile="09351234567")
    for _ in range(3):
        audit.record(
            AuthEvent.Kind.TOKEN_ISSUED,
            user=citizen,
            client_name="سامانه جامع خدمات الکترونیکی وزارت تعاون کار و رفاه اجتماعی",
            fingerprint="SHA256:" + "a1b2c3d4e5f6" * 5,
        )
    moderator = make_moderator()
    for service in offline:
        suggestion = participation.propose(
            citizen,
            agency,
            "electronic",
            "لطفاً این خدمت را برخط کنید؛ هر بار باید با مدارک کاغذی به اداره مراجعه کنیم: "
            + service.title_fa,
        )
        participation.moderate(suggestion, moderator, approve=True)
    cache.clear()
    yield {"agency": agency, "citizen": citizen, "offline": offline}
    cache.clear()


def _phone(browser, base: str, user=None):
    context = browser.new_context(
        viewport=PHONE_360, is_mobile=True, has_touch=True, device_scale_factor=2, locale="fa-IR"
    )
    # Generous: the first page of a test compiles templates on a busy machine.
    context.set_default_timeout(30_000)
    if user is not None:
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": base}])
    return context, context.new_page()


def _overflow(page) -> dict:
    """How far the page reaches beyond the screen, and which elements stick out."""
    return page.evaluate(
        """() => {
            const width = window.innerWidth;
            const wide = [];
            for (const el of document.querySelectorAll('body *')) {
                const r = el.getBoundingClientRect();
                if (r.width && (r.right > width + 1 || r.left < -1)) {
                    wide.push(el.tagName + '.' + el.className + ' ' + Math.round(r.left)
                              + '..' + Math.round(r.right));
                }
            }
            return {scroll: document.documentElement.scrollWidth, width, wide: wide.slice(0, 8)};
        }"""
    )


def _assert_fits(page, path: str) -> None:
    # A phone browser zooms out to show a page wider than its screen, and innerWidth then
    # grows with the page: compare with the screen's own width as well.
    found = _overflow(page)
    assert found["scroll"] <= found["width"] <= PHONE_360["width"], (path, found)


def _pages(world) -> list[str]:
    return [
        "/services/verify/",
        f"/participate/services/{world['agency'].code}/",
        "/account/activity/",
        "/exchange/my-data/",
        "/participate/proposals/",
        "/feedback/",
        "/feedback/complaints/new/",
        "/account/passkeys/",
        "/account/step-up/",
        "/search/?q=" + "مجوز",
        "/transparency/",
        "/status/",
        "/feedback/public/",
    ]


def test_no_page_is_wider_than_a_360_pixel_phone_in_persian(browser, live_server, world):
    context, page = _phone(browser, live_server.url, world["citizen"])
    try:
        wide = {}
        for path in _pages(world):
            response = page.goto(live_server.url + path)
            assert response.status < 400, (path, response.status)
            found = _overflow(page)
            if not found["scroll"] <= found["width"] <= PHONE_360["width"]:
                wide[path] = found
        assert wide == {}
    finally:
        context.close()


def test_a_qr_verification_link_fits_the_phone(browser, live_server, world):
    context, page = _phone(browser, live_server.url)
    try:
        page.goto(live_server.url + "/services/verify/?t=" + "eyJhbGciOiJFZERTQSJ9." * 12)
        page.wait_for_selector("#verification")
        _assert_fits(page, "/services/verify/?t=…")
    finally:
        context.close()


def test_the_signed_in_header_takes_less_than_a_fifth_of_the_phone(browser, live_server, world):
    context, page = _phone(browser, live_server.url, world["citizen"])
    try:
        page.goto(live_server.url + "/")
        height = page.evaluate("document.querySelector('.site-header').offsetHeight")
        assert height < 0.2 * PHONE_360["height"], height
        # The account links are behind a menu button that needs no script to open.
        mine = page.locator(".site-header a[href='/services/']")
        assert not mine.is_visible()
        page.locator(".site-header summary").click()
        assert mine.is_visible()
        assert page.evaluate("[...document.scripts].every(s => s.src || !s.text.trim())")
        _assert_fits(page, "/ with the menu open")
    finally:
        context.close()


def test_the_menu_is_open_on_a_desktop_without_a_button(browser, live_server, world):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="fa-IR")
    page = context.new_page()
    try:
        page.goto(live_server.url + "/")
        assert page.locator(".site-nav a[href='/search/']").first.is_visible()
        assert not page.locator(".site-header summary").is_visible()
    finally:
        context.close()


def test_buttons_are_44_pixel_targets(browser, live_server, world):
    context, page = _phone(browser, live_server.url, world["citizen"])
    try:
        for path in (
            "/services/verify/",
            "/feedback/complaints/new/",
            "/participate/propose/",
            "/account/passkeys/",
        ):
            page.goto(live_server.url + path)
            small = page.evaluate(
                """() => [...document.querySelectorAll(
                        'main button, main input[type=submit], main input[type=button]')]
                    .filter(b => b.offsetParent !== null)
                    .map(b => [b.textContent.trim() || b.value, b.getBoundingClientRect().height,
                               parseFloat(getComputedStyle(b).fontSize)])
                    .filter(([, h, size]) => h < 44 || size < 16)"""
            )
            assert small == [], (path, small)
    finally:
        context.close()


def test_breadcrumbs_and_search_results_carry_no_list_numbers(browser, live_server, world):
    context, page = _phone(browser, live_server.url)
    try:
        service = world["offline"][0]
        page.goto(live_server.url + f"/services/{service.service_id}/")
        crumbs = page.locator(".breadcrumbs li")
        assert crumbs.count() >= 2
        styles = page.evaluate(
            "[...document.querySelectorAll('.breadcrumbs li, ol.results > li')]"
            ".map(li => getComputedStyle(li).listStyleType)"
        )
        assert set(styles) == {"none"}, styles
        page.goto(live_server.url + "/search/?q=" + "مجوز")
        styles = page.evaluate(
            "[...document.querySelectorAll('main ol > li')]"
            ".filter(li => li.closest('ol').className)"
            ".map(li => getComputedStyle(li).listStyleType)"
        )
        assert styles and set(styles) == {"none"}, styles
    finally:
        context.close()


def test_an_unknown_address_shows_the_windows_persian_404_page(browser, live_server, world):
    context, page = _phone(browser, live_server.url)
    try:
        response = page.goto(live_server.url + "/no-such-page/")
        assert response.status == 404
        assert page.evaluate("document.documentElement.dir") == "rtl"
        assert page.evaluate("document.documentElement.lang") == "fa"
        assert page.locator("meta[name=viewport]").count() == 1
        assert page.locator(".site-header .brand").is_visible()
        assert "پیدا نشد" in page.locator("h1").inner_text()
        assert page.locator("main a[href='/']").count() >= 1
        _assert_fits(page, "/no-such-page/")
    finally:
        context.close()


def test_a_file_too_large_is_refused_with_the_form_kept_and_the_summary_focused(
    browser, live_server, world, settings, tmp_path
):
    settings.PANJEREH_FEEDBACK_MAX_UPLOAD_BYTES = 64 * 1024
    big = tmp_path / "scan.pdf"
    big.write_bytes(b"%PDF-1.4\n" + b"0" * (200 * 1024))
    context, page = _phone(browser, live_server.url, world["citizen"])
    try:
        page.goto(live_server.url + "/feedback/complaints/new/")
        page.fill("#id_description", "از من کپی شناسنامه خواستند با آنکه در سامانه ثبت است")
        page.set_input_files("#id_evidence", str(big))
        page.click("#complaint-submit")
        summary = page.locator(".error-summary")
        summary.wait_for()
        assert page.evaluate("document.activeElement.classList.contains('error-summary')")
        assert summary.locator("a[href='#id_evidence']").count() == 1
        assert "کپی شناسنامه" in page.input_value("#id_description")
    finally:
        context.close()


def test_the_error_summary_links_each_message_to_its_field_and_takes_focus(
    browser, live_server, world
):
    context, page = _phone(browser, live_server.url)
    try:
        page.goto(live_server.url + "/account/login/")
        page.fill("#id_national_code", "12345")
        page.click("#login-submit")
        summary = page.locator(".error-summary")
        summary.wait_for()
        assert page.evaluate("document.activeElement.classList.contains('error-summary')")
        assert summary.locator("a[href='#id_national_code']").count() == 1
    finally:
        context.close()


def test_the_complaint_forms_long_agency_list_can_be_searched(browser, live_server, world):
    for n in range(40):
        make_agency(
            code=f"other-{n}",
            name_fa="سازمان آزمون " + to_persian_digits(f"{n:02d}"),
            name_en=f"Body {n}",
        )
    context, page = _phone(browser, live_server.url, world["citizen"])
    try:
        page.goto(live_server.url + "/feedback/complaints/new/")
        page.fill("#id_agency-search", "رفاه")
        shown = page.evaluate(
            "[...document.querySelectorAll('#id_agency option')]"
            ".filter(o => o.value && !o.hidden).map(o => o.value)"
        )
        assert shown == [str(world["agency"].pk)]
        assert page.input_value("#id_agency") == str(world["agency"].pk)
    finally:
        context.close()
