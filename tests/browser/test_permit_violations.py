"""A violation reported from a permit application, in a real Chromium (Persian phone, English
desktop): the form refuses a report with no kind (error summary first, the form kept), files a
removed condition asked again with its evidence, the supervising body upholds it, and the
issuing authority's row on the transparency portal counts it."""

from __future__ import annotations

import os

import pytest
from django.core.cache import cache
from django.utils import translation

from panjereh.feedback.models import Complaint
from tests.feedback.conftest import World
from tests.feedback.test_permit_violations import Permits

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def live_permits(transactional_db, live_server, settings, tmp_path):
    settings.PANJEREH_FEEDBACK_EVIDENCE_DIR = str(tmp_path / "evidence")
    settings.PANJEREH_FEEDBACK_SUPERVISOR = ""
    cache.clear()
    world = World()
    yield world, Permits(world)
    cache.clear()


def test_report_a_removed_condition_and_see_it_upheld_on_the_portal(
    browser, variant, live_server, live_permits
):
    world, permits = live_permits
    base = f"{live_server.url}{variant.prefix}"
    context = variant.signed_in_context(browser, live_server.url, world.citizen)
    try:
        page = context.new_page()
        page.goto(f"{base}/feedback/complaints/permit/?application=P-0001")
        page.fill("#id_description", "Asked again for the police clearance.")
        page.click("#permit-report-submit")
        summary = page.locator("#form-error")
        summary.wait_for()
        assert page.locator("#id_kind-error").is_visible()
        assert page.input_value("#id_description") == "Asked again for the police clearance."
        assert Complaint.objects.count() == 0
        page.check("#kind-removed_condition")
        page.select_option("#id_removed_condition", str(permits.removed.pk))
        page.set_input_files(
            "#id_evidence",
            files=[{"name": "letter.pdf", "mimeType": "application/pdf", "buffer": PDF}],
        )
        page.click("#permit-report-submit")
        page.wait_for_selector("#complaint-code")
        complaint = Complaint.objects.get()
        assert complaint.removed_condition_id == permits.removed.pk
        wording = permits.removed.wording_fa if variant.lang == "fa" else permits.removed.wording_en
        assert wording in page.locator("#complaint-removed-condition").inner_text()
    finally:
        context.close()
    handler_ctx = variant.signed_in_context(browser, live_server.url, world.ministry_officer)
    try:
        handler = handler_ctx.new_page()
        handler.goto(f"{base}/feedback/complaints/{complaint.tracking_code}/")
        handler.check("#to-under_review")
        handler.click("#handle-submit")
        handler.wait_for_selector('#complaint-state[data-state="under_review"]')
        handler.check("#to-upheld")
        note = "این شرط در ۱۴۰۲ حذف شده است." if variant.lang == "fa" else "Removed in 1402."
        handler.fill("#id_note", note)
        handler.click("#handle-submit")
        handler.wait_for_selector('#complaint-state[data-state="upheld"]')
    finally:
        handler_ctx.close()
    cache.clear()  # the portal keeps its figures a few minutes
    public = variant.new_context(browser)
    try:
        page = public.new_page()
        page.goto(f"{base}/transparency/permits/")
        cell = page.locator(
            '#permit-authorities tr[data-authority="auth-a"] td[data-indicator="permits_violations_upheld"]'
        )
        one = "۱" if variant.lang == "fa" else "1"
        with translation.override(variant.lang):
            assert cell.inner_text().strip().startswith(one)
        assert page.locator('a[href$="/permits/removed/"]').count() >= 1
    finally:
        public.close()
