"""A small catalogue with every bucket represented, written through the catalogue's operations."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from panjereh.catalogue import operations
from panjereh.common import jalali
from tests.factories import make_agency, make_service

# Dated history: everything exists by 1403-06-31; later changes happen in 1404.
EARLY = jalali.end_of_day("1403-06-31") - dt.timedelta(hours=12)
LATER = jalali.end_of_day("1404-02-15") - dt.timedelta(hours=12)


def _services(agency, n, *, connected, smart=0, exempt=0, valid_from=EARLY):
    made = []
    for i in range(n):
        made.append(
            make_service(
                agency,
                connected=i < connected,
                connection_form="direct" if i < connected else "",
                smart_status="approved" if i < smart else "none",
            )
        )
    for _ in range(exempt):
        made.append(
            make_service(
                agency,
                scope="exempt",
                exemption_reason="security",
                exemption_document="letter 1403/123",
                connected=False,
                connection_form="",
            )
        )
    for s in made:
        s.versions.update(valid_from=valid_from)
    return made


@pytest.fixture(autouse=True)
def persian_first():
    """Each test starts in the default language: a request to an /en/ page activates English
    in the test's thread, which must not leak into the next test."""
    translation.activate("fa")
    yield
    translation.deactivate()


@pytest.fixture
def catalogue(db):
    """Six in-scope agencies (one not connected, one not applicable) and one university."""
    agencies = {
        "full": make_agency(
            code="full", own_window_url="https://full.example", sso_integrated=True
        ),
        "mid": make_agency(code="mid", own_window_url="https://mid.example"),
        "low": make_agency(code="low"),
        "zero": make_agency(code="zero", sso_integrated=True),
        "off": make_agency(code="off", connection_status="not_connected", connection_form=""),
        "na": make_agency(code="na", connection_status="not_applicable", connection_form=""),
        "uni": make_agency(code="uni", kind="university", in_scope=False),
    }
    for a in agencies.values():
        a.versions.update(valid_from=EARLY)
    services = {
        "full": _services(agencies["full"], 4, connected=4, smart=4, exempt=1),
        "mid": _services(agencies["mid"], 10, connected=6, smart=1),
        "low": _services(agencies["low"], 6, connected=1, smart=0, exempt=2),
        "zero": _services(agencies["zero"], 5, connected=5, smart=0),
        "off": _services(agencies["off"], 3, connected=0),
        "uni": _services(agencies["uni"], 2, connected=2, smart=1),
    }
    # A later change: one more of "mid"'s services becomes smart in 1404.
    changed = services["mid"][1]
    operations.save_service(
        changed, {"smart_status": "approved"}, valid_from=LATER, author=operations.SYSTEM
    )
    return {"agencies": agencies, "services": services}
