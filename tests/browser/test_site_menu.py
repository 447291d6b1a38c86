"""The header's navigation (issue 18, item 1): on a phone the links fold into a menu behind a
button that works without scripts; on a wide screen they stand in the header, no button; a
citizen's account menu leads to their window (/my/) and documents (/my/documents/)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MAIN_MENU = "منوی اصلی"
ACCOUNT_MENU = "حساب شما"


def _context(browser, width: int, *, scripts: bool = True, user=None, base: str = ""):
    phone = width < 700
    context = browser.new_context(
        viewport={"width": width, "height": 780 if phone else 800},
        is_mobile=phone,
        has_touch=phone,
        device_scale_factor=2 if phone else 1,
        locale="fa-IR",
    )
    context.set_default_timeout(20_000)
    if not scripts:
        # The window's scripts never load (the browser's own scripting stays on: the suite's
        # page checks run axe-core through it).
        context.route("**/*.js", lambda route: route.abort())
    if user is not None:
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": base}])
    return context


@pytest.mark.parametrize("width", [360, 640, 800])
def test_narrow_screens_fold_the_links_behind_a_menu_button_without_scripts(
    browser, live_server, width
):
    context = _context(browser, width, scripts=False)
    page = context.new_page()
    page.goto(live_server.url + "/")
    nav = page.get_by_role("navigation", name=MAIN_MENU)
    button = page.locator("summary.menu-button")
    assert button.is_visible()
    assert page.locator(".site-menu").get_attribute("open") is None
    assert not nav.is_visible()
    button.focus()
    page.keyboard.press("Enter")
    assert page.locator(".site-menu").get_attribute("open") is not None
    assert nav.is_visible()
    links = nav.get_by_role("link")
    assert links.count() >= 5
    for n in range(links.count()):  # each a 44 px target on a phone
        assert links.nth(n).bounding_box()["height"] >= 43
    assert page.get_by_role("navigation", name=ACCOUNT_MENU).get_by_role("link").count() >= 2
    button.click()
    assert not nav.is_visible()
    context.close()


def test_wide_screens_show_the_links_in_the_header_without_a_button(browser, live_server):
    context = _context(browser, 1280)
    page = context.new_page()
    page.goto(live_server.url + "/")
    assert not page.locator("summary.menu-button").is_visible()
    nav = page.get_by_role("navigation", name=MAIN_MENU)
    assert nav.is_visible()
    home = nav.get_by_role("link", name="خانه")
    assert home.is_visible() and home.get_attribute("aria-current") == "page"
    boxes = [nav.get_by_role("link").nth(n).bounding_box() for n in range(3)]
    assert len({round(box["y"]) for box in boxes}) == 1, "the links stand in one row"
    # The keyboard reaches them in order: skip link, brand, language, then the menu's links.
    page.keyboard.press("Tab")
    for _ in range(3):
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('nav.site-nav') !== null")
    context.close()


@pytest.mark.parametrize("width", [360, 1280])
def test_a_citizen_reaches_their_window_and_documents_from_the_account_menu(
    browser, live_server, width
):
    citizen = UserFactory(national_code="0012345679", is_staff=False, assurance_level=2)
    context = _context(browser, width, user=citizen, base=live_server.url)
    page = context.new_page()
    page.goto(live_server.url + "/my/")
    button = page.locator("summary.menu-button")
    if width < 700:
        button.click()
    account = page.get_by_role("navigation", name=ACCOUNT_MENU)
    mine = account.get_by_role("link", name="پنجرهٔ من")
    assert mine.get_attribute("href") == "/my/"
    assert mine.get_attribute("aria-current") == "page"
    documents = account.get_by_role("link", name="مدارک من")
    documents.click()
    page.wait_for_url(live_server.url + "/my/documents/")
    if width < 700:
        page.locator("summary.menu-button").click()
    current = page.get_by_role("navigation", name=ACCOUNT_MENU).get_by_role("link", name="مدارک من")
    assert current.get_attribute("aria-current") == "page"
    context.close()
