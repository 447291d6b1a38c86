"""The designer's backend: definition versions, their lifecycle and rights, immutability,
rollback, JSON import/export against the JSON Schema, and the validator in plain words."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from django.contrib.auth.models import AnonymousUser, Group
from django.utils import translation

from panjereh.catalogue import roles
from panjereh.services import definitions, design
from panjereh.services.definitions import DefinitionError
from panjereh.services.models import (
    DefinitionEvent,
    DefinitionStatus,
    ImmutableDefinition,
    ServiceDefinition,
)
from tests.factories import UserFactory, make_agency, make_agency_staff, next_service_id

pytestmark = pytest.mark.django_db
S = DefinitionStatus
SYSTEM = roles.SYSTEM
REPO = Path(__file__).resolve().parents[2]


def shipped(code: str) -> dict:
    return definitions.read_file(definitions.DEFINITIONS_DIR / f"{code}.json")


def spec_for(agency, *, smart: bool = True, code: str = "design-test") -> dict:
    """A valid definition of ``agency`` (smart: the student certificate's shape; not smart:
    the household support's, with its case worker's review)."""
    spec = copy.deepcopy(shipped("student-status" if smart else "household-support"))
    spec.update(
        code=code,
        version=1,
        service_id=next_service_id(),
        agency={"code": agency.code, "name_fa": agency.name_fa},
    )
    return spec


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
        "editor_b": make_agency_staff(b, "editor"),
        "viewer_a": make_agency_staff(a, "viewer"),
        "admin_a": make_agency_staff(a, "admin"),
        "aeo": aeo,
        "anonymous": AnonymousUser(),
        "none": None,
        "system": SYSTEM,
    }


def at(status: str, agency, *, smart: bool = True, code: str = "design-test"):
    """A definition of ``agency`` brought to ``status`` by the system."""
    definition = design.create_draft(agency, spec_for(agency, smart=smart, code=code), actor=SYSTEM)
    if status == S.DRAFT:
        return definition
    design.submit(definition, actor=SYSTEM)
    if status == S.SUBMITTED:
        return definition
    if smart:
        design.certify(definition, actor=SYSTEM)
    if status == S.CERTIFIED:
        return definition
    design.publish(definition, actor=SYSTEM)
    if status == S.PUBLISHED:
        return definition
    raise AssertionError(status)


def published_twice(agency, code: str = "design-test"):
    first = at(S.PUBLISHED, agency, code=code)
    changed = copy.deepcopy(first.spec)
    changed["target_minutes"] = 7
    second = design.create_draft(agency, changed, actor=SYSTEM)
    design.submit(second, actor=SYSTEM)
    design.certify(second, actor=SYSTEM)
    design.publish(second, actor=SYSTEM)
    return first, second


# -- the role × action matrix -------------------------------------------------------------------

ALLOWED = {
    # agency A's editors (and its admins, and platform roles holding EDIT) draft for agency A
    "create": {"editor_a", "admin_a", "aeo", "system"},
    "update": {"editor_a", "admin_a", "aeo", "system"},
    "submit": {"editor_a", "admin_a", "aeo", "system"},
    "send_back": {"admin_a", "aeo", "system"},
    "certify": {"aeo", "system"},
    "publish": {"admin_a", "aeo", "system"},
    "rollback": {"admin_a", "aeo", "system"},
    "retire": {"admin_a", "aeo", "system"},
    "import": {"editor_a", "admin_a", "aeo", "system"},
}
ACTORS = ["editor_a", "editor_b", "viewer_a", "admin_a", "aeo", "anonymous", "none", "system"]


def _act(action: str, agency, actor):
    if action == "create":
        return lambda: design.create_draft(agency, spec_for(agency), actor=actor)
    if action == "import":
        text = json.dumps(spec_for(agency), ensure_ascii=False)
        return lambda: design.import_json(text, actor=actor)
    if action == "update":
        draft = at(S.DRAFT, agency)
        changed = {**draft.spec, "target_minutes": 3}
        return lambda: design.update_draft(draft, changed, actor=actor)
    if action == "submit":
        draft = at(S.DRAFT, agency)
        return lambda: design.submit(draft, actor=actor)
    if action == "send_back":
        submitted = at(S.SUBMITTED, agency)
        return lambda: design.send_back(submitted, "the fee is missing", actor=actor)
    if action == "certify":
        submitted = at(S.SUBMITTED, agency)
        return lambda: design.certify(submitted, actor=actor)
    if action == "publish":
        certified = at(S.CERTIFIED, agency)
        return lambda: design.publish(certified, actor=actor)
    if action == "rollback":
        published_twice(agency)
        return lambda: design.rollback("design-test", actor=actor)
    if action == "retire":
        published = at(S.PUBLISHED, agency)
        return lambda: design.retire(published, actor=actor)
    raise AssertionError(action)


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("action", list(ALLOWED))
def test_who_may_do_what_with_a_definition(people, action, actor):
    run = _act(action, people["a"], people[actor])
    rows = list(ServiceDefinition.objects.order_by("pk").values())
    events = DefinitionEvent.objects.count()
    if actor in ALLOWED[action]:
        run()
        assert DefinitionEvent.objects.count() > events
    else:
        with pytest.raises(roles.NotPermitted):
            run()
        assert list(ServiceDefinition.objects.order_by("pk").values()) == rows
        assert DefinitionEvent.objects.count() == events


def test_an_editor_cannot_draft_for_an_agency_by_naming_it_in_the_file(people):
    # Agency B's editor drafts "for B" a file naming agency A: refused, nothing written.
    with pytest.raises(DefinitionError, match="drafted for"):
        design.create_draft(people["b"], spec_for(people["a"]), actor=people["editor_b"])
    with pytest.raises(roles.NotPermitted):
        design.import_json(json.dumps(spec_for(people["a"])), actor=people["editor_b"])
    assert not ServiceDefinition.objects.exists()


def test_a_code_or_service_id_of_another_agency_is_refused(people):
    mine = at(S.DRAFT, people["a"])
    theirs = spec_for(people["b"])
    with pytest.raises(DefinitionError, match="another agency"):
        design.create_draft(people["b"], theirs, actor=people["editor_b"])
    theirs.update(code="other-code", service_id=mine.spec["service_id"])
    with pytest.raises(DefinitionError, match="another agency"):
        design.create_draft(people["b"], theirs, actor=people["editor_b"])


# -- the lifecycle -----------------------------------------------------------------------------


def test_a_smart_definition_goes_draft_submitted_certified_published(people):
    a = people["a"]
    draft = design.create_draft(a, spec_for(a), actor=people["editor_a"])
    assert (draft.status, draft.active, draft.version) == (S.DRAFT, False, 1)
    design.submit(draft, actor=people["editor_a"])
    with pytest.raises(design.InvalidTransition, match="certified"):
        design.publish(draft, actor=people["admin_a"])  # smart: AEO first
    assert draft.status == S.SUBMITTED and not draft.active
    design.certify(draft, actor=people["aeo"], note="checked against Art. 107")
    design.publish(draft, actor=people["admin_a"])
    assert draft.status == S.PUBLISHED and draft.active and draft.published_at
    assert definitions.active("design-test") == draft
    moves = [
        (e.from_status, e.to_status, e.by, e.by_system)
        for e in DefinitionEvent.objects.filter(definition=draft)
    ]
    assert moves == [
        ("", S.DRAFT, people["editor_a"], False),
        (S.DRAFT, S.SUBMITTED, people["editor_a"], False),
        (S.SUBMITTED, S.CERTIFIED, people["aeo"], False),
        (S.CERTIFIED, S.PUBLISHED, people["admin_a"], False),
    ]


def test_a_non_smart_definition_is_published_without_certification(people):
    a = people["a"]
    draft = at(S.SUBMITTED, a, smart=False)
    with pytest.raises(design.InvalidTransition, match="Only a smart definition"):
        design.certify(draft, actor=people["aeo"])
    assert draft.status == S.SUBMITTED
    design.publish(draft, actor=people["admin_a"])
    assert draft.status == S.PUBLISHED and draft.active


def test_sending_back_needs_a_note_and_returns_a_draft_that_can_be_changed(people):
    submitted = at(S.SUBMITTED, people["a"])
    with pytest.raises(design.InvalidTransition):
        design.send_back(submitted, "  ", actor=people["aeo"])
    design.send_back(submitted, "the statement names no date", actor=people["aeo"])
    assert submitted.status == S.DRAFT
    assert DefinitionEvent.objects.filter(
        definition=submitted, to_status=S.DRAFT, note="the statement names no date"
    ).exists()
    changed = {**submitted.spec, "target_minutes": 3}
    design.update_draft(submitted, changed, actor=people["editor_a"])
    assert submitted.target_minutes == 3 and submitted.spec["target_minutes"] == 3


@pytest.mark.parametrize(
    ("status", "move"),
    [
        (S.DRAFT, lambda d: design.certify(d, actor=SYSTEM)),
        (S.DRAFT, lambda d: design.publish(d, actor=SYSTEM)),
        (S.DRAFT, lambda d: design.send_back(d, "why", actor=SYSTEM)),
        (S.SUBMITTED, lambda d: design.submit(d, actor=SYSTEM)),
        (S.SUBMITTED, lambda d: design.update_draft(d, d.spec, actor=SYSTEM)),
        (S.CERTIFIED, lambda d: design.certify(d, actor=SYSTEM)),
        (S.PUBLISHED, lambda d: design.submit(d, actor=SYSTEM)),
        (S.PUBLISHED, lambda d: design.publish(d, actor=SYSTEM)),
        (S.PUBLISHED, lambda d: design.send_back(d, "why", actor=SYSTEM)),
        (S.PUBLISHED, lambda d: design.update_draft(d, d.spec, actor=SYSTEM)),
        ("retired", lambda d: design.publish(d, actor=SYSTEM)),
        ("retired", lambda d: design.retire(d, actor=SYSTEM)),
    ],
)
def test_a_move_the_lifecycle_does_not_allow_is_refused_and_changes_nothing(people, status, move):
    if status == "retired":
        definition = at(S.PUBLISHED, people["a"])
        design.retire(definition, actor=SYSTEM)
    else:
        definition = at(status, people["a"])
    before = ServiceDefinition.objects.filter(pk=definition.pk).values().get()
    events = DefinitionEvent.objects.count()
    with pytest.raises(design.InvalidTransition):
        move(definition)
    assert ServiceDefinition.objects.filter(pk=definition.pk).values().get() == before
    assert DefinitionEvent.objects.count() == events


def test_publishing_a_new_version_retires_the_old_one_and_keeps_one_active(people):
    first, second = published_twice(people["a"])
    first.refresh_from_db()
    assert (first.status, first.active) == (S.RETIRED, False)
    assert (second.status, second.active, second.version) == (S.PUBLISHED, True, 2)
    assert ServiceDefinition.objects.filter(code="design-test", active=True).count() == 1
    assert DefinitionEvent.objects.filter(
        definition=first, to_status=S.RETIRED, note__contains="replaced by version 2"
    ).exists()


def test_retiring_the_published_version_leaves_none_for_the_engine(people):
    published = at(S.PUBLISHED, people["a"])
    design.retire(published, actor=people["admin_a"], note="the law changed")
    assert not ServiceDefinition.objects.filter(code="design-test", active=True).exists()


# -- immutability and rollback -----------------------------------------------------------------


def test_a_published_version_is_never_edited(people):
    published = at(S.PUBLISHED, people["a"])
    published.spec = {**published.spec, "target_minutes": 999}
    with pytest.raises(ImmutableDefinition):
        published.save()
    published.refresh_from_db()
    published.title_fa = "عنوان دیگر"
    with pytest.raises(ImmutableDefinition):
        published.save()
    with pytest.raises(ImmutableDefinition):
        published.save(update_fields=["title_fa"])
    stored = ServiceDefinition.objects.get(pk=published.pk)
    assert stored.spec["target_minutes"] != 999 and stored.title_fa != "عنوان دیگر"
    # Saving it unchanged (or only its status fields) is no edit.
    stored.save()
    stored.save(update_fields=["active"])


def test_rollback_publishes_the_previous_content_again_as_a_new_version(people):
    first, second = published_twice(people["a"])
    first_spec = copy.deepcopy(ServiceDefinition.objects.get(pk=first.pk).spec)
    again = design.rollback("design-test", actor=people["admin_a"], note="v2 read wrong")
    assert (again.version, again.status, again.active) == (3, S.PUBLISHED, True)
    assert again.spec == {**first_spec, "version": 3}
    assert again.target_minutes == first.target_minutes != 7
    second.refresh_from_db()
    assert (second.status, second.active) == (S.RETIRED, False)
    assert ServiceDefinition.objects.get(pk=first.pk).spec == first_spec  # untouched
    assert ServiceDefinition.objects.filter(code="design-test", active=True).get() == again
    certified, published = DefinitionEvent.objects.filter(definition=again)
    assert (certified.to_status, published.to_status) == (S.CERTIFIED, S.PUBLISHED)
    assert "version 1" in certified.note and "carried over" in certified.note
    assert "version 1" in published.note and "v2 read wrong" in published.note
    assert published.by == people["admin_a"]
    from panjereh.services import queries

    assert again.service_id in queries.certified_smart_service_ids()


def test_rollback_without_an_earlier_published_version_is_refused(people):
    at(S.PUBLISHED, people["a"])
    with pytest.raises(design.InvalidTransition, match="no earlier"):
        design.rollback("design-test", actor=people["admin_a"])
    with pytest.raises(design.InvalidTransition, match="no published"):
        design.rollback("nothing-here", actor=people["admin_a"])


def test_an_application_keeps_its_version_after_a_new_one_is_published():
    from panjereh.services import engine

    definitions.load()
    v1 = definitions.active("no-criminal-record")
    user = UserFactory(national_code="0012345679", assurance_level=3)
    application, _created = engine.submit(v1, user, idempotency_key="k", inputs={"purpose": "بانک"})
    changed = copy.deepcopy(v1.spec)
    changed["target_minutes"] = 20
    v2 = design.create_draft(v1.agency, changed, actor=SYSTEM)
    design.submit(v2, actor=SYSTEM)
    design.certify(v2, actor=SYSTEM)
    design.publish(v2, actor=SYSTEM)
    application.refresh_from_db()
    assert application.definition_id == v1.pk
    assert application.definition.spec == v1.spec
    assert application.definition.status == S.RETIRED
    assert definitions.active("no-criminal-record") == v2
    later, _created = engine.submit(v2, user, idempotency_key="k2", inputs={"purpose": "بانک"})
    assert later.definition_id == v2.pk


def test_the_shipped_definitions_load_certified_and_published_by_the_system():
    definitions.load()
    for definition in ServiceDefinition.objects.all():
        assert (definition.status, definition.active) == (S.PUBLISHED, True)
        moves = list(
            DefinitionEvent.objects.filter(definition=definition).values_list(
                "to_status", "by_system", "by"
            )
        )
        expected = [S.DRAFT, S.SUBMITTED] + ([S.CERTIFIED] if definition.smart else [])
        assert [m[0] for m in moves] == [*expected, S.PUBLISHED]
        assert all(by_system and by is None for _to, by_system, by in moves)
        if definition.smart:
            assert DefinitionEvent.objects.get(
                definition=definition, to_status=S.CERTIFIED
            ).note == (design.CERTIFIED_BY_SYSTEM)


# -- the JSON Schema and JSON import/export ----------------------------------------------------


@pytest.mark.parametrize(
    "path", sorted(definitions.DEFINITIONS_DIR.glob("*.json")), ids=lambda p: p.stem
)
def test_every_shipped_definition_matches_the_json_schema(path):
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(definitions.SCHEMA)
    assert (
        list(Draft202012Validator(definitions.SCHEMA).iter_errors(definitions.read_file(path)))
        == []
    )


def test_the_docs_copy_of_the_schema_is_the_schema():
    docs = json.loads((REPO / "docs" / "definition-schema.json").read_text(encoding="utf-8"))
    assert docs == definitions.SCHEMA


def test_export_then_import_gives_a_new_draft_with_the_same_content(people):
    definitions.load()
    published = definitions.active("veteran-status")
    staff = make_agency_staff(published.agency, "editor")
    text = design.export_json(published)
    assert "بنیاد" in text or "\\u" not in text  # Persian as itself
    draft = design.import_json(text.encode("utf-8"), actor=staff)
    assert (draft.status, draft.version, draft.active) == (S.DRAFT, published.version + 1, False)
    assert draft.spec == {**published.spec, "version": published.version + 1}
    assert json.loads(design.export_json(draft)) == draft.spec


BIG = json.dumps({"code": "x", "pad": "ا" * (600 * 1024)})


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('{"code": "a\x00b"}', "NUL"),
        (BIG, "larger than 1 MB"),
        (b"\xff\xfe{}", "not UTF-8"),
        ("{not json", "not valid JSON"),
        ('{"code": "a", "code": "b"}', "appears twice"),
        ('{"version": NaN}', "not a JSON number"),
        ("[" * 100_000 + "]" * 100_000, "nests too deeply"),
        ("[1, 2]", "JSON object"),
        ('{"code": "a\\ud800"}', "may not use"),
        ('{"code": "a\\u202eb"}', "may not use"),
        ('{"code": "a\\u0007"}', "may not use"),
        ("{}", "Missing keys"),
    ],
    ids=[
        "nul",
        "huge",
        "not_utf8",
        "not_json",
        "duplicate_key",
        "nan",
        "deep",
        "array",
        "lone_surrogate",
        "bidi_override",
        "bell",
        "empty",
    ],
)
def test_import_refuses_what_is_not_a_definition_and_writes_nothing(people, text, words):
    with pytest.raises(DefinitionError) as refused:
        design.import_json(text, actor=people["editor_a"])
    assert any(words in problem for problem in refused.value.problems), refused.value.problems
    assert not ServiceDefinition.objects.exists() and not DefinitionEvent.objects.exists()


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda s: s.update(assurance_level=7), "assurance_level"),
        (lambda s: s.update(smart="yes"), "smart"),
        (lambda s: s.update(fee_currency="IRR"), "fee_currency"),
        (lambda s: s["data"][0].update(items=[]), "data/0/items"),
        (lambda s: s.update(code="Bad Code"), "code"),
    ],
    ids=["assurance", "smart_type", "unknown_key", "no_items", "code_pattern"],
)
def test_a_schema_violation_is_refused_naming_the_part(people, change, where):
    spec = spec_for(people["a"])
    change(spec)
    text = json.dumps(spec, ensure_ascii=False)
    with pytest.raises(DefinitionError) as refused:
        design.import_json(text, actor=people["editor_a"])
    assert any(problem.startswith(where) for problem in refused.value.problems), refused.value
    assert not ServiceDefinition.objects.exists()


def test_an_unknown_agency_in_an_imported_file_is_refused(people):
    spec = spec_for(people["a"])
    spec["agency"] = {"code": "no-such-agency", "name_fa": "ناشناس"}
    with pytest.raises(DefinitionError, match="not in the catalogue"):
        design.import_json(json.dumps(spec), actor=SYSTEM)
    assert not ServiceDefinition.objects.exists()


# -- the validator in plain words --------------------------------------------------------------


UPLOAD = {
    "code": "card",
    "label_fa": "کارت ملی",
    "label_en": "National card",
    "reason": "the agency's law asks for it",
}


@pytest.mark.parametrize(
    ("change", "code", "part", "fa", "en"),
    [
        (
            lambda s: s["uploads"].append(UPLOAD),
            "smart.upload",
            "/uploads/0",
            "این خدمت هوشمند نیست، چون از متقاضی می‌خواهد «کارت ملی» را بارگذاری کند.",
            "Not smart: it asks the applicant to upload “National card”.",
        ),
        (
            lambda s: s["in_person_steps"].append(
                {
                    "label_fa": "مراجعه به دفتر",
                    "label_en": "Visit to the office",
                    "reason": "a signature in person",
                }
            ),
            "smart.in_person",
            "/in_person_steps/0",
            "حضوری مراجعه کند",
            "Not smart: it has an in-person step: “Visit to the office”.",
        ),
        (
            lambda s: s["inputs"].append(
                {"code": "birth_date", "label_fa": "تاریخ تولد", "label_en": "Date of birth"}
            ),
            "smart.registry_item_typed",
            "/inputs/0",
            "«تاریخ تولد» را تایپ کند",
            "type what a base registry holds: “Date of birth”",
        ),
        (
            lambda s: s["steps"].insert(
                1, {"code": "check", "kind": "manual", "label_fa": "بررسی کارشناس"}
            ),
            "smart.manual",
            "/steps/1",
            "مرحله «بررسی کارشناس» را کارشناس انجام می‌دهد",
            "Not smart: it has a manual step, “بررسی کارشناس”, that an officer must do.",
        ),
    ],
    ids=["upload", "in_person", "typed_registry_item", "manual"],
)
def test_the_designer_refuses_a_smart_draft_saying_why_in_plain_words(
    people, change, code, part, fa, en
):
    spec = spec_for(people["a"])
    change(spec)
    reasons = definitions.explain(spec)
    assert [(r.code, r.part) for r in reasons] == [(code, part)]
    assert fa in reasons[0].fa and en in reasons[0].en
    for lang, words in (("fa", fa), ("en", en)):
        with translation.override(lang), pytest.raises(DefinitionError) as refused:
            design.create_draft(people["a"], spec, actor=people["editor_a"])
        assert any(words in problem for problem in refused.value.problems)
    assert not ServiceDefinition.objects.exists()
    # Without the smart flag the same definition is a valid (non-smart) draft.
    spec["smart"] = False
    assert definitions.explain(spec) == []
    assert design.create_draft(people["a"], spec, actor=people["editor_a"]).status == S.DRAFT


def test_a_smart_definition_has_nothing_to_explain():
    for path in definitions.DEFINITIONS_DIR.glob("*.json"):
        assert definitions.explain(definitions.read_file(path)) == []


def test_an_in_person_step_with_its_reason_is_listed_on_the_card_by_its_label(people):
    spec = spec_for(people["a"], smart=False)
    spec["in_person_steps"].append(
        {"label_fa": "مراجعه به دفتر", "label_en": "Office visit", "reason": "امضای دستی"}
    )
    draft = design.create_draft(people["a"], spec, actor=people["editor_a"])
    design.submit(draft, actor=people["editor_a"])
    design.publish(draft, actor=people["admin_a"])
    assert draft.service.in_person_steps == ["مراجعه به دفتر"]


def test_the_migration_makes_the_active_rows_published_and_the_others_retired():
    import importlib

    from django.apps import apps

    migration = importlib.import_module("panjereh.services.migrations.0003_definition_lifecycle")
    definitions.load()
    changed = shipped("student-status")
    changed["version"] += 1
    definitions.load_spec(changed)
    ServiceDefinition.objects.update(status=S.DRAFT, published_at=None)  # as before 0003
    DefinitionEvent.objects.all().delete()
    migration.statuses(apps, None)
    for row in ServiceDefinition.objects.all():
        assert row.status == (S.PUBLISHED if row.active else S.RETIRED)
        assert row.published_at == row.loaded_at
        assert DefinitionEvent.objects.get(definition=row).by_system
    assert ServiceDefinition.objects.filter(status=S.RETIRED).count() == 1


def test_the_designer_is_told_which_actions_each_person_has_now(people):
    draft = at(S.DRAFT, people["a"])
    assert design.actions(draft, people["editor_a"]) == {"update", "submit"}
    assert design.actions(draft, people["viewer_a"]) == set()
    assert design.actions(draft, people["editor_b"]) == set()
    design.submit(draft, actor=people["editor_a"])
    assert design.actions(draft, people["aeo"]) >= {"certify", "send_back"}
    assert design.actions(draft, people["admin_a"]) == {"send_back"}  # smart: AEO first
    design.certify(draft, actor=people["aeo"])
    assert "publish" in design.actions(draft, people["admin_a"])
    design.publish(draft, actor=people["admin_a"])
    assert design.actions(draft, people["admin_a"]) == {"retire"}
    first, second = published_twice(people["a"], code="design-other")
    assert design.actions(second, people["admin_a"]) == {"retire", "rollback"}
    assert design.actions(second, None) == set()


def test_a_second_draft_of_a_taken_version_is_refused_not_an_error(people):
    at(S.DRAFT, people["a"])
    with pytest.raises(DefinitionError, match="exists already"):
        design.create_draft(people["a"], spec_for(people["a"]), actor=SYSTEM, version=1)
    assert ServiceDefinition.objects.count() == 1
