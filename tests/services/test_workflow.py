"""The state machine, idempotent submission and authorisation on every object."""

from __future__ import annotations

import uuid

import pytest
from django.db import IntegrityError, transaction

from panjereh.services import definitions, engine, workflow
from panjereh.services.models import Application, JourneyEvent, State
from tests.factories import UserFactory, make_agency_staff, sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded():
    definitions.load()


def person(code: str, level: int = 3):
    return UserFactory(
        national_code=code, is_staff=False, assurance_level=level, mobile="09120000000"
    )


def test_transitions_follow_the_table_and_each_leaves_an_event(loaded):
    user = person("0012345679")
    application, _ = engine.submit(definitions.active("student-status"), user, idempotency_key="k1")
    assert application.state == State.SUBMITTED
    workflow.transition(application, State.FETCHING)
    with pytest.raises(workflow.InvalidTransition):
        workflow.transition(application, State.ISSUED)
    workflow.transition(application, State.WAITING, waiting_for="civil")
    workflow.transition(application, State.FETCHING, waiting_for="")
    workflow.transition(application, State.DECIDING)
    workflow.transition(application, State.REJECTED)
    application.refresh_from_db()
    assert application.completed_at is not None
    for target in State.values:
        with pytest.raises(workflow.InvalidTransition):
            workflow.transition(application, target)
    moves = list(
        application.events.filter(kind=JourneyEvent.Kind.STATE).values_list(
            "from_state", "to_state"
        )
    )
    assert moves == [
        ("submitted", "fetching"),
        ("fetching", "waiting_for_provider"),
        ("waiting_for_provider", "fetching"),
        ("fetching", "deciding"),
        ("deciding", "rejected"),
    ]
    # Every state appears in the table, and terminal states lead nowhere.
    assert set(workflow.TRANSITIONS) == set(State.values)
    assert all(not workflow.TRANSITIONS[s] for s in workflow.TERMINAL)


def test_double_submit_with_the_same_key_is_one_application(loaded):
    user = person("0012345679")
    definition = definitions.active("no-criminal-record")
    first, created = engine.submit(
        definition, user, idempotency_key="same", inputs={"purpose": "a"}
    )
    second, created_again = engine.submit(
        definition, user, idempotency_key="same", inputs={"purpose": "a"}
    )
    assert created and not created_again
    assert first.pk == second.pk
    assert Application.objects.filter(user=user).count() == 1
    # The database refuses a duplicate even if the check is bypassed.
    with pytest.raises(IntegrityError), transaction.atomic():
        Application.objects.create(
            tracking_code="x-1",
            definition=definition,
            agency=definition.agency,
            user=user,
            subject_code=user.national_code,
            idempotency_key="same",
            due_at=first.due_at,
        )


def test_double_post_of_the_form_is_one_application(loaded, client):
    user = person("0012345679")
    sign_in(client, user)
    key = uuid.uuid4().hex
    for _ in range(2):
        response = client.post(
            "/services/apply/no-criminal-record/", {"idempotency_key": key, "purpose": "بانک"}
        )
        assert response.status_code == 302
    assert Application.objects.filter(user=user).count() == 1


def test_a_required_input_is_required(loaded, client):
    user = person("0012345679")
    sign_in(client, user)
    response = client.post("/services/apply/no-criminal-record/", {"idempotency_key": "k"})
    assert response.status_code == 400  # the form again, the problem first, nothing stored
    assert 'class="error-summary"' in response.content.decode()
    assert 'href="#id_purpose"' in response.content.decode()
    assert not Application.objects.exists()


def test_a_service_above_the_citizens_level_asks_for_step_up(loaded, client):
    user = person("0012345679", level=2)
    sign_in(client, user)
    response = client.get("/services/apply/no-criminal-record/")
    assert response.status_code == 302 and "/account/step-up/" in response["Location"]
    # The step-up page must know the level the service needs, not offer "you already have it".
    assert "level=3" in response["Location"]
    step_up = client.get(response["Location"])
    assert step_up.context["target"] == 3
    assert step_up.context["done"] is False


def test_a_citizen_sees_only_their_own_applications(loaded, client):
    owner = person("0012345679")
    other = person("0023456780")
    application, _ = engine.submit(definitions.active("student-status"), owner, idempotency_key="k")
    sign_in(client, other)
    assert client.get(f"/services/a/{application.tracking_code}/").status_code == 404
    assert client.get(f"/services/a/{application.tracking_code}/status.json").status_code == 404
    assert application.tracking_code not in client.get("/services/").content.decode()
    sign_in(client, owner)
    page = client.get(f"/services/a/{application.tracking_code}/")
    assert page.status_code == 200
    assert "درخواست ثبت شد" in page.content.decode()


def test_agency_staff_see_only_their_agencys_applications(loaded, client):
    owner = person("0012345679")
    application, _ = engine.submit(
        definitions.active("household-support"),
        owner,
        idempotency_key="k",
        inputs={"request_description": "شرح"},
    )
    workflow.transition(application, State.FETCHING)
    workflow.transition(application, State.HUMAN_REVIEW, review_reason="manual")
    relief = definitions.active("household-support").agency
    judiciary = definitions.active("no-criminal-record").agency
    officer = make_agency_staff(relief, username="officer")
    outsider = make_agency_staff(judiciary, username="outsider")
    citizen_only = person("0023456780")

    sign_in(client, outsider)
    assert client.get(f"/services/agency/a/{application.tracking_code}/").status_code == 404
    assert application.tracking_code not in client.get("/services/agency/").content.decode()
    response = client.post(
        f"/services/agency/a/{application.tracking_code}/", {"action": "approve"}
    )
    assert response.status_code == 404
    sign_in(client, citizen_only)
    assert client.get("/services/agency/").status_code == 403

    sign_in(client, officer)
    queue = client.get("/services/agency/").content.decode()
    assert application.tracking_code in queue or application.tracking_code.replace("-", "") in queue
    client.post(f"/services/agency/a/{application.tracking_code}/", {"action": "assign"})
    application.refresh_from_db()
    assert application.assigned_to == officer
    assert (
        client.post(
            f"/services/agency/a/{application.tracking_code}/", {"action": "reject", "note": ""}
        ).status_code
        == 400
    )
    client.post(
        f"/services/agency/a/{application.tracking_code}/",
        {"action": "reject", "note": "درآمد خانوار بیش از سقف است"},
    )
    application.refresh_from_db()
    assert application.state == State.REJECTED
    assert application.decision_reasons[0]["fa"] == "درآمد خانوار بیش از سقف است"


def test_sla_overdue_flag(loaded, client, time_machine):
    import datetime as dt

    from django.utils import timezone

    owner = person("0012345679")
    application, _ = engine.submit(
        definitions.active("household-support"),
        owner,
        idempotency_key="k",
        inputs={"request_description": "شرح"},
    )
    assert application.due_at - application.submitted_at == dt.timedelta(minutes=4320)
    assert not application.overdue
    time_machine.move_to(timezone.now() + dt.timedelta(days=3, minutes=1))
    assert application.overdue
    workflow.transition(application, State.FETCHING)
    workflow.transition(application, State.HUMAN_REVIEW)
    officer = make_agency_staff(application.agency, username="officer2")
    sign_in(client, officer)
    assert "overdue-flag" in client.get("/services/agency/").content.decode()
