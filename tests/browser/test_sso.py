"""In a real browser: register at the national window (checks through the exchange to the
registry processes), sign in at agency window A, open agency window B without signing in
again, step up to the level a service needs, and sign out everywhere."""

from __future__ import annotations

import base64
import os
import re

import pytest

from panjereh.common import jalali
from panjereh.common.persian import to_persian_digits
from panjereh.identity.models import User
from tests.identity.conftest import (  # noqa: F401  (fixtures used by name)
    _fresh_cache,
    adult_with_mobile,
    agency_windows,
    population,
    registry_cluster,
    through_exchange,
    var_dir,
)
from tests.identity.helpers import last_code

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


ASCII = str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")


@pytest.fixture
def sso_page(browser, variant):
    context = variant.new_context(browser, timeout=15_000)
    page = context.new_page()
    yield page
    context.close()


def test_register_sso_step_up_sign_out_everywhere(
    sso_page, variant, live_server, request, tmp_path
):
    # The identity tests' fixtures, imported above, are taken by name.
    request.getfixturevalue("through_exchange")
    windows = request.getfixturevalue("agency_windows")
    people = request.getfixturevalue("population")
    page = sso_page
    person = adult_with_mobile(people, 100)
    a, b = windows["a"], windows["b"]

    # 1. Register once, at the national window, typing the language's digits (Persian ones on
    # the Persian page); the birth date is a solar one in both languages.
    national = live_server.url + variant.prefix
    typed = to_persian_digits if variant.lang == "fa" else str
    born = jalali.format_fa(person["birth_date"], with_month_name=False)
    page.goto(national + "/account/register/")
    page.fill("#id_national_code", typed(person["national_code"]))
    page.fill("#id_birth_date", born if variant.lang == "fa" else born.translate(ASCII))
    page.fill("#id_mobile", typed(person["mobile"]))
    page.click("#register-submit")
    page.wait_for_url(re.compile(r"/account/register/verify/$"))
    page.fill("#id_code", last_code(person["mobile"]))
    page.click("#code-submit")
    page.wait_for_url(re.compile(r"/account/register/confirm/$"))
    record = page.locator("#registry-record").inner_text()
    assert person["first_name"] in record and person["last_name"] in record
    page.click("#confirm-submit")
    page.wait_for_url(re.compile(r"/account/$"))
    user = User.objects.get(national_code=person["national_code"])
    assert user.assurance_level == 1
    page.goto(national + "/account/logout/")
    page.click("#logout-submit")

    # 2. Sign in at agency window A: sent to the national window, national code + SMS code.
    page.goto(a["base_url"] + "/")
    page.click("#sign-in")
    page.wait_for_url(re.compile(r"/account/login/"))
    page.fill("#id_national_code", person["national_code"])
    page.click("#login-submit")
    page.fill("#id_code", last_code(person["mobile"]))
    page.click("#code-submit")
    page.wait_for_url(re.compile(r"/oidc/authorize/"))
    claims = page.locator("#consent-claims").inner_text()
    assert claims.strip()
    page.click("#consent-allow")
    page.wait_for_url(a["base_url"] + "/")
    assert page.locator("#status").inner_text() == "signed-in"
    assert page.locator("#acr").get_attribute("data-acr") == "1"
    assert page.locator("#acr").inner_text() == "۱"

    # 3. Window B: no second sign-in (only B's own consent screen, the first time).
    visited = []
    page.on("framenavigated", lambda frame: visited.append(frame.url))
    page.goto(b["base_url"] + "/")
    page.click("#sign-in")
    page.wait_for_url(re.compile(r"/oidc/authorize/"))
    page.click("#consent-allow")
    page.wait_for_url(b["base_url"] + "/")
    assert page.locator("#status").inner_text() == "signed-in"
    assert not any("/account/login/" in url for url in visited)

    # 4. A level-2 service at B: a clear step-up path (photo check through the exchange).
    page.click("#service")
    page.wait_for_url(re.compile(r"/account/step-up/"))
    page.click('a[data-step="photo"]')
    photo = people.civil_photo(person["index"])["photo"].split(",", 1)[1]
    selfie = tmp_path / "me.svg"
    selfie.write_bytes(base64.b64decode(photo))
    page.set_input_files("#id_photo", str(selfie))
    page.click("#photo-submit")
    page.wait_for_selector("#step-up-done")
    page.click("#step-up-continue")
    page.wait_for_url(b["base_url"] + "/service")
    assert page.locator("#acr").get_attribute("data-acr") == "2"
    assert page.locator("#acr").inner_text() == "۲"
    user.refresh_from_db()
    assert user.assurance_level == 2

    # 5. Sign out everywhere from B: A learns it over the back channel.
    page.goto(b["base_url"] + "/")
    page.click("#sign-out")
    page.wait_for_url(re.compile(re.escape(b["base_url"]) + r"/(\?.*)?$"))
    assert page.locator("#status").inner_text() == "signed-out"
    page.goto(a["base_url"] + "/")
    assert page.locator("#status").inner_text() == "signed-out"
    page.goto(national + "/account/")
    assert "/account/login/" in page.url
