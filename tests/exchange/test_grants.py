"""The grant state machine: allowed moves only, each an event, decided by the working group."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from panjereh.catalogue import roles
from panjereh.exchange import grants, queries
from panjereh.exchange.models import GrantState
from tests.factories import UserFactory, make_service

pytestmark = pytest.mark.django_db


def _approve(grant, actor=roles.SYSTEM, **changes):
    today = timezone.localdate()
    values = {
        "resolution_number": "1404/31",
        "resolution_session": "12",
        "resolution_date": today,
        "valid_until": today + dt.timedelta(days=30),
        "implementation_deadline": today + dt.timedelta(days=10),
    }
    values.update(changes)
    return grants.approve(grant, actor=actor, **values)


def test_lifecycle_records_every_transition(exchange):
    service = exchange.service("civil", "identity")
    grant = grants.request_grant(
        exchange.consumer,
        service,
        ["civil.identity", "civil.birth_date"],
        exchange.purpose,
        actor=roles.SYSTEM,
    )
    wg = UserFactory()
    wg.groups.add(Group.objects.get_or_create(name=roles.INTEROP_WG)[0])
    _approve(grant, actor=wg, items=["civil.identity"])
    assert grant.state == GrantState.APPROVED and grant.items == ["civil.identity"]
    grants.mark_implemented(grant)
    grants.revoke(grant, actor=wg, note="misuse")
    events = list(grant.events.values_list("from_state", "to_state", "actor_id"))
    assert events == [
        ("", "requested", None),
        ("requested", "approved", wg.pk),
        ("approved", "implemented", None),
        ("implemented", "revoked", wg.pk),
    ]
    with pytest.raises(grants.InvalidTransition):
        grants.transition(grant, GrantState.APPROVED, actor=roles.SYSTEM)


def test_only_the_working_group_decides(exchange):
    service = exchange.service("civil", "identity")
    grant = grants.request_grant(
        exchange.consumer, service, ["civil.identity"], exchange.purpose, actor=roles.SYSTEM
    )
    with pytest.raises(PermissionDenied):
        _approve(grant, actor=UserFactory())
    grant.refresh_from_db()
    assert grant.state == GrantState.REQUESTED


def test_request_is_checked(exchange):
    service = exchange.service("civil", "identity")
    with pytest.raises(ValidationError):
        grants.request_grant(
            exchange.consumer,
            service,
            ["judiciary.criminal_record"],
            exchange.purpose,
            actor=roles.SYSTEM,
        )
    with pytest.raises(ValidationError):  # a purpose of another agency
        grants.request_grant(
            exchange.consumer, service, ["civil.identity"], make_service(), actor=roles.SYSTEM
        )
    grant = grants.request_grant(
        exchange.consumer, service, ["civil.identity"], exchange.purpose, actor=roles.SYSTEM
    )
    with pytest.raises(ValidationError):  # more than was asked for
        _approve(grant, items=["civil.identity", "civil.photo"])


def test_overdue_is_derived(exchange):
    service = exchange.service("civil", "photo")
    today = timezone.localdate()
    late = _approve(
        grants.request_grant(
            exchange.consumer, service, ["civil.photo"], exchange.purpose, actor=roles.SYSTEM
        ),
        resolution_date=today - dt.timedelta(days=60),
        implementation_deadline=today - dt.timedelta(days=1),
    )
    on_time = _approve(
        grants.request_grant(
            exchange.consumer, service, ["civil.photo"], exchange.purpose, actor=roles.SYSTEM
        )
    )
    assert late.overdue and not on_time.overdue
    assert list(queries.overdue_grants()) == [late]
    grants.mark_implemented(late)
    assert not late.overdue
    assert queries.grant_counts()["overdue"] == 0


def test_expire_due(exchange):
    service = exchange.service("civil", "photo")
    today = timezone.localdate()
    grant = _approve(
        grants.request_grant(
            exchange.consumer, service, ["civil.photo"], exchange.purpose, actor=roles.SYSTEM
        ),
        resolution_date=today - dt.timedelta(days=60),
        valid_until=today - dt.timedelta(days=1),
    )
    assert grants.expire_due() == 1
    grant.refresh_from_db()
    assert grant.state == GrantState.EXPIRED and grant.ended_at is not None


def test_back_office_revokes_through_the_state_machine(exchange):
    from django.test import Client

    service = exchange.service("civil", "photo")
    grant = _approve(
        grants.request_grant(
            exchange.consumer, service, ["civil.photo"], exchange.purpose, actor=roles.SYSTEM
        )
    )
    operator = UserFactory(is_superuser=True)
    browser = Client()
    browser.force_login(operator)
    response = browser.post(
        "/en/admin/exchange/grant/",
        {"action": "revoke_grants", "_selected_action": [grant.pk]},
    )
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.state == GrantState.REVOKED
    assert grant.events.get(to_state=GrantState.REVOKED).actor == operator
