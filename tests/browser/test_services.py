"""Smart services in a real browser: sign in at the national window, apply (or receive
proactively), follow the journey, download the signed PDF and verify it on the public page.

The engine's worker is the test thread calling the same task function the worker runs, so
that each step is deterministic; the registries are the exchange tests' real processes and
every item travels through the gateway of the live server.
"""

from __future__ import annotations

import re

import pytest

from panjereh.common.persian import to_latin_digits
from panjereh.services import documents
from panjereh.services.models import Application, Document, State
from tests.identity.helpers import last_code
from tests.services.conftest import (  # noqa: F401  (fixtures used by name)
    _clean_state,
    _english_messages,
    citizen,
    clean_adult,
    population,
    recent_mother,
    registries,
    run_until_settled,
    smart,
    student,
    veteran,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


# What the journey shows, in each language (registry items, agencies, journey steps).
SHOWN = {
    "fa": {
        "criminal record": "سابقه کیفری",
        "judiciary": "قوه قضاییه",
        "civil registration": "ثبت احوال",
        "birth certificate": "گواهی ولادت",
        "proactively": "خودکار",
        "case worker": "مددکار",
        "officer": "کارشناس",
    },
    "en": {
        "criminal record": "Criminal record",
        "judiciary": "Judiciary",
        "civil registration": "Civil Registration",
        "birth certificate": "birth certificate",
        "proactively": "Started proactively",
        "case worker": "case worker",
        "officer": "officer",
    },
}


def _sign_in(page, base: str, user, next_path: str) -> None:
    """Sign in at ``base`` (the site, with the language's prefix) and land on ``next_path``."""
    page.goto(f"{base}/account/login/?next={next_path}")
    page.fill("#id_national_code", user.national_code)
    page.click("#login-submit")
    page.fill("#id_code", last_code(user.mobile))
    page.click("#code-submit")
    page.wait_for_url(re.compile(re.escape(next_path) + "$"))


def _passkey_used(page, user) -> None:
    """The session of ``page`` as if ``user`` had just used their passkey in it (the ceremony
    itself, with Chromium's virtual authenticator, is test_passkeys.py's journey)."""
    from django.conf import settings
    from django.test import Client

    from tests.factories import sign_in

    cookie = next(c for c in page.context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME)
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = cookie["value"]
    sign_in(client, user)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "domain": cookie["domain"],
                "path": cookie["path"],
            }
        ]
    )


def _download_and_verify(page, base: str, link_selector: str, tmp_path) -> Document:
    with page.expect_download() as download:
        # A download ends the navigation the click started; not waiting for that navigation
        # keeps a loaded machine from timing out on it (the download itself is awaited).
        page.click(link_selector, no_wait_after=True)
    path = tmp_path / "document.pdf"
    download.value.save_as(path)
    pdf = path.read_bytes()
    assert pdf.startswith(b"%PDF")
    token = documents.token_from_file(pdf)
    document = Document.objects.get(token=token)
    # Paste the signed text from the PDF into the public verification page, signed out.
    page.context.clear_cookies()
    page.goto(f"{base}/services/verify/")
    page.fill("#id_token", token)
    page.click("#verify-submit")
    assert page.locator("#verification").get_attribute("data-status") == "valid"
    assert document.number in to_latin_digits(page.locator("#verified-number").inner_text())
    # The QR code's link works too: it carries the token after "#t=" or a short reference.
    # (The printed link has no language prefix: it opens the Persian page.)
    site = base.removesuffix("/en")
    page.goto(documents.verification_url(document).replace("http://127.0.0.1:8000", site))
    page.wait_for_selector("#verification")
    assert page.locator("#verification").get_attribute("data-status") == "valid"
    return document


def test_no_criminal_record_certificate_in_the_browser(
    variant_page,
    variant,
    smart,  # noqa: F811
    population,  # noqa: F811
    tmp_path,
):
    page, shown, lang = variant_page, SHOWN[variant.lang], variant.prefix
    base = smart.url + lang
    user = citizen(population, lambda i: clean_adult(population, i) and population.mobile(i))
    # Level 3: signed in by SMS, the person is asked to use their passkey first.
    _sign_in(page, base, user, f"{lang}/services/")
    page.goto(f"{base}/services/apply/no-criminal-record/")
    assert "/account/step-up/?level=3" in page.url
    _passkey_used(page, user)
    page.goto(f"{base}/services/apply/no-criminal-record/")
    assert shown["criminal record"] in page.locator("#fetched-items").inner_text()
    page.fill("#id_purpose", "سازمان اداری و استخدامی")
    page.click("#apply-submit")
    page.wait_for_url(re.compile(rf"{lang}/services/a/[\d-]+/$"))
    application = Application.objects.get(user=user)
    assert run_until_settled(application).state == State.ISSUED
    page.reload()
    assert page.locator("#state").get_attribute("data-state") == "issued"
    journey = page.locator("#journey").inner_text()
    assert shown["judiciary"] in journey and shown["civil registration"] in journey
    assert page.locator("#journey li[data-kind='issued']").count() == 1
    document = _download_and_verify(page, base, "#download-pdf", tmp_path)
    assert document.application_id == application.pk


def test_proactive_birth_certificate_in_the_browser(
    variant_page,
    variant,
    smart,  # noqa: F811
    registries,  # noqa: F811
    population,  # noqa: F811
    tmp_path,
):
    page, shown, lang = variant_page, SHOWN[variant.lang], variant.prefix
    base = smart.url + lang
    mother = citizen(
        population, lambda i: recent_mother(population, i) and population.mobile(i), level=2
    )
    # The mother consented to proactive services; the window subscribed to the birth feed
    # before her child was born, and reads it on the simulated registries' day.
    from tests.proactive.conftest import REGISTRY_NEWS_DAY, consent, newborn, read_at, subscribe

    consent(mother)
    definition = newborn()
    subscribe(definition)
    try:
        assert read_at(registries, definition, REGISTRY_NEWS_DAY) >= 1
    finally:
        registries.control("health", now=None)
    for application in Application.objects.filter(user=mother):
        assert run_until_settled(application).state == State.ISSUED
    _sign_in(page, base, mother, f"{lang}/inbox/")
    messages = page.locator("#messages li")
    assert page.locator("#messages li[data-kind='notice']").count() >= 1
    assert page.locator("#messages li[data-kind='document']").count() >= 1
    assert shown["birth certificate"] in messages.first.inner_text()
    page.locator("#messages li[data-kind='document'] a").first.click()
    page.wait_for_selector("#document-pdf")
    page.click("#message-link")
    page.wait_for_selector("#journey")
    assert shown["proactively"] in page.locator("#journey").inner_text()  # started by itself
    assert page.locator("#state").get_attribute("data-state") == "issued"
    document = _download_and_verify(page, base, "#download-pdf", tmp_path)
    assert document.application.user_id == mother.pk


@pytest.mark.parametrize(
    ("code", "fits"), [("student-status", student), ("veteran-status", veteran)]
)
def test_student_and_veteran_certificates_in_the_browser(
    variant_page,
    variant,
    smart,  # noqa: F811
    population,  # noqa: F811
    tmp_path,
    code,
    fits,
):
    page, lang = variant_page, variant.prefix
    base = smart.url + lang
    user = citizen(population, lambda i: fits(population, i) and population.mobile(i))
    _sign_in(page, base, user, f"{lang}/services/")
    page.click(f"#apply-{code}")
    page.click("#apply-submit")
    page.wait_for_url(re.compile(rf"{lang}/services/a/[\d-]+/$"))
    assert run_until_settled(Application.objects.get(user=user)).state == State.ISSUED
    page.reload()
    assert page.locator("#state").get_attribute("data-state") == "issued"
    _download_and_verify(page, base, "#download-pdf", tmp_path)


def test_manual_review_by_an_officer_in_the_browser(
    variant_page,
    variant,
    smart,  # noqa: F811
    population,  # noqa: F811
    tmp_path,
):
    from panjereh.catalogue.models import AgencyMembership
    from panjereh.services import definitions

    page, shown, lang = variant_page, SHOWN[variant.lang], variant.prefix
    base = smart.url + lang
    user = citizen(population, lambda i: clean_adult(population, i) and population.mobile(i))
    officer = citizen(
        population,
        lambda i: clean_adult(population, i) and population.mobile(i),
        start=user.index + 1,
    )
    agency = definitions.active("household-support").agency
    AgencyMembership.objects.create(user=officer, agency=agency, role="editor")

    _sign_in(page, base, user, f"{lang}/services/apply/household-support/")
    page.fill("#id_request_description", "سرپرست خانوار بیکار شده است")
    page.click("#apply-submit")
    page.wait_for_url(re.compile(rf"{lang}/services/a/[\d-]+/$"))
    application = run_until_settled(Application.objects.get(user=user))
    assert application.state == State.HUMAN_REVIEW
    page.reload()
    assert page.locator("#state").get_attribute("data-state") == "human_review"
    assert shown["case worker"] in page.locator("#review-reason").inner_text()

    page.context.clear_cookies()
    _sign_in(page, base, officer, f"{lang}/services/agency/")
    href = f"{lang}/services/agency/a/{application.tracking_code}/"
    link = page.locator(f"#queue a[href='{href}']")
    assert link.count() == 1
    page.click(f"a[href='{href}']")
    page.click("#assign")
    page.click("#approve")
    application = run_until_settled(application)
    assert application.state == State.ISSUED
    assert application.assigned_to_id == officer.pk

    page.context.clear_cookies()
    _sign_in(page, base, user, f"{lang}/services/a/{application.tracking_code}/")
    assert page.locator("#state").get_attribute("data-state") == "issued"
    assert shown["officer"] in page.locator("#journey").inner_text()
    _download_and_verify(page, base, "#download-pdf", tmp_path)
