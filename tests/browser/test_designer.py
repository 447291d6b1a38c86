"""The agency service designer in a real browser, from an empty draft to a citizen's signed
document: an agency officer builds a new smart service (registry items, a rule, a document),
asks for access to the data, previews the document and test-runs it with a sample person,
submits it; AEO certifies it; the agency's administrator publishes it; a citizen finds its card
in the catalogue, applies and receives the signed document. An officer builds a human-path
service (a typed answer, an upload and a visit, each with its reason), the administrator
publishes it, a citizen applies with a file and the officer decides within the queue. And the
designer refuses, with
the reason shown, a "smart" draft that asks for an upload, an in-person step or typed registry
data.

The registries are the exchange tests' real processes; the Interoperability Working Group's
decision on the access requests is taken through its operation (``grants.approve``), as its own
pages are tested in test_exchange_backoffice.py.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from panjereh.catalogue import roles
from panjereh.catalogue.models import AgencyMembership
from panjereh.exchange import grants
from panjereh.exchange.models import Grant, GrantState
from panjereh.services import definitions
from panjereh.services.models import Application, DefinitionStatus, ServiceDefinition, State
from tests.services.conftest import (  # noqa: F401  (fixtures used by name)
    _clean_state,
    _english_messages,
    citizen,
    clean_adult,
    population,
    registries,
    run_until_settled,
    smart,
    student,
)

from .test_services import _download_and_verify, _sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
CODE = "student-card"


def _staff(population, agency, role: str, *, start: int):  # noqa: F811
    user = citizen(
        population, lambda i: clean_adult(population, i) and population.mobile(i), start=start
    )
    if role == "aeo":
        roles.ensure_groups()
        from django.contrib.auth.models import Group

        user.groups.add(Group.objects.get(name=roles.AEO))
    else:
        AgencyMembership.objects.create(user=user, agency=agency, role=role)
    return user


def _as(page, base: str, user, path: str) -> None:
    page.context.clear_cookies()
    _sign_in(page, base, user, path)


def _open(page, registry: str, service: str) -> None:
    """Open a data service's list of items (each service is a closed section until picked)."""
    page.locator(f"details[data-registry='{registry}'][data-service='{service}'] > summary").click()


def _approve_requests() -> int:
    """The Interoperability Working Group approves every open request."""
    today = dt.date.today()
    count = 0
    for grant in Grant.objects.filter(state=GrantState.REQUESTED):
        grants.approve(
            grant,
            resolution_number="1404/designer",
            resolution_session="12",
            resolution_date=today,
            valid_until=today + dt.timedelta(days=365),
            actor=roles.SYSTEM,
        )
        count += 1
    return count


def _student_sample(population) -> str:  # noqa: F811
    from panjereh.services import designer_views

    for person in designer_views.sample_people():
        i = population.index_of(person["national_code"])
        if i is not None and student(population, i):
            return person["national_code"]
    raise AssertionError("no enrolled student among the designer's sample people")


def test_an_officer_designs_a_smart_service_that_a_citizen_then_receives(
    variant_page,
    variant,
    smart,  # noqa: F811
    population,  # noqa: F811
    tmp_path,
):
    page, lang = variant_page, variant.prefix
    base = smart.url + lang
    agency = definitions.active("student-status").agency  # a consumer of the exchange
    applicant = citizen(population, lambda i: student(population, i) and population.mobile(i))
    officer = _staff(population, agency, "editor", start=applicant.index + 1)
    aeo = _staff(population, agency, "aeo", start=officer.index + 1)
    admin = _staff(population, agency, "admin", start=aeo.index + 1)

    # The officer starts a new service from the designer's list.
    _sign_in(page, base, officer, f"{lang}/services/designer/")
    page.click("#designer-new")
    page.fill("#id_title_fa", "کارت دانشجویی هوشمند")
    page.fill("#id_title_en", "Smart student card")
    page.fill("#id_code", CODE)
    page.click("#new-submit")
    page.wait_for_selector("#designer-form")
    definition = ServiceDefinition.objects.get(code=CODE)
    assert definition.status == DefinitionStatus.DRAFT and definition.agency == agency

    # Registry items: who the person is and whether they study; saved, then access asked for.
    _open(page, "civil", "identity")
    page.check("input[value='civil/identity/civil.identity']")
    page.check("input[value='civil/identity/civil.death_record']")
    _open(page, "science", "education-status")
    page.check("input[value='science/education-status/science.student_status']")
    page.click("#save-draft")
    page.wait_for_selector("#designer-form")
    for registry, service in (("civil", "identity"), ("science", "education-status")):
        box = page.locator(f"details[data-registry='{registry}'][data-service='{service}']")
        assert box.locator(".grant-none").count() >= 1
        box.locator("button[form^='access-']").click()
        page.wait_for_url(re.compile(r"/exchange/grants/\d+/$"))
        page.goto(f"{base}/services/designer/{definition.pk}/")
    assert Grant.objects.filter(consumer=agency, purpose=definition.service).count() == 2
    assert _approve_requests() == 2
    page.reload()
    assert page.locator("input[value='civil/identity/civil.identity'] ~ .grant-held").count() == 1

    # A rule over a fetched field, with its reasons, and the document.
    page.fill("#id_rule-0-field", "education_status.student.enrolled")
    page.select_option("#id_rule-0-op", "true")
    page.fill("#id_rule-0-reason_fa", "در سامانه امور دانشجویان دانشجو ثبت نشده‌اید.")
    page.fill("#id_rule-0-reason_en", "The student records show no enrolment.")
    page.click("#save-draft")  # another empty rule row comes with every save
    page.wait_for_selector("#all-good")
    page.fill("#id_rule-1-field", "identity.alive")
    page.select_option("#id_rule-1-op", "true")
    page.fill("#id_rule-1-reason_fa", "در ثبت احوال در قید حیات نیستید.")
    page.fill("#id_rule-1-reason_en", "Civil Registration records a death.")
    page.fill(
        "#id_doc_statement_fa",
        "گواهی می‌شود {identity.first_name} {identity.last_name} دانشجوی "
        "{education_status.student.university} است.",
    )
    page.fill(
        "#id_doc_statement_en",
        "{identity.first_name} {identity.last_name} studies at "
        "{education_status.student.university}.",
    )
    page.fill("#id_docfield-1-label_fa", "دانشگاه")
    page.fill("#id_docfield-1-label_en", "University")
    page.fill("#id_docfield-1-value", "{education_status.student.university}")
    # With JavaScript the checks follow the typing: an upload makes it not smart, and back.
    page.fill("#id_upload-0-label_fa", "تصویر کارت دانشجویی")
    page.wait_for_selector("#smart-reasons li >> nth=0")
    assert "smart.upload" not in page.locator("#smart-reasons").inner_text()  # plain words
    page.fill("#id_upload-0-label_fa", "")
    page.wait_for_selector("#all-good")
    # The document previewed with a sample person's real data (through the exchange).
    sample = _student_sample(population)
    page.select_option("#id_sample", sample)
    page.click("#preview-button")
    page.wait_for_selector("#document-preview")
    shown = page.locator("#document-preview").inner_text()
    person = population.person(population.index_of(sample))
    assert person["first_name"] in shown
    # It follows the texts as they change (the data stays fetched for a few minutes).
    page.fill("#id_docfield-1-label_fa", "نام دانشگاه")
    page.locator("#document-preview", has_text="نام دانشگاه").wait_for()
    page.click("#save-draft")
    page.wait_for_selector("#all-good")
    definition.refresh_from_db()
    spec = definition.spec
    assert spec["smart"] and [f["name"] for f in spec["data"]] == ["identity", "education_status"]
    assert len(spec["eligibility"]) == 2 and spec["document"]["fields"][1]["label_fa"] == (
        "نام دانشگاه"
    )

    # The test run: every step and the document, nothing issued.
    page.click("#test-run-link")
    page.check(f"input[name='national_code'][value='{sample}']")
    page.click("#run-test")
    page.wait_for_selector("#test-result")
    assert page.locator("#test-result").get_attribute("data-outcome") == "issued"
    assert page.locator("#test-steps li[data-kind='fetch'][data-outcome='received']").count() == 2
    assert person["first_name"] in page.locator("#document-preview").inner_text()
    assert not Application.objects.exists()

    page.goto(f"{base}/services/designer/{definition.pk}/")
    page.click("#action-submit")
    page.wait_for_selector("#messages")
    definition.refresh_from_db()
    assert definition.status == DefinitionStatus.SUBMITTED

    # AEO certifies it; the agency's administrator publishes it.
    _as(page, base, aeo, f"{lang}/services/designer/")
    page.click(f"#definitions tr[data-code='{CODE}'] a >> nth=0")
    page.fill("#note-certify", "بدون مدرک، بدون مراجعه حضوری")
    page.click("#action-certify")
    page.wait_for_selector("#messages")
    definition.refresh_from_db()
    assert definition.status == DefinitionStatus.CERTIFIED
    _as(page, base, admin, f"{lang}/services/designer/{definition.pk}/")
    page.click("#action-publish")
    page.wait_for_selector("#messages")
    definition.refresh_from_db()
    assert definition.status == DefinitionStatus.PUBLISHED and definition.active
    assert page.locator("#history li[data-to='certified']").count() == 1

    # A citizen finds its card in the catalogue, applies and receives the signed document.
    _as(page, base, applicant, f"{lang}/services/{definition.service.service_id}/")
    page.click("#apply-start")
    page.wait_for_selector("#apply-submit")
    page.click("#apply-submit")
    page.wait_for_url(re.compile(rf"{lang}/services/a/[\d-]+/$"))
    application = run_until_settled(Application.objects.get(user=applicant))
    assert application.state == State.ISSUED and application.definition_id == definition.pk
    page.reload()
    assert page.locator("#state").get_attribute("data-state") == "issued"
    document = _download_and_verify(page, base, "#download-pdf", tmp_path)
    assert document.application_id == application.pk


def test_the_designer_refuses_a_smart_draft_that_is_not_smart_with_the_reason(
    variant_page,
    variant,
    smart,  # noqa: F811
    population,  # noqa: F811
):
    page, lang = variant_page, variant.prefix
    base = smart.url + lang
    agency = definitions.active("student-status").agency
    officer = _staff(population, agency, "editor", start=0)
    _sign_in(page, base, officer, f"{lang}/services/designer/new/")
    page.fill("#id_title_fa", "گواهی آزمایشی")
    page.fill("#id_code", "not-smart-test")
    page.click("#new-submit")
    page.wait_for_selector("#designer-form")
    definition = ServiceDefinition.objects.get(code="not-smart-test")
    _open(page, "civil", "identity")
    page.check("input[value='civil/identity/civil.identity']")
    page.click("#save-draft")
    page.wait_for_selector("#all-good")
    saved = ServiceDefinition.objects.get(pk=definition.pk).spec

    # JavaScript off would post the same form: the server's refusal is what is tested here.
    page.context.route("**/designer.js", lambda route: route.abort())
    cases = [
        (
            "smart.upload",
            {"#id_upload-0-label_fa": "تصویر شناسنامه", "#id_upload-0-reason": "برای بایگانی"},
        ),
        (
            "smart.in_person",
            {"#id_visit-0-label_fa": "مراجعه به دفتر", "#id_visit-0-reason": "امضای دستی"},
        ),
        (
            "smart.registry_item_typed",
            {"#id_input-0-code": "birth_date", "#id_input-0-label_fa": "تاریخ تولد"},
        ),
    ]
    for code, fields in cases:
        page.goto(f"{base}/services/designer/{definition.pk}/")
        for selector, value in fields.items():
            page.fill(selector, value)
        page.click("#save-draft")
        page.wait_for_selector("#error-summary")
        assert page.locator(f"#smart-reasons li[data-code='{code}']").count() == 1, code
        reason = page.locator(f"#smart-reasons li[data-code='{code}']").inner_text()
        words = "هوشمند نیست" if variant.lang == "fa" else "Not smart"
        assert words in reason, reason
        # The form is kept as typed, and nothing was saved.
        first = next(iter(fields))
        assert page.locator(first).input_value() == fields[first]
        assert ServiceDefinition.objects.get(pk=definition.pk).spec == saved


def test_an_officer_designs_a_human_path_service_a_citizen_applies_with_a_file_and_it_is_decided(
    variant_page,
    variant,
    smart,  # noqa: F811
    population,  # noqa: F811
    tmp_path,
):
    """Issue 14's second journey: a service built in the designer for the human path (a typed
    answer, an upload and a visit, each with its reason), published by the agency's
    administrator without certification; a citizen applies with a file; an officer of the
    agency opens it from the queue and approves it."""
    page, lang = variant_page, variant.prefix
    base = smart.url + lang
    agency = definitions.active("student-status").agency
    applicant = citizen(population, lambda i: clean_adult(population, i) and population.mobile(i))
    officer = _staff(population, agency, "editor", start=applicant.index + 1)
    admin = _staff(population, agency, "admin", start=officer.index + 1)

    _sign_in(page, base, officer, f"{lang}/services/designer/new/")
    page.fill("#id_title_fa", "مجوز بازدید از آزمایشگاه")
    page.fill("#id_title_en", "Laboratory visit permit")
    page.fill("#id_code", "lab-visit")
    page.click("#new-submit")
    page.wait_for_selector("#designer-form")
    definition = ServiceDefinition.objects.get(code="lab-visit")
    page.uncheck("#id_smart")
    page.check("#id_manual_review")
    page.fill("#id_input-0-code", "purpose")
    page.fill("#id_input-0-label_fa", "هدف بازدید")
    page.fill("#id_input-0-label_en", "Purpose of the visit")
    page.fill("#id_upload-0-label_fa", "نامه معرفی دانشگاه")
    page.fill("#id_upload-0-label_en", "University's letter of introduction")
    page.fill("#id_upload-0-reason", "هیچ پایگاه پایه‌ای نامه معرفی را نگه نمی‌دارد.")
    page.fill("#id_visit-0-label_fa", "حضور در جلسه توجیه ایمنی")
    page.fill("#id_visit-0-label_en", "Safety briefing in person")
    page.fill("#id_visit-0-reason", "آموزش ایمنی آزمایشگاه حضوری است.")
    page.click("#save-draft")
    page.wait_for_selector("#all-good")
    definition.refresh_from_db()
    spec = definition.spec
    assert spec["smart"] is False
    assert [u["reason"] for u in spec["uploads"]] == [
        "هیچ پایگاه پایه‌ای نامه معرفی را نگه نمی‌دارد."
    ]
    assert any(step["kind"] == "manual" for step in spec["steps"])
    page.click("#action-submit")
    page.wait_for_selector("#messages")

    # No certification for a non-smart service: the administrator publishes it.
    _as(page, base, admin, f"{lang}/services/designer/{definition.pk}/")
    page.click("#action-publish")
    page.wait_for_selector("#messages")
    definition.refresh_from_db()
    assert definition.status == DefinitionStatus.PUBLISHED and definition.active

    # The citizen applies from the card, with the file.
    _as(page, base, applicant, f"{lang}/services/{definition.service.service_id}/")
    page.click("#apply-start")
    page.wait_for_selector("#apply-submit")
    page.fill("#id_purpose", "پروژه کارشناسی")
    letter = tmp_path / "letter.pdf"
    letter.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    upload_code = spec["uploads"][0]["code"]
    page.set_input_files(f"#id_{upload_code}", str(letter))
    page.click("#apply-submit")
    page.wait_for_url(re.compile(rf"{lang}/services/a/[\d-]+/$"))
    application = run_until_settled(Application.objects.get(user=applicant))
    assert application.state == State.HUMAN_REVIEW and application.definition_id == definition.pk
    assert application.uploads.count() == 1

    # The officer decides within the queue.
    _as(page, base, officer, f"{lang}/services/agency/")
    href = f"{lang}/services/agency/a/{application.tracking_code}/"
    page.click(f"#queue a[href='{href}']")
    assert "پروژه کارشناسی" in page.locator("#inputs").inner_text()
    page.click("#assign")
    page.click("#approve")
    application = run_until_settled(application)
    assert application.state == State.ISSUED and application.assigned_to_id == officer.pk
