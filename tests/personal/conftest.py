"""Fixtures of the personal app's tests: a citizen holding a certificate, issued through the
services engine with the data a registry would have returned."""

from __future__ import annotations

import pytest


def issue_certificate(user, key: str = "k"):
    """A no-criminal-record certificate issued to ``user`` (the engine's own issuing step)."""
    from panjereh.services import definitions, engine, workflow
    from panjereh.services.models import Document, FetchedData, State

    definitions.load()
    application, _ = engine.submit(
        definitions.active("no-criminal-record"),
        user,
        idempotency_key=key,
        inputs={"purpose": "بانک ملی"},
    )
    FetchedData.objects.create(
        application=application,
        name="identity",
        record={
            "first_name": "مریم",
            "last_name": "کریمی",
            "father_name": "علی",
            "birth_date": "1990-01-02",
            "birth_date_jalali": "1368-10-12",
            "alive": True,
        },
    )
    FetchedData.objects.create(
        application=application, name="criminal", record={"has_record": False, "convictions": []}
    )
    workflow.transition(application, State.FETCHING)
    workflow.transition(application, State.DECIDING)
    engine.advance(application.pk)
    application.refresh_from_db()
    assert application.state == State.ISSUED, application.state
    return Document.objects.get(application=application)


@pytest.fixture
def holder(db):
    from tests.factories import UserFactory

    return UserFactory(national_code="0012345679", is_staff=False, assurance_level=3)


@pytest.fixture
def other(db):
    from tests.factories import UserFactory

    return UserFactory(national_code="0084575948", is_staff=False, assurance_level=3)


@pytest.fixture
def certificate(holder):
    return issue_certificate(holder)
