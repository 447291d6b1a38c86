"""The smartening cycle: 20% rule, AEO certification, Working Group approval within 30 days."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from panjereh.catalogue import roles
from panjereh.catalogue.models import ServiceVersion
from panjereh.oversight import cycle
from panjereh.oversight.models import PlanState, SmarteningPlan
from tests.factories import UserFactory, make_agency, make_agency_staff, make_service

pytestmark = pytest.mark.django_db


def member_of(role: str):
    roles.ensure_groups()
    user = UserFactory()
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def agency():
    agency = make_agency(code="cyc")
    for _ in range(10):
        make_service(agency)
    return agency


def ids(agency, n):
    return list(cycle.eligible_services(agency.id).values_list("pk", flat=True)[:n])


def test_a_proposal_under_20_percent_is_refused_and_writes_nothing(agency):
    staff = make_agency_staff(agency, role="editor")
    assert cycle.required_count(agency.id) == (10, 2)
    with translation.override("en"), pytest.raises(ValidationError) as info:
        cycle.propose(agency.id, 1404, ids(agency, 1), author=staff)
    assert "at least 2" in " ".join(info.value.messages)
    with translation.override("fa"), pytest.raises(ValidationError) as info:
        cycle.propose(agency.id, 1404, ids(agency, 1), author=staff)
    assert "۲" in " ".join(info.value.messages)  # localised, with Persian digits
    assert not SmarteningPlan.objects.exists()
    assert not agency.services.exclude(smart_status="none").exists()


def test_another_agencys_services_cannot_be_proposed(agency):
    staff = make_agency_staff(agency, role="editor")
    foreign = make_service(make_agency())
    with pytest.raises(ValidationError):
        cycle.propose(agency.id, 1404, ids(agency, 2) + [foreign.pk], author=staff)
    other = make_agency_staff(make_agency(), role="editor")
    with pytest.raises(PermissionDenied):
        cycle.propose(agency.id, 1404, ids(agency, 2), author=other)


def test_full_cycle_sets_the_cards_smart_with_history(agency):
    staff = make_agency_staff(agency, role="editor")
    plan = cycle.propose(agency.id, 1404, ids(agency, 2), author=staff)
    assert plan.state == PlanState.SUBMITTED
    assert plan.approval_due - plan.submitted_at == dt.timedelta(days=30)
    with pytest.raises(ValidationError):
        cycle.approve(plan, author=member_of(roles.STEERING_WG))  # not certified yet
    with pytest.raises(PermissionDenied):
        cycle.certify(plan, author=staff)
    cycle.certify(plan, author=member_of(roles.AEO))
    with pytest.raises(PermissionDenied):
        cycle.approve(plan, author=member_of(roles.AEO))
    cycle.approve(plan, author=member_of(roles.STEERING_WG))
    plan.refresh_from_db()
    assert plan.state == PlanState.APPROVED
    assert list(plan.events.values_list("from_state", "to_state")) == [
        ("draft", "submitted"),
        ("submitted", "certified"),
        ("certified", "approved"),
    ]
    for service in plan.services.all():
        assert service.smart_status == "approved"
        history = list(
            ServiceVersion.objects.filter(service=service)
            .order_by("version")
            .values_list("smart_status", flat=True)
        )
        assert history == ["none", "proposed", "certified", "approved"]


def test_wrong_order_is_refused(agency):
    staff = make_agency_staff(agency, role="editor")
    plan = cycle.propose(agency.id, 1404, ids(agency, 2), author=staff)
    with pytest.raises(ValidationError):
        cycle.approve(plan, author=roles.SYSTEM)  # not certified yet


def test_an_approval_pending_over_30_days_is_overdue(agency, client):
    staff = make_agency_staff(agency, role="editor")
    submitted = timezone.now() - dt.timedelta(days=31)
    late = cycle.propose(agency.id, 1404, ids(agency, 2), author=staff, at=submitted)
    assert cycle.is_overdue(late)
    assert not cycle.is_overdue(late, now=submitted + dt.timedelta(days=29))
    assert cycle.overdue_plans() == [late]
    # It shows on the public deadlines page and the supervisors' dashboard.
    page = client.get(reverse("transparency:deadlines"))
    assert late in page.context["overdue_plans"]
    client.force_login(member_of(roles.STEERING_WG))
    dash = client.get(reverse("oversight:dashboard"))
    assert late in dash.context["overdue_plans"]
    # A decision takes it off the list.
    cycle.certify(late, author=roles.SYSTEM)
    cycle.approve(late, author=roles.SYSTEM)
    assert cycle.overdue_plans() == []


def test_rejection_needs_a_reason_and_returns_the_cards(agency):
    staff = make_agency_staff(agency, role="editor")
    plan = cycle.propose(agency.id, 1404, ids(agency, 2), author=staff)
    with pytest.raises(ValidationError):
        cycle.reject(plan, author=roles.SYSTEM, reason=" ")
    cycle.reject(plan, author=member_of(roles.AEO), reason="Documents still required")
    assert not agency.services.exclude(smart_status="none").exists()
    # A new plan may follow a rejected one.
    assert cycle.propose(agency.id, 1404, ids(agency, 3), author=staff).state == "submitted"


def test_proposal_form_refuses_under_20_percent_with_a_message(agency, client):
    staff = make_agency_staff(agency, role="editor")
    client.force_login(staff)
    url = reverse("oversight:propose", args=[agency.code])
    response = client.post(url, {"services": [str(i) for i in ids(agency, 1)]})
    assert response.status_code == 400
    assert response.context["errors"]
    ok = client.post(url, {"services": [str(i) for i in ids(agency, 2)]})
    assert ok.status_code == 302
    assert SmarteningPlan.objects.get().services.count() == 2


def test_the_agency_dashboard_names_a_plans_states_never_their_codes(agency, client):
    staff = make_agency_staff(agency, role="editor")
    cycle.propose(agency.id, 1404, ids(agency, 2), author=staff)
    client.force_login(staff)
    html = client.get(reverse("oversight:agency", args=[agency.code])).content.decode()
    from django.utils import translation

    from panjereh.oversight.models import PlanState

    with translation.override("fa"):
        assert f"{PlanState.DRAFT.label} → {PlanState.SUBMITTED.label}" in html
    assert "draft → submitted" not in html
    assert f"?agency={agency.code}" in html  # the agency's own compliance export
