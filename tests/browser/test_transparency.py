"""The public transparency portal and an agency's control dashboard, in a real Chromium."""

from __future__ import annotations

import os
import re

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from panjereh.common.persian import to_persian_digits
from tests.factories import make_agency, make_agency_staff, make_service

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def agencies(transactional_db):
    made = {}
    for code, name, n, connected, smart in [
        ("alborz", "سازمان البرز آزمایشی", 5, 5, 5),
        ("zagros", "سازمان زاگرس آزمایشی", 5, 2, 0),
    ]:
        agency = make_agency(code=code, name_fa=name, name_en=f"{code.title()} Test Organisation")
        for i in range(n):
            make_service(
                agency,
                title_fa=f"خدمت {code} {to_persian_digits(i)}",
                title_en=f"Service {code} {i}",
                connected=i < connected,
                connection_form="direct" if i < connected else "",
                smart_status="approved" if i < smart else "none",
            )
        made[code] = agency
    return made


def name(agency, variant) -> str:
    return agency.name_fa if variant.lang == "fa" else agency.name_en


def test_public_portal_shows_figures_charts_and_every_agency(
    variant_page, variant, live_server, agencies
):
    page = variant_page
    page.goto(f"{live_server.url}{variant.prefix}/transparency/")
    assert page.locator("html").get_attribute("dir") == ("rtl" if variant.lang == "fa" else "ltr")
    figures = page.get_by_test_id("national-figures")
    # 7 of 10 connectable services connected, in the language's digits.
    assert ("۷۰٫۰٪" if variant.lang == "fa" else "70.0%") in figures.inner_text()
    chart = page.locator("svg.chart[role=img]").first
    assert chart.locator("title").count() == 1 and chart.locator("desc").count() == 1
    page.locator(".ov-subnav a").nth(1).click()
    page.wait_for_url("**/transparency/agencies/")
    # expect() waits for the new page's table; count() alone would read a half-parsed page.
    expect(page.get_by_test_id("agency-table").locator("tbody tr")).to_have_count(2)
    page.locator("a", has_text=name(agencies["zagros"], variant)).first.click()
    page.wait_for_url("**/transparency/agencies/zagros/")
    # A service not yet offered.
    # (Its Persian title is shown with a Latin 4 until item 27's fix; either passes here.)
    title = r"خدمت zagros [4۴]" if variant.lang == "fa" else r"Service zagros 4"
    expect(page.locator("main")).to_contain_text(re.compile(title))
    response = page.request.get(f"{live_server.url}/transparency/open-data/agencies.csv")
    assert response.ok and "zagros" in response.text()


def test_agency_dashboard_for_its_own_staff_only(browser, variant, live_server, agencies):
    user = make_agency_staff(agencies["zagros"], role="editor")
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    context = variant.new_context(browser)
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )
    page = context.new_page()
    base = live_server.url + variant.prefix
    try:
        page.goto(f"{base}/oversight/")
        assert page.url.endswith(f"{variant.prefix}/oversight/agencies/zagros/")
        title = page.get_by_test_id("dashboard-title").inner_text()
        assert name(agencies["zagros"], variant) in title
        share = "۴۰٫۰٪" if variant.lang == "fa" else "40.0%"
        assert share in page.get_by_test_id("agency-figures").inner_text()
        response = page.goto(f"{base}/oversight/agencies/alborz/")
        assert response.status == 403
        # The monthly report form is prefilled with computed figures.
        page.goto(f"{base}/oversight/agencies/zagros/monthly-report/")
        assert variant.digits(5) in page.get_by_test_id("prefilled").inner_text()
        page.fill("#actions", "دو خدمت جدید متصل شد.")
        page.click("form.ov-form button[type=submit]")
        page.wait_for_url(f"**{variant.prefix}/oversight/agencies/zagros/")
        assert agencies["zagros"].monthly_reports.count() == 1
    finally:
        context.close()


def test_once_only_page_lists_justified_exceptions_and_counts(
    variant_page, variant, live_server, agencies
):
    """Art. 107(ح): the public page behind the transparency portal's link."""
    from panjereh.catalogue import operations, roles

    deed = make_service(
        agencies["zagros"],
        title_fa="انتقال سند ملک ۱۲",
        title_en="Transfer of property 12",
        connected=False,
        connection_form="",
        documents_required=["اصل سند مالکیت"],
    )
    operations.record_once_only_justification(
        deed,
        "ssaa.deed",
        reason_fa="سندهای دفترچه‌ای پیش از سال ۱۳۹۰ برخط نیستند.",
        reason_en="Booklet deeds from before 2011 are not online.",
        legal_basis="بند «ح» ماده ۱۰۷ قانون برنامه هفتم",
        author=roles.SYSTEM,
    )
    make_service(agencies["alborz"], title_fa="خدمت با کارت ملی", documents_required=["کارت ملی"])
    page = variant_page
    page.goto(f"{live_server.url}{variant.prefix}/transparency/")
    page.locator("a[href$='/once-only/']").first.click()
    page.wait_for_url(f"**{variant.prefix}/once-only/")
    rows = page.get_by_test_id("once-only-exceptions").locator("tbody tr")
    expect(rows).to_have_count(1)
    title = "انتقال سند ملک ۱۲" if variant.lang == "fa" else "Transfer of property 12"
    expect(rows.first).to_contain_text(title)
    agencies_table = page.get_by_test_id("once-only-agencies")
    expect(agencies_table.locator("tbody tr")).to_have_count(1)
    expect(agencies_table.locator("tbody tr").first).to_contain_text(
        name(agencies["alborz"], variant)
    )
