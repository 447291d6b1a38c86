"""Operators announce maintenance and resolve incidents in the back office."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group

from panjereh.catalogue import roles
from panjereh.status.models import Incident, IncidentKind, IncidentState
from tests.factories import UserFactory

from .conftest import make_system

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client):
    roles.ensure_groups()
    user = UserFactory()
    user.groups.add(Group.objects.get(name=roles.ITO))
    client.force_login(user)
    return user


def test_operator_announces_maintenance_and_ends_it(client, operator):
    system = make_system(name_en="Agency window A")
    response = client.post(
        "/en/admin/status/incident/add/",
        {
            "system": system.pk,
            "kind": IncidentKind.MAINTENANCE,
            "started_at_0": "2026-12-06",
            "started_at_1": "10:00:00",
            "ended_at_0": "",
            "ended_at_1": "",
            "title_fa": "به‌روزرسانی",
            "title_en": "Upgrade",
            "note_fa": "",
            "note_en": "Back by noon.",
            "updates-TOTAL_FORMS": "0",
            "updates-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    incident = Incident.objects.get()
    assert incident.public_id.startswith("INC-1405-")
    assert incident.state == IncidentState.OPEN
    assert list(incident.updates.values_list("kind", flat=True)) == ["opened"]
    page = client.get("/en/status/").content.decode()
    assert "Upgrade" in page and 'data-state="maintenance"' in page

    response = client.post(
        "/en/admin/status/incident/",
        {"action": "resolve_now", "_selected_action": [incident.pk]},
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.state == IncidentState.RESOLVED and incident.ended_at is not None


def test_staff_without_the_role_cannot_enter(client):
    user = UserFactory()
    client.force_login(user)
    assert client.get("/en/admin/status/incident/").status_code == 403


def test_operator_ends_an_incident_by_its_end_time_and_adds_an_update(client, operator):
    from panjereh.status import incidents

    system = make_system()
    incident = incidents.open_incident(
        system,
        dt.datetime(2026, 12, 6, 6, 30, tzinfo=dt.UTC),
        kind=IncidentKind.OPERATOR,
        actor=roles.SYSTEM,
    )
    response = client.post(
        f"/en/admin/status/incident/{incident.pk}/change/",
        {
            "system": system.pk,
            "kind": IncidentKind.OPERATOR,
            "started_at_0": "2026-12-06",
            "started_at_1": "10:00:00",
            "ended_at_0": "2026-12-06",
            "ended_at_1": "11:15:00",
            "title_fa": "",
            "title_en": "Slow answers",
            "note_fa": "",
            "note_en": "",
            "updates-TOTAL_FORMS": "1",
            "updates-INITIAL_FORMS": "0",
            "updates-0-at_0": "2026-12-06",
            "updates-0-at_1": "10:30:00",
            "updates-0-kind": "note",
            "updates-0-text_fa": "در حال بررسی",
            "updates-0-text_en": "Investigating",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    incident.refresh_from_db()
    assert incident.state == IncidentState.RESOLVED
    # Entered in Tehran time (UTC+3:30).
    assert incident.ended_at == dt.datetime(2026, 12, 6, 7, 45, tzinfo=dt.UTC)
    kinds = list(incident.updates.values_list("kind", flat=True))
    assert kinds == ["opened", "note", "resolved"]
    page = client.get(f"/en/status/incidents/{incident.public_id}/").content.decode()
    assert "Investigating" in page and "Slow answers" in page
