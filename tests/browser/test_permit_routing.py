"""Register first, then route (Persian phone, English desktop): a company's representative
applies in the window for an approval-based agency permit; the simulated specialised portal (a
separate process over HTTP) is down at first, then takes it, asks for more information, which
the representative answers in the window, and approves it; the application's page shows every
hand-off, and the overseers' portals page shows the portal's health."""

from __future__ import annotations

import datetime as dt
import os
import re

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from panjereh.catalogue import roles
from panjereh.identity import registry_checks
from panjereh.permits import operations, routing
from panjereh.permits.models import IssuedPermit, IssuingAuthority, PermitApplication
from panjereh.registries.population import Population
from tests.factories import UserFactory, make_agency

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PERSON = "0499370899"
COMPANY_ID = Population(seed=1404, size=10_000).company_id(5)
COMPANY_NAME = "شرکت قطعه‌سازان زنجان"
DAY = 86400


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
def workshop(transactional_db):
    agency = make_agency(name_fa="سازمان صنایع کوچک آزمایشی", name_en="Test Small Industries")
    authority = IssuingAuthority.objects.create(
        code="isipo-browser",
        name_fa="سازمان صنایع کوچک و شهرک‌های صنعتی",
        name_en="Small Industries and Industrial Parks Organization",
        agency=agency,
        portal="behinyab",
    )
    version = operations.create_permit_type(
        roles.SYSTEM,
        authority=authority,
        kind="agency",
        fields={
            "title_fa": "پروانه بهره‌برداری کارگاه تولیدی",
            "title_en": "Operating licence for a production workshop",
            "registration_based": False,
            "legal_days": 30,
        },
        conditions=[
            {
                "kind": "document",
                "text_fa": "طرح توجیهی کارگاه",
                "text_en": "the workshop's business plan",
                "basis_fa": "قانون اجرای سیاست‌های کلی اصل ۴۴، ماده ۷",
                "basis_en": "Principle 44 law, art. 7",
            }
        ],
    )
    operations.publish(roles.SYSTEM, version)
    permit = version.permit
    permit.portal_type = "operation"
    permit.save(update_fields=["portal_type"])
    return permit


def _steps(page) -> str:
    return page.locator("#trace").inner_text()


def test_a_company_applies_the_portal_decides_and_the_trace_shows_every_hand_off(
    browser, variant, live_server, registry, workshop, permit_portals
):
    _ = variant.gettext
    person = UserFactory(is_staff=False, national_code=PERSON, first_name="رضا", last_name="کریمی")
    context = variant.signed_in_context(browser, live_server.url, person)
    page = context.new_page()
    base = f"{live_server.url}{variant.prefix}"
    try:
        # The representative switches to the company.
        page.goto(f"{base}/account/companies/")
        page.get_by_label(_("The company's national ID")).fill(variant.digits(COMPANY_ID))
        page.get_by_role("button", name=_("Add"), exact=True).click()
        page.wait_for_url(re.compile(rf"{variant.prefix}/account/companies/$"))
        page.get_by_label(re.compile(COMPANY_NAME)).check()
        page.get_by_role("button", name=_("Switch")).click()
        page.wait_for_url(re.compile(rf"{variant.prefix}/account/companies/$"))

        # … and applies in the window.
        page.goto(f"{base}/permits/{workshop.public_id}/apply/")
        assert COMPANY_NAME in page.locator("#applying-as").inner_text()
        page.get_by_label(_("Business name")).fill("کارگاه قطعات پلاستیکی")
        page.get_by_label(_("Province")).select_option("zanjan")
        page.get_by_label(_("What the business does")).fill("تولید قطعات پلاستیکی خودرو")
        page.locator("#apply-submit").click()
        page.wait_for_url(re.compile(r"/permits/applications/PRM-[^/]+/$"))
        application = PermitApplication.objects.get(applicant=person)
        assert application.company.national_id == COMPANY_ID
        assert application.state == "routing"

        # The portal is down: the application waits and its page says so.
        permit_portals.control(portal="behinyab", mode="fail")
        permit_portals.control(
            portal="behinyab",
            decide={
                "reference": application.reference,
                "outcome": "approved",
                "ask_information": True,
                "inspection": False,
            },
        )
        routing.send_due()
        page.reload()
        assert (
            _("Being sent to the issuing authority")
            in page.locator("#application-state").inner_text()
        )
        assert _("The specialised portal did not answer; the window will send it again") in _steps(
            page
        )
        # The overseer sees which authority's portal is not answering.
        overseer = UserFactory(is_staff=True)
        overseer.groups.add(Group.objects.get_or_create(name=roles.STEERING_WG)[0])
        watch = variant.signed_in_context(browser, live_server.url, overseer).new_page()
        watch.goto(f"{base}/permits/portals/")
        assert watch.locator("#unreachable-behinyab").is_visible()
        watch.context.close()

        # It recovers: the next try hands it over, and the portal's moves come back.
        permit_portals.control(portal="behinyab", mode="normal")
        PermitApplication.objects.filter(pk=application.pk).update(
            next_try_at=timezone.now() - dt.timedelta(seconds=1)
        )
        assert routing.send_due() == 1
        permit_portals.control(advance=3 * DAY)
        routing.read_portals()
        page.reload()
        steps = _steps(page)
        assert _("Sent to the issuing authority’s specialised portal") in steps
        assert _("Received by the issuing authority’s specialised portal") in steps
        assert _("The issuing authority asked for more information") in steps

        # The representative answers the request in the window.
        page.goto(f"{base}/permits/applications/{application.reference}/information/")
        assert "اجاره‌نامه" in page.locator("#information-requested").inner_text()
        page.get_by_role("button", name=_("Send the answer")).click()  # empty: refused
        summary = page.locator(".error-summary")
        assert summary.is_visible()
        page.get_by_label(_("Your answer")).fill("تصویر اجاره‌نامه و نقشه استقرار پیوست شد.")
        page.get_by_role("button", name=_("Send the answer")).click()
        page.wait_for_url(re.compile(rf"/permits/applications/{application.reference}/$"))
        assert _("The applicant’s answer was sent") in _steps(page)

        # The portal decides; the window reads it and issues the permit.
        permit_portals.control(advance=30 * DAY)
        routing.read_portals()
        page.reload()
        issued = IssuedPermit.objects.get(application=application)
        assert issued.portal_number.startswith("BY-")
        assert issued.holder_name == COMPANY_NAME
        assert page.locator("#issued-permit").is_visible()
        steps = _steps(page)
        assert _("Approved by the issuing authority") in steps
        assert variant.digits(issued.number) in steps or issued.number in steps
        kinds = [
            node.get_attribute("data-kind") for node in page.locator("#trace li").element_handles()
        ]
        for kind in (
            "registered",
            "queued_for_portal",
            "portal_unreachable",
            "sent",
            "received",
            "under_review",
            "more_information_requested",
            "information_sent",
            "approved",
            "issued",
        ):
            assert kind in kinds, kind
    finally:
        context.close()
