from __future__ import annotations

import datetime as dt

import pytest

from panjereh.catalogue import roles
from panjereh.permits import operations, search
from panjereh.permits.models import IssuingAuthority
from tests.factories import make_agency

DOCUMENT_BASIS = {"basis_fa": "قانون نظام صنفی کشور، ماده ۱۲", "basis_en": "Guild System Law"}


def condition(text_fa: str, kind: str = "document", text_en: str = "") -> dict:
    return {"kind": kind, "text_fa": text_fa, "text_en": text_en, **DOCUMENT_BASIS}


FIELDS = {
    "title_fa": "پروانه کسب فروش نان",
    "title_en": "Trade permit: selling bread",
    "summary_fa": "برای نانوایی‌ها",
    "registration_based": False,
    "legal_days": 15,
}


@pytest.fixture(autouse=True)
def _fresh_index():
    search.invalidate()
    yield
    search.invalidate()


@pytest.fixture
def agency(db):
    return make_agency(name_fa="وزارت صنعت، معدن و تجارت آزمایشی", name_en="Test MIMT")


@pytest.fixture
def authority(agency):
    return IssuingAuthority.objects.create(
        code="guilds-test", name_fa="اتاق اصناف آزمایشی", name_en="Test Chamber", agency=agency
    )


@pytest.fixture
def other_authority(db):
    other = make_agency(name_fa="سازمان دیگر", name_en="Other")
    return IssuingAuthority.objects.create(
        code="other-test", name_fa="مرجع دیگر", name_en="Other authority", agency=other
    )


@pytest.fixture
def removed(db):
    """The register holding the removed "certificate of no criminal record"."""
    return operations.record_removal(
        roles.SYSTEM,
        key="no-criminal-record",
        kind="document",
        wording_fa="گواهی عدم سوءپیشینه",
        wording_en="certificate of no criminal record",
        phrases=["گواهی سوء پیشینه", "no criminal record", "criminal record certificate"],
        body="deregulation_board",
        number="60/52881",
        date=dt.date(2023, 2, 9),
    )


@pytest.fixture
def published(authority, removed):
    """A published guild permit of ``authority`` with two conditions."""
    version = operations.create_permit_type(
        roles.SYSTEM,
        authority=authority,
        kind="guild",
        fields=FIELDS,
        conditions=[
            condition("مشخصات محل کسب"),
            condition("هزینه صدور: ۵۰۰٬۰۰۰ ریال", kind="fee"),
        ],
    )
    operations.publish(roles.SYSTEM, version)
    version.permit.refresh_from_db()
    return version.permit


# -- the simulated specialised portals (permits.routing's tests) ------------------------------

PORTAL_SECRETS = {
    "behinyab": "test-secret-of-the-window-at-behinyab",
    "heritage": "test-secret-of-the-window-at-heritage",
    "health": "test-secret-of-the-window-at-health",
}


@pytest.fixture(scope="session")
def portals_process(tmp_path_factory):
    """The simulated permit portals as a real process over HTTP, for the whole session."""
    from panjereh.portals.supervisor import Portals

    running = Portals(
        PORTAL_SECRETS, tmp_path_factory.mktemp("permit-portals"), webhook_backoff=0.05
    ).start()
    yield running
    running.stop()


@pytest.fixture
def portals(portals_process, settings):
    """The portals, forgotten and with their clock fixed at now, and the window pointed at
    them (``PANJEREH_PORTAL_URL_*`` and ``_SECRET_*``)."""
    from django.utils import timezone

    from panjereh.permits import routing

    portals_process.control(reset=True, now=timezone.now().isoformat(timespec="seconds"))
    for name, url in portals_process.urls.items():
        setattr(settings, f"PANJEREH_PORTAL_URL_{name.upper()}", url)
        setattr(settings, f"PANJEREH_PORTAL_SECRET_{name.upper()}", PORTAL_SECRETS[name])
    settings.PANJEREH_PORTAL_TIMEOUT = 1.5
    settings.PANJEREH_PORTAL_RETRY_FIRST = 15
    yield portals_process
    if portals_process.process is None or portals_process.process.poll() is not None:
        portals_process.process = None
        portals_process.start()
    for name in PORTAL_SECRETS:
        portals_process.control(portal=name, mode="normal")
    portals_process.control(reset=True)
    routing.close_connections()
