"""The one state machine mechanism: a move is checked against the table under a row lock and
recorded; a refused move raises the one class and changes nothing, in every app that uses it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from panjereh.catalogue.roles import SYSTEM
from panjereh.common.statemachine import InvalidTransition, Machine
from panjereh.participation.models import Consultation, ConsultationEvent, ConsultationState
from tests.factories import UserFactory, make_agency, make_service

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 22, 8, 30, tzinfo=dt.UTC)
S = ConsultationState
TABLE = {S.DRAFT: {S.OPEN}, S.OPEN: {S.CLOSED}, S.CLOSED: set()}


def _event(consultation, from_state, to_state, *, by, changes, note="", **_context):
    ConsultationEvent.objects.create(
        consultation=consultation, from_state=from_state, to_state=to_state
    )


MACHINE = Machine(TABLE, record=_event)


def _consultation(**fields) -> Consultation:
    return Consultation.objects.create(
        agency=fields.pop("agency", None) or make_agency(),
        title="پیش‌نویس",
        text="متن پیش‌نویس برای نظرخواهی",
        opens_at=NOW,
        closes_at=NOW + dt.timedelta(days=14),
        **fields,
    )


# -- the helper ---------------------------------------------------------------------------------


def test_a_valid_move_saves_the_state_and_the_changes_and_writes_the_event():
    consultation = _consultation()
    later = NOW + dt.timedelta(days=7)
    moved = MACHINE.move(consultation, S.OPEN, closes_at=later)
    assert moved is consultation and consultation.state == S.OPEN
    consultation.refresh_from_db()
    assert consultation.state == S.OPEN and consultation.closes_at == later
    assert list(ConsultationEvent.objects.values_list("from_state", "to_state")) == [
        (S.DRAFT, S.OPEN)
    ]


def test_an_invalid_move_raises_the_one_class_and_changes_nothing():
    consultation = _consultation()
    with pytest.raises(InvalidTransition) as refused:
        MACHINE.move(consultation, S.CLOSED, closes_at=NOW)
    # Caught where a ValidationError or a ValueError was caught before.
    assert isinstance(refused.value, ValidationError) and isinstance(refused.value, ValueError)
    assert "draft → closed" in str(refused.value)
    consultation.refresh_from_db()
    assert consultation.state == S.DRAFT and consultation.closes_at != NOW
    assert not ConsultationEvent.objects.exists()


def test_a_refusal_of_the_check_changes_nothing():
    consultation = _consultation()

    def refuse(_locked, changes, _event):
        changes["closes_at"] = NOW
        raise ValidationError("no")

    with pytest.raises(ValidationError):
        MACHINE.move(consultation, S.OPEN, check=refuse)
    consultation.refresh_from_db()
    assert consultation.state == S.DRAFT and not ConsultationEvent.objects.exists()


def test_a_failing_event_writer_undoes_the_move():
    consultation = _consultation()

    def broken(*_args, **_kwargs):
        raise RuntimeError("event store down")

    with pytest.raises(RuntimeError):
        Machine(TABLE, record=broken).move(consultation, S.OPEN)
    consultation.refresh_from_db()
    assert consultation.state == S.DRAFT


def test_a_stale_copy_is_read_again_under_the_lock_and_refused():
    consultation = _consultation()
    stale = Consultation.objects.get(pk=consultation.pk)
    MACHINE.move(consultation, S.OPEN)
    with pytest.raises(InvalidTransition):
        MACHINE.move(stale, S.OPEN)  # it still says draft; the row says open
    assert stale.state == S.OPEN  # the caller sees why
    assert ConsultationEvent.objects.count() == 1


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite has no row locks (FOR UPDATE)"
)
def test_the_row_is_locked_for_update():
    consultation = _consultation()
    with CaptureQueriesContext(connection) as queries:
        MACHINE.move(consultation, S.OPEN)
    locks = [q["sql"] for q in queries.captured_queries if "FOR UPDATE" in q["sql"]]
    assert len(locks) == 1 and Consultation._meta.db_table in locks[0]


def test_allowed_lists_the_moves_of_an_object_or_a_state():
    consultation = _consultation()
    assert MACHINE.allowed(consultation) == {S.OPEN}
    assert MACHINE.allowed(S.OPEN) == {S.CLOSED}
    assert MACHINE.allowed(S.CLOSED) == set() == MACHINE.allowed("unknown")
    assert MACHINE.can(consultation, S.OPEN) and not MACHINE.can(consultation, S.CLOSED)


# -- every machine of the apps ----------------------------------------------------------------


def test_an_application_refused_a_move_raises_the_one_class_and_records_nothing():
    from panjereh.services import definitions, engine, workflow
    from panjereh.services.models import JourneyEvent, State

    definitions.load()
    user = UserFactory(
        national_code="0012345679", is_staff=False, assurance_level=3, mobile="09120000000"
    )
    application, _ = engine.submit(definitions.active("student-status"), user, idempotency_key="k")
    events = JourneyEvent.objects.filter(application=application).count()
    with pytest.raises(InvalidTransition) as refused:
        workflow.transition(application, State.ISSUED, decision="approved")
    assert workflow.InvalidTransition is InvalidTransition
    assert application.tracking_code in str(refused.value)
    application.refresh_from_db()
    assert application.state == State.SUBMITTED and application.decision != "approved"
    assert JourneyEvent.objects.filter(application=application).count() == events


def test_a_grant_refused_a_move_raises_the_one_class_and_records_nothing():
    from panjereh.exchange import grants
    from panjereh.exchange.models import DataService, Grant, GrantEvent, GrantState

    consumer = make_agency()
    service = DataService.objects.create(
        provider=make_agency(),
        subsystem="civil-registry",
        code="identity",
        title_fa="استعلام هویت",
        upstream_base_url="http://127.0.0.1:9/",
    )
    grant = Grant.objects.create(
        consumer=consumer, service=service, purpose=make_service(agency=consumer)
    )
    with pytest.raises(InvalidTransition):
        grants.transition(grant, GrantState.IMPLEMENTED, actor=SYSTEM)
    assert grants.InvalidTransition is InvalidTransition
    grant.refresh_from_db()
    assert grant.state == GrantState.REQUESTED and grant.implemented_at is None
    assert not GrantEvent.objects.exists()


def test_a_complaint_refused_a_move_raises_the_one_class_and_records_nothing():
    from panjereh.feedback import operations
    from panjereh.feedback.models import Complaint, ComplaintEvent, ComplaintState
    from panjereh.inbox.models import Message

    complaint = Complaint.objects.create(
        tracking_code="C-1",
        user=UserFactory(is_staff=False),
        agency=make_agency(),
        kind="document_held",
        description="دوباره کپی شناسنامه خواستند",
    )
    with pytest.raises(InvalidTransition) as refused:
        operations.move(complaint, ComplaintState.UPHELD, SYSTEM, "وارد است")
    # The complaint pages catch FeedbackError and show its message and code.
    assert isinstance(refused.value, operations.FeedbackError)
    assert refused.value.code == "transition" and refused.value.message
    complaint.refresh_from_db()
    assert complaint.state == ComplaintState.RECEIVED and complaint.reply == ""
    assert not ComplaintEvent.objects.exists() and not Message.objects.exists()


def test_a_moderated_text_refused_a_move_raises_the_one_class_and_changes_nothing():
    from panjereh.participation import operations
    from panjereh.participation.models import Moderation, Suggestion

    item = Suggestion.objects.create(
        origin="citizen",
        goal="electronic",
        text="ثبت آنلاین درخواست گواهی",
        agency=make_agency(),
        status=Moderation.REJECTED,
    )
    with pytest.raises(InvalidTransition) as refused:
        operations.moderate(item, SYSTEM, approve=True)
    assert isinstance(refused.value, operations.WrongState)
    item.refresh_from_db()
    assert item.status == Moderation.REJECTED and item.moderated_at is None


def test_a_consultation_refused_a_move_raises_the_one_class_and_records_nothing():
    from panjereh.participation import operations

    consultation = _consultation()
    with pytest.raises(InvalidTransition) as refused:
        operations.transition(consultation, S.SUMMARY, summary="خلاصه")
    assert isinstance(refused.value, operations.WrongState)
    consultation.refresh_from_db()
    assert consultation.state == S.DRAFT and consultation.summary == ""
    assert not ConsultationEvent.objects.exists()


def test_an_incident_refused_a_move_raises_the_one_class_and_records_nothing():
    from panjereh.status import incidents
    from panjereh.status.models import IncidentState, IncidentUpdate, System

    system = System.objects.create(
        key="test-system", kind="registry", name_fa="سامانه", check_url="http://127.0.0.1:9/"
    )
    incident = incidents.open_incident(system, NOW, actor=SYSTEM)
    with pytest.raises(InvalidTransition):
        incidents.reopen(incident, actor=SYSTEM)
    assert incidents.TransitionError is InvalidTransition
    incident.refresh_from_db()
    assert incident.state == IncidentState.OPEN
    assert list(IncidentUpdate.objects.values_list("kind", flat=True)) == ["opened"]


def test_an_obligation_refused_a_move_raises_the_one_class_and_records_nothing():
    from panjereh.oversight import obligations
    from panjereh.oversight.models import DueEvent, DueInstance, DueStatus, Instrument, Obligation

    instrument = Instrument.objects.create(code="law", title_fa="قانون", authority="مجلس")
    obligation = Obligation.objects.create(
        key="law/part-1", instrument=instrument, duty_fa="وظیفه", duty_en="duty",
        deadline_kind="none",
    )  # fmt: skip
    instance = DueInstance.objects.create(obligation=obligation, status=DueStatus.MET)
    with pytest.raises(InvalidTransition):
        obligations.transition(instance, DueStatus.WAIVED, actor=SYSTEM, reason="دلیل")
    instance.refresh_from_db()
    assert instance.status == DueStatus.MET and instance.reason == ""
    assert not DueEvent.objects.exists()


def test_a_smartening_plan_refused_a_move_raises_the_one_class_and_records_nothing():
    from panjereh.oversight import cycle
    from panjereh.oversight.models import PlanEvent, PlanState, SmarteningPlan

    plan = SmarteningPlan.objects.create(agency=make_agency(), year=1405)
    with pytest.raises(InvalidTransition):
        cycle.approve(plan, author=SYSTEM, at=timezone.now())
    plan.refresh_from_db()
    assert plan.state == PlanState.DRAFT and plan.decided_at is None
    assert not PlanEvent.objects.exists()
