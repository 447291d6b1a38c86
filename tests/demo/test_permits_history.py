"""The demo's simulated issued permits (panjereh.demo.permits_history), at a small size."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

import pytest
from django.utils import timezone

from panjereh.common import jalali
from panjereh.demo import permits_history
from panjereh.identity.models import User
from panjereh.permits.issuing import valid_number
from panjereh.permits.models import (
    ApplicationState,
    HolderRating,
    IssuedPermit,
    IssuingAuthority,
    PermitApplication,
    PermitEvent,
    PermitEventKind,
    PermitStatus,
    PermitType,
    PermitVersion,
    TraceEvent,
    VersionState,
)

NOW = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
COUNT = 1_000


@pytest.fixture
def catalogue(db):
    guilds = IssuingAuthority.objects.create(code="guilds-t", name_fa="اتاق اصناف")
    health = IssuingAuthority.objects.create(
        code="mohme-t", name_fa="وزارت بهداشت", portal="health"
    )
    home = IssuingAuthority.objects.create(code="home-t", name_fa="دبیرخانه مشاغل خانگی")
    specs = [
        ("9100000001", "guild", guilds, False, 15),
        ("9100000002", "guild", guilds, False, 10),
        ("9100000003", "home_business", home, True, 0),
        ("9100000004", "home_business", home, True, 0),
        ("9100000005", "agency", health, False, 30),
        ("9100000006", "agency", health, False, 60),
    ]
    for public_id, kind, authority, registration_based, days in specs:
        permit = PermitType.objects.create(
            public_id=public_id,
            kind=kind,
            authority=authority,
            title_fa=f"مجوز {public_id}",
            registration_based=registration_based,
            legal_days=days,
        )
        version = PermitVersion.objects.create(
            permit=permit,
            number=1,
            state=VersionState.PUBLISHED,
            title_fa=permit.title_fa,
            registration_based=registration_based,
            legal_days=days,
        )
        PermitType.objects.filter(pk=permit.pk).update(published_version=version)


def _seed(**kwargs):
    return permits_history.seed(COUNT, seed=7, now=NOW, **kwargs)


def test_counts_statuses_and_numbers(catalogue):
    done = _seed()
    assert not done.skipped
    assert IssuedPermit.objects.count() == done.permits == COUNT
    assert PermitEvent.objects.count() == done.events > COUNT
    assert PermitApplication.objects.count() == done.applications > 0
    assert TraceEvent.objects.count() == done.trace > done.applications
    assert HolderRating.objects.count() == done.ratings > 0

    statuses = Counter(IssuedPermit.objects.values_list("status", flat=True))
    assert set(statuses) == set(PermitStatus.values)
    assert statuses[PermitStatus.VALID] > 0.6 * COUNT
    numbers = list(IssuedPermit.objects.values_list("number", flat=True))
    assert len(set(numbers)) == COUNT
    assert all(valid_number(n) for n in numbers)
    # Every kind, several provinces and both kinds of holder are there.
    assert set(IssuedPermit.objects.values_list("permit__kind", flat=True)) == {
        "guild",
        "home_business",
        "agency",
    }
    assert IssuedPermit.objects.values("province").distinct().count() > 20
    assert IssuedPermit.objects.filter(holder_name__startswith="شرکت ").exists()
    issued = IssuedPermit.objects.values_list("issued_at", flat=True)
    assert min(issued) >= NOW - dt.timedelta(days=365 * permits_history.YEARS + 1)
    assert max(issued) <= NOW


def test_history_replays_to_the_status(catalogue):
    _seed()
    today = NOW.astimezone(jalali.TEHRAN).date()
    history = defaultdict(list)
    for event in PermitEvent.objects.order_by("issued_id", "at", "id"):
        history[event.issued_id].append(event)
    for permit in IssuedPermit.objects.all():
        events = history[permit.pk]
        assert events[0].kind == PermitEventKind.ISSUED
        assert events[0].at == permit.issued_at
        assert events[0].to_status == PermitStatus.VALID
        status = PermitStatus.VALID
        for event in events[1:]:
            assert event.kind != PermitEventKind.ISSUED
            assert event.from_status == status, (permit.number, event.kind)
            status = event.to_status
        assert status == permit.status, permit.number
        assert all(permit.issued_at <= e.at <= NOW for e in events)
        if permit.status == PermitStatus.EXPIRED:
            assert permit.valid_until <= today
        elif permit.status == PermitStatus.VALID:
            assert permit.valid_until > today


def test_applications_and_their_trace(catalogue):
    _seed()
    trace = defaultdict(list)
    for step in TraceEvent.objects.order_by("application_id", "at", "id"):
        trace[step.application_id].append(step)
    portal_ids = [s.portal_event_id for steps in trace.values() for s in steps if s.portal_event_id]
    assert len(portal_ids) == len(set(portal_ids)) > 0
    states = Counter()
    for app in PermitApplication.objects.select_related("permit"):
        states[app.state] += 1
        steps = trace[app.pk]
        assert app.reference.startswith(permits_history.REFERENCE_PREFIX)
        assert steps[0].kind == "registered" and steps[0].at == app.submitted_at
        issued = IssuedPermit.objects.filter(application=app).first()
        if app.state == ApplicationState.ISSUED:
            assert issued is not None
            assert issued.holder_id == app.applicant_id
            assert issued.issued_at == app.decided_at == steps[-1].at
            assert steps[-1].kind == "issued"
            took = app.decided_at - app.submitted_at
            if app.permit.registration_based:
                assert took < dt.timedelta(minutes=1)
                assert not app.portal
            else:
                assert took > dt.timedelta(hours=1)
                assert app.due_by == app.submitted_at + dt.timedelta(days=app.permit.legal_days)
            if app.portal:
                kinds = [s.kind for s in steps]
                assert kinds[:3] == ["registered", "sent", "received"]
                assert "approved" in kinds
        else:
            assert issued is None
            if app.state == ApplicationState.REJECTED:
                assert app.reason and app.decided_at
            else:
                assert app.decided_at is None
    assert states[ApplicationState.ISSUED] > states[ApplicationState.REJECTED] > 0
    assert states[ApplicationState.UNDER_REVIEW] + states[ApplicationState.AT_PORTAL] > 0


def test_ratings_and_synthetic_people(catalogue):
    _seed()
    for rating in HolderRating.objects.select_related("issued"):
        assert 1 <= rating.stars <= 5
        assert rating.issued.issued_at <= rating.created_at <= NOW
        day = jalali.from_gregorian(rating.created_at.astimezone(jalali.TEHRAN).date())
        assert rating.period == f"{day.year}-{(day.month - 1) // 3 + 1}"
        if rating.answer:
            assert rating.answered_at >= rating.created_at
    assert HolderRating.objects.values("issued").distinct().count() > 1
    people = User.objects.filter(username__startswith=permits_history.PREFIX)
    assert people.exists()
    assert not people.filter(is_active=True).exists()
    assert not any(user.has_usable_password() for user in people)


def test_deterministic_idempotent_and_the_tables_stay_usable(catalogue):
    def snapshot():
        return sorted(
            IssuedPermit.objects.values_list(
                "number", "status", "holder_name", "province", "issued_at", "valid_until"
            )
        )

    _seed()
    first = snapshot()
    assert _seed().skipped
    assert IssuedPermit.objects.count() == COUNT
    for model in (HolderRating, PermitEvent, TraceEvent, IssuedPermit, PermitApplication):
        model.objects.all().delete()
    User.objects.filter(username__startswith=permits_history.PREFIX).delete()
    _seed()
    assert snapshot() == first
    # Keys were given explicitly: the next row the ORM writes gets a fresh one.
    permit = IssuedPermit.objects.first()
    event = PermitEvent.objects.create(
        issued=permit, kind=PermitEventKind.AMENDED, at=timezone.now()
    )
    assert event.pk > max(PermitEvent.objects.exclude(pk=event.pk).values_list("pk", flat=True))


def test_nothing_without_a_catalogue(db):
    assert permits_history.seed(10, now=NOW).skipped
    assert not IssuedPermit.objects.exists()
