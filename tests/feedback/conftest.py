"""Fixtures of the feedback tests: agencies with a ministry above them, finished and open
applications made directly in their state (the engine is tested elsewhere), citizens and
agency staff."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid

import pytest
from django.core.cache import cache
from django.utils import timezone, translation

from panjereh.services.models import Application, ServiceDefinition, State
from tests.factories import UserFactory, make_agency, make_agency_staff, make_service

_n = itertools.count(1)


def make_citizen(**fields):
    n = next(_n)
    data = {
        "username": f"citizen{n}-{uuid.uuid4().hex[:6]}",
        "national_code": f"{8100000000 + n}",
        "first_name": "Shirin",
        "last_name": f"Azmoon{n}",
        "mobile": "",
        "assurance_level": 3,
        "is_staff": False,
    }
    data.update(fields)
    return UserFactory(**data)


def make_definition(agency, service=None, code=None):
    service = service or make_service(agency, title_fa="خدمت آزمون", title_en="Test service")
    n = next(_n)
    return ServiceDefinition.objects.create(
        code=code or f"test-service-{n}",
        version=1,
        service=service,
        agency=agency,
        smart=True,
        title_fa=f"خدمت آزمون {n}",
        title_en=f"Test service {n}",
        spec={},
        digest="0" * 64,
    )


def make_application(user, definition, state=State.ISSUED, **fields):
    now = timezone.now()
    data = {
        "tracking_code": f"{now:%y%m%d}-{next(_n):08d}",
        "definition": definition,
        "agency": definition.agency,
        "user": user,
        "subject_code": user.national_code or "0000000000",
        "idempotency_key": uuid.uuid4().hex,
        "state": state,
        "submitted_at": now - dt.timedelta(minutes=5),
        "due_at": now + dt.timedelta(minutes=5),
        "completed_at": now if state in (State.ISSUED, State.REJECTED) else None,
    }
    data.update(fields)
    return Application.objects.create(**data)


class World:
    """A ministry over two agencies, one service definition each, two citizens, staff."""

    def __init__(self):
        self.ministry = make_agency(code="ministry-test", name_fa="وزارت آزمون", name_en="Ministry")
        self.agency = make_agency(
            code="agency-a", name_fa="سازمان الف", name_en="Agency A", parent=self.ministry
        )
        self.other = make_agency(code="agency-b", name_fa="سازمان ب", name_en="Agency B")
        self.definition = make_definition(self.agency)
        self.other_definition = make_definition(self.other)
        self.citizen = make_citizen()
        self.stranger = make_citizen()
        self.officer = make_agency_staff(self.agency, role="editor")
        self.other_officer = make_agency_staff(self.other, role="editor")
        self.ministry_officer = make_agency_staff(self.ministry, role="editor")

    def finished(self, user=None, definition=None, **fields):
        return make_application(user or self.citizen, definition or self.definition, **fields)


@pytest.fixture(autouse=True)
def _persian_by_default():
    """Each test starts in Persian (URLs without /en/), whatever an earlier request activated."""
    with translation.override("fa"):
        yield


@pytest.fixture
def world(db, settings, tmp_path):
    settings.PANJEREH_FEEDBACK_EVIDENCE_DIR = str(tmp_path / "evidence")
    settings.PANJEREH_FEEDBACK_EDIT_DAYS = 7
    settings.PANJEREH_FEEDBACK_REPLY_DAYS = 5
    settings.PANJEREH_FEEDBACK_MAX_UPLOAD_BYTES = 64 * 1024
    settings.PANJEREH_FEEDBACK_SUPERVISOR = ""
    cache.clear()  # rate-limit counters live in the cache
    yield World()
    cache.clear()
