"""The public pages of the citizen's voice and the status page, in both languages and on a
phone: every form control has an accessible name, one h1 and the landmarks, right-to-left in
Persian, and nothing wider than a 360 px screen. And the citizen's voice forms (proposal,
consultation comment, vote buttons): named controls, visible keyboard focus, errors tied to
their fields."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from tests.factories import make_agency_staff
from tests.participation.conftest import cards, make_citizen  # noqa: F401

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


# -- the citizen's voice: the forms ----------------------------------------------------------
#
# The proposal form, the consultation comment form and the vote buttons, in Persian and in
# English: every control has an accessible name; moving with Tab shows where the focus is
# (the :focus-visible ring, an outline or a shadow); and submitting the forms empty marks each
# field in error (aria-invalid) and ties it to its message (aria-describedby), so a screen
# reader announces the error with the field.

LANGS = ["", "/en"]


def _signed_in_page(browser, live_server, user):
    client = Client()
    client.force_login(user)
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )
    return context, context.new_page()


def _tab_to(page, selector: str, presses: int = 120) -> dict:
    """Press Tab until ``selector`` has the focus; how its focus is drawn."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate("s => !!document.activeElement?.matches(s)", selector):
            return page.evaluate(
                """() => {
                  const el = document.activeElement, s = getComputedStyle(el);
                  return {
                    focusVisible: el.matches(':focus-visible'),
                    outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0,
                    shadow: s.boxShadow !== 'none',
                  };
                }"""
            )
    raise AssertionError(f"Tab never reached {selector}")


def _assert_focus_visible(page, selector: str) -> None:
    ring = _tab_to(page, selector)
    assert ring["focusVisible"], (selector, ring)
    assert ring["outline"] or ring["shadow"], (selector, ring)


def _assert_named(page) -> None:
    unnamed = [c for c in accessible_form_controls(page) if not c["name"]]
    assert unnamed == [], unnamed


def _assert_error_announced(page, selector: str) -> None:
    """The control is marked invalid and described by a visible, non-empty error message."""
    control = page.locator(selector)
    assert control.get_attribute("aria-invalid") == "true", selector
    described = (control.get_attribute("aria-describedby") or "").split()
    errors = [i for i in described if i.endswith("-error")]
    assert errors, (selector, described)
    for ident in described:  # every id it points at exists
        assert page.locator(f"#{ident}").count() == 1, (selector, ident)
    message = page.locator(f"#{errors[0]}")
    assert message.is_visible() and message.inner_text().strip(), selector


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("lang", LANGS)
def test_proposal_form_is_accessible(browser, live_server, cards, lang):  # noqa: F811
    context, page = _signed_in_page(browser, live_server, make_citizen())
    go(page, live_server, f"{lang}/participate/propose/")
    _assert_named(page)
    _assert_focus_visible(page, "#id_p-agency")
    _assert_focus_visible(page, "#id_p-text")
    _assert_focus_visible(page, "#propose-submit")
    page.click("#propose-submit")
    page.wait_for_selector("#id_p-text[aria-invalid]")
    _assert_error_announced(page, "#id_p-agency")
    _assert_error_announced(page, "#id_p-text")
    for radio in page.locator("input[name=p-goal]").all():
        assert radio.get_attribute("aria-invalid") == "true"
        assert "id_p-goal-error" in radio.get_attribute("aria-describedby")
    # The hint stays tied to the field next to its error.
    assert "id_p-text-hint" in page.locator("#id_p-text").get_attribute("aria-describedby")
    _assert_named(page)
    context.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("lang", LANGS)
def test_comment_form_is_accessible(browser, live_server, cards, lang):  # noqa: F811
    from panjereh.participation import operations

    editor = make_agency_staff(cards["agency"], role="editor")
    now = timezone.now()
    item = operations.create_consultation(
        editor,
        cards["agency"],
        "پیش‌نویس شیوه‌نامه",
        "نظر شما چیست؟",
        now - dt.timedelta(days=1),
        now + dt.timedelta(days=7),
    )
    operations.open_consultation(editor, item)
    context, page = _signed_in_page(browser, live_server, make_citizen())
    go(page, live_server, f"{lang}/participate/consultations/{item.pk}/")
    _assert_named(page)
    _assert_focus_visible(page, "#link-mine")
    _assert_focus_visible(page, "#id_text")
    _assert_focus_visible(page, "#comment-submit")
    page.click("#comment-submit")
    page.wait_for_selector("#id_text[aria-invalid]")
    _assert_error_announced(page, "#id_text")
    assert "id_text-hint" in page.locator("#id_text").get_attribute("aria-describedby")
    _assert_named(page)
    context.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("lang", LANGS)
def test_vote_buttons_are_accessible(browser, live_server, cards, lang):  # noqa: F811
    context, page = _signed_in_page(browser, live_server, make_citizen())
    path = f"{lang}/participate/services/{cards['agency'].code}/"
    go(page, live_server, path)
    _assert_named(page)
    button = f"#vote-service-{cards['offline'].pk}"
    # The button's accessible name carries the item, not only "Vote".
    name = page.locator(button).inner_text()
    assert cards["offline"].title_fa in name or cards["offline"].title_en in name
    _assert_focus_visible(page, button)
    page.keyboard.press("Enter")  # vote with the keyboard
    page.wait_for_selector('#messages [role="status"]')
    go(page, live_server, path)
    page.locator(button).focus()
    page.keyboard.press("Enter")  # again, the same week: refused, and announced
    alert = page.locator('#messages [role="alert"]')
    alert.wait_for()
    assert alert.inner_text().strip()
    context.close()
