"""A human-path service in a real browser, in Persian on a phone: a citizen applies with a
typed value and an uploaded file (a mistake first: the error summary takes the focus and the
form is kept), an officer of the agency opens the file from the queue and approves, and the
citizen sees the outcome and the signed document. Every page is checked (axe, no sideways
scrolling at 360 px, Persian digits) by ``checks.py``."""

from __future__ import annotations

import re

import pytest

from panjereh.services import definitions
from panjereh.services.models import Application, State
from tests.factories import UserFactory, make_agency_staff
from tests.identity.helpers import last_code
from tests.services.conftest import run_until_settled
from tests.services.paying import settle_fee

from .conftest import Variant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CODE = "recreational-fishing-licence"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def fa_phone(browser):
    context = Variant("fa", "phone").new_context(browser, timeout=15_000)
    page = context.new_page()
    yield page
    context.close()


def _sign_in(page, base: str, user, next_path: str) -> None:
    page.goto(f"{base}/account/login/?next={next_path}")
    page.fill("#id_national_code", user.national_code)
    page.click("#login-submit")
    page.fill("#id_code", last_code(user.mobile))
    page.click("#code-submit")
    page.wait_for_url(re.compile(re.escape(next_path) + "$"))


def test_a_citizen_applies_with_a_file_and_an_officer_decides(
    fa_phone, live_server, settings, tmp_path
):
    settings.VAR_DIR = tmp_path
    settings.PANJEREH_TASKS = "inprocess"
    result = definitions.load()
    assert not result.refused, result.refused
    definition = definitions.active(CODE)
    citizen = UserFactory(
        national_code="0012345679", mobile="09121110001", assurance_level=3, is_staff=False
    )
    officer = make_agency_staff(
        definition.agency, "editor", national_code="0499370899", mobile="09121110002"
    )
    page, base = fa_phone, live_server.url

    # The apply page: the fee in rials with Persian digits, the visit and why, the file asked.
    _sign_in(page, base, citizen, f"/services/apply/{CODE}/")
    assert "۱٬۵۰۰٬۰۰۰ ریال" in page.locator("#fee").inner_text()
    assert "بازدید ایمنی قایق" in page.locator("#in-person-steps").inner_text()

    # A mistake: no file. The problem comes first and takes the focus; the form is kept.
    page.fill("#id_fishing_area", "دریای خزر")
    page.click("#apply-submit")
    page.wait_for_selector("#error-summary")
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert "گواهی دوره ایمنی صید" in page.locator("#error-summary").inner_text()
    assert page.input_value("#id_fishing_area") == "دریای خزر"
    assert not Application.objects.exists()

    certificate = tmp_path / "course.pdf"
    certificate.write_bytes(PDF)
    page.set_input_files("#id_safety_course", str(certificate))
    page.click("#apply-submit")
    page.wait_for_url(re.compile(r"/services/a/[\d-]+/$"))
    # The licence's fee, paid (the bank's page itself: tests/browser/test_payments.py).
    application = settle_fee(Application.objects.get(user=citizen))
    application = run_until_settled(application)
    assert application.state == State.HUMAN_REVIEW
    page.reload()
    assert page.locator("#state").get_attribute("data-state") == "human_review"
    assert "بازدید ایمنی قایق" in page.locator("#in-person").inner_text()
    assert "گواهی دوره ایمنی صید" in page.locator("#uploads").inner_text()

    # The officer: the queue, the case with the typed data, the file, the decision.
    page.context.clear_cookies()
    _sign_in(page, base, officer, "/services/agency/")
    href = f"/services/agency/a/{application.tracking_code}/"
    assert page.locator(f"#queue a[href='{href}']").count() == 1
    page.click(f"#queue a[href='{href}']")
    assert "دریای خزر" in page.locator("#inputs").inner_text()
    with page.expect_download() as download:
        page.click("#uploads a", no_wait_after=True)
    saved = tmp_path / "opened.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes() == PDF
    page.click("#assign")
    page.click("#approve")
    application = run_until_settled(application)
    assert application.state == State.ISSUED
    assert application.assigned_to_id == officer.pk

    # The citizen sees the outcome and the signed document.
    page.context.clear_cookies()
    _sign_in(page, base, citizen, f"/services/a/{application.tracking_code}/")
    assert page.locator("#state").get_attribute("data-state") == "issued"
    assert page.locator("#document-number").count() == 1
    assert (
        "کارشناس" in page.locator("#journey").inner_text()
        or "تصمیم" in page.locator("#journey").inner_text()
    )
