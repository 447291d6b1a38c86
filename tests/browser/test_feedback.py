"""The citizen's voice in a real Chromium: rate a finished application, the agency replies and
the reply arrives in the citizen's inbox; file a complaint with evidence and follow it by its
tracking code. Sign-in is a session made by Django's test client (sign-on itself is tested in
test_sso.py and test_services.py)."""

from __future__ import annotations

import os
import re

import pytest
from django.core.cache import cache

from panjereh.common.persian import to_latin_digits
from panjereh.feedback.models import Complaint, Rating
from panjereh.inbox.models import Message
from tests.feedback.conftest import World

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def live_world(transactional_db, live_server, settings, tmp_path):  # noqa: F811
    settings.PANJEREH_FEEDBACK_EVIDENCE_DIR = str(tmp_path / "evidence")
    cache.clear()
    yield World()
    cache.clear()


def _signed_in(browser, live_server, user, variant):
    context = variant.signed_in_context(browser, live_server.url, user)
    return context, context.new_page()


def _name(agency, variant) -> str:
    return agency.name_fa if variant.lang == "fa" else agency.name_en


def test_rate_reply_and_read_the_reply_in_the_inbox(browser, variant, live_server, live_world):
    world, _ = live_world, variant.gettext
    application = world.finished()
    base = live_server.url + variant.prefix
    citizen_ctx, page = _signed_in(browser, live_server, world.citizen, variant)
    officer_ctx, officer = _signed_in(browser, live_server, world.officer, variant)
    try:
        page.goto(f"{base}/services/a/{application.tracking_code}/")
        page.click("#rate-link")
        page.wait_for_url(re.compile(rf"{variant.prefix}/feedback/rate/"))
        page.check("#ease-3")
        page.check("#satisfaction-2")
        page.fill("#id_comment", "I had to wait two days.")
        page.click("#rating-submit")
        page.wait_for_selector("#saved")
        assert page.locator("#my-rating").get_attribute("data-satisfaction") == "2"
        rating = Rating.objects.get(application=application)
        assert (rating.ease, rating.satisfaction) == (3, 2)

        officer.goto(f"{base}/feedback/agency/")
        row = officer.locator(f'#rating-queue tr[data-rating="{rating.pk}"]')
        assert "I had to wait two days." in row.inner_text()
        row.locator("a").click()
        officer.fill("#id_reply", "Sorry: a registry was down. It is fixed now.")
        officer.click("#reply-submit")
        officer.wait_for_url(re.compile(rf"{variant.prefix}/feedback/agency/$"))
        assert _("No rating waits for a reply.") in officer.locator("#rating-queue").inner_text()

        page.goto(f"{base}/inbox/")
        replied = "پاسخ دستگاه" if variant.lang == "fa" else "The agency replied"
        page.locator("#messages a", has_text=replied).click()
        assert "a registry was down" in page.locator("#message-body").inner_text()
        # Unhappy with the reply: escalate from the rating page.
        page.goto(f"{base}/feedback/rate/{application.tracking_code}/")
        assert "a registry was down" in page.locator("#agency-reply").inner_text()
        # Without a reason: refused, the field is marked and described by its error.
        page.click("#escalate-submit")
        page.wait_for_selector("#id_reason-error")
        assert page.locator("#id_reason").get_attribute("aria-invalid") == "true"
        assert "id_reason-error" in page.locator("#id_reason").get_attribute("aria-describedby")
        page.fill("#id_reason", "The registry is still down for me.")
        page.click("#escalate-submit")
        page.wait_for_selector("#escalated")
        assert page.locator("#escalation").get_attribute("data-state") == "escalated"
        assert _name(world.ministry, variant) in page.locator("#escalated-to").inner_text()
        rating.refresh_from_db()
        assert rating.escalated_at is not None
        assert rating.escalation_reason == "The registry is still down for me."
        assert rating.escalated_to == world.ministry
        assert Message.objects.filter(
            user=world.officer, dedupe_key=f"feedback:escalated:{rating.pk}"
        ).exists()

        # The supervising body records the outcome; the citizen follows it on the same page.
        handler_ctx, handler = _signed_in(browser, live_server, world.ministry_officer, variant)
        try:
            handler.goto(f"{base}/feedback/oversight/")
            handler.locator(f'#escalated-ratings tr[data-rating="{rating.pk}"] a').click()
            handler.fill("#id_outcome", "The agency will issue it again today.")
            handler.click("#escalation-submit")
            handler.wait_for_selector('#escalation[data-state="handled"]')
        finally:
            handler_ctx.close()
        page.reload()
        assert page.locator("#escalation").get_attribute("data-state") == "handled"
        assert "issue it again today" in page.locator("#escalation-outcome").inner_text()
    finally:
        citizen_ctx.close()
        officer_ctx.close()


def test_file_a_complaint_with_evidence_and_follow_it(
    browser, variant, live_server, live_world, tmp_path
):
    world, _ = live_world, variant.gettext
    base = live_server.url + variant.prefix
    context, page = _signed_in(browser, live_server, world.citizen, variant)
    try:
        page.goto(f"{base}/feedback/complaints/new/")
        page.select_option("#id_agency", str(world.agency.pk))
        page.check("#kind-in_person")
        page.fill("#id_description", "They said I must come to the office with my papers.")
        page.set_input_files(
            "#id_evidence",
            files=[{"name": "letter.pdf", "mimeType": "application/pdf", "buffer": PDF}],
        )
        page.click("#complaint-submit")
        page.wait_for_url(re.compile(rf"{variant.prefix}/feedback/complaints/C-\d{{8}}/$"))
        code = to_latin_digits(page.locator("#complaint-code").inner_text().strip())
        complaint = Complaint.objects.get(tracking_code=code)
        assert complaint.evidence.count() == 1 and complaint.routed_to == world.ministry
        assert Message.objects.filter(user=world.citizen, subject_en__contains=code).exists()

        # Follow it later by its code, typed with Persian digits and no dash.
        page.goto(f"{base}/feedback/")
        typed = "c" + code[2:].translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
        page.fill("#id_code", typed)
        page.click("#track-submit")
        page.wait_for_url(
            re.compile(re.escape(f"{variant.prefix}/feedback/complaints/{code}/") + "$")
        )
        assert page.locator("#complaint-state").get_attribute("data-state") == "received"
        assert _name(world.ministry, variant) in page.locator("#routed-to").inner_text()
        with page.expect_download() as download:
            page.locator("#evidence a").click(no_wait_after=True)
        path = tmp_path / "evidence.pdf"
        download.value.save_as(path)
        assert path.read_bytes() == PDF

        # The supervising body reviews it; the citizen sees the new state.
        handler_ctx, handler = _signed_in(browser, live_server, world.ministry_officer, variant)
        try:
            handler.goto(f"{base}/feedback/complaints/{code}/")
            handler.check("#to-under_review")
            handler.click("#handle-submit")
            handler.wait_for_selector('#complaint-state[data-state="under_review"]')
        finally:
            handler_ctx.close()
        page.reload()
        assert page.locator("#complaint-state").get_attribute("data-state") == "under_review"
        # A wrong file type is refused with a message, and nothing is filed.
        page.goto(f"{base}/feedback/complaints/new/")
        page.select_option("#id_agency", str(world.agency.pk))
        page.check("#kind-payment")
        page.fill("#id_description", "Cash only.")
        page.set_input_files(
            "#id_evidence",
            files=[{"name": "x.pdf", "mimeType": "application/pdf", "buffer": b"<html></html>"}],
        )
        page.click("#complaint-submit")
        refused = _("The file %(name)s is not a PDF, JPEG or PNG file.") % {"name": "x.pdf"}
        assert refused in page.locator("#form-error").inner_text()
        assert Complaint.objects.count() == 1
    finally:
        context.close()
