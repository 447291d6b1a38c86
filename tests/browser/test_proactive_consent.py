"""The person's consent to proactive services in a real Chromium: they agree, see it on, see
the decision in their history (Jalali date and Persian digits on Persian pages), change their
mind, and nothing else changes. Sign-in is a session made by Django's test client (sign-on
itself is tested in test_sso.py)."""

from __future__ import annotations

import os
import re

import pytest

from panjereh.proactive import queries
from panjereh.proactive.models import Consent
from tests.factories import UserFactory

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _signed_in(browser, live_server, user, variant):
    context = variant.signed_in_context(browser, live_server.url, user)
    return context, context.new_page()


def test_a_person_agrees_then_withdraws_and_sees_both_decisions(browser, variant, live_server):
    _ = variant.gettext
    person = UserFactory(is_staff=False, national_code="0012345679")
    other = UserFactory(is_staff=False, national_code="0499370899")
    context, page = _signed_in(browser, live_server, person, variant)
    try:
        page.goto(f"{live_server.url}{variant.prefix}/account/proactive/")
        assert page.locator("#proactive-state").inner_text() == _(
            "Now: off. Nothing starts without you."
        )
        assert _("You have not decided yet.") in page.locator("table").inner_text()

        page.get_by_label(_("Yes, start them for me and tell me in my inbox")).check()
        page.get_by_role("button", name=_("Save")).click()
        page.wait_for_url(re.compile(rf"{variant.prefix}/account/proactive/$"))
        assert _("Proactive services are on for you.") in page.content()
        assert page.locator("#proactive-state").inner_text() == _(
            "Now: on. Services start for you."
        )
        assert queries.consents(person) and not queries.consents(other)
        rows = page.locator("table tbody tr")
        assert rows.count() == 1 and _("Agreed") in rows.first.inner_text()
        date_text = rows.first.locator("td").first.inner_text()
        if variant.lang == "fa":
            # A Jalali date in Persian digits: no Latin digit, no Gregorian year.
            assert not re.search(r"[0-9]", date_text) and "۱۴۰" in date_text
        else:
            assert not re.search(r"[۰-۹]", date_text)

        page.get_by_label(_("No, I will apply myself")).check()
        page.get_by_role("button", name=_("Save")).click()
        page.wait_for_url(re.compile(rf"{variant.prefix}/account/proactive/$"))
        assert page.locator("#proactive-state").inner_text() == _(
            "Now: off. Nothing starts without you."
        )
        assert page.locator("table tbody tr").count() == 2
        assert not queries.consents(person)
        # Saving the same decision again writes no second row.
        page.get_by_role("button", name=_("Save")).click()
        page.wait_for_url(re.compile(rf"{variant.prefix}/account/proactive/$"))
        assert Consent.objects.filter(user=person).count() == 2
        assert not Consent.objects.filter(user=other).exists()
    finally:
        context.close()
