"""Fixtures of the participation tests: cards in every online state, citizens, staff, a
moderator. Rate-limit counters live in the cache, which every test starts empty."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache

from panjereh.common import jalali
from panjereh.identity.models import User
from panjereh.participation.roles import MODERATORS
from tests.factories import UserFactory, make_agency, make_agency_staff, make_service

_people = itertools.count(1)

# The Jalali week from Saturday 1405/08/30 (2026-11-21) to Friday 1405/09/06 (2026-11-27).
SATURDAY = dt.date(2026, 11, 21)


def tehran(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=jalali.TEHRAN)


def make_citizen(**fields) -> User:
    n = next(_people)
    data = {
        "username": f"citizen{n}",
        "national_code": f"{n:010d}",
        "mobile": f"0912{n:07d}",
        "assurance_level": 2,
        "first_name": "Darius",
        "last_name": f"Secretname{n}",
    }
    data.update(fields)
    return User.objects.create(**data)


def make_moderator() -> User:
    user = UserFactory()
    # get_or_create: a transactional test flushes the group the data migration made.
    user.groups.add(Group.objects.get_or_create(name=MODERATORS)[0])
    return user


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def cards(db):
    """One agency's cards: not connected, connected but not smart, smart, exempt; and another
    agency with one not-connected card."""
    agency = make_agency(code="ministry-a", name_fa="وزارت الف", name_en="Ministry A")
    other = make_agency(code="agency-b", name_fa="سازمان ب", name_en="Agency B")
    return {
        "agency": agency,
        "other": other,
        "offline": make_service(
            agency,
            title_fa="پروانه کسب",
            title_en="Business licence",
            connected=False,
            connection_form="",
        ),
        "not_smart": make_service(agency, title_fa="گواهی تحصیلی", title_en="School certificate"),
        "smart": make_service(
            agency, title_fa="گواهی عدم سوءپیشینه", title_en="Clean record", smart_status="approved"
        ),
        "exempt": make_service(
            agency,
            title_fa="خدمت معاف",
            title_en="Exempt service",
            scope="exempt",
            connected=False,
            connection_form="",
            exemption_reason="حضور لازم است",
            exemption_document="مصوبه ۱۲",
        ),
        "other_offline": make_service(
            other,
            title_fa="مجوز حفاری",
            title_en="Digging permit",
            connected=False,
            connection_form="",
        ),
    }


@pytest.fixture
def moderator(db):
    return make_moderator()


@pytest.fixture
def staff(cards):
    return {
        "a": make_agency_staff(cards["agency"], role="editor"),
        "b": make_agency_staff(cards["other"], role="admin"),
    }
