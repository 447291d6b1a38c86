"""Fixtures of the issued-permit tests (issuing, the public page, ratings, holding): an
application made as a row (its making is applying's subject), its permit issued through
``issuing.issue``, people in each role."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from panjereh.catalogue import roles
from panjereh.permits import issuing
from panjereh.permits.models import PermitApplication
from tests.factories import UserFactory, make_agency_staff

_counter = iter(range(1, 10**9))


def make_application(
    permit, applicant, *, company=None, title="نانوایی سنگک برکت", province="تهران"
):
    n = next(_counter)
    return PermitApplication.objects.create(
        reference=f"PA-TEST-{n:06d}",
        permit=permit,
        version=permit.published_version,
        authority=permit.authority,
        applicant=applicant,
        company=company,
        title=title,
        details={"province": province},
    )


def citizen(**fields):
    return UserFactory(is_staff=False, **fields)


@pytest.fixture
def holder(db):
    return citizen(first_name="مریم", last_name="احمدی")


@pytest.fixture
def customer(db):
    return citizen(first_name="علی", last_name="رضایی")


@pytest.fixture
def issued(published, holder):
    return issuing.issue(make_application(published, holder))


@pytest.fixture
def staff(authority):
    """An editor of the issuing authority's agency (decides: amend, suspend, reinstate)."""
    return make_agency_staff(authority.agency, role="editor")


@pytest.fixture
def admin_staff(authority):
    return make_agency_staff(authority.agency, role="admin")


@pytest.fixture
def other_staff(other_authority):
    return make_agency_staff(other_authority.agency, role="admin")


@pytest.fixture
def viewer(authority):
    return make_agency_staff(authority.agency, role="viewer")


@pytest.fixture
def supervisor(db):
    roles.ensure_groups()
    user = citizen()
    user.groups.add(Group.objects.get(name=roles.ITO))
    return user


@pytest.fixture
def moderator(db):
    group, _ = Group.objects.get_or_create(name=roles.MODERATORS)
    user = citizen()
    user.groups.add(group)
    return user
