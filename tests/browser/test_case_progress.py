"""Case progress in a real Chromium (Persian phone, English desktop): a court files a case and
the window's job reads it from the courts' feed through the exchange; the person sees it among
their cases; the court sets a hearing (its ``_control``), the job reads it, and the person sees
the new stage and the hearing on the case page and opens the official notice it brought."""

from __future__ import annotations

import os
import re

import pytest

from panjereh.judiciary import cases
from panjereh.mailbox.models import Notice
from tests.judiciary.test_cases import (  # noqa: F401  (fixtures used by name)
    control,
    courts,
    file_case,
    person,
    run_job,
    window,
)

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_court_moves_a_case_on_and_the_person_sees_it(browser, variant, live_server, request):
    court = request.getfixturevalue("window")  # the case tests' fixture, imported above
    plaintiff, defendant = person(), person()
    number = file_case(court, plaintiff, defendant)
    assert run_job() == 1  # the periodic job's run
    context = variant.signed_in_context(browser, live_server.url, defendant)
    page = context.new_page()
    base = live_server.url + variant.prefix
    try:
        # 1. My cases: the new case, the person's role and its stage.
        page.goto(f"{base}/judiciary/cases/")
        row = page.locator("#cases li").first
        assert variant.digits(number) in row.inner_text()
        assert variant.gettext("Defendant") in row.inner_text()
        assert cases.stage_label("filed")[0 if variant.lang == "fa" else 1] in row.inner_text()
        row.get_by_role("link").first.click()
        page.wait_for_url(re.compile(rf"{variant.prefix}/judiciary/cases/{number}/$"))
        assert page.locator("#timeline li").count() == 1

        # 2. The court sets a hearing; the job reads it.
        control(
            court,
            advance=number,
            kind="hearing",
            hearing_at="2027-01-10T09:30:00+03:30",
            room="4",
        )
        assert run_job() == 1

        # 3. The page shows the new stage and the hearing, in the page's calendar and digits.
        page.reload()
        stage = cases.stage_label("examination")[0 if variant.lang == "fa" else 1]
        assert page.locator("#case-stage").inner_text().strip() == stage
        hearing = page.locator("#hearings li").first.inner_text()
        if variant.lang == "fa":
            assert "۲۰ دی ۱۴۰۵" in hearing and "۰۹:۳۰" in hearing and "۴" in hearing
        else:
            assert "10 Jan 2027" in hearing and "09:30" in hearing
        assert page.locator("#timeline li").count() == 2
        assert page.locator("#case-role").inner_text().strip() == variant.gettext("Defendant")

        # 4. The hearing's official notice, opened from the case page.
        notice = Notice.objects.get(
            recipient=defendant.national_code, subject__contains="تعیین وقت رسیدگی"
        )
        page.locator("#timeline li").last.get_by_role("link").click()
        page.wait_for_url(re.compile(rf"{variant.prefix}/mailbox/{notice.reference}/$"))
        assert "تعیین وقت رسیدگی" in page.locator("h1").inner_text()
        notice.refresh_from_db()
        assert notice.opened_at is not None
        assert Notice.objects.filter(recipient=defendant.national_code).count() == 2
    finally:
        context.close()
