"""People finding a service in a real browser: by search and through the agencies, on a
desktop and on a phone, in Persian and in English; keyboard use and accessible names."""

from __future__ import annotations

import re

import pytest

from panjereh.common.persian import to_persian_digits

from .conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FORM_ROLES = {"textbox", "searchbox", "combobox", "checkbox", "radio", "button", "listbox"}


def go(page, live_server, path: str) -> None:
    page.goto(live_server.url + path)
    page.wait_for_load_state("domcontentloaded")


def html_lang_dir(page) -> tuple[str, str]:
    lang, direction = page.evaluate("[document.documentElement.lang, document.documentElement.dir]")
    return lang, direction


def assert_fits_width(page) -> None:
    """Nothing makes the page scroll sideways (WCAG 1.4.10 reflow at 320-360 px)."""
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"page is {overflow}px wider than the viewport"


def search_for(page, text: str) -> None:
    box = page.get_by_role("searchbox").first
    box.fill(text)
    box.press("Enter")
    page.wait_for_load_state("domcontentloaded")


def test_find_a_service_by_search_in_persian(device_page, live_server, live_catalogue):
    go(device_page, live_server, "/")
    assert html_lang_dir(device_page) == ("fa", "rtl")
    assert_fits_width(device_page)
    # Typed with an Arabic Yeh, as an Arabic keyboard would.
    search_for(device_page, "گواهي ولادت")
    assert "/search/" in device_page.url
    assert device_page.locator(".result-count").inner_text().startswith("۱ خدمت")
    device_page.get_by_role("link", name="صدور گواهی ولادت").click()
    device_page.wait_for_load_state("domcontentloaded")
    assert device_page.locator("h1").inner_text() == "صدور گواهی ولادت"
    sid = live_catalogue.birth_certificate.service_id
    assert to_persian_digits(sid) in device_page.locator("main").inner_text()
    assert device_page.get_by_text("دولت این را دارد").is_visible()
    # The service is on the agency's own site, which the status monitor has not found
    # answering in the test: the page says where it is and offers no dead link.
    unavailable = device_page.locator("#outside-unavailable")
    assert unavailable.is_visible() and "example.org" in unavailable.inner_text()
    assert device_page.get_by_role("link", name="همین حالا شروع کنید").count() == 0
    assert_fits_width(device_page)


def test_find_a_service_by_agency_drill_down_in_persian(device_page, live_server, live_catalogue):
    go(device_page, live_server, "/")
    device_page.get_by_role("link", name=re.compile("وزارت بهداشت")).click()
    device_page.wait_for_load_state("domcontentloaded")
    assert device_page.locator("h1").inner_text() == "وزارت بهداشت، درمان و آموزش پزشکی"
    device_page.get_by_role("link", name=re.compile("دانشگاه علوم پزشکی تهران")).click()
    device_page.wait_for_load_state("domcontentloaded")
    breadcrumb = device_page.get_by_role("navigation", name="مسیر صفحه")
    assert breadcrumb.get_by_role("link", name="وزارت بهداشت، درمان و آموزش پزشکی").is_visible()
    device_page.get_by_role("link", name="دریافت پرونده پزشکی بیمارستان").click()
    device_page.wait_for_load_state("domcontentloaded")
    assert device_page.locator("h1").inner_text() == "دریافت پرونده پزشکی بیمارستان"
    assert device_page.get_by_text("خدمت هوشمند", exact=True).is_visible()
    assert_fits_width(device_page)


def test_switch_to_english_and_find_by_search(device_page, live_server, live_catalogue):
    go(device_page, live_server, "/")
    device_page.get_by_role("link", name="English").click()
    device_page.wait_for_url(re.compile(r"/en/$"))
    assert html_lang_dir(device_page) == ("en", "ltr")
    assert device_page.locator("h1").inner_text() == "Government services in one place"
    search_for(device_page, "birht certificate")  # a typo
    assert "/en/search/" in device_page.url
    device_page.get_by_role("link", name="Birth certificate").click()
    device_page.wait_for_load_state("domcontentloaded")
    assert device_page.locator("h1").inner_text() == "Birth certificate"
    main = device_page.locator("main").inner_text()
    assert live_catalogue.birth_certificate.service_id in main
    assert "250,000 rials" in main
    assert not re.search("[۰-۹]", main)
    # Back to Persian on the same device_page.
    device_page.get_by_role("link", name="فارسی").click()
    device_page.wait_for_load_state("domcontentloaded")
    assert device_page.url.endswith(f"/services/{live_catalogue.birth_certificate.service_id}/")
    assert "/en/" not in device_page.url
    assert html_lang_dir(device_page) == ("fa", "rtl")
    assert device_page.locator("h1").inner_text() == "صدور گواهی ولادت"


def test_english_agency_drill_down_and_filters(device_page, live_server, live_catalogue):
    go(device_page, live_server, "/en/")
    device_page.get_by_role("link", name=re.compile("Ministry of Health")).click()
    device_page.wait_for_load_state("domcontentloaded")
    assert device_page.locator("h1").inner_text() == "Ministry of Health and Medical Education"
    device_page.get_by_label("Search its services and those of the bodies under it").press("Enter")
    device_page.wait_for_load_state("domcontentloaded")
    assert device_page.get_by_label("Agency").input_value() == "health-ministry"
    assert "3 services found" in device_page.locator(".result-count").inner_text()
    device_page.get_by_label("Smart services only").check()
    device_page.get_by_role("button", name="Apply").click()
    device_page.wait_for_load_state("domcontentloaded")
    assert "1 service found" in device_page.locator(".result-count").inner_text()
    device_page.get_by_role("link", name="Hospital medical record").click()
    device_page.wait_for_load_state("domcontentloaded")
    assert device_page.locator("h1").inner_text() == "Hospital medical record"
    assert_fits_width(device_page)


@pytest.mark.parametrize("path", ["/", "/en/"])
def test_skip_link_is_the_first_tab_stop_and_moves_focus_to_main(
    device_page, live_server, live_catalogue, path
):
    go(device_page, live_server, path)
    device_page.keyboard.press("Tab")
    focused = device_page.evaluate(
        "({cls: document.activeElement.className, href: document.activeElement.getAttribute('href')})"
    )
    assert focused == {"cls": "skip-link", "href": "#main"}
    assert device_page.locator(".skip-link").is_visible()
    device_page.keyboard.press("Enter")
    assert device_page.evaluate("document.activeElement.id") == "main"
    # The next Tab continues from the main content, not from the header.
    device_page.keyboard.press("Tab")
    inside_main = device_page.evaluate(
        "document.getElementById('main').contains(document.activeElement)"
    )
    assert inside_main


def test_focus_is_visible_on_links_and_buttons(device_page, live_server, live_catalogue):
    go(device_page, live_server, "/")
    device_page.keyboard.press("Tab")
    device_page.keyboard.press("Tab")  # the brand link
    style = device_page.evaluate(
        "(() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, s.outlineWidth, s.boxShadow]; })()"
    )
    assert style[0] != "none" and style[1] != "0px"
    assert "rgb(255, 221, 0)" in style[2]


def accessible_form_controls(page) -> list[dict]:
    """Form controls as the browser's accessibility tree names them."""
    cdp = page.context.new_cdp_session(page)
    tree = cdp.send("Accessibility.getFullAXTree")["nodes"]
    controls = []
    for node in tree:
        role = (node.get("role") or {}).get("value")
        if role in FORM_ROLES and not node.get("ignored"):
            name = ((node.get("name") or {}).get("value") or "").strip()
            controls.append({"role": role, "name": name})
    return controls


@pytest.mark.parametrize(
    "path",
    ["/", "/search/?q=ولادت", "/en/search/?q=birth&smart=1", "/agencies/health-ministry/"],
)
def test_every_form_control_has_an_accessible_name(device_page, live_server, live_catalogue, path):
    go(device_page, live_server, path)
    controls = accessible_form_controls(device_page)
    assert any(c["role"] == "searchbox" for c in controls)
    assert any(c["role"] == "button" for c in controls)
    unnamed = [c for c in controls if not c["name"]]
    assert unnamed == []


def test_landmarks_are_present(device_page, live_server, live_catalogue):
    go(device_page, live_server, f"/services/{live_catalogue.birth_certificate.service_id}/")
    assert device_page.get_by_role("banner").count() == 1
    assert device_page.get_by_role("main").count() == 1
    assert device_page.get_by_role("contentinfo").count() == 1
    menu_button = device_page.locator("summary.menu-button")
    if menu_button.is_visible():  # on a phone the menu is behind its button
        menu_button.click()
    assert device_page.get_by_role("navigation", name="منوی اصلی").count() == 1
    assert device_page.locator("h1").count() == 1


def test_self_hosted_font_is_used(phone_page, live_server, live_catalogue):
    requests: list[str] = []
    phone_page.on("request", lambda r: requests.append(r.url))
    go(phone_page, live_server, "/")
    phone_page.wait_for_load_state("networkidle")
    assert phone_page.evaluate("document.fonts.check('16px Vazirmatn')")
    assert all(url.startswith(live_server.url) for url in requests), requests
    assert any(url.endswith("Vazirmatn-Regular-subset.woff2") for url in requests)


@pytest.mark.parametrize("which", ["home", "service"])
def test_persian_phone_layout_reads_right_to_left(phone_page, live_server, live_catalogue, which):
    path = "/" if which == "home" else f"/services/{live_catalogue.birth_certificate.service_id}/"
    go(phone_page, live_server, path)
    phone_page.wait_for_load_state("networkidle")
    assert_fits_width(phone_page)
    width = phone_page.viewport_size["width"]
    heading = phone_page.locator("h1").bounding_box()
    # Right-to-left: the heading starts at the right edge (container padding is 16px).
    assert width - (heading["x"] + heading["width"]) <= 20
    brand = phone_page.locator(".brand").bounding_box()
    switch = phone_page.locator(".lang-switch a").bounding_box()
    assert brand["x"] > switch["x"], "the brand should sit right of the language switcher"
    if which == "home":
        box = phone_page.get_by_role("searchbox").bounding_box()
        button = phone_page.get_by_role("button", name="جست‌وجو").bounding_box()
        assert button["x"] < box["x"], "the search button should follow the box leftwards"
    # Touch targets are at least 44px tall (WCAG 2.5.8 asks 24; the portal aims higher).
    for control in phone_page.locator("main button, main input[type=search]").all():
        assert control.bounding_box()["height"] >= 43
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    phone_page.screenshot(path=str(ARTIFACTS / f"phone-fa-{which}.png"), full_page=True)
