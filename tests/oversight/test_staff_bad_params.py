"""Staff pages of oversight answer a malformed or out-of-range id as "not found" or ignore
it, never with a server error."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from panjereh.catalogue import roles
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def member_of(role: str):
    roles.ensure_groups()
    user = UserFactory()
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.mark.parametrize("value", ["abc", "1.5", str(2**63), ""])
def test_obligation_status_with_a_bad_instance_id_is_not_found(client, value):
    client.force_login(member_of(roles.STEERING_WG))
    response = client.post(reverse("oversight:obligations"), {"instance": value, "to": "met"})
    assert response.status_code == 404


@pytest.mark.parametrize("value", ["abc", str(2**63), "-1"])
def test_evaluation_with_a_bad_round_id_shows_the_page(client, value):
    client.force_login(member_of(roles.ITO))
    response = client.get(reverse("oversight:evaluation"), {"round": value})
    assert response.status_code == 200
