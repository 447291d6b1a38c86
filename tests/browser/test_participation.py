"""E-participation in a real browser.

1. A citizen signs in at the national window (national code + SMS code), votes for a service
   that is not yet online, sees this week's standings change; a second citizen votes for it in
   another browser and it moves to the top; a second vote for the same service in the same
   week shows the error and changes nothing. The week's list is then published by the
   function the periodic job calls (``operations.publish_due``, at the moment the week has
   ended) and the published "services of the week" page shows the voted service first.
2. An agency editor publishes a consultation, a citizen comments, a moderator approves the
   comment and the agency publishes what it changed after closing.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.cache import cache

from panjereh.participation import operations, weeks
from panjereh.participation.models import Comment, Consultation, Vote
from tests.factories import make_agency_staff
from tests.identity.helpers import last_code, national_code
from tests.participation.conftest import cards, make_citizen, make_moderator  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    settings.VAR_DIR = tmp_path  # the SMS file backend writes the codes here
    cache.clear()
    yield
    cache.clear()


def _citizen(n: int):
    return make_citizen(national_code=national_code(f"{n:09d}"), mobile=f"0935{n:07d}")


ALREADY_VOTED = (
    "You have already voted for this item this week. You can vote for it again from Saturday."
)


def _sign_in_citizen(page, base: str, user, next_path: str) -> None:
    """Sign in at ``base`` (the site and its language prefix) and land on ``next_path``."""
    page.goto(f"{base}/account/login/?next={next_path}")
    page.fill("#id_national_code", user.national_code)
    page.click("#login-submit")
    page.fill("#id_code", last_code(user.mobile))
    page.click("#code-submit")
    page.wait_for_url(re.compile(re.escape(next_path) + "$"))


def _sign_in_staff(page, base: str, user, next_path: str) -> None:
    page.goto(f"{base}/admin/login/?next={next_path}")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "correct horse battery")
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(re.escape(next_path) + "$"))


def _signed_in_context(browser, base: str, user, variant):
    """A browser context already signed in as ``user`` (a session cookie, no SMS round)."""
    return variant.signed_in_context(browser, base, user)


def _current_votes(page, suggestion_pk: int) -> int:
    cell = page.locator(f'#standings tr[data-suggestion="{suggestion_pk}"] td.votes')
    return int(cell.get_attribute("data-votes"))


def test_citizens_vote_and_see_the_standings_and_the_weekly_list_change(
    variant_page,
    variant,
    browser,
    live_server,
    cards,  # noqa: F811
):
    page, _ = variant_page, variant.gettext
    site, lang = live_server.url, variant.prefix
    base = site + lang
    # Someone else has voted already, so the list is not empty before.
    rival = operations.catalogue_suggestion(cards["other_offline"])
    operations.vote(make_citizen(), rival)
    user = _citizen(4001)

    page.goto(f"{base}/participate/")
    assert page.locator("#standings tbody tr").count() == 1
    agency_path = f"{lang}/participate/services/{cards['agency'].code}/"
    _sign_in_citizen(page, base, user, agency_path)
    row = page.locator(f"#service-{cards['offline'].pk}")
    assert row.locator("td.votes").get_attribute("data-votes") == "0"
    page.click(f"#vote-service-{cards['offline'].pk}")
    page.wait_for_selector('#messages [data-level="success"]')
    assert _("Your vote is counted for this week.") in page.locator("#messages").inner_text()
    assert row.locator("td.votes").get_attribute("data-votes") == "1"
    assert row.locator("[data-voted]").count() == 1

    page.goto(f"{base}/participate/")
    mine = Vote.objects.get(user=user).suggestion
    assert _current_votes(page, mine.pk) == 1
    assert _current_votes(page, rival.pk) == 1

    # A second citizen votes in their own browser: the service moves to the top, visibly.
    second = _signed_in_context(browser, site, _citizen(4002), variant)
    other_page = second.new_page()
    other_page.goto(site + agency_path)
    other_page.click(f"#vote-service-{cards['offline'].pk}")
    other_page.wait_for_selector('#messages [data-level="success"]')
    second.close()
    page.reload()
    assert _current_votes(page, mine.pk) == 2
    first_row = page.locator("#standings tbody tr").first
    assert first_row.get_attribute("data-suggestion") == str(mine.pk)

    # The same service again, the same week: the error, and nothing changes.
    page.goto(site + agency_path)
    page.click(f"#vote-service-{cards['offline'].pk}")
    page.wait_for_selector('#messages [data-level="error"]')
    assert _(ALREADY_VOTED) in page.locator("#messages").inner_text()
    assert Vote.objects.filter(user=user).count() == 1
    page.goto(f"{base}/participate/")
    assert _current_votes(page, mine.pk) == 2

    # The week ends: the periodic job's function publishes it (here called at the moment just
    # after Friday 24:00 Tehran), and the published list shows the service first.
    week = Vote.objects.get(user=user).jalali_week
    weekly = operations.publish_due(now=weeks.bounds(week)[1] + dt.timedelta(minutes=5))
    assert weekly.jalali_week == week
    page.goto(f"{base}/participate/weekly/")
    page.click(f'#weeks a[href="{lang}/participate/weekly/{weeks.label(week)}/"]')
    page.wait_for_selector("#weekly tbody tr[data-rank]")
    top = page.locator("#weekly tbody tr").first
    assert top.get_attribute("data-rank") == "1"
    assert top.get_attribute("data-suggestion") == str(mine.pk)
    offline = cards["offline"]
    assert (offline.title_fa if variant.lang == "fa" else offline.title_en) in top.inner_text()
    assert top.locator("td[data-votes]").get_attribute("data-votes") == "2"
    second_row = page.locator("#weekly tbody tr").nth(1)
    assert second_row.get_attribute("data-suggestion") == str(rival.pk)
    assert user.last_name not in page.content()


def test_consultation_publish_comment_moderate_summary(
    variant_page,
    variant,
    browser,
    live_server,
    cards,  # noqa: F811
):
    page, lang = variant_page, variant.prefix
    base = live_server.url + lang
    editor = make_agency_staff(cards["agency"], role="editor")
    moderator = make_moderator()
    citizen = _citizen(4003)

    # The agency drafts and publishes the consultation (dates typed in Persian digits).
    _sign_in_staff(page, base, editor, f"{lang}/participate/agency/new/")
    page.select_option("#id_agency", str(cards["agency"].pk))
    page.fill("#id_title", "پیش‌نویس شیوه‌نامه نوبت‌دهی")
    page.fill("#id_text", "نظر شما درباره نوبت‌دهی برخط چیست؟")
    from panjereh.common import jalali
    from panjereh.common.persian import to_persian_digits

    today = dt.date.today()
    page.fill("#id_opens_on", to_persian_digits(jalali.iso(today - dt.timedelta(days=1))))
    page.fill("#id_closes_on", jalali.iso(today + dt.timedelta(days=10)))
    page.click("#consultation-submit")
    page.wait_for_selector("#action-open")
    page.click("#action-open")
    page.wait_for_selector('#state[data-state="open"]')
    item = Consultation.objects.get()

    # A citizen comments; the comment waits for moderation.
    citizen_context = variant.new_context(browser)
    citizen_page = citizen_context.new_page()
    public_path = f"{lang}/participate/consultations/{item.pk}/"
    _sign_in_citizen(citizen_page, base, citizen, public_path)
    citizen_page.fill("#id_text", "لطفا امکان لغو نوبت هم فراهم شود")
    citizen_page.click("#comment-submit")
    citizen_page.wait_for_selector('#messages [data-level="success"]')
    assert "لطفا امکان لغو نوبت" not in citizen_page.locator("#comments").inner_text()

    # The moderator approves it.
    moderator_context = variant.new_context(browser)
    moderator_page = moderator_context.new_page()
    _sign_in_staff(moderator_page, base, moderator, f"{lang}/participate/moderation/")
    comment = Comment.objects.get()
    moderator_page.check(f"#comment-{comment.pk}-approve")
    moderator_page.click(f"#comment-{comment.pk}-submit")
    moderator_page.wait_for_selector('#messages [data-level="success"]')
    citizen_page.reload()
    assert "لطفا امکان لغو نوبت" in citizen_page.locator("#comments").inner_text()
    assert citizen.last_name not in citizen_page.content()

    # The agency closes it and publishes what it changed.
    page.click("#action-close")
    page.wait_for_selector('#state[data-state="closed"]')
    page.fill("#id_summary", "امکان لغو نوبت به سامانه افزوده شد")
    page.click("#action-summary")
    page.wait_for_selector('#state[data-state="summary"]')
    citizen_page.reload()
    assert "امکان لغو نوبت به سامانه افزوده شد" in citizen_page.locator("#summary").inner_text()
    citizen_context.close()
    moderator_context.close()
