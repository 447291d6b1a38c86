"""Definition files: validation, loading onto the catalogue card, and the smart-flag refusals."""

from __future__ import annotations

import copy
import json

import pytest

from panjereh.catalogue.models import Service
from panjereh.services import definitions
from panjereh.services.models import ServiceDefinition

pytestmark = pytest.mark.django_db


def spec(code: str) -> dict:
    return json.loads((definitions.DEFINITIONS_DIR / f"{code}.json").read_text(encoding="utf-8"))


def test_every_shipped_definition_is_valid():
    files = sorted(definitions.DEFINITIONS_DIR.glob("*.json"))
    assert len(files) >= 5
    for path in files:
        assert definitions.validate(definitions.read_file(path)) == [], path.name


def test_load_writes_definitions_and_the_catalogue_card():
    result = definitions.load()
    assert not result.refused
    shipped = len(list(definitions.DEFINITIONS_DIR.glob("*.json")))
    assert len(result.loaded) == shipped
    card = Service.objects.get(service_id="1000000024")
    assert card.min_assurance_level == 3
    assert card.target_minutes == 10
    sources = {(i["source"], i.get("item", i["code"])) for i in card.inputs}
    assert ("registry", "judiciary.criminal_record") in sources
    assert ("user", "purpose") in sources
    assert card.documents_required == [] and card.in_person_steps == []
    # Loading again changes nothing; a changed file under the same version is refused.
    again = definitions.load()
    assert again.loaded == [] and len(again.unchanged) == shipped
    changed = spec("student-status")
    changed["target_minutes"] = 99
    with pytest.raises(definitions.DefinitionError, match="raise the version"):
        definitions.load_spec(changed)
    loaded_version = changed["version"]
    changed["version"] = loaded_version + 1
    definition, created = definitions.load_spec(changed)
    assert created and definition.active
    old = ServiceDefinition.objects.get(code="student-status", version=loaded_version)
    assert old.active is False


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda s: s["uploads"].append(
                {
                    "code": "photo",
                    "label_fa": "تصویر شناسنامه",
                    "label_en": "ID copy",
                    "reason": "قانون خاص",
                }
            ),
            "upload",
        ),
        (
            lambda s: s["steps"].insert(
                1, {"code": "check", "kind": "manual", "label_fa": "بررسی کارشناس"}
            ),
            "manual step",
        ),
        (
            lambda s: s["in_person_steps"].append(
                {"label_fa": "مراجعه به دفتر", "reason": "امضای حضوری"}
            ),
            "in-person",
        ),
        (
            lambda s: s["inputs"].append(
                {
                    "code": "dob",
                    "label_fa": "تاریخ تولد",
                    "source": "user",
                    "item": "civil.birth_date",
                }
            ),
            "type what a base registry holds",
        ),
    ],
    ids=["upload", "manual", "in_person", "typed_registry_item"],
)
def test_smart_definition_with_a_human_or_paper_step_is_refused(change, expected):
    bad = copy.deepcopy(spec("veteran-status"))
    change(bad)
    with pytest.raises(definitions.DefinitionError) as refused:
        definitions.load_spec(bad)
    assert any(expected in problem for problem in refused.value.problems), refused.value.problems
    assert not ServiceDefinition.objects.filter(code="veteran-status").exists()
    # The same definition without the smart flag is acceptable.
    bad["smart"] = False
    assert definitions.validate(bad) == []


def test_the_command_refuses_and_says_why(tmp_path):
    from django.core.management import CommandError, call_command

    bad = spec("student-status")
    bad["steps"][1]["kind"] = "manual"
    (tmp_path / "student-status.json").write_text(json.dumps(bad), encoding="utf-8")
    import io

    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("services", "load-definitions", "--dir", str(tmp_path), stderr=err)
    assert "manual step" in err.getvalue()
    assert "REFUSED student-status.json" in err.getvalue()


@pytest.mark.parametrize(
    "rule",
    [
        {"field": "x.y", "op": "__import__"},
        {"field": "nodot", "op": "eq", "value": 1},
        {"all": []},
        "criminal.has_record == False",
    ],
)
def test_malformed_rules_are_refused(rule):
    bad = spec("no-criminal-record")
    bad["eligibility"][0]["rule"] = rule
    assert any("rule" in p.lower() for p in definitions.validate(bad))


def test_rules_read_fetched_data_only():
    from panjereh.services import rules

    data = {"a": {"b": True, "n": 5, "list": [{"v": 1}]}, "c": {"m": "x"}}
    assert rules.evaluate({"field": "a.b", "op": "true"}, data)
    assert rules.evaluate({"field": "a.n", "op": "gte", "value": 5}, data)
    assert not rules.evaluate({"field": "a.n", "op": "gt", "value": "text"}, data)
    assert rules.evaluate({"field": "a.list.0.v", "op": "eq", "value": 1}, data)
    assert rules.evaluate({"not": {"field": "a.missing", "op": "true"}}, data)
    assert rules.evaluate(
        {
            "any": [
                {"field": "c.m", "op": "eq", "value": "y"},
                {"field": "c.m", "op": "in", "value": ["x"]},
            ]
        },
        data,
    )
    assert not rules.evaluate({"field": "a.__class__", "op": "not_empty"}, data)
