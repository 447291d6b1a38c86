"""Fixtures of the appointments tests: an agency with an office and slots, citizens with valid
national codes and mobiles, and the agency's staff in each membership role."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.utils import timezone

from panjereh.appointments import operations
from panjereh.appointments.models import Office, Slot
from panjereh.catalogue import roles
from panjereh.common import jalali
from panjereh.registries.population import national_code_check_digit
from tests.factories import UserFactory, make_agency, make_agency_staff

_serial = itertools.count(300_001)


def national_code() -> str:
    body = f"{next(_serial):09d}"
    return body + str(national_code_check_digit(body))


def make_citizen(**fields):
    code = national_code()
    user = UserFactory(national_code=code, mobile="0912" + code[-7:], is_staff=False, **fields)
    user.save()
    return user


def make_office(agency=None, code: str | None = None, **fields) -> Office:
    agency = agency or make_agency(name_fa="دادگستری استان تهران", name_en="Tehran Judiciary")
    data = {
        "code": code or f"office-{next(_serial)}",
        "kind": Office.Kind.SERVICE_OFFICE,
        "name_fa": "دفتر خدمات الکترونیک قضایی ونک",
        "name_en": "Vanak judicial e-services office",
        "city_fa": "تهران",
        "city_en": "Tehran",
    }
    data.update(fields)
    return operations.open_office(roles.SYSTEM, agency, **data)


def make_slot(office: Office, *, days: int = 2, hour: int = 9, minute: int = 0, capacity: int = 1):
    day = operations.tehran_day(timezone.now()) + dt.timedelta(days=days)
    starts = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=jalali.TEHRAN)
    return Slot.objects.create(
        office=office,
        day=day,
        starts_at=starts,
        ends_at=starts + dt.timedelta(minutes=20),
        capacity=capacity,
    )


@pytest.fixture
def office(db) -> Office:
    return make_office()


@pytest.fixture
def citizen(db):
    return make_citizen()


@pytest.fixture
def staff(office):
    """{role: user} of the office's agency, and an editor of another agency."""
    found = {role: make_agency_staff(office.agency, role) for role in ("viewer", "editor", "admin")}
    found["other"] = make_agency_staff(make_agency(), "admin")
    return found
