"""Register first, in a real Chromium (Persian phone, English desktop): a representative switches
to their company, applies for a registration-based home-business permit and gets it at once,
with its permit ID and the trace in words. The company registry is a stand-in here (tests/identity
has the real one through the exchange); sign-in is a session made by Django's test client."""

from __future__ import annotations

import os
import re

import pytest

from panjereh.catalogue import roles
from panjereh.identity import businesses, registry_checks
from panjereh.permits import operations
from panjereh.permits.models import IssuingAuthority, PermitApplication
from panjereh.registries.population import Population
from tests.factories import UserFactory, make_agency

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


@pytest.fixture
def home_permit(db):
    agency = make_agency(name_fa="وزارت صنعت، معدن و تجارت", name_en="Ministry of Industry")
    authority = IssuingAuthority.objects.create(
        code="home-business",
        name_fa="دبیرخانه مشاغل خانگی",
        name_en="Home business office",
        agency=agency,
    )
    basis = {"basis_fa": "قانون ساماندهی مشاغل خانگی، ماده ۳", "basis_en": "Home Business Law"}
    version = operations.create_permit_type(
        roles.SYSTEM,
        authority=authority,
        kind="home_business",
        fields={
            "title_fa": "مجوز کسب‌وکار خانگی شیرینی‌پزی",
            "title_en": "Home business permit: pastry",
            "registration_based": True,
            "legal_days": 0,
        },
        conditions=[
            {
                "kind": "eligibility",
                "text_fa": "انجام کار در منزل",
                "text_en": "work at home",
                **basis,
            },
            {"kind": "fee", "text_fa": "صدور رایگان", "text_en": "free of charge", **basis},
        ],
    )
    operations.publish(roles.SYSTEM, version)
    version.permit.refresh_from_db()
    return version.permit


def test_a_representative_applies_for_their_company_and_gets_the_permit_at_once(
    browser, variant, live_server, registry, home_permit
):
    _ = variant.gettext
    person = UserFactory(is_staff=False, national_code=PERSON, first_name="مریم", last_name="رضایی")
    businesses.authority(person, COMPANY_ID)  # the company copied, as adding it does
    context = variant.signed_in_context(browser, live_server.url, person)
    page = context.new_page()
    base = f"{live_server.url}{variant.prefix}"
    try:
        page.goto(f"{base}/account/companies/")
        page.get_by_label(re.compile(COMPANY_NAME)).check()
        page.get_by_role("button", name=_("Switch")).click()
        page.wait_for_url(re.compile(rf"{variant.prefix}/account/companies/$"))

        page.goto(f"{base}/permits/{home_permit.public_id}/")
        page.locator("#apply-link").click()
        page.wait_for_url(re.compile(r"/apply/$"))
        assert COMPANY_NAME in page.locator("#applying-as").inner_text()

        # Sent empty: the error summary first, with the focus; the form kept.
        page.get_by_label(_("Business name")).fill("شیرینی پارس")
        page.locator("#apply-submit").click()
        summary = page.locator(".error-summary")
        assert summary.is_visible()
        assert page.evaluate("document.activeElement.classList.contains('error-summary')")
        assert page.get_by_label(_("Business name")).input_value() == "شیرینی پارس"

        page.get_by_label(_("Province")).select_option("isfahan")
        page.get_by_label(_("What the business does")).fill("پخت شیرینی خانگی و فروش آنلاین")
        page.locator("#apply-submit").click()
        page.wait_for_url(re.compile(r"/permits/applications/PRM-"))

        application = PermitApplication.objects.get()
        assert application.state == "issued"
        assert application.company.national_id == COMPANY_ID and application.applicant == person
        number = application.issued_permit.number
        assert variant.digits(number) in page.locator("#permit-number").inner_text()
        assert _("Permit issued") in page.locator("#application-state").inner_text()
        trace = page.locator("#trace").inner_text()
        assert _("Registered in the window") in trace
        assert COMPANY_NAME in trace and "مریم رضایی" in trace
        assert "_" not in trace  # words, never the trace's codes

        page.goto(f"{base}/permits/applications/")
        assert variant.digits(application.reference) in page.locator("#applications").inner_text()
    finally:
        context.close()
