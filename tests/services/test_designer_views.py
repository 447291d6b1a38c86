"""The agency service designer's pages: who sees and does what (the role × action matrix of
every write, through the views and the operations), the edit form without JavaScript, the
plain-words refusals of a "smart" draft that is not smart, the JSON validation endpoint, the
access request through the exchange's grant workflow, and JSON export and import."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import translation

from panjereh.catalogue import roles
from panjereh.exchange.models import Grant, GrantState
from panjereh.services import design
from panjereh.services.models import DefinitionStatus, ServiceDefinition
from tests.factories import UserFactory, make_agency, make_agency_staff, make_service

from .test_design import at, spec_for

pytestmark = pytest.mark.django_db
S = DefinitionStatus
SYSTEM = roles.SYSTEM


@pytest.fixture
def exchange_catalogue():
    """The registries' published data services, as the exchange registers them."""
    from panjereh.exchange import provision
    from panjereh.registries import catalogue

    for registry in ("civil", "science", "judiciary"):
        provision.register_registry(
            f"http://127.0.0.1:9/{registry}", description=catalogue.openapi(registry)
        )


@pytest.fixture
def people():
    roles.ensure_groups()
    a, b = make_agency(), make_agency()
    aeo = UserFactory()
    aeo.groups.add(Group.objects.get(name=roles.AEO))
    return {
        "a": a,
        "b": b,
        "editor_a": make_agency_staff(a, "editor"),
        "viewer_a": make_agency_staff(a, "viewer"),
        "admin_a": make_agency_staff(a, "admin"),
        "editor_b": make_agency_staff(b, "editor"),
        "aeo": aeo,
        "nobody": UserFactory(),
    }


@pytest.fixture(autouse=True)
def _persian():
    with translation.override("fa"):
        yield


def _client(client, user):
    client.force_login(user)
    return client


def url(name: str, *args) -> str:
    return reverse(f"services:{name}", args=args)


def form_of(spec: dict, **changes) -> dict:
    """The edit form's fields for ``spec`` (what a browser posts with JavaScript off)."""
    from panjereh.services import designer_forms as dforms

    rows = dforms.rows_of(spec)
    data = {
        "action": "save",
        "title_fa": rows["title_fa"],
        "title_en": rows["title_en"],
        "assurance_level": str(rows["assurance_level"]),
        "target_minutes": str(rows["target_minutes"]),
        "fee_rials": str(rows["fee_rials"]),
        "approved_fa": rows["approved_fa"],
        "approved_en": rows["approved_en"],
        "rejected_fa": rows["rejected_fa"],
        "rejected_en": rows["rejected_en"],
        "doc_title_fa": rows["doc_title_fa"],
        "doc_title_en": rows["doc_title_en"],
        "doc_statement_fa": rows["doc_statement_fa"],
        "doc_statement_en": rows["doc_statement_en"],
        "doc_valid_days": str(rows["doc_valid_days"]),
        "item": sorted(rows["picked"]),
    }
    if rows["smart"]:
        data["smart"] = "on"
    if rows["manual_review"]:
        data["manual_review"] = "on"
    for n, row in enumerate(rows["rules"][:-1]):
        for key in ("field", "op", "value", "code", "reason_fa", "reason_en"):
            data[f"rule-{n}-{key}"] = row[key]
    for n, row in enumerate(rows["docfields"][:-1]):
        for key in ("label_fa", "label_en", "value"):
            data[f"docfield-{n}-{key}"] = row.get(key, "")
    for n, row in enumerate(rows["inputs"][:-1]):
        for key in ("code", "label_fa", "label_en"):
            data[f"input-{n}-{key}"] = row.get(key, "")
    data.update(changes)
    return data


def _designed(client, people, **changes):
    """A new draft of agency A created and filled in through the pages by its editor."""
    c = _client(client, people["editor_a"])
    response = c.post(
        url("designer_new"),
        {
            "title_fa": "گواهی دانشجویی آزمایشی",
            "title_en": "Test student certificate",
            "code": "test-student",
            "agency": people["a"].pk,
            "card": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    definition = ServiceDefinition.objects.get(code="test-student")
    assert response["Location"] == url("designer_version", definition.pk)
    data = form_of(
        definition.spec,
        item=[
            "civil/identity/civil.identity",
            "civil/identity/civil.death_record",
            "science/education-status/science.student_status",
        ],
        **{
            "rule-0-field": "education_status.student.enrolled",
            "rule-0-op": "true",
            "rule-0-value": "",
            "rule-0-reason_fa": "دانشجو نیستید.",
            "rule-0-reason_en": "You are not a student.",
            "doc_statement_fa": "گواهی می‌شود {identity.first_name} {identity.last_name} دانشجو است.",
            "doc_statement_en": "{identity.first_name} {identity.last_name} is a student.",
            "docfield-1-label_fa": "دانشگاه",
            "docfield-1-label_en": "University",
            "docfield-1-value": "{education_status.student.university}",
            "fee_rials": "۱۲۰۰۰",
            **changes,
        },
    )
    return c, definition, data


# -- seeing -------------------------------------------------------------------------------------


def test_staff_see_their_agencys_definitions_and_aeo_sees_all(client, people):
    mine = at(S.DRAFT, people["a"], code="mine")
    theirs = at(S.DRAFT, people["b"], code="theirs")
    page = _client(client, people["viewer_a"]).get(url("designer")).content.decode()
    assert 'data-code="mine"' in page and 'data-code="theirs"' not in page
    assert client.get(url("designer_version", mine.pk)).status_code == 200
    assert client.get(url("designer_version", theirs.pk)).status_code == 404
    assert client.get(url("designer_export", theirs.pk)).status_code == 404
    assert client.get(url("designer_test", theirs.pk)).status_code == 404
    page = _client(client, people["aeo"]).get(url("designer")).content.decode()
    assert 'data-code="mine"' in page and 'data-code="theirs"' in page
    assert _client(client, people["nobody"]).get(url("designer")).status_code == 403
    from django.test import Client

    assert Client().get(url("designer")).status_code == 302  # to sign in


# -- creating and editing -----------------------------------------------------------------------


def test_an_editor_designs_a_smart_service_in_the_form_without_javascript(
    client, people, exchange_catalogue
):
    c, definition, data = _designed(client, people)
    page = c.get(url("designer_version", definition.pk)).content.decode()
    assert 'id="designer-form"' in page and "services/designer.js" in page
    assert "grant-none" in page  # no grant yet for the picked items
    response = c.post(url("designer_version", definition.pk), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    definition.refresh_from_db()
    spec = definition.spec
    assert definition.status == S.DRAFT and spec["smart"] is True
    assert [(f["name"], f["items"]) for f in spec["data"]] == [
        ("identity", ["civil.death_record", "civil.identity"]),
        ("education_status", ["science.student_status"]),
    ]
    assert spec["eligibility"][0]["rule"] == {
        "field": "education_status.student.enrolled",
        "op": "true",
    }
    assert spec["fee_rials"] == 12000  # Persian digits read as a number
    assert spec["document"]["fields"][1]["value"] == "{education_status.student.university}"
    assert all(step["kind"] == "automatic" for step in spec["steps"])
    # Saving the same form again changes nothing but records the edit.
    assert c.post(url("designer_version", definition.pk), form_of(spec)).status_code == 302
    definition.refresh_from_db()
    assert definition.spec == spec


def test_who_may_create_a_draft(client, people):
    data = {"title_fa": "خدمت", "title_en": "", "code": "new-one", "card": ""}
    for who, expected in [("viewer_a", 403), ("aeo", 403), ("nobody", 403)]:
        response = _client(client, people[who]).post(
            url("designer_new"), {**data, "agency": people["a"].pk}
        )
        assert response.status_code == expected, who
    # An editor of B may not create for A: A is not among the form's choices.
    response = _client(client, people["editor_b"]).post(
        url("designer_new"), {**data, "agency": people["a"].pk}
    )
    assert response.status_code == 400
    assert not ServiceDefinition.objects.filter(code="new-one").exists()
    # A bad code comes back with the error summary, the form kept.
    response = _client(client, people["editor_a"]).post(
        url("designer_new"), {**data, "code": "Bad Code!", "agency": people["a"].pk}
    )
    page = response.content.decode()
    assert response.status_code == 400 and 'class="error-summary"' in page
    assert 'value="Bad Code!"' in page
    # An existing card of the agency can be implemented.
    card = make_service(people["a"])
    response = client.post(
        url("designer_new"),
        {**data, "agency": people["a"].pk, "card": card.service_id},
    )
    assert response.status_code == 302
    assert ServiceDefinition.objects.get(code="new-one").service_id == card.pk


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("editor_a", 302),
        ("admin_a", 302),
        ("aeo", 302),
        ("viewer_a", 403),
        ("editor_b", 404),
    ],
)
def test_who_may_edit_a_draft(client, people, exchange_catalogue, who, expected):
    definition = at(S.DRAFT, people["a"])
    data = form_of(definition.spec, title_fa="عنوان تازه")
    response = _client(client, people[who]).post(url("designer_version", definition.pk), data)
    assert response.status_code == expected
    definition.refresh_from_db()
    assert (definition.title_fa == "عنوان تازه") == (expected == 302)


def test_a_submitted_version_is_not_edited(client, people):
    definition = at(S.SUBMITTED, people["a"])
    c = _client(client, people["editor_a"])
    page = c.get(url("designer_version", definition.pk)).content.decode()
    assert 'id="designer-form"' not in page
    response = c.post(url("designer_version", definition.pk), form_of(definition.spec))
    assert response.status_code == 403


def test_a_smart_draft_with_an_upload_a_visit_or_typed_registry_data_is_refused_with_reasons(
    client, people, exchange_catalogue
):
    c, definition, data = _designed(client, people)
    assert c.post(url("designer_version", definition.pk), data).status_code == 302
    definition.refresh_from_db()
    saved = definition.spec
    cases = {
        "upload": {
            "upload-0-label_fa": "تصویر کارت دانشجویی",
            "upload-0-reason": "کارت را ثبت نمی‌کند",
        },
        "visit": {"visit-0-label_fa": "مراجعه به دانشگاه", "visit-0-reason": "امضای دستی"},
        "typed": {"input-0-code": "birth_date", "input-0-label_fa": "تاریخ تولد"},
    }
    for name, extra in cases.items():
        response = c.post(url("designer_version", definition.pk), {**data, **extra})
        page = response.content.decode()
        assert response.status_code == 400, name
        assert 'id="error-summary"' in page and "هوشمند نیست" in page, name
        definition.refresh_from_db()
        assert definition.spec == saved, name  # nothing saved
    # The typed registry item is refused even on a non-smart draft (Art. 107(h)).
    response = c.post(
        url("designer_version", definition.pk),
        {k: v for k, v in {**data, **cases["typed"]}.items() if k != "smart"},
    )
    assert response.status_code == 400
    assert "ماده ۱۰۷" in response.content.decode() or "107" in response.content.decode()
    # Uploads and visits need their reason, even when not smart.
    response = c.post(
        url("designer_version", definition.pk),
        {
            **{k: v for k, v in data.items() if k != "smart"},
            "upload-0-label_fa": "گواهی پزشکی",
        },
    )
    assert response.status_code == 400
    assert 'href="#id_upload-0-reason"' in response.content.decode()
    # With the reason, a non-smart service may ask for it.
    response = c.post(
        url("designer_version", definition.pk),
        {
            **{k: v for k, v in data.items() if k != "smart"},
            "upload-0-label_fa": "گواهی پزشکی",
            "upload-0-reason": "هیچ پایگاه پایه‌ای آن را ندارد",
        },
    )
    assert response.status_code == 302
    definition.refresh_from_db()
    assert definition.spec["smart"] is False
    assert definition.spec["uploads"][0]["reason"] == "هیچ پایگاه پایه‌ای آن را ندارد"


def test_the_check_endpoint_explains_as_the_officer_types(client, people, exchange_catalogue):
    c, definition, data = _designed(client, people)
    answer = c.post(url("designer_check", definition.pk), data).json()
    assert answer["valid"] and answer["smart"], answer
    assert "education_status.student" in answer["paths"]
    answer = c.post(
        url("designer_check", definition.pk),
        {**data, "upload-0-label_fa": "تصویر کارت", "upload-0-reason": "دلیل"},
    ).json()
    assert not answer["valid"] and not answer["smart"]
    assert [r["code"] for r in answer["reasons"]] == ["smart.upload"]
    assert answer["reasons"][0]["field"] == "upload-0-label_fa"
    assert "هوشمند نیست" in answer["reasons"][0]["text"]
    answer = c.post(
        url("designer_check", definition.pk), {**data, "rule-0-field": "nothing.here"}
    ).json()
    assert answer["problems"] and not answer["valid"]
    definition.refresh_from_db()
    assert definition.spec["eligibility"] == []  # the check saved nothing
    assert (
        _client(client, people["editor_b"]).post(url("designer_check", definition.pk), data)
    ).status_code == 404
    assert (
        _client(client, people["viewer_a"]).post(url("designer_check", definition.pk), data)
    ).status_code == 403


def test_the_advanced_json_edit_refuses_bad_json_and_saves_good(client, people):
    definition = at(S.DRAFT, people["a"])
    c = _client(client, people["editor_a"])
    response = c.post(
        url("designer_version", definition.pk),
        {"action": "save_json", "spec_json": '{"code": "a", "code": "b"}'},
    )
    page = response.content.decode()
    assert response.status_code == 400 and 'id="error-summary"' in page
    assert "code" in page and "&quot;b&quot;}" in page  # the text kept as typed
    spec = {**definition.spec, "target_minutes": 7}
    response = c.post(
        url("designer_version", definition.pk),
        {"action": "save_json", "spec_json": json.dumps(spec, ensure_ascii=False)},
    )
    assert response.status_code == 302
    definition.refresh_from_db()
    assert definition.target_minutes == 7


# -- the lifecycle: the role × action matrix -----------------------------------------------------

ROLES = ("editor_a", "viewer_a", "admin_a", "aeo", "editor_b")
# action: (the status the version is brought to, smart?, who may do it)
MATRIX = {
    "submit": (S.DRAFT, True, {"editor_a", "admin_a", "aeo"}),
    "send_back": (S.SUBMITTED, True, {"admin_a", "aeo"}),
    "certify": (S.SUBMITTED, True, {"aeo"}),
    "publish": (S.CERTIFIED, True, {"admin_a", "aeo"}),
    "retire": (S.PUBLISHED, True, {"admin_a", "aeo"}),
    "rollback": (S.PUBLISHED, True, {"admin_a", "aeo"}),
}
AFTER = {
    "submit": S.SUBMITTED,
    "send_back": S.DRAFT,
    "certify": S.CERTIFIED,
    "publish": S.PUBLISHED,
    "retire": S.RETIRED,
    "rollback": S.RETIRED,
}


@pytest.mark.parametrize("who", ROLES)
@pytest.mark.parametrize("action", list(MATRIX))
def test_the_role_action_matrix_of_the_version_buttons(client, people, who, action):
    status, smart, allowed = MATRIX[action]
    if action == "rollback":  # an earlier published version to go back to
        first = at(S.PUBLISHED, people["a"], smart=smart)
        spec = {**first.spec, "title_fa": "نسخه دوم"}
        definition = design.create_draft(people["a"], spec, actor=SYSTEM)
        design.submit(definition, actor=SYSTEM)
        design.certify(definition, actor=SYSTEM)
        design.publish(definition, actor=SYSTEM)
    else:
        definition = at(status, people["a"], smart=smart)
    user = people[who]
    shown = design.actions(definition, user)
    c = _client(client, user)
    page = c.get(url("designer_version", definition.pk))
    if who == "editor_b":
        assert page.status_code == 404
    else:
        assert (f'id="action-{action}"' in page.content.decode()) == (who in allowed)
        assert (action in shown) == (who in allowed)
    response = c.post(url("designer_act", definition.pk), {"action": action, "note": "دلیل بازگشت"})
    definition.refresh_from_db()
    if who in allowed:
        assert response.status_code == 302, response.content.decode()[:2000]
        assert definition.status == AFTER[action]
        if action == "rollback":
            newest = ServiceDefinition.objects.filter(code=definition.code).order_by("-version")[0]
            assert newest.active and response["Location"] == url("designer_version", newest.pk)
    else:
        assert response.status_code == (404 if who == "editor_b" else 403)
        assert definition.status == (S.PUBLISHED if action == "rollback" else status)


def test_a_move_the_version_cannot_make_is_refused_with_the_reason(client, people):
    definition = at(S.DRAFT, people["a"])
    c = _client(client, people["aeo"])
    response = c.post(url("designer_act", definition.pk), {"action": "certify"})
    assert response.status_code == 400 and 'id="error-summary"' in response.content.decode()
    submitted = at(S.SUBMITTED, people["a"], code="other")
    response = c.post(url("designer_act", submitted.pk), {"action": "send_back", "note": " "})
    assert response.status_code == 400
    submitted.refresh_from_db()
    assert submitted.status == S.SUBMITTED
    assert c.post(url("designer_act", submitted.pk), {"action": "explode"}).status_code == 404
    assert c.get(url("designer_act", submitted.pk)).status_code == 405


def test_history_and_a_new_version_from_a_published_one(client, people):
    published = at(S.PUBLISHED, people["a"])
    c = _client(client, people["editor_a"])
    page = c.get(url("designer_version", published.pk)).content.decode()
    assert page.count('data-to="') >= 4  # created, submitted, certified, published
    response = c.post(url("designer_new_version", published.pk))
    draft = ServiceDefinition.objects.get(code=published.code, version=published.version + 1)
    assert response.status_code == 302 and draft.status == S.DRAFT
    assert _client(client, people["viewer_a"]).post(
        url("designer_new_version", published.pk)
    ).status_code in (302, 403)
    assert not ServiceDefinition.objects.filter(
        code=published.code, version=published.version + 2
    ).exists()


# -- access to data -------------------------------------------------------------------------------


def test_request_access_opens_a_grant_request_for_the_service(client, people, exchange_catalogue):
    c, definition, data = _designed(client, people)
    assert c.post(url("designer_version", definition.pk), data).status_code == 302
    definition.refresh_from_db()
    from panjereh.exchange.models import DataService

    science = DataService.objects.get(subsystem="science-registry", code="education-status")
    for who, expected in [("viewer_a", 403), ("editor_b", 404)]:
        response = _client(client, people[who]).post(
            url("designer_access", definition.pk), {"service": science.pk}
        )
        assert response.status_code == expected, who
    assert not Grant.objects.exists()
    response = _client(client, people["editor_a"]).post(
        url("designer_access", definition.pk), {"service": science.pk}
    )
    grant = Grant.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "exchange:grant", args=[grant.pk]
    )
    assert grant.state == GrantState.REQUESTED and grant.consumer == people["a"]
    assert grant.purpose_id == definition.service_id
    assert grant.requested_items == sorted(i["code"] for i in science.items)
    page = client.get(url("designer_version", definition.pk)).content.decode()
    assert "grant-asked" in page
    # Asked once: a second press asks for nothing more.
    client.post(url("designer_access", definition.pk), {"service": science.pk})
    assert Grant.objects.count() == 1


# -- JSON -------------------------------------------------------------------------------------------


def test_export_and_import_with_clear_errors(client, people):
    from django.core.files.uploadedfile import SimpleUploadedFile

    definition = at(S.PUBLISHED, people["a"])
    c = _client(client, people["editor_a"])
    response = c.get(url("designer_export", definition.pk))
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    text = response.content.decode()
    assert json.loads(text) == definition.spec and "\\u" not in text
    bad = {
        "nul": (text[:20] + "\x00" + text[20:]).encode(),
        "huge": b" " * (design.MAX_IMPORT_BYTES + 10),
        "not json": b"{not json",
        "duplicate": b'{"code": "a", "code": "b"}',
        "not utf-8": b"\xff\xfe{}",
    }
    before = ServiceDefinition.objects.count()
    for name, content in bad.items():
        response = c.post(url("designer_import"), {"file": SimpleUploadedFile("d.json", content)})
        page = response.content.decode()
        assert response.status_code == 400, name
        assert 'id="error-summary"' in page, name
    assert ServiceDefinition.objects.count() == before
    response = c.post(url("designer_import"), {})
    assert response.status_code == 400
    # Another agency's file is refused for this editor.
    other = spec_for(people["b"], code="theirs")
    response = c.post(
        url("designer_import"),
        {"file": SimpleUploadedFile("d.json", json.dumps(other).encode())},
    )
    assert response.status_code == 400
    assert not ServiceDefinition.objects.filter(code="theirs").exists()
    response = c.post(url("designer_import"), {"file": SimpleUploadedFile("d.json", text.encode())})
    imported = ServiceDefinition.objects.get(code=definition.code, version=definition.version + 1)
    assert response.status_code == 302 and imported.status == S.DRAFT
    assert _client(client, people["viewer_a"]).get(url("designer_import")).status_code == 403


def test_the_test_run_page_runs_for_editors_and_aeo_only(client, people):
    definition = at(S.DRAFT, people["a"])
    person = "0010350829"  # a valid national code (the exchange is not reached: no consumer)
    for who, expected in [("viewer_a", 403), ("editor_b", 404), ("nobody", 403)]:
        response = _client(client, people[who]).post(
            url("designer_test", definition.pk), {"national_code": person}
        )
        assert response.status_code == expected, who
    for who in ("editor_a", "aeo"):
        response = _client(client, people[who]).post(
            url("designer_test", definition.pk), {"national_code": person}
        )
        page = response.content.decode()
        assert response.status_code == 200, who
        # The agency has no consumer system on the exchange: the run stops at the first fetch
        # and says so; nothing is issued.
        assert 'data-outcome="stopped"' in page and 'data-outcome="refused"' in page
    response = client.post(url("designer_test", definition.pk), {"national_code": "123"})
    assert response.status_code == 400 and 'id="error-summary"' in response.content.decode()


def test_the_preview_never_saves(client, people, exchange_catalogue):
    definition = at(S.DRAFT, people["a"])
    c = _client(client, people["editor_a"])
    data = form_of(definition.spec, action="preview", sample="0010350829", title_fa="تازه")
    response = c.post(url("designer_version", definition.pk), data)
    page = response.content.decode()
    assert response.status_code == 200 and 'id="preview-problem"' in page
    assert 'id="unsaved"' in page
    definition.refresh_from_db()
    assert definition.title_fa != "تازه"


def test_odd_characters_are_refused_in_the_form_and_dropped_from_notes(
    client, people, exchange_catalogue
):
    definition = at(S.DRAFT, people["a"])
    c = _client(client, people["editor_a"])
    for odd in ("\x00", "\u202e", "\x07"):
        data = form_of(definition.spec, title_fa=f"عنوان{odd}تازه")
        response = c.post(url("designer_version", definition.pk), data)
        assert response.status_code == 400, repr(odd)
        if odd != "\x00":  # a NUL byte is refused before any view (the bad-input middleware)
            assert 'id="error-summary"' in response.content.decode()
    definition.refresh_from_db()
    assert "تازه" not in definition.title_fa
    response = c.post(
        url("designer_act", definition.pk), {"action": "submit", "note": "آماده\u202e است"}
    )
    assert response.status_code == 302
    assert design.history(definition)[-1].note == "آماده است"


def test_sample_people_from_the_environment_are_national_codes_split_at_commas(settings):
    from panjereh.services.designer_views import sample_people

    settings.PANJEREH_DESIGNER_SAMPLE_PEOPLE = "0012345678, 0023456789,"
    assert [p["national_code"] for p in sample_people()] == ["0012345678", "0023456789"]
