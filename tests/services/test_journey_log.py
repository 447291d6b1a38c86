"""The journey log reads in the order things happened: the decision before the document, and
a registry line says what was asked, so that no two lines read the same."""

from __future__ import annotations

import pytest

from panjereh.services import definitions
from panjereh.services.models import JourneyEvent

from .test_documents import issued  # noqa: F401

pytestmark = pytest.mark.django_db


def test_the_decision_comes_before_the_certificate_is_said_to_be_issued(issued):  # noqa: F811
    events = list(issued.application.events.order_by("at", "pk"))
    kinds = [e.kind for e in events]
    decided = kinds.index(JourneyEvent.Kind.DECIDED)
    document_made = kinds.index(JourneyEvent.Kind.ISSUED)
    assert decided < document_made
    issued_text = issued.application.definition.spec["decision"]["approved"]
    for event in events[:document_made]:
        assert issued_text["fa"] not in event.text_fa, event.text_fa
        assert issued_text["en"] not in event.text_en, event.text_en
    assert "Decision: approved" in events[decided].text_en
    # Said once the document exists, and only once.
    said = [e for e in events if issued_text["en"] in e.text_en]
    assert len(said) == 1 and events.index(said[0]) > document_made


@pytest.mark.parametrize("path", sorted(definitions.DEFINITIONS_DIR.glob("*.json")), ids=str)
def test_every_fetch_of_a_definition_reads_differently_in_the_journey(path):
    from panjereh.services import engine

    spec = definitions.read_file(path)
    lines = [
        (f["registry"], engine.fetch_label(f)[0], engine.fetch_label(f)[1]) for f in spec["data"]
    ]
    assert len(set(lines)) == len(lines), lines


def test_a_definition_with_two_fetches_that_read_the_same_is_refused():
    spec = definitions.read_file(definitions.DEFINITIONS_DIR / "newborn-birth-certificate.json")
    for fetch in spec["data"]:
        fetch.pop("label_fa", None)
        fetch.pop("label_en", None)
    assert any("read the same in the journey" in p for p in definitions.validate(spec))
