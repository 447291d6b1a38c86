"""sync_systems finds the national window, the exchange gateway, every registry the exchange
knows and every agency window registered as an OIDC client; it is idempotent."""

from __future__ import annotations

import pytest
from oauth2_provider.models import get_application_model

from panjereh.exchange import provision
from panjereh.identity.clients import register_agency_client
from panjereh.registries.catalogue import openapi
from panjereh.status import monitor
from panjereh.status.models import Source, System, SystemKind

from .conftest import make_system

pytestmark = pytest.mark.django_db


@pytest.fixture
def platform(settings):
    settings.PANJEREH_STATUS_BASE_URL = "http://127.0.0.1:8000"
    for n, name in enumerate(("civil", "post")):
        provision.register_registry(f"http://127.0.0.1:81{n:02d}", description=openapi(name))
    register_agency_client(
        "پنجره نمونه الف (Sample agency window A)",
        ["http://127.0.0.1:8201/callback"],
        client_id="sample-window-a",
    )


def test_sync_finds_every_kind_of_system(platform):
    counts = monitor.sync_systems()
    assert counts == {"created": 5, "updated": 0, "disabled": 0}
    by_kind = {}
    for system in System.objects.all():
        by_kind.setdefault(system.kind, []).append(system)
    national = by_kind[SystemKind.NATIONAL_WINDOW][0]
    assert national.check_url == "http://127.0.0.1:8000/status/healthz/"
    assert (
        by_kind[SystemKind.EXCHANGE][0].check_url
        == "http://127.0.0.1:8000/status/healthz/exchange/"
    )
    registries = {s.check_url: s for s in by_kind[SystemKind.REGISTRY]}
    # The registry's data path (through its fault switch), for a record nobody has.
    civil = registries["http://127.0.0.1:8100/birth-record/0000000000"]
    assert civil.expect_status == 404
    assert civil.name_fa == "سازمان ثبت احوال کشور"
    assert civil.name_en == "National Organization for Civil Registration"
    assert "http://127.0.0.1:8101/address/0000000000" in registries
    window = by_kind[SystemKind.AGENCY_WINDOW][0]
    assert window.check_url == "http://127.0.0.1:8201/"
    assert (window.name_fa, window.name_en) == ("پنجره نمونه الف", "Sample agency window A")
    assert all(s.source == Source.SYNC and s.enabled for s in System.objects.all())


def test_sync_is_idempotent_and_respects_operators(platform):
    monitor.sync_systems()
    assert monitor.sync_systems() == {"created": 0, "updated": 0, "disabled": 0}
    own = make_system(key="operator-added")
    window = System.objects.get(kind=SystemKind.AGENCY_WINDOW)
    window.check_url = "http://127.0.0.1:8201/status"  # an operator's better address
    window.save()
    # The window moves: the derived address follows, the operator's stays.
    register_agency_client(
        "پنجره نمونه الف (Sample agency window A)",
        ["http://127.0.0.1:8301/callback"],
        client_id="sample-window-a",
    )
    monitor.sync_systems()
    window.refresh_from_db()
    assert window.check_url == "http://127.0.0.1:8201/status"
    assert window.derived_url == "http://127.0.0.1:8301/"
    # A client that is gone: disabled, history kept; back again: enabled again.
    get_application_model().objects.filter(client_id="sample-window-a").delete()
    assert monitor.sync_systems()["disabled"] == 1
    window.refresh_from_db()
    assert not window.enabled and window.missing_since is not None
    register_agency_client(
        "Window A", ["http://127.0.0.1:8301/callback"], client_id="sample-window-a"
    )
    monitor.sync_systems()
    window.refresh_from_db()
    assert window.enabled and window.missing_since is None
    own.refresh_from_db()
    assert own.enabled  # never touched by the sync


def test_operator_disabled_system_stays_disabled(platform):
    monitor.sync_systems()
    System.objects.filter(key="exchange-gateway").update(enabled=False)
    monitor.sync_systems()
    assert not System.objects.get(key="exchange-gateway").enabled


def test_a_window_at_a_name_that_never_resolves_is_not_watched(platform):
    # The demo's simulated windows live under .invalid (RFC 6761): probing them could only
    # ever open incidents on the public status page.
    register_agency_client(
        "پنجره شبیه‌سازی‌شده (Simulated window)",
        ["https://simulated.invalid/x/callback"],
        client_id="simulated-window-x",
    )
    monitor.sync_systems()
    urls = set(System.objects.values_list("check_url", flat=True))
    assert "http://127.0.0.1:8201/" in urls
    assert not any("simulated.invalid" in url for url in urls)
