"""A judge's asset inquiry in a real Chromium (Persian phone 360x780, English desktop): a bad
case number is refused with the error summary first and the form kept; the request is made,
the four registries answer (real processes behind the real gateway), the results page shows
each kind with its total, and a freeze order blocks an amount on an account. Every page is
checked by checks.py (axe, no sideways scroll, one digit script)."""

from __future__ import annotations

import os

import pytest

from panjereh.assets import operations
from panjereh.assets.models import FreezeItem, Inquiry
from tests.assets.conftest import (  # noqa: F401 -- fixtures
    asset_registries,
    court,
    population,
    rich,
)

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CASE = "1404123456789012"


def test_a_judge_asks_sees_the_assets_and_orders_a_freeze(
    browser,
    variant,
    live_server,
    court,  # noqa: F811
    rich,  # noqa: F811
):
    _ = variant.gettext
    context = variant.signed_in_context(browser, live_server.url, court.judge)
    context.set_default_timeout(60_000)  # the first page of a session on a loaded machine
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}{variant.prefix}/assets/")
        page.fill("#id_case_number", "12")
        page.fill("#id_subject_code", rich)
        page.click("#inquiry-form button[type=submit]")
        assert page.locator(".error-summary").is_visible()
        assert page.input_value("#id_subject_code") == rich  # the form is kept
        page.fill("#id_case_number", variant.digits(CASE))
        page.click("#inquiry-form button[type=submit]")
        page.wait_for_selector("#inquiry-summary")
        page.wait_for_load_state("networkidle")
        inquiry = Inquiry.objects.get()
        assert inquiry.case_number == CASE
        for _turn in range(3):  # the worker's turns (Celery in production)
            operations.run_due()
        page.reload()
        for registry in ("banks", "ssaa", "stock", "vehicle"):
            assert page.get_attribute(f"#kind-{registry}", "data-state") == "answered"
        assert page.locator("#waiting").count() == 0
        assert variant.digits(CASE) in page.inner_text("#case-number")
        account = inquiry.calls.get(registry="banks").result["accounts"][0]
        page.check("input[name=account] >> nth=0")
        page.fill("#amount-1", "1000")
        page.fill("#freeze-reason", _("Asset inquiry for a case"))
        page.click("#freeze-form button[type=submit]")
        page.wait_for_selector("#freeze-items")
        page.wait_for_load_state("networkidle")
        for _turn in range(3):
            operations.run_due()
        item = FreezeItem.objects.get()
        assert item.target == account["iban"] and item.state == FreezeItem.State.FROZEN
        page.reload()
        assert page.get_attribute("#freeze-items tbody tr", "data-state") == "frozen"
    finally:
        context.close()
