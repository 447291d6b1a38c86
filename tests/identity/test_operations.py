"""Identity's writes are operations (``identity.operations``), usable without a view."""

from __future__ import annotations

import datetime as dt

from panjereh.identity import operations
from panjereh.identity.models import AuthEvent, User

from .conftest import PERSON_CODE, PERSON_MOBILE

RECORD = {"first_name": "مریم", "last_name": "رضایی", "father_name": "حسن"}


def test_completing_a_registration_creates_then_refreshes_one_account(db):
    user, created = operations.complete_registration(
        PERSON_CODE, PERSON_MOBILE, RECORD, dt.date(1991, 9, 22)
    )
    assert created and user.assurance_level == 1 and not user.has_usable_password()
    again, created_again = operations.complete_registration(
        PERSON_CODE, "09350000009", {**RECORD, "last_name": "کریمی"}, dt.date(1991, 9, 22)
    )
    assert not created_again and again.pk == user.pk
    assert User.objects.get().last_name == "کریمی" and User.objects.get().mobile == "09350000009"
    assert AuthEvent.objects.filter(kind=AuthEvent.Kind.REGISTERED, user=user).count() == 2
