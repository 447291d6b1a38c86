"""The permits catalogue in a real browser (Persian phone, English desktop): a person searches
for a permit as they would type it, opens it and reads its conditions with their legal basis;
the transparency page lists a removed condition and the refused attempt to bring it back.
Every page is checked by ``checks.py`` (axe, no sideways scroll, the language's digits)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from panjereh.catalogue import roles
from panjereh.permits import operations, search
from panjereh.permits.models import IssuingAuthority
from tests.factories import make_agency

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BASIS = {"basis_fa": "قانون نظام صنفی کشور، ماده ۱۲", "basis_en": "Guild System Law, art. 12"}


@pytest.fixture
def permits():
    search.invalidate()
    agency = make_agency(name_fa="سازمان غذا و دارو", name_en="Food and Drug Administration")
    authority = IssuingAuthority.objects.create(
        code="fda", name_fa=agency.name_fa, name_en=agency.name_en, agency=agency
    )
    removed = operations.record_removal(
        roles.SYSTEM,
        key="no-criminal-record",
        kind="document",
        wording_fa="گواهی عدم سوءپیشینه",
        wording_en="certificate of no criminal record",
        phrases=["گواهی سوء پیشینه"],
        body="deregulation_board",
        number="60/52881",
        date=dt.date(2023, 2, 9),
    )
    made = {}
    for title_fa, title_en, registration in [
        ("مجوز تأسیس داروخانه", "Permit to establish a pharmacy", False),
        ("پروانه بهره‌برداری داروخانه", "Operating licence for a pharmacy", False),
        ("مجوز کسب‌وکار خانگی: تولید خانگی عسل", "Home-business permit: home honey", True),
    ]:
        version = operations.create_permit_type(
            roles.SYSTEM,
            authority=authority,
            kind="home_business" if registration else "agency",
            fields={
                "title_fa": title_fa,
                "title_en": title_en,
                "registration_based": registration,
                "legal_days": 0 if registration else 30,
            },
            conditions=[
                {
                    "kind": "document",
                    "text_fa": "طرح توجیهی فعالیت",
                    "text_en": "a business plan",
                    **BASIS,
                },
                {
                    "kind": "inspection",
                    "text_fa": "بازدید کارشناس از محل فعالیت",
                    "text_en": "an expert’s site inspection",
                    **BASIS,
                },
            ],
        )
        operations.publish(roles.SYSTEM, version)
        made[title_en] = version.permit
    removed.permit_types.add(made["Permit to establish a pharmacy"])
    draft = operations.start_version(roles.SYSTEM, made["Permit to establish a pharmacy"])
    with pytest.raises(operations.Reintroduced):
        operations.update_draft(
            roles.SYSTEM,
            draft,
            fields={"title_fa": draft.title_fa, "title_en": draft.title_en, "legal_days": 30},
            conditions=[{"kind": "document", "text_fa": "برگه عدم سوء پیشینه", **BASIS}],
        )
    yield made
    search.invalidate()


def test_search_a_permit_and_read_its_conditions(variant_page, variant, live_server, permits):
    page, _ = variant_page, variant.gettext
    page.goto(f"{live_server.url}{variant.prefix}/permits/")
    # Typed with an Arabic Yeh and no hamza on the Alef, as phones often do.
    page.get_by_label(_("Search for a permit")).fill("تاسيس داروخانه")
    page.get_by_role("button", name=_("Search"), exact=True).click()
    page.wait_for_url(re.compile(r"/permits/\?q="))
    results = page.locator("ol.results li")
    pharmacy = permits["Permit to establish a pharmacy"]
    title = pharmacy.title_fa if variant.lang == "fa" else pharmacy.title_en
    assert results.first.locator("a").inner_text().strip() == title
    results.first.locator("a").click()
    page.wait_for_url(re.compile(rf"/permits/{pharmacy.public_id}/$"))
    assert page.locator("h1").inner_text().strip() == title
    assert variant.digits(pharmacy.public_id) in page.locator(".result-meta").inner_text()
    conditions = page.locator("ol.permit-conditions li")
    assert conditions.count() == 2
    basis = BASIS["basis_fa"] if variant.lang == "fa" else BASIS["basis_en"]
    assert basis in conditions.first.inner_text()
    removed = page.locator("#removed-heading + p + ul")
    wording = "گواهی عدم سوءپیشینه" if variant.lang == "fa" else "certificate of no criminal record"
    assert wording in removed.inner_text()


def test_filter_registration_based(variant_page, variant, live_server, permits):
    page, _ = variant_page, variant.gettext
    page.goto(f"{live_server.url}{variant.prefix}/permits/")
    page.locator("summary", has_text=_("Filter the results")).click()
    page.get_by_label(_("Issued at once on registration only")).check()
    page.get_by_role("button", name=_("Apply")).click()
    page.wait_for_url(re.compile(r"registration=1"))
    results = page.locator("ol.results li")
    assert results.count() == 1
    assert _("Issued on registration") in results.first.inner_text()
    results.first.locator("a").click()
    assert _("Registration-based: issued at once on a complete registration.") in page.inner_text(
        "main"
    )


def test_transparency_lists_removals_and_attempts(variant_page, variant, live_server, permits):
    page, _ = variant_page, variant.gettext
    page.goto(f"{live_server.url}{variant.prefix}/transparency/")
    page.locator(".ov-subnav a", has_text=_("Removed permit conditions")).click()
    page.wait_for_url(re.compile(r"/permits/removed/$"))
    register = page.locator("#register-heading + ol")
    assert _("Deregulation Board") in register.inner_text()
    assert variant.digits("60/52881") in register.inner_text()
    attempts = page.locator("#attempts-heading ~ ol")
    assert "«برگه عدم سوء پیشینه»" in attempts.inner_text()
