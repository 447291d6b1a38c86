"""Incidents open after K failed checks in a row, starting at the first of them, and close
after K successful ones, ending at the first of those (frozen time)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from panjereh.catalogue.roles import SYSTEM
from panjereh.status import incidents
from panjereh.status.models import Check, Incident, IncidentKind, IncidentState, IncidentUpdate

from .conftest import feed, make_system

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 11, 22, 8, 30, 0, tzinfo=dt.UTC)  # 1 Azar 1405, 12:00 in Tehran


def test_opens_after_k_failures_and_starts_at_the_first(time_machine):
    system = make_system()
    time_machine.move_to(T0, tick=False)
    assert feed(system, True) is None
    time_machine.shift(30)
    first_failure = timezone.now()
    assert feed(system, False, error="connection refused", status=None) is None
    assert not Incident.objects.exists()  # one failure is not an outage yet
    time_machine.shift(30)
    incident = feed(system, False)
    assert incident is not None
    assert incident.state == IncidentState.OPEN
    assert incident.started_at == first_failure
    assert incident.first_error == "connection refused"
    assert incident.public_id == "INC-1405-0001"
    # Further failures extend the same incident.
    time_machine.shift(30)
    assert feed(system, False) is None
    assert Incident.objects.count() == 1
    assert Incident.objects.get().failed_checks == 3


def test_closes_after_k_successes_and_ends_at_the_first(time_machine):
    system = make_system()
    time_machine.move_to(T0, tick=False)
    feed(system, False)
    time_machine.shift(30)
    incident = feed(system, False)
    time_machine.shift(30)
    back = timezone.now()
    assert feed(system, True) is None  # one success is not recovery yet
    assert Incident.objects.get(pk=incident.pk).state == IncidentState.OPEN
    time_machine.shift(30)
    resolved = feed(system, True)
    assert resolved.pk == incident.pk
    resolved.refresh_from_db()
    assert resolved.state == IncidentState.RESOLVED
    assert resolved.started_at == T0
    assert resolved.ended_at == back
    assert resolved.duration == dt.timedelta(seconds=60)
    kinds = list(resolved.updates.values_list("kind", flat=True))
    assert kinds == [IncidentUpdate.Kind.OPENED, IncidentUpdate.Kind.RESOLVED]
    assert Check.objects.filter(system=system).count() == 4


def test_a_flapping_system_keeps_one_incident(time_machine):
    system = make_system()
    time_machine.move_to(T0, tick=False)
    for ok in (False, False, True, False, True, True):
        feed(system, ok)
        time_machine.shift(30)
    incident = Incident.objects.get()
    assert incident.state == IncidentState.RESOLVED
    assert incident.started_at == T0
    # Ends at the first success of the final run, not at the blip in between.
    assert incident.ended_at == T0 + dt.timedelta(seconds=120)


def test_numbers_follow_the_jalali_year_and_lookup_is_forgiving(time_machine):
    a, b = make_system(), make_system()
    time_machine.move_to(T0, tick=False)
    for _ in range(2):
        feed(a, False)
        feed(b, False)
    ids = sorted(Incident.objects.values_list("public_id", flat=True))
    assert ids == ["INC-1405-0001", "INC-1405-0002"]
    assert incidents.find("inc-1405-2").public_id == "INC-1405-0002"
    assert incidents.find("INC-۱۴۰۵-۰۰۰۱").public_id == "INC-1405-0001"
    assert incidents.find(" ۱۴۰۵/۱ ").public_id == "INC-1405-0001"
    assert incidents.find("INC-1405-0009") is None
    assert incidents.find("hello") is None
    # The next Jalali year starts its own numbering (1 Farvardin 1406 = 21 March 2027).
    time_machine.move_to(dt.datetime(2027, 3, 22, 8, 0, tzinfo=dt.UTC), tick=False)
    c = make_system()
    feed(c, False)
    assert feed(c, False).public_id == "INC-1406-0001"


def test_maintenance_is_not_closed_by_the_monitor(time_machine):
    system = make_system()
    time_machine.move_to(T0, tick=False)
    maintenance = incidents.open_incident(
        system, T0, kind=IncidentKind.MAINTENANCE, title_en="Planned upgrade", actor=SYSTEM
    )
    for ok in (False, False, False, True, True, True):
        feed(system, ok)
        time_machine.shift(30)
    # Failures during announced maintenance belong to it: no second incident, and it stays open.
    assert Incident.objects.count() == 1
    maintenance.refresh_from_db()
    assert maintenance.state == IncidentState.OPEN
    incidents.resolve(maintenance, timezone.now(), actor=SYSTEM)
    assert maintenance.state == IncidentState.RESOLVED
    with pytest.raises(incidents.TransitionError):
        incidents.resolve(maintenance, timezone.now(), actor=SYSTEM)


def test_slow_answers_are_up(time_machine):
    system = make_system()
    time_machine.move_to(T0, tick=False)
    for _ in range(3):
        feed(system, True, latency_ms=2500)
    system.refresh_from_db()
    assert system.last_ok is True and system.last_latency_ms == 2500
    assert not Incident.objects.exists()


def test_an_outage_after_maintenance_starts_when_the_maintenance_ends(time_machine):
    system = make_system()
    time_machine.move_to(T0, tick=False)
    maintenance = incidents.open_incident(system, T0, kind=IncidentKind.MAINTENANCE, actor=SYSTEM)
    for _ in range(3):
        feed(system, False)
        time_machine.shift(30)
    incidents.resolve(maintenance, timezone.now(), actor=SYSTEM)
    ended = timezone.now()
    time_machine.shift(30)
    outage = feed(system, False)  # still failing after the announced end
    assert outage.kind == IncidentKind.OUTAGE
    assert outage.started_at == ended


def test_an_incident_resolved_meanwhile_is_not_resolved_again_from_a_stale_copy(time_machine):
    """Two operators (or an operator and the monitor) holding the same open incident: the
    second resolution reads the row under its lock, sees it resolved and is refused, instead of
    moving the end and adding a second "resolved" entry."""
    time_machine.move_to(T0, tick=False)
    system = make_system()
    incident = incidents.open_incident(system, T0, kind=IncidentKind.MAINTENANCE, actor=SYSTEM)
    stale = Incident.objects.get(pk=incident.pk)
    incidents.resolve(incident, T0 + dt.timedelta(minutes=10), actor=SYSTEM)
    with pytest.raises(incidents.TransitionError):
        incidents.resolve(stale, T0 + dt.timedelta(minutes=50), actor=SYSTEM)
    incident.refresh_from_db()
    assert incident.ended_at == T0 + dt.timedelta(minutes=10)
    kinds = incident.updates.values_list("kind", flat=True)
    assert list(kinds).count(IncidentUpdate.Kind.RESOLVED) == 1
