"""The designer's test run against the real registry processes, through the exchange gateway:
every step and the document it would issue, and nothing issued or stored."""

from __future__ import annotations

import copy

import pytest

from panjereh.catalogue import roles
from panjereh.exchange.models import Grant, GrantEvent, LogRecord
from panjereh.inbox.models import Message
from panjereh.services import definitions, design
from panjereh.services.models import (
    Application,
    Document,
    FetchedData,
    JourneyEvent,
    ServiceDefinition,
)
from panjereh.services.testrun import test_run as run_test
from tests.factories import make_agency_staff

from .conftest import citizen, clean_adult, convicted

pytestmark = pytest.mark.django_db(transaction=True)


def _counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (
            Application,
            Document,
            JourneyEvent,
            FetchedData,
            Grant,
            Message,
            ServiceDefinition,
        )
    }


def test_a_test_run_shows_every_step_and_the_document_and_issues_nothing(smart, population):
    person = citizen(population, lambda i: clean_adult(population, i))
    definition = definitions.active("no-criminal-record")
    editor = make_agency_staff(definition.agency, "editor")
    before = _counts()
    grant_events = GrantEvent.objects.count()

    run = run_test(definition, person.national_code, actor=editor, inputs={"purpose": "بانک ملی"})

    assert run.outcome == "issued", run.steps
    assert [(s.kind, s.outcome) for s in run.steps] == [
        ("fetch", "received"),
        ("fetch", "received"),
        ("check", "complete"),
        ("decide", "approved"),
        ("document", "rendered"),
    ]
    identity = run.steps[0].data["record"]
    assert identity["first_name"] and run.steps[0].data["subject"] == person.national_code
    assert run.steps[1].data["record"]["has_record"] is False
    assert identity["first_name"] in run.document["text_fa"]
    assert (
        "بانک ملی" in run.document["text_fa"] and identity["first_name"] in run.document["text_en"]
    )
    assert run.document["num"] == "" and "status" not in run.document  # no number, unsigned
    assert [field[0] for field in run.document["fields"]][:2] == ["نام و نام خانوادگی", "نام پدر"]
    # Nothing was issued or stored; the exchange honestly logged the two reads, as a test run.
    assert _counts() == before
    # The gateway marks a grant implemented on its first use, as for any consumer's call.
    added = GrantEvent.objects.order_by("id")[grant_events:]
    assert {event.to_state for event in added} <= {"implemented"}
    logged = LogRecord.objects.filter(issue=run.issue)
    assert run.issue.startswith("TEST-RUN-") and logged.count() == 2
    assert set(logged.values_list("subject", flat=True)) == {person.national_code}


def test_a_draft_is_test_run_and_a_conviction_shows_the_rejection(smart, population):
    person = citizen(population, lambda i: convicted(population, i))
    published = definitions.active("no-criminal-record")
    changed = copy.deepcopy(published.spec)
    changed["target_minutes"] = 15
    draft = design.create_draft(published.agency, changed, actor=roles.SYSTEM)
    editor = make_agency_staff(published.agency, "editor")
    before = _counts()

    run = run_test(draft, person.national_code, actor=editor, inputs={"purpose": "x"})

    assert (run.outcome, run.version) == ("rejected", draft.version)
    assert [r["code"] for r in run.reasons] == ["has_record"]
    assert run.steps[-1].kind == "decide" and "محکومیت" in run.steps[-1].text_fa
    assert run.document is None
    assert _counts() == before


def test_a_spec_naming_a_service_the_exchange_lacks_stops_at_that_step(smart, population):
    person = citizen(population, lambda i: clean_adult(population, i))
    spec = copy.deepcopy(definitions.active("veteran-status").spec)
    spec["data"][1]["service"] = "veteran-status-archive"
    run = run_test(spec, person.national_code, actor=roles.SYSTEM)
    assert run.outcome == "stopped"
    assert run.steps[-1].outcome == "refused"
    assert run.steps[-1].data["refused"] == "unknown_service"
    assert "not on the exchange" in run.steps[-1].text_en


def test_an_invalid_draft_is_not_run(smart, population):
    spec = copy.deepcopy(definitions.active("veteran-status").spec)
    spec["uploads"].append({"code": "card", "label_fa": "کارت ملی", "label_en": "National card"})
    calls = LogRecord.objects.count()
    run = run_test(spec, "0012345679", actor=roles.SYSTEM)
    assert run.outcome == "invalid" and run.steps == []
    assert any("upload" in problem for problem in run.problems)
    assert LogRecord.objects.count() == calls


def test_only_the_agencys_editors_and_aeo_may_test_run(smart, population):
    definition = definitions.active("no-criminal-record")
    viewer = make_agency_staff(definition.agency, "viewer")
    calls = LogRecord.objects.count()
    for actor in (viewer, None):
        with pytest.raises(roles.NotPermitted):
            run_test(definition, "0012345679", actor=actor)
    assert LogRecord.objects.count() == calls


def test_a_document_the_engine_could_not_render_stops_the_run_with_the_fault(smart, population):
    person = citizen(population, lambda i: clean_adult(population, i))
    spec = copy.deepcopy(definitions.active("no-criminal-record").spec)
    spec["document"]["fields"][0].pop("label_fa")  # the schema lets it through, as before
    run = run_test(spec, person.national_code, actor=roles.SYSTEM, inputs={"purpose": "x"})
    assert run.outcome == "stopped" and run.document is None
    assert (run.steps[-1].kind, run.steps[-1].outcome) == ("document", "fault")
    assert run.steps[-1].data["fault"] == "KeyError"
