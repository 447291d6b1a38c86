"""“Who read my data” with a read made for the person (a credit check's read of the other
party) in a real Chromium (Persian on a 360×780 phone, English on a desktop; axe-core and
sideways-scroll checks on the page): the subject sees it as theirs, the reader as read for
them, with the deal's reference."""

from __future__ import annotations

import os
import uuid

import pytest
from django.utils import timezone

from panjereh.exchange.log import insert_record
from tests.appointments.conftest import make_citizen
from tests.factories import make_agency

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_both_people_see_the_read_with_its_wording(browser, variant, live_server):
    subject, reader = make_citizen(), make_citizen()
    window = make_agency(name_fa="سازمان فناوری اطلاعات ایران", name_en="ITO")
    insert_record(
        consumer_id=window.pk,
        created_at=timezone.now(),
        x_road_id=str(uuid.uuid4()),
        client="IR/GOV/10103609470/national-window",
        method="GET",
        path="IR/GOV/1/convictions-registry/financial-status",
        subject=subject.national_code,
        made_for=reader.national_code,
        issue="CR-7K3Q-92MX",
        items=["convictions.financial_status"],
        outcome="ok",
        http_status=200,
        latency_us=1200,
        request_hash="0" * 64,
    )
    base = f"{live_server.url}{variant.prefix}"
    for person, mine in ((subject, True), (reader, False)):
        context = variant.signed_in_context(browser, live_server.url, person)
        page = context.new_page()
        try:
            page.goto(f"{base}/exchange/my-data/")
            row = page.locator("#accesses tbody tr")
            assert row.count() == 1
            text = row.inner_text()
            assert variant.digits("CR-7K3Q-92MX") in text
            wording = "Yours" if mine else "Another person's, read for you"
            assert variant.gettext(wording) in text
        finally:
            context.close()
