"""The issuing authority's staff change a permit's conditions in a real Chromium (Persian phone,
English desktop): a new version asks again for a removed condition and is refused (error
summary first, focused, linked to the row, the form kept); with the row emptied it is published
and the permit's page shows the new version."""

from __future__ import annotations

import os

import pytest

from panjereh.permits import search
from tests.factories import make_agency_staff
from tests.permits.conftest import agency, authority, published, removed  # noqa: F401

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_publish_a_version_and_a_removed_condition_is_refused(
    browser,
    variant,
    live_server,
    published,  # noqa: F811
):
    search.invalidate()
    # English wording for the English page (the shared fixture has Persian only).
    for condition in published.published_version.conditions.all():
        condition.text_en = f"Condition {condition.position}"
        condition.save(update_fields=["text_en"])
    editor = make_agency_staff(published.authority.agency, role="admin")
    base = f"{live_server.url}{variant.prefix}"
    context = variant.signed_in_context(browser, live_server.url, editor)
    try:
        page = context.new_page()
        page.goto(f"{base}/permits/{published.public_id}/")
        page.click("#versions-link")
        page.click("#start-version")
        page.wait_for_selector("#version-form")
        page.select_option("#c2-kind", "document")
        page.fill("#c2-text_fa", "ارائه گواهی عدم سوءپیشینه")
        page.fill("#c2-basis_fa", "بخشنامه داخلی")
        page.fill("#id_legal_days", "۱۰" if variant.lang == "fa" else "10")
        page.click("#publish")
        summary = page.locator("#error-summary")
        summary.wait_for()
        assert page.evaluate("document.activeElement.id") == "error-summary"
        assert summary.locator('a[href="#c2-text_fa"]').count() == 1
        assert page.input_value("#c2-text_fa") == "ارائه گواهی عدم سوءپیشینه"
        published.refresh_from_db()
        assert published.published_version.number == 1
        page.fill("#c2-text_fa", "")
        page.fill("#c2-basis_fa", "")
        page.select_option("#c2-kind", "")
        page.click("#publish")
        page.wait_for_selector("#apply-link")
        published.refresh_from_db()
        assert published.published_version.number == 2 and published.legal_days == 10
    finally:
        context.close()
        search.invalidate()
