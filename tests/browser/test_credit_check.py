"""The transaction-credit check in a real Chromium (Persian phone, English desktop): Ali starts
a check for a deal with Sara's national code and agrees; Sara, in her own browser, opens it and
agrees; each then sees the other's status (from the Financial Convictions Registry process,
through the live server's gateway) with the risk warning, and both see both reads listed."""

from __future__ import annotations

import os
import re

import pytest

from panjereh.credit.models import CreditCheck, StatusRead
from panjereh.registries import convictions
from tests.credit.conftest import (  # noqa: F401 -- the credit tests' fixtures
    people,
    population,
    registry_process,
    window,
)

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_two_people_consent_and_each_sees_the_other(
    browser,
    variant,
    live_server,
    window,  # noqa: F811 -- the fixture imported above
    people,  # noqa: F811
    population,  # noqa: F811
):
    _ = variant.gettext
    ali, sara = people
    base = f"{live_server.url}{variant.prefix}"
    ali_context = variant.signed_in_context(browser, live_server.url, ali)
    sara_context = variant.signed_in_context(browser, live_server.url, sara)
    try:
        page = ali_context.new_page()
        page.goto(f"{base}/credit/new/")
        # A wrong national code first: the error summary, the form kept.
        page.get_by_label(_("The other party's national code")).fill("0012345678")
        page.get_by_label(_("What is the deal?")).fill("اجاره آپارتمان خیابان آزادی")
        page.get_by_role("button", name=_("Start the check")).click()
        assert page.locator(".error-summary").is_visible()
        assert _("This national code is not valid.") in page.locator(".error-summary").inner_text()
        assert page.get_by_label(_("What is the deal?")).input_value() == (
            "اجاره آپارتمان خیابان آزادی"
        )
        page.get_by_label(_("The other party's national code")).fill(sara.national_code)
        page.get_by_role("button", name=_("Start the check")).click()
        page.wait_for_url(re.compile(r"/credit/CR-[A-Z0-9-]+/$"))
        check = CreditCheck.objects.get()
        assert page.locator("#waiting").is_visible()
        assert page.locator("#read-form").count() == 0

        other = sara_context.new_page()
        other.goto(f"{base}/credit/")
        other.get_by_role("link", name="اجاره آپارتمان خیابان آزادی").click()
        other.get_by_role("button", name=_("I agree")).click()
        other.wait_for_url(re.compile(rf"/credit/{check.reference}/$"))
        other.get_by_role("button", name=_("See the other party's status")).click()
        other.wait_for_url(re.compile(rf"/credit/{check.reference}/$"))
        assert other.locator("#result-text").inner_text() == _(
            "The other party has no open financial conviction in the judiciary's registry."
        )
        assert other.locator("#risk-warning").is_visible()

        page.reload()
        page.get_by_role("button", name=_("See the other party's status")).click()
        page.wait_for_url(re.compile(rf"/credit/{check.reference}/$"))
        expected = convictions.status(population, population.index_of(sara.national_code))
        total = page.locator("#result-total").inner_text()
        if variant.lang == "fa":
            assert not re.search(r"[0-9]", total) and "ریال" in total
        else:
            assert total == f"{expected['total_rials']:,} rials"
        assert page.locator("#risk-warning").is_visible()
        # Both reads, listed to both people.
        for p in (page, other):
            p.reload()
            assert p.locator("#reads li").count() == 2
            assert p.locator('#reads li[data-by-me="1"]').count() == 1
        assert StatusRead.objects.filter(credit_check=check).count() == 2
        # And both reads in each person's "who read my data": one of their data, one for them.
        for p in (page, other):
            p.goto(f"{base}/exchange/my-data/")
            rows = p.locator("#accesses tbody tr")
            assert rows.count() == 2
            text = p.locator("#accesses tbody").inner_text()
            assert text.count(variant.digits(check.reference)) == 2
            assert _("Another person's, read for you") in text and _("Yours") in text
    finally:
        ali_context.close()
        sara_context.close()
