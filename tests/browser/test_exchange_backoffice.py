"""The exchange's back office in a real Chromium: a consumer agency's editor asks for data,
a member of the Interoperability Working Group approves some of it, the editor sees the
decision; the platform operator reads the month's statistics."""

from __future__ import annotations

import datetime as dt
import os
import re

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from panjereh.catalogue import roles
from panjereh.common import jalali
from panjereh.common.persian import to_persian_digits
from panjereh.exchange import log, stats
from panjereh.exchange.models import DataService, Grant, GrantState
from tests.factories import UserFactory, make_agency, make_agency_staff, make_service

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _signed_in(browser, live_server, user, variant):
    context = variant.signed_in_context(browser, live_server.url, user)
    return context, context.new_page()


def _member(group: str):
    user = UserFactory()
    user.groups.add(Group.objects.get_or_create(name=group)[0])
    return user


@pytest.fixture
def setting(transactional_db, settings, tmp_path):
    settings.PANJEREH_EXCHANGE_ANCHOR_PATH = str(tmp_path / "anchor.jsonl")
    registry = make_agency(
        code="civil-reg", name_fa="سازمان ثبت احوال", name_en="Civil Registration Organisation"
    )
    service = DataService.objects.create(
        provider=registry,
        subsystem="civil-registry",
        code="identity",
        title_fa="استعلام تطابق هویت",
        title_en="Identity match",
        items=[
            {"code": "civil.identity", "fields": ["first_name", "last_name"]},
            {"code": "civil.birth_date", "fields": ["birth_date"]},
        ],
        key_fields=["national_code"],
        legal_basis="قانون ثبت احوال",
        upstream_base_url="http://127.0.0.1:9/identity",
    )
    consumer = make_agency(code="welfare", name_fa="سازمان بهزیستی", name_en="Welfare Organisation")
    purpose = make_service(consumer, title_en="Unemployment insurance")
    return {"service": service, "consumer": consumer, "purpose": purpose}


def test_request_approve_and_see_the_decision(browser, variant, live_server, setting):
    base, lang = live_server.url + variant.prefix, variant.prefix
    service, purpose = setting["service"], setting["purpose"]
    editor = make_agency_staff(setting["consumer"], role="editor")
    wg = _member(roles.INTEROP_WG)

    context, page = _signed_in(browser, live_server, editor, variant)
    try:
        page.goto(f"{base}/exchange/")
        assert page.locator("html").get_attribute("dir") == ("rtl" if not lang else "ltr")
        page.locator(f"a[href='{lang}/exchange/grants/request/']").first.click()
        page.locator("tr[data-service='civil-registry/identity'] a").click()
        page.wait_for_url(re.compile(rf"{lang}/exchange/grants/request/{service.pk}/$"))
        page.click("#request-submit")  # nothing ticked: refused, with the errors tied in
        assert page.locator("#form-error-summary").is_visible()
        assert page.locator("#id_items-error").count() == 1
        page.check("#id_items_0")
        page.check("#id_items_1")
        page.select_option("#id_purpose", purpose.service_id)
        page.fill("#id_justification", "برای بررسی هویت متقاضی بیمه بیکاری")
        page.click("#request-submit")
        page.wait_for_url(re.compile(rf"{lang}/exchange/grants/\d+/$"))
        assert page.locator("#grant-state [data-state]").get_attribute("data-state") == "requested"
    finally:
        context.close()
    grant = Grant.objects.get()
    assert grant.requested_items == ["civil.birth_date", "civil.identity"]

    context, page = _signed_in(browser, live_server, wg, variant)
    try:
        page.goto(f"{base}/exchange/review/")
        page.locator(f"#queue tr[data-grant='{grant.pk}'] a").click()
        page.wait_for_url(re.compile(rf"{lang}/exchange/grants/{grant.pk}/$"))
        today = timezone.localdate()

        def jalali_fa(day: dt.date) -> str:
            return to_persian_digits(jalali.iso(day).replace("-", "/"))

        page.fill("#id_approve-resolution_number", "۱۴۰۴/۲۷")
        page.fill("#id_approve-resolution_session", "۹")
        page.fill("#id_approve-resolution_date", jalali_fa(today))
        page.fill("#id_approve-valid_until", jalali_fa(today - dt.timedelta(days=1)))
        page.click("#approve-submit")  # a validity already over: refused, nothing changes
        assert page.locator("#id_approve-valid_until-error").is_visible()
        assert page.locator("#approve-error-summary").is_visible()
        assert Grant.objects.get().state == GrantState.REQUESTED
        page.fill("#id_approve-valid_until", jalali_fa(today + dt.timedelta(days=365)))
        page.fill("#id_approve-implementation_deadline", jalali_fa(today + dt.timedelta(days=30)))
        # Grant the identity only, not the birth date.
        birth = page.locator("#approve-form input[value='civil.birth_date']")
        birth.uncheck()
        page.click("#approve-submit")
        page.wait_for_selector("#grant-state [data-state='approved']")
        assert page.locator("#approve-form").count() == 0
        assert page.locator("#revoke-form").count() == 1
    finally:
        context.close()
    grant.refresh_from_db()
    assert grant.state == GrantState.APPROVED and grant.items == ["civil.identity"]

    context, page = _signed_in(browser, live_server, editor, variant)
    try:
        page.goto(f"{base}/exchange/grants/")
        row = page.locator(f"#my-grants tr[data-grant='{grant.pk}']")
        assert row.locator("[data-state]").get_attribute("data-state") == "approved"
        assert variant.gettext("Approved") in row.inner_text()
        assert variant.digits("1404/27") in row.inner_text()
        row.locator("a").first.click()
        granted = page.locator("#items-granted").inner_text()
        assert "civil.identity" in granted and "civil.birth_date" not in granted
    finally:
        context.close()


def test_operator_reads_the_statistics(browser, variant, live_server, setting):
    from panjereh.exchange.log import insert_record

    service, consumer = setting["service"], setting["consumer"]
    now = timezone.now()
    for i, (outcome, status) in enumerate([("ok", 200)] * 3 + [("provider_error", 502)]):
        insert_record(
            created_at=now,
            x_road_id=f"browser-{i}",
            client="IR/GOV/welfare/portal",
            consumer_id=consumer.pk,
            provider_id=service.provider_id,
            service_id=service.pk,
            method="GET",
            path="identity",
            outcome=outcome,
            http_status=status,
            latency_us=1_000 * (i + 1),
            request_hash="0" * 64,
        )
    log.seal_pending()
    month = stats.month_key(now)
    stats.rollup(month)
    operator = _member(roles.ITO)
    context, page = _signed_in(browser, live_server, operator, variant)
    lang = variant.prefix
    try:
        page.goto(f"{live_server.url}{lang}/exchange/")
        page.locator(f"a[href='{lang}/exchange/statistics/']").first.click()
        page.wait_for_url(re.compile(rf"{lang}/exchange/statistics/$"))
        page.select_option("#month", month)
        page.click("#month-submit")
        page.wait_for_url(re.compile(r"month="))
        assert page.locator("#totals").get_attribute("data-calls") == "4"
        quality = "۷۵٫۰۰٪" if variant.lang == "fa" else "75.00%"
        assert page.locator("#total-quality").inner_text() == quality
        assert page.locator("#per-consumer tbody tr").count() == 1
        assert page.locator("#pairs tbody tr").count() == 1
        assert variant.digits(4) in page.locator("#latest-seal").inner_text()
        assert page.locator("#last-anchor").get_attribute("data-matches") == "1"
    finally:
        context.close()
