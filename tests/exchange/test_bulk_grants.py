"""Grants in bulk (``exchange.operations.ensure_grants``, the demo's first start): the same
rights, checks and rows as one ``ensure_grant`` at a time, and the gateway honours them."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from panjereh.catalogue import roles
from panjereh.exchange.models import Grant, GrantEvent, GrantState
from panjereh.exchange.operations import ensure_grant, ensure_grants
from tests.factories import UserFactory, make_service

pytestmark = pytest.mark.django_db


def _rows(grant: Grant) -> tuple:
    events = [
        (e.from_state, e.to_state, e.actor_id, e.note, e.data)
        for e in GrantEvent.objects.filter(grant=grant).order_by("pk")
    ]
    fields = (
        grant.state, grant.items, grant.requested_items, grant.resolution_number,
        grant.resolution_session, grant.resolution_date, grant.valid_until,
        grant.implementation_deadline, grant.requested_by_id, grant.decided_at is not None,
    )  # fmt: skip
    return fields, events


def test_bulk_grants_are_the_rows_one_at_a_time_makes_and_the_gateway_serves_them(
    exchange, population
):
    identity = exchange.service("civil", "identity")
    other_purpose = make_service(agency=exchange.consumer, title_en="Another service")
    one = ensure_grant(
        exchange.consumer,
        identity,
        ["civil.identity"],
        actor=roles.SYSTEM,
        purpose=other_purpose,
        resolution_number="1404/demo",
    )
    made = ensure_grants(
        [
            (exchange.consumer, identity, ["civil.identity"], exchange.purpose),
            # The same grant asked twice (two definitions of one service): one grant, both items.
            (exchange.consumer, identity, ["civil.birth_date"], exchange.purpose),
        ],
        actor=roles.SYSTEM,
        resolution_number="1404/demo",
    )
    assert made == 1
    bulk = Grant.objects.get(purpose=exchange.purpose)
    assert bulk.items == ["civil.birth_date", "civil.identity"]
    one_fields, one_events = _rows(one)
    bulk_fields, bulk_events = _rows(bulk)
    assert bulk_fields[0] == GrantState.APPROVED
    assert bulk_fields[3:] == one_fields[3:]
    assert [e[:4] for e in bulk_events] == [e[:4] for e in one_events]
    assert bulk_events[1][4] == {**one_events[1][4], "items": bulk.items}

    code = population.national_code(12)
    response = exchange.call(
        identity,
        code,
        code,
        items=["civil.identity"],
        **{"X-Panjereh-Purpose": exchange.purpose.service_id},
    )
    assert response.status_code == 200, response.content
    bulk.refresh_from_db()
    assert bulk.state == GrantState.IMPLEMENTED

    # Idempotent: what an active grant covers is not granted again.
    again = ensure_grants(
        [(exchange.consumer, identity, ["civil.identity"], exchange.purpose)],
        actor=roles.SYSTEM,
        resolution_number="1404/demo",
    )
    assert again == 0 and Grant.objects.filter(purpose=exchange.purpose).count() == 1


def test_bulk_grants_check_rights_and_input_and_write_nothing_refused(exchange):
    identity = exchange.service("civil", "identity")
    before = Grant.objects.count(), GrantEvent.objects.count()
    wanted = [(exchange.consumer, identity, ["civil.identity"], exchange.purpose)]
    with pytest.raises(PermissionDenied):
        ensure_grants(wanted, actor=UserFactory(), resolution_number="1404/demo")
    with pytest.raises(PermissionDenied):
        ensure_grants(wanted, actor=None, resolution_number="1404/demo")
    with pytest.raises(ValidationError):  # not an item of this service
        ensure_grants(
            [
                *wanted,
                (exchange.consumer, identity, ["judiciary.criminal_record"], exchange.purpose),
            ],
            actor=roles.SYSTEM,
            resolution_number="1404/demo",
        )
    with pytest.raises(ValidationError):  # a purpose of another agency
        ensure_grants(
            [(exchange.consumer, identity, ["civil.identity"], make_service())],
            actor=roles.SYSTEM,
            resolution_number="1404/demo",
        )
    assert (Grant.objects.count(), GrantEvent.objects.count()) == before
