"""Acting for a company in a real Chromium (Persian phone, English desktop): the person adds the
company the registry names them for, switches to it, sees "acting as" in the header on every
page, and switches back. The company registry is a stand-in here (tests/identity has the real
one through the exchange); sign-in is a session made by Django's test client."""

from __future__ import annotations

import os
import re

import pytest

from panjereh.identity import registry_checks
from panjereh.identity.models import AuthEvent
from panjereh.registries.population import Population
from tests.factories import UserFactory

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PERSON = "0499370899"
COMPANY_ID = Population(seed=1404, size=10_000).company_id(3)
COMPANY_NAME = "شرکت پارس نوین"


@pytest.fixture
def registry(monkeypatch):
    def company_record(national_id):
        if national_id != COMPANY_ID:
            return None
        return registry_checks.CompanyRecord(
            national_id=COMPANY_ID,
            name=COMPANY_NAME,
            active=True,
            representatives=((PERSON, "ceo", "2010-01-01"),),
        )

    monkeypatch.setattr(registry_checks, "company_record", company_record)


def _signed_in(browser, live_server, user, variant):
    context = variant.signed_in_context(browser, live_server.url, user)
    return context, context.new_page()


def test_switching_to_a_company_shows_acting_as_in_the_header(
    browser, variant, live_server, registry
):
    _ = variant.gettext
    person = UserFactory(is_staff=False, national_code=PERSON)
    context, page = _signed_in(browser, live_server, person, variant)
    url = f"{live_server.url}{variant.prefix}/account/companies/"
    try:
        page.goto(url)
        # A wrong check digit: the error summary first, with the focus, the form kept.
        wrong = COMPANY_ID[:10] + str((int(COMPANY_ID[10]) + 1) % 10)
        page.get_by_label(_("The company's national ID")).fill(wrong)
        page.get_by_role("button", name=_("Add"), exact=True).click()
        summary = page.locator(".error-summary")
        assert summary.is_visible() and _("This national ID is not valid.") in summary.inner_text()
        assert page.get_by_label(_("The company's national ID")).input_value() == wrong

        # In the digits people copy from letters.
        typed = variant.digits(COMPANY_ID)
        page.get_by_label(_("The company's national ID")).fill(typed)
        page.get_by_role("button", name=_("Add"), exact=True).click()
        page.wait_for_url(re.compile(rf"{variant.prefix}/account/companies/$"))
        assert COMPANY_NAME in page.locator("#companies-table").inner_text()
        assert _("Acting as:") in page.locator("#acting-as").inner_text()

        page.get_by_label(re.compile(COMPANY_NAME)).check()
        page.get_by_role("button", name=_("Switch")).click()
        page.wait_for_url(re.compile(rf"{variant.prefix}/account/companies/$"))
        bar = page.locator("#acting-as")
        assert COMPANY_NAME in bar.inner_text()
        # On any other page, too.
        page.goto(f"{live_server.url}{variant.prefix}/")
        assert COMPANY_NAME in page.locator("#acting-as").inner_text()
        assert AuthEvent.objects.filter(
            kind=AuthEvent.Kind.ACTING_FOR_COMPANY, user=person
        ).exists()

        page.goto(url)
        page.get_by_label(_("Myself")).check()
        page.get_by_role("button", name=_("Switch")).click()
        page.wait_for_url(re.compile(rf"{variant.prefix}/account/companies/$"))
        assert _("yourself") in page.locator("#acting-as").inner_text()
        assert COMPANY_NAME not in page.locator("#acting-as").inner_text()
    finally:
        context.close()
