"""Passkeys in a real browser, in Persian on a phone (360×780): register at the national window
(the registry checks through the exchange to the registry processes), pass the photo check,
add a passkey with Chromium's virtual authenticator (over the DevTools protocol: a platform
authenticator with resident keys that verifies the person), reach level 3, sign out, sign in
again with the passkey alone (no national code, no SMS code) and apply for the
no-criminal-record certificate (a level-3 service) and see it issued.

WebAuthn refuses an IP address as the relying-party ID, so the pages are opened at
``http://localhost:<port>/``, never at 127.0.0.1."""

from __future__ import annotations

import base64
import re

import pytest

from panjereh.common import jalali
from panjereh.common.persian import to_persian_digits
from panjereh.identity.models import AuthEvent, Passkey, User
from panjereh.services.models import Application, State
from tests.identity.helpers import last_code
from tests.services.conftest import (  # noqa: F401  (fixtures used by name)
    _clean_state,
    _english_messages,
    clean_adult,
    population,
    registries,
    run_until_settled,
    smart,
)

from .conftest import Variant

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SERVICE = "no-criminal-record"


@pytest.fixture
def fa_phone(browser):
    context = Variant("fa", "phone").new_context(browser, timeout=20_000)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    authenticator = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    yield page, cdp, authenticator["authenticatorId"]
    context.close()


@pytest.fixture
def identity_exchange(smart, settings):  # noqa: F811
    """The national window's own registry checks go through the same exchange."""
    from panjereh.catalogue import operations
    from panjereh.catalogue.models import Agency
    from panjereh.identity import registry_checks
    from panjereh.identity.management.commands.identity_exchange import PLATFORM_AGENCY

    settings.PANJEREH_IDENTITY_EXCHANGE_URL = smart.url
    operator = operations.save_agency(Agency(), dict(PLATFORM_AGENCY), author=operations.SYSTEM)
    registry_checks.provision(operator, resolution_number="1404/test-passkeys")
    return smart


def _clean_adult_with_mobile(population) -> dict:  # noqa: F811
    for i in range(population.size):
        if clean_adult(population, i) and population.mobile(i):
            person = population.person(i)
            return {
                "index": i,
                "national_code": population.national_code(i),
                "birth_date": person["birth_date"],
                "mobile": population.mobile(i),
            }
    raise AssertionError("no clean adult with a mobile")


def test_a_passkey_gives_level_3_signs_in_and_gets_a_certificate(
    fa_phone,
    identity_exchange,
    population,  # noqa: F811
    tmp_path,
):
    page, cdp, authenticator_id = fa_phone
    base = identity_exchange.url.replace("127.0.0.1", "localhost")
    assert base.startswith("http://localhost:")
    person = _clean_adult_with_mobile(population)

    # 1. Register: the registry checks (civil registration, mobile ownership) through the
    # exchange, typed in Persian digits.
    page.goto(base + "/account/register/")
    page.fill("#id_national_code", to_persian_digits(person["national_code"]))
    page.fill("#id_birth_date", jalali.format_fa(person["birth_date"], with_month_name=False))
    page.fill("#id_mobile", to_persian_digits(person["mobile"]))
    page.click("#register-submit")
    page.wait_for_url(re.compile(r"/account/register/verify/$"))
    page.fill("#id_code", last_code(person["mobile"]))
    page.click("#code-submit")
    page.wait_for_url(re.compile(r"/account/register/confirm/$"))
    page.click("#confirm-submit")
    page.wait_for_url(re.compile(r"/account/$"))
    user = User.objects.get(national_code=person["national_code"])
    assert user.assurance_level == 1

    # 2. The service asks for level 3: the step-up page lists the photo check and the passkey.
    page.goto(f"{base}/account/step-up/?level=3&next=/services/apply/{SERVICE}/")
    assert page.locator('a[data-step="passkey"]').count() == 1
    page.click('a[data-step="photo"]')
    photo = population.civil_photo(person["index"])["photo"].split(",", 1)[1]
    selfie = tmp_path / "me.svg"
    selfie.write_bytes(base64.b64decode(photo))
    page.set_input_files("#id_photo", str(selfie))
    page.click("#photo-submit")
    page.wait_for_url(re.compile("^" + re.escape(base) + r"/account/step-up/\?level=3"))
    user.refresh_from_db()
    assert user.assurance_level == 2

    # 3. Add a passkey: the virtual authenticator makes it (resident key, person verified).
    page.click('a[data-step="passkey"]')
    page.wait_for_url(re.compile("^" + re.escape(base) + r"/account/passkeys/\?"))
    page.fill("#passkey-name", "گوشی من")
    page.click("#passkey-add")
    page.wait_for_url(re.compile("^" + re.escape(base) + r"/account/step-up/\?level=3"))
    assert page.locator("#step-up-done").count() == 1
    user.refresh_from_db()
    assert user.assurance_level == 3
    passkey = Passkey.objects.get(user=user)
    assert passkey.name == "گوشی من" and passkey.user_verified
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})
    assert len(credentials["credentials"]) == 1
    assert credentials["credentials"][0]["isResidentCredential"] is True

    # The list of passkeys: name, added, last used, in Persian.
    page.goto(base + "/account/passkeys/")
    assert "گوشی من" in page.locator("#passkey-list").inner_text()

    # 4. Sign out, then sign in with the passkey alone.
    page.goto(base + "/account/logout/")
    page.click("#logout-submit")
    page.goto(f"{base}/account/login/?next=/services/apply/{SERVICE}/")
    page.click("#passkey-sign-in")
    page.wait_for_url(f"{base}/services/apply/{SERVICE}/")
    login = AuthEvent.objects.filter(user=user, kind=AuthEvent.Kind.LOGIN).latest("id")
    assert login.detail["method"] == "passkey"
    assert Passkey.objects.get(user=user).last_used_at is not None

    # 5. Apply for the level-3 certificate and see it issued.
    page.fill("#id_purpose", "سازمان اداری و استخدامی")
    page.click("#apply-submit")
    page.wait_for_url(re.compile(r"/services/a/[\d-]+/$"))
    application = Application.objects.get(user=user)
    assert run_until_settled(application).state == State.ISSUED
    page.reload()
    assert page.locator("#state").get_attribute("data-state") == "issued"
    assert page.locator("#journey li[data-kind='issued']").count() == 1


def _virtual_authenticator(context, page, *, verified: bool = True) -> None:
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": verified,
                "automaticPresenceSimulation": True,
            }
        },
    )


@pytest.fixture
def level_2_person(transactional_db):
    from django.utils import timezone

    from panjereh.identity import assurance
    from tests.identity.conftest import make_citizen

    person = make_citizen()
    User.objects.filter(pk=person.pk).update(photo_verified_at=timezone.now())
    person.refresh_from_db()
    assurance.recompute(person)
    return person


def test_the_passkeys_page_adds_renames_and_removes_and_says_what_went_wrong(
    browser, variant, live_server, level_2_person
):
    """Both variants: a device that does not verify the person is refused with the problem
    in focus; a good one adds a passkey; it is renamed, then removed (level back to 2). A
    browser without WebAuthn is told so in its language (without JavaScript, the <noscript>
    text: tests/identity/test_passkeys.py)."""
    base = live_server.url
    assert base.startswith("http://localhost:")
    site = base + variant.prefix
    person = level_2_person

    # A browser without WebAuthn: the button stays hidden and the page says why.
    context = variant.signed_in_context(browser, base, person)
    context.add_init_script("delete window.PublicKeyCredential;")
    page = context.new_page()
    page.goto(site + "/account/passkeys/")
    assert page.locator("[data-passkey-unsupported]").is_visible()
    assert not page.locator("#passkey-add").is_visible()
    context.close()

    # A device that cannot verify the person: refused, the problem shown and focused.
    context = variant.signed_in_context(browser, base, person)
    page = context.new_page()
    _virtual_authenticator(context, page, verified=False)
    page.goto(site + "/account/passkeys/")
    page.click("#passkey-add")
    page.wait_for_selector("[data-passkey-error]:not([hidden])")
    assert page.evaluate("document.activeElement.hasAttribute('data-passkey-error')")
    assert not Passkey.objects.exists()
    context.close()

    # A good device: added, renamed, removed.
    context = variant.signed_in_context(browser, base, person)
    page = context.new_page()
    _virtual_authenticator(context, page)
    page.goto(site + "/account/passkeys/")
    page.fill("#passkey-name", "phone one")
    page.click("#passkey-add")
    page.wait_for_selector("#passkey-list")
    passkey = Passkey.objects.get(user=person)
    assert User.objects.get(pk=person.pk).assurance_level == 3
    page.click("details[class=passkey-manage] summary >> nth=0")
    page.fill(f"#name-{passkey.pk}", "phone two")
    page.click(f"#rename-{passkey.pk}")
    page.wait_for_selector("#passkey-list")
    assert "phone two" in page.locator("#passkey-list").inner_text()
    page.click("details[class=passkey-manage] summary >> nth=0")
    page.click(f"#revoke-{passkey.pk}")
    page.wait_for_selector("#no-passkeys")
    assert User.objects.get(pk=person.pk).assurance_level == 2
    assert variant.digits(2) in page.locator(".messages").inner_text()
    context.close()
