"""A customer scans a permit's QR code, sees the holder and rates them; the holder signs in,
answers from "my licences", and the answer shows on the public page (Persian phone, English
desktop). The permit is issued through ``issuing.issue`` on an application made here."""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit

import pytest

from panjereh.catalogue import roles
from panjereh.permits import issuing, operations
from panjereh.permits.models import HolderRating, IssuingAuthority
from tests.factories import UserFactory, make_agency
from tests.permits.issued_support import make_application

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BASIS = {"basis_fa": "قانون نظام صنفی کشور، ماده ۱۲", "basis_en": "Guild System Law"}


def _counted(variant, singular: str, plural: str, count: int) -> str:
    from django.utils import translation

    with translation.override(variant.lang):
        text = translation.ngettext(singular, plural, count)
    return text % {"n": variant.digits(count)}


@pytest.fixture
def issued(transactional_db):
    agency = make_agency(name_fa="وزارت صنعت، معدن و تجارت آزمایشی", name_en="Test MIMT")
    authority = IssuingAuthority.objects.create(
        code="guilds-browser", name_fa="اتاق اصناف تهران", name_en="Tehran Guilds", agency=agency
    )
    version = operations.create_permit_type(
        roles.SYSTEM,
        authority=authority,
        kind="home_business",
        fields={
            "title_fa": "مجوز کسب‌وکار خانگی: شیرینی‌پزی خانگی",
            "title_en": "Home-business permit: home pastry",
            "registration_based": True,
            "legal_days": 0,
        },
        conditions=[{"kind": "document", "text_fa": "معرفی فضای کار در منزل", **BASIS}],
    )
    operations.publish(roles.SYSTEM, version)
    version.permit.refresh_from_db()
    holder = UserFactory(is_staff=False, first_name="مریم", last_name="احمدی")
    application = make_application(version.permit, holder, title="شیرینی خانگی مریم")
    return issuing.issue(application)


def test_customer_rates_from_the_qr_page_and_the_holder_answers(
    browser, variant, live_server, issued
):
    _ = variant.gettext
    # The QR code carries the public page's address (the signed document says it too).
    qr_path = urlsplit(issuing.claims_of(issued.token)["url"]).path
    assert qr_path == f"/permits/p/{issued.number}/"
    customer = UserFactory(is_staff=False, first_name="علی", last_name="رضایی")
    context = variant.signed_in_context(browser, live_server.url, customer)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}{variant.prefix}{qr_path}")
        holder_box = page.locator("#holder")
        assert "مریم احمدی" in holder_box.inner_text()
        assert "شیرینی خانگی مریم" in holder_box.inner_text()
        assert variant.digits(issued.number) in page.locator("main").inner_text()
        assert page.locator("#permit-status").get_attribute("data-status") == "valid"

        # No star chosen: the error summary first, with the focus, the comment kept.
        page.get_by_label(_("Comment (optional)")).fill("شیرینی تازه و بسته‌بندی تمیز")
        page.get_by_role("button", name=_("Send my rating")).click()
        summary = page.locator(".error-summary")
        assert summary.is_visible() and _("Choose from 1 to 5 stars.") in summary.inner_text()
        assert page.get_by_label(_("Comment (optional)")).input_value().startswith("شیرینی تازه")

        star_label = _counted(variant, "%(n)s star", "%(n)s stars", 4)
        page.get_by_label(star_label, exact=True).check()
        page.get_by_role("button", name=_("Send my rating")).click()
        page.wait_for_url(re.compile(r"saved=1"))
        assert _("Thank you. Your rating is saved.") in page.locator("#rating-saved").inner_text()
        assert "شیرینی تازه" in page.locator("#rating-list").inner_text()
        assert HolderRating.objects.filter(issued=issued, rater=customer, stars=4).count() == 1
    finally:
        context.close()

    context = variant.signed_in_context(browser, live_server.url, issued.holder)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}{variant.prefix}/permits/mine/")
        licence = page.locator(f"#licence-{issued.number}")
        to_answer = _counted(variant, "%(n)s rating to answer", "%(n)s ratings to answer", 1)
        licence.get_by_role("link", name=to_answer).click()
        page.get_by_label(_("Your answer")).fill("ممنون از لطف شما")
        page.get_by_role("button", name=_("Send the answer")).click()
        page.wait_for_url(re.compile(r"#rating-"))
        assert "ممنون از لطف شما" in page.locator("#rating-list").inner_text()
    finally:
        context.close()

    # Anyone (not signed in) sees the answer under the rating.
    context = variant.new_context(browser)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}{variant.prefix}{qr_path}")
        answer = page.locator(".holder-answer")
        assert "ممنون از لطف شما" in answer.inner_text()
        assert _("The holder's answer") in answer.inner_text()
        assert _("Sign in to rate this holder") in page.locator("#rating-sign-in").inner_text()
    finally:
        context.close()
