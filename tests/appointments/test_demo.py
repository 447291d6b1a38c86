"""The demo's offices (SIMULATED): the judiciary's six offices and three hospitals by specialty,
slots for the coming days except Fridays, once (a second run adds nothing)."""

from __future__ import annotations

import jdatetime
import pytest

from panjereh.appointments.models import Office, Slot
from panjereh.demo import appointments
from tests.factories import make_agency

pytestmark = pytest.mark.django_db


def test_the_demo_offices_and_slots_are_seeded_once():
    make_agency(code="judiciary", name_fa="قوه قضاییه", name_en="Judiciary")
    make_agency(code="mohme-hq", name_fa="ستاد وزارت بهداشت", name_en="Ministry of Health")
    added = appointments.seed(days=7)
    assert Office.objects.filter(kind=Office.Kind.SERVICE_OFFICE).count() == 6
    assert Office.objects.filter(kind=Office.Kind.SPECIALTY).count() == 9
    assert added == Slot.objects.count() > 0
    days = set(Slot.objects.values_list("day", flat=True))
    assert all(jdatetime.date.fromgregorian(date=d).weekday() != 6 for d in days)  # no Friday
    assert appointments.seed(days=7) == 0
