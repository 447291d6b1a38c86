"""The public pages of the citizen's voice and the status page, in both languages and on a
phone: every form control has an accessible name, one h1 and the landmarks, right-to-left in
Persian, and nothing wider than a 360 px screen."""

from __future__ import annotations

import pytest

from .test_portal_journeys import accessible_form_controls, go

PAGES = [
    "/participate/",
    "/participate/weekly/",
    "/participate/consultations/",
    "/participate/services/",
    "/participate/proposals/",
    "/feedback/public/",
    "/status/",
    "/status/incidents/",
]


@pytest.mark.parametrize("path", [*PAGES, *(f"/en{p}" for p in PAGES)])
def test_public_voice_and_status_pages_are_accessible(
    phone_page, live_server, live_catalogue, path
):
    go(phone_page, live_server, path)
    page = phone_page
    assert page.locator("h1").count() == 1
    assert page.get_by_role("main").count() == 1
    assert page.get_by_role("banner").count() == 1
    assert page.get_by_role("contentinfo").count() == 1
    unnamed = [c for c in accessible_form_controls(page) if not c["name"]]
    assert unnamed == [], unnamed
    direction = page.evaluate("document.documentElement.dir")
    assert direction == ("ltr" if path.startswith("/en/") else "rtl")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{path} is {overflow}px wider than the phone"
