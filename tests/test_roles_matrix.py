"""Who may do what: every agency-side write of every app × every kind of actor, called on the
OPERATION (views are only a door; the operation is the lock). The rights are defined once in
:mod:`panjereh.catalogue.roles`; this file checks that each operation asks it.

The world: agency A (a ministry) with a subsidiary S under it, and an unrelated agency B.
"agency" below is the agency whose right is at stake (for complaints and escalations about S,
the supervising body A; for a grant, the consumer A).

| action                  | operation                                   | capability         |
|-------------------------|---------------------------------------------|--------------------|
| services.approve        | services.engine.decide_by_officer(approved) | DECIDE in A        |
| services.reject         | services.engine.decide_by_officer(rejected) | DECIDE in A        |
| services.assign         | services.workflow.assign                    | DECIDE in A        |
| services.revoke         | services.documents.revoke                   | REVOKE in A        |
| feedback.reply          | feedback.operations.reply                   | REPLY in A         |
| feedback.complaint      | feedback.operations.move                    | DECIDE in A / JUDGE_COMPLAINTS |
| feedback.escalation     | feedback.operations.handle_escalation       | DECIDE in A / JUDGE_COMPLAINTS |
| participation.moderate  | participation.operations.moderate           | MODERATE           |
| participation.create    | participation.operations.create_consultation | EDIT membership of A |
| participation.open      | participation.operations.open_consultation  | EDIT membership of A |
| status.open_incident    | status.incidents.open_incident              | OPERATE            |
| status.resolve          | status.incidents.resolve                    | OPERATE            |
| oversight.obligation    | oversight.obligations.transition            | SUPERVISE          |
| oversight.propose       | oversight.cycle.propose                     | EDIT in A          |
| oversight.certify       | oversight.cycle.certify                     | CERTIFY            |
| oversight.approve       | oversight.cycle.approve                     | APPROVE_SMART      |
| oversight.open_round    | oversight.evaluation.open_round             | OPERATE            |
| oversight.score         | oversight.evaluation.record_score           | EVALUATE           |
| catalogue.service       | catalogue.operations.save_service           | EDIT in A          |
| catalogue.agency        | catalogue.operations.save_agency            | ADMINISTER in A    |
| exchange.grant          | exchange.grants.reject                      | DECIDE_GRANTS      |
| exchange.request        | exchange.grants.request_grant               | EDIT membership of A |
| catalogue.service_id    | catalogue.operations.assign_service_id      | ASSIGN_SERVICE_IDS |
| oversight.reject        | oversight.cycle.reject                      | CERTIFY or APPROVE_SMART |
| participation.close     | participation.operations.close_consultation | EDIT membership of A |
| status.reopen           | status.incidents.reopen                     | OPERATE            |

Actors: nobody (``None``), anonymous, a citizen, A's viewer/editor/admin, B's admin, each
platform role (AEO, ITO, Steering WG, Interoperability WG, evaluator, moderator), a superuser
and ``roles.SYSTEM``. Refused: the operation raises and nothing is written. Allowed: it writes.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid

import pytest
from django.contrib.auth.models import AnonymousUser, Group
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from panjereh.catalogue import operations as catalogue
from panjereh.catalogue import roles
from panjereh.catalogue.models import Agency, AgencyMembership, Service
from panjereh.exchange import grants
from panjereh.exchange.models import DataService, Grant, GrantState
from panjereh.feedback import operations as feedback
from panjereh.feedback.models import Complaint, ComplaintState, Rating
from panjereh.oversight import cycle, evaluation, obligations
from panjereh.oversight.models import (
    DueInstance,
    DueStatus,
    EvaluationRound,
    PlanState,
    Score,
    SmarteningPlan,
)
from panjereh.participation import operations as participation
from panjereh.participation.models import Consultation, ConsultationState, Moderation, Suggestion
from panjereh.services import documents, engine, workflow
from panjereh.services.models import Application, Document, ServiceDefinition, State
from panjereh.status import incidents
from panjereh.status.models import Incident, IncidentState, System
from tests.factories import UserFactory, make_agency, make_service, next_service_id

pytestmark = pytest.mark.django_db

_n = itertools.count(1)

ACTORS = [
    "nobody",
    "anonymous",
    "citizen",
    "viewer",
    "editor",
    "admin",
    "other_admin",
    "aeo",
    "ito",
    "steering",
    "interop",
    "evaluator",
    "moderator",
    "superuser",
    "system",
]
GROUPS = {
    "aeo": roles.AEO,
    "ito": roles.ITO,
    "steering": roles.STEERING_WG,
    "interop": roles.INTEROP_WG,
    "evaluator": roles.EVALUATOR,
    "moderator": roles.MODERATORS,
}
ALWAYS = {"superuser", "system"}
DECIDERS = {"editor", "admin"} | ALWAYS
SUPERVISORS = {"aeo", "ito", "steering", "interop", "evaluator"}

# action -> the actors allowed (everyone else is refused)
ALLOWED: dict[str, set[str]] = {
    "services.approve": DECIDERS,
    "services.reject": DECIDERS,
    "services.assign": DECIDERS,
    "services.revoke": {"admin"} | ALWAYS,
    "feedback.reply": DECIDERS,
    "feedback.complaint": DECIDERS | {"steering"},
    "feedback.escalation": DECIDERS | {"steering"},
    "participation.moderate": {"moderator"} | ALWAYS,
    # Consultations are the agency's own voice: its members only (no platform role, no
    # superuser); the window itself closes them on time.
    "participation.create": {"editor", "admin", "system"},
    "participation.open": {"editor", "admin", "system"},
    "status.open_incident": {"ito"} | ALWAYS,
    "status.resolve": {"ito"} | ALWAYS,
    "oversight.obligation": SUPERVISORS | ALWAYS,
    "oversight.propose": {"editor", "admin", "aeo", "ito"} | ALWAYS,
    "oversight.certify": {"aeo"} | ALWAYS,
    "oversight.approve": {"steering"} | ALWAYS,
    "oversight.open_round": {"ito"} | ALWAYS,
    "oversight.score": {"evaluator"} | ALWAYS,
    "catalogue.service": {"editor", "admin", "aeo", "ito"} | ALWAYS,
    "catalogue.agency": {"admin", "aeo", "ito"} | ALWAYS,
    "exchange.grant": {"interop"} | ALWAYS,
    "exchange.request": {"editor", "admin", "system"},
    "catalogue.service_id": {"aeo"} | ALWAYS,
    "oversight.reject": {"aeo", "steering"} | ALWAYS,
    "participation.close": {"editor", "admin", "system"},
    "status.reopen": {"ito"} | ALWAYS,
}


class World:
    def __init__(self):
        self.a = make_agency(code="ministry-a", name_fa="وزارت الف", name_en="Ministry A")
        self.s = make_agency(code="agency-s", name_fa="سازمان س", name_en="Agency S", parent=self.a)
        self.b = make_agency(code="agency-b", name_fa="سازمان ب", name_en="Agency B")
        self.citizen = self.person()

    def person(self, **fields):
        n = next(_n)
        data = {
            "username": f"citizen{n}-{uuid.uuid4().hex[:6]}",
            "national_code": f"{8200000000 + n}",
            "is_staff": False,
            "assurance_level": 3,
        }
        data.update(fields)
        return UserFactory(**data)

    def actor(self, key: str):
        if key == "nobody":
            return None
        if key == "anonymous":
            return AnonymousUser()
        if key == "system":
            return roles.SYSTEM
        if key == "citizen":
            return self.person()
        user = UserFactory(is_superuser=key == "superuser")
        if key in ("viewer", "editor", "admin"):
            AgencyMembership.objects.create(user=user, agency=self.a, role=key)
        elif key == "other_admin":
            AgencyMembership.objects.create(user=user, agency=self.b, role="admin")
        elif key in GROUPS:
            user.groups.add(Group.objects.get_or_create(name=GROUPS[key])[0])
        return user

    def definition(self, agency):
        return ServiceDefinition.objects.create(
            code=f"matrix-{next(_n)}",
            version=1,
            service=make_service(agency),
            agency=agency,
            smart=True,
            title_fa="خدمت آزمون",
            title_en="Test service",
            spec={
                "decision": {
                    "approved": {"fa": "پذیرفته شد", "en": "Approved"},
                    "rejected": {"fa": "رد شد", "en": "Rejected"},
                },
                "document": {},
            },
            digest="0" * 64,
        )

    def application(self, agency, state=State.HUMAN_REVIEW):
        now = timezone.now()
        return Application.objects.create(
            tracking_code=f"{now:%y%m%d}-{next(_n):08d}",
            definition=self.definition(agency),
            agency=agency,
            user=self.citizen,
            subject_code=self.citizen.national_code,
            idempotency_key=uuid.uuid4().hex,
            state=state,
            submitted_at=now - dt.timedelta(minutes=5),
            due_at=now + dt.timedelta(days=3),
            completed_at=now if state in (State.ISSUED, State.REJECTED) else None,
        )


# -- each action: set the scene, act, and say whether something was written ---------------


def _approve(w):
    app = w.application(w.a)

    def act(actor):
        engine.decide_by_officer(app, actor, approved=True, note="")

    return act, lambda: Application.objects.get(pk=app.pk).state != State.HUMAN_REVIEW


def _reject(w):
    app = w.application(w.a)

    def act(actor):
        engine.decide_by_officer(app, actor, approved=False, note="درآمد بیش از سقف است")

    return act, lambda: Application.objects.get(pk=app.pk).state != State.HUMAN_REVIEW


def _assign(w):
    app = w.application(w.a)
    return (
        lambda actor: workflow.assign(app, actor),
        lambda: app.events.filter(kind="assigned").exists(),
    )


def _revoke(w):
    app = w.application(w.a, state=State.ISSUED)
    document = Document.objects.create(
        application=app, number=f"M-{next(_n)}", agency=w.a, kid="k", token="t"
    )
    return (
        lambda actor: documents.revoke(document, "صدور اشتباه", actor=actor),
        lambda: Document.objects.get(pk=document.pk).revoked_at is not None,
    )


def _rating(w, agency, score=1):
    app = w.application(agency, state=State.ISSUED)
    rating, _created = feedback.rate(app, w.citizen, ease=score, satisfaction=score)
    return rating


def _reply(w):
    rating = _rating(w, w.a)
    return (
        lambda actor: feedback.reply(rating, actor, "پیگیری شد"),
        lambda: Rating.objects.get(pk=rating.pk).replied_at is not None,
    )


def _complaint(w):
    complaint = feedback.file_complaint(
        w.citizen, agency=w.s, kind="in_person", description="حضوری خواستند"
    )
    assert complaint.routed_to_id == w.a.pk
    return (
        lambda actor: feedback.move(complaint, ComplaintState.UNDER_REVIEW, actor),
        lambda: Complaint.objects.get(pk=complaint.pk).state == ComplaintState.UNDER_REVIEW,
    )


def _escalation(w):
    rating = _rating(w, w.s)
    Rating.objects.filter(pk=rating.pk).update(
        escalated_at=timezone.now(), escalated_to=w.a, escalation_reason="پاسخی نیامد"
    )
    rating.refresh_from_db()
    return (
        lambda actor: feedback.handle_escalation(rating, actor, "بررسی و پیگیری شد"),
        lambda: Rating.objects.get(pk=rating.pk).escalation_handled_at is not None,
    )


def _moderate(w):
    suggestion = participation.propose(w.citizen, w.a, "electronic", "این خدمت را برخط کنید")
    return (
        lambda actor: participation.moderate(suggestion, actor, approve=True),
        lambda: Suggestion.objects.get(pk=suggestion.pk).status == Moderation.APPROVED,
    )


def _create_consultation(w):
    now = timezone.now()

    def act(actor):
        participation.create_consultation(
            actor, w.a, "نظرخواهی", "متن نظرخواهی", now, now + dt.timedelta(days=7)
        )

    return act, lambda: Consultation.objects.filter(agency=w.a).exists()


def _open_consultation(w):
    now = timezone.now()
    consultation = Consultation.objects.create(
        agency=w.a,
        title="نظرخواهی",
        text="متن",
        opens_at=now,
        closes_at=now + dt.timedelta(days=7),
    )
    return (
        lambda actor: participation.open_consultation(actor, consultation),
        lambda: Consultation.objects.get(pk=consultation.pk).state == ConsultationState.OPEN,
    )


def _system():
    return System.objects.create(
        key=f"matrix-{next(_n)}",
        kind="registry",
        name_fa="سامانه",
        name_en="System",
        check_url="http://127.0.0.1:9/",
    )


def _open_incident(w):
    system = _system()
    return (
        lambda actor: incidents.open_incident(system, timezone.now(), actor=actor),
        lambda: Incident.objects.filter(system=system).exists(),
    )


def _resolve_incident(w):
    incident = incidents.open_incident(_system(), timezone.now(), actor=roles.SYSTEM)
    return (
        lambda actor: incidents.resolve(incident, timezone.now(), actor=actor),
        lambda: Incident.objects.get(pk=incident.pk).state == IncidentState.RESOLVED,
    )


def _obligation(w):
    obligations.seed()
    obligations.generate_due(timezone.localdate() + dt.timedelta(days=3650))
    instance = DueInstance.objects.filter(status=DueStatus.OPEN).first()
    return (
        lambda actor: obligations.transition(instance, DueStatus.MISSED, actor=actor),
        lambda: DueInstance.objects.get(pk=instance.pk).status == DueStatus.MISSED,
    )


def _propose(w):
    service = make_service(w.a)
    return (
        lambda actor: cycle.propose(w.a.pk, 1405, [service.pk], author=actor),
        lambda: SmarteningPlan.objects.filter(agency=w.a).exists(),
    )


def _plan(w, state):
    plan = cycle.propose(w.a.pk, 1405, [make_service(w.a).pk], author=roles.SYSTEM)
    if state == PlanState.CERTIFIED:
        cycle.certify(plan, author=roles.SYSTEM)
    return SmarteningPlan.objects.get(pk=plan.pk)


def _certify(w):
    plan = _plan(w, PlanState.SUBMITTED)
    return (
        lambda actor: cycle.certify(plan, author=actor),
        lambda: SmarteningPlan.objects.get(pk=plan.pk).state == PlanState.CERTIFIED,
    )


def _approve_plan(w):
    plan = _plan(w, PlanState.CERTIFIED)
    return (
        lambda actor: cycle.approve(plan, author=actor),
        lambda: SmarteningPlan.objects.get(pk=plan.pk).state == PlanState.APPROVED,
    )


def _open_round(w):
    return (
        lambda actor: evaluation.open_round(1405, 1, ["smart_rate"], author=actor),
        lambda: EvaluationRound.objects.filter(year=1405, half=1).exists(),
    )


def _score(w):
    round_ = evaluation.open_round(1405, 1, ["smart_rate"], author=roles.SYSTEM)
    return (
        lambda actor: evaluation.record_score(round_, w.a, "smart_rate", 60, evaluator=actor),
        lambda: Score.objects.filter(round=round_, agency=w.a).exists(),
    )


def _save_service(w):
    service = make_service(w.a)
    return (
        lambda actor: catalogue.save_service(service, {"title_en": "Renamed"}, author=actor),
        lambda: Service.objects.get(pk=service.pk).title_en == "Renamed",
    )


def _save_agency(w):
    return (
        lambda actor: catalogue.save_agency(w.a, {"name_en": "Renamed"}, author=actor),
        lambda: Agency.objects.get(pk=w.a.pk).name_en == "Renamed",
    )


def _data_service(w):
    return DataService.objects.create(
        provider=w.b,
        subsystem="civil-registry",
        code="identity",
        title_fa="هویت",
        upstream_base_url="http://127.0.0.1:9/",
        items=[{"code": "civil.identity", "fields": ["first_name"]}],
    )


def _request_grant(w):
    data_service, purpose = _data_service(w), make_service(w.a)
    return (
        lambda actor: grants.request_grant(
            w.a, data_service, ["civil.identity"], purpose, actor=actor
        ),
        lambda: Grant.objects.filter(consumer=w.a).exists(),
    )


def _assign_service_id(w):
    service = make_service(w.a, service_id=None, connected=False, connection_form="")
    new_id = next_service_id()
    return (
        lambda actor: catalogue.assign_service_id(service, new_id, author=actor),
        lambda: Service.objects.get(pk=service.pk).service_id == new_id,
    )


def _reject_plan(w):
    plan = _plan(w, PlanState.SUBMITTED)
    return (
        lambda actor: cycle.reject(plan, author=actor, reason="کافی نیست"),
        lambda: SmarteningPlan.objects.get(pk=plan.pk).state == PlanState.REJECTED,
    )


def _close_consultation(w):
    now = timezone.now()
    consultation = Consultation.objects.create(
        agency=w.a,
        title="نظرخواهی",
        text="متن",
        opens_at=now - dt.timedelta(days=1),
        closes_at=now + dt.timedelta(days=7),
        state=ConsultationState.OPEN,
    )
    return (
        lambda actor: participation.close_consultation(actor, consultation),
        lambda: Consultation.objects.get(pk=consultation.pk).state == ConsultationState.CLOSED,
    )


def _reopen_incident(w):
    incident = incidents.open_incident(
        _system(), timezone.now(), ended_at=timezone.now(), actor=roles.SYSTEM
    )
    return (
        lambda actor: incidents.reopen(incident, actor=actor),
        lambda: Incident.objects.get(pk=incident.pk).state == IncidentState.OPEN,
    )


def _grant(w):
    data_service = _data_service(w)
    grant = Grant.objects.create(
        consumer=w.a,
        service=data_service,
        purpose=make_service(w.a),
        requested_items=["civil.identity"],
        state=GrantState.REQUESTED,
    )
    return (
        lambda actor: grants.reject(grant, resolution_number="1405/1", actor=actor, note="نه"),
        lambda: Grant.objects.get(pk=grant.pk).state == GrantState.REJECTED,
    )


SCENES = {
    "services.approve": _approve,
    "services.reject": _reject,
    "services.assign": _assign,
    "services.revoke": _revoke,
    "feedback.reply": _reply,
    "feedback.complaint": _complaint,
    "feedback.escalation": _escalation,
    "participation.moderate": _moderate,
    "participation.create": _create_consultation,
    "participation.open": _open_consultation,
    "status.open_incident": _open_incident,
    "status.resolve": _resolve_incident,
    "oversight.obligation": _obligation,
    "oversight.propose": _propose,
    "oversight.certify": _certify,
    "oversight.approve": _approve_plan,
    "oversight.open_round": _open_round,
    "oversight.score": _score,
    "catalogue.service": _save_service,
    "catalogue.agency": _save_agency,
    "exchange.grant": _grant,
    "exchange.request": _request_grant,
    "catalogue.service_id": _assign_service_id,
    "oversight.reject": _reject_plan,
    "participation.close": _close_consultation,
    "status.reopen": _reopen_incident,
}
REFUSALS = (PermissionDenied, feedback.FeedbackError, participation.NotAllowed)


def _cases():
    for action in SCENES:
        for actor in ACTORS:
            yield pytest.param(action, actor, id=f"{action}-{actor}")


@pytest.fixture
def world(settings, tmp_path):
    settings.PANJEREH_FEEDBACK_EVIDENCE_DIR = str(tmp_path / "evidence")
    settings.PANJEREH_FEEDBACK_SUPERVISOR = ""
    return World()


def test_the_table_covers_every_action():
    assert set(ALLOWED) == set(SCENES)


@pytest.mark.parametrize(("action", "actor_key"), list(_cases()))
def test_an_agency_side_write_is_done_only_by_those_allowed(world, action, actor_key):
    act, written = SCENES[action](world)
    actor = world.actor(actor_key)
    if actor_key in ALLOWED[action]:
        act(actor)
        assert written(), f"{actor_key} was allowed {action} but nothing was written"
    else:
        with pytest.raises(REFUSALS) as refusal:
            act(actor)
        if isinstance(refusal.value, feedback.FeedbackError):
            assert refusal.value.code == "forbidden"
        assert not written(), f"{actor_key} was refused {action} but it was written anyway"


# -- the module itself ------------------------------------------------------------------------


def test_a_viewer_reads_but_does_not_decide_reply_or_revoke(world):
    viewer = world.actor("viewer")
    assert roles.can(viewer, roles.READ, world.a)
    assert roles.agencies_for(viewer, roles.READ) == {world.a.pk}
    for capability in (roles.DECIDE, roles.REPLY, roles.REVOKE, roles.EDIT, roles.ADMINISTER):
        assert not roles.can(viewer, capability, world.a)
        assert roles.agencies_for(viewer, capability) == set()
    with pytest.raises(roles.NotPermitted):
        roles.require(viewer, roles.DECIDE, world.a.pk)


def test_a_membership_gives_no_right_in_another_agency(world):
    other_admin = world.actor("other_admin")
    assert roles.can(other_admin, roles.REVOKE, world.b)
    assert not roles.can(other_admin, roles.READ, world.a)
    assert not roles.can(other_admin, roles.REVOKE)  # no agency named: platform rights only


def test_a_deactivated_member_acts_for_no_agency(world):
    admin = world.actor("admin")
    admin.is_active = False
    assert roles.agencies_for(admin, roles.READ) == set()
    assert not roles.can(admin, roles.REVOKE, world.a)


def test_nobody_is_not_the_system(world):
    assert not roles.can(None, roles.READ, world.a)
    assert roles.can(roles.SYSTEM, roles.REVOKE, world.a)
    assert roles.person(roles.SYSTEM) is None
    assert not roles.is_supervisor(roles.SYSTEM)


def test_supervisors_are_the_platform_roles_and_superusers(world):
    for key in ACTORS:
        actor = world.actor(key)
        assert roles.is_supervisor(actor) == (key in SUPERVISORS | {"superuser"}), key


# -- the same refusals at the door -------------------------------------------------------------


def _as(client, user):
    client.force_login(user)
    return client


def test_a_viewer_gets_403_for_every_action_on_an_application_and_nothing_changes(world, client):
    viewer = world.actor("viewer")
    _as(client, viewer)
    review = world.application(world.a)
    url = reverse("services:agency_detail", args=[review.tracking_code])
    assert client.get(url).status_code == 200  # a viewer reads the case
    for action in ({"action": "assign"}, {"action": "approve"}, {"action": "reject", "note": "نه"}):
        assert client.post(url, action).status_code == 403, action
    review.refresh_from_db()
    assert review.state == State.HUMAN_REVIEW and review.assigned_to_id is None
    assert not review.events.filter(kind__in=["assigned", "decided"]).exists()

    issued = world.application(world.a, state=State.ISSUED)
    document = Document.objects.create(
        application=issued, number=f"M-{next(_n)}", agency=world.a, kid="k", token="t"
    )
    url = reverse("services:agency_detail", args=[issued.tracking_code])
    assert client.post(url, {"action": "revoke", "note": "صدور اشتباه"}).status_code == 403
    document.refresh_from_db()
    assert document.revoked_at is None


def test_an_editor_decides_but_only_an_admin_revokes_through_the_door(world, client):
    editor = world.actor("editor")
    issued = world.application(world.a, state=State.ISSUED)
    document = Document.objects.create(
        application=issued, number=f"M-{next(_n)}", agency=world.a, kid="k", token="t"
    )
    url = reverse("services:agency_detail", args=[issued.tracking_code])
    assert _as(client, editor).post(url, {"action": "revoke", "note": "x"}).status_code == 403
    document.refresh_from_db()
    assert document.revoked_at is None
    admin = world.actor("admin")
    assert _as(client, admin).post(url, {"action": "revoke", "note": "x"}).status_code == 302
    document.refresh_from_db()
    assert document.revoked_at is not None


def test_a_viewer_cannot_reply_to_a_rating_through_the_door(world, client):
    rating = _rating(world, world.a)
    url = reverse("feedback:agency_rating", args=[rating.pk])
    client = _as(client, world.actor("viewer"))
    assert client.get(url).status_code == 200  # reads it
    response = client.post(url, {"reply": "پاسخ کارمند فقط‌خواندنی"})
    assert response.status_code == 403
    rating.refresh_from_db()
    assert rating.replied_at is None and rating.reply == ""
