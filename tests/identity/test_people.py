"""Legal persons, representatives and delegations as data."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from panjereh.identity.models import (
    Delegation,
    LegalPerson,
    Representative,
    companies_represented,
)

from .conftest import OTHER_CODE, make_citizen


def test_legal_person_needs_a_valid_national_id(db):
    LegalPerson(national_id="10380284790", name="شرکت نمونه").full_clean()
    with pytest.raises(ValidationError):
        LegalPerson(national_id="10380284791", name="شرکت نمونه").full_clean()
    with pytest.raises(ValidationError):
        LegalPerson(national_id="۱۰۳۸۰۲۸۴۷۹۰", name="not cleaned").full_clean()


def test_representatives_act_for_a_company_while_current(db):
    person = make_citizen()
    company = LegalPerson.objects.create(national_id="10380284790", name="شرکت نمونه")
    today = timezone.localdate()
    Representative.objects.create(
        person=person, legal_person=company, role="ceo", valid_from=today - dt.timedelta(days=10)
    )
    old = LegalPerson.objects.create(national_id="14007650912", name="شرکت پیشین")
    Representative.objects.create(
        person=person,
        legal_person=old,
        role="board",
        valid_from=today - dt.timedelta(days=400),
        valid_until=today - dt.timedelta(days=1),
    )
    assert [r.legal_person for r in companies_represented(person)] == [company]


def test_delegation_is_limited_and_never_to_oneself(db):
    principal = make_citizen()
    helper = make_citizen(OTHER_CODE, "09350000001")
    now = timezone.now()
    delegation = Delegation.objects.create(
        principal=principal, helper=helper, purpose="x", expires_at=now + dt.timedelta(days=1)
    )
    assert not delegation.is_active()  # not before the helper accepts
    delegation.accepted_at = now
    assert delegation.is_active()
    assert not delegation.is_active(at=now + dt.timedelta(days=2))
    with pytest.raises(IntegrityError), transaction.atomic():
        Delegation.objects.create(
            principal=principal, helper=principal, purpose="x", expires_at=now + dt.timedelta(1)
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Delegation.objects.create(
            principal=principal, helper=helper, purpose="x", created_at=now, expires_at=now
        )
