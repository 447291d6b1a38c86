"""The public page, the incident page, the lookup, the JSON and the health views."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from panjereh.catalogue.roles import SYSTEM
from panjereh.status import incidents, queries
from panjereh.status.models import Check, IncidentKind, SystemKind

from .conftest import feed, make_system

pytestmark = pytest.mark.django_db


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


NOW = dt.datetime(2026, 12, 6, 9, 0, tzinfo=dt.UTC)  # mid Azar 1405


@pytest.fixture
def scene(time_machine):
    """A working registry, a slow one, a down one with an open incident, one with a resolved
    incident, and an agency window under maintenance (time frozen mid-month)."""
    time_machine.move_to(NOW, tick=False)
    now = timezone.now()
    up = make_system(name_en="Civil registry", key="civil")
    slow = make_system(name_en="Post registry", key="post")
    down = make_system(name_en="Judiciary registry", key="judiciary")
    flaky = make_system(name_en="Health registry", key="health")
    window = make_system(name_en="Agency window A", key="window-a", kind=SystemKind.AGENCY_WINDOW)
    feed(up, True, now - dt.timedelta(seconds=40))
    feed(up, True, now - dt.timedelta(seconds=10))
    feed(slow, True, now - dt.timedelta(seconds=10), latency_ms=2400)
    feed(down, False, now - dt.timedelta(minutes=12), status=None, error="connection refused")
    opened = feed(down, False, now - dt.timedelta(minutes=11, seconds=30))
    for n, ok in enumerate([False, False, True, True]):
        feed(flaky, ok, now - dt.timedelta(hours=3) + dt.timedelta(minutes=n * 20))
    resolved = flaky.incidents.get()
    feed(window, True, now - dt.timedelta(seconds=10))
    maintenance = incidents.open_incident(
        window,
        now - dt.timedelta(minutes=5),
        kind=IncidentKind.MAINTENANCE,
        title_fa="به‌روزرسانی برنامه‌ریزی‌شده",
        title_en="Planned upgrade",
        actor=SYSTEM,
    )
    return {
        "now": now,
        "open": opened,
        "resolved": resolved,
        "maintenance": maintenance,
        "up": up,
        "slow": slow,
        "down": down,
        "flaky": flaky,
        "window": window,
    }


def _row(html: str, attribute: str, key: str) -> str:
    match = re.search(rf'<tr {attribute}="{re.escape(key)}">(.*?)</tr>', html, re.S)
    assert match, f"no row {key}"
    return match.group(1)


def test_status_page_shows_states_incidents_and_availability(client, scene):
    response = client.get("/en/status/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "3 systems have a problem now." in html
    assert 'data-state="operational"' in _row(html, "data-system", "civil")
    assert 'data-state="degraded"' in _row(html, "data-system", "post")
    down_row = _row(html, "data-system", "judiciary")
    assert 'data-state="down"' in down_row and scene["open"].public_id in down_row
    assert 'data-state="maintenance"' in _row(html, "data-system", "window-a")
    # The open incident: its id and its start (the first failed check).
    open_row = _row(html, "data-incident", scene["open"].public_id)
    assert f'datetime="{_iso(scene["now"] - dt.timedelta(minutes=12))}"' in open_row
    # The resolved one: start and end, and how long it lasted.
    resolved = scene["resolved"]
    row = _row(html, "data-incident", resolved.public_id)
    assert f'class="started" datetime="{_iso(resolved.started_at)}"' in row
    assert f'class="ended" datetime="{_iso(resolved.ended_at)}"' in row
    assert "40 minutes" in row
    # Availability of this month, from the checks: 2/4 for the flaky registry.
    table = html.split('id="availability"', 1)[1]
    flaky_row = _row(table, "data-system", "health")
    assert 'data-checks="4" data-ok="2"' in flaky_row
    assert "50.00%" in flaky_row
    assert 'data-checks="2" data-ok="2"' in _row(table, "data-system", "civil")
    assert "Planned upgrade" in html


def test_persian_page_is_rtl_with_persian_digits(client, scene):
    html = client.get("/status/").content.decode()
    assert 'dir="rtl"' in html
    number = scene["open"].public_id  # ids stay in ASCII: they are quoted on the phone
    assert number in html
    # Jalali dates in Persian digits (the year 1405 as ۱۴۰۵).
    assert "۱۴۰۵" in html


def test_incident_page_and_its_json(client, scene):
    incident = scene["resolved"]
    response = client.get(f"/en/status/incidents/{incident.public_id}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="incident-start" datetime="{_iso(incident.started_at)}"' in html
    assert f'id="incident-end" datetime="{_iso(incident.ended_at)}"' in html
    assert 'data-kind="opened"' in html and 'data-kind="resolved"' in html
    # A sloppy id in the address is sent to the canonical one.
    short = incident.public_id.replace("INC-", "inc-").replace("-000", "-")
    assert client.get(f"/en/status/incidents/{short}/")["Location"].endswith(
        f"/incidents/{incident.public_id}/"
    )
    assert client.get("/en/status/incidents/INC-1300-0001/").status_code == 404
    data = client.get(f"/status/api/incidents/{incident.public_id}/").json()
    assert data["id"] == incident.public_id
    assert data["state"] == "resolved"
    assert data["started_at"] == _iso(incident.started_at)
    assert data["ended_at"] == _iso(incident.ended_at)
    assert [u["kind"] for u in data["updates"]] == ["opened", "resolved"]


def test_open_incident_page_says_it_is_not_over(client, scene):
    html = client.get(f"/en/status/incidents/{scene['open'].public_id}/").content.decode()
    assert "Not yet: the system is still affected." in html
    # What the monitor saw, in words rather than the prober's internal code.
    assert "The connection was refused" in html


def test_lookup(client, scene):
    incident = scene["open"]
    year, seq = incident.public_id.split("-")[1:]
    persian = f"INC-{year}-{int(seq)}".translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    response = client.get("/en/status/incidents/", {"id": persian})
    assert response.status_code == 302
    assert response["Location"].endswith(f"/en/status/incidents/{incident.public_id}/")
    missing = client.get("/en/status/incidents/", {"id": "INC-1405-9999"})
    assert missing.status_code == 404
    html = missing.content.decode()
    assert "No incident has this id." in html
    assert (
        'aria-invalid="true"' in html
        and 'aria-describedby="incident-id-hint incident-id-error"' in html
    )
    assert client.get("/en/status/incidents/", {"id": "nonsense"}).status_code == 404
    assert client.get("/en/status/incidents/", {"id": ""}).status_code == 400


def test_json_open_data(client, scene):
    response = client.get("/status/api/")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    data = response.json()
    systems = {s["key"]: s for s in data["systems"]}
    assert systems["judiciary"]["state"] == "down"
    assert systems["judiciary"]["open_incident"] == scene["open"].public_id
    assert systems["post"]["state"] == "degraded"
    month = queries.Month.of(timezone.now()).iso
    assert data["months"][0] == month
    assert systems["health"]["availability"][month] == {
        "checks": 4,
        "ok_checks": 2,
        "percent": 50.0,
    }
    assert {i["id"] for i in data["open_incidents"]} == {
        scene["open"].public_id,
        scene["maintenance"].public_id,
    }
    assert data["recent_incidents"][0]["id"] == scene["resolved"].public_id
    text = response.content.decode()
    assert "national_code" not in text and "user" not in text  # no personal data


def test_stale_checks_are_not_reported_as_working(client, time_machine):
    system = make_system(key="old")
    time_machine.move_to(timezone.now() - dt.timedelta(hours=1), tick=False)
    feed(system, True)
    time_machine.move_to(timezone.now() + dt.timedelta(hours=1), tick=False)
    html = client.get("/en/status/").content.decode()
    assert 'data-state="unknown"' in _row(html, "data-system", "old")


def test_refresh_is_opt_in(client, scene):
    assert "Refresh" not in client.get("/en/status/")
    assert client.get("/en/status/", {"refresh": "1"})["Refresh"] == "60"


def test_health_views(client):
    response = client.get("/status/healthz/")
    assert response.status_code == 200
    assert response.json()["checks"]["database"]["ok"] is True
    exchange = client.get("/status/healthz/exchange/")
    assert exchange.status_code == 200
    assert set(exchange.json()["checks"]) == {"configuration", "message_log", "cache"}
    assert not Check.objects.exists()


@pytest.mark.parametrize("month", ["1405-13", "abc", "0001-01", "۱۴۰۵-۰۸"])
def test_a_month_in_the_address_is_shown_or_the_current_month_instead(client, scene, month):
    response = client.get("/en/status/", {"month": month})
    assert response.status_code == 200
    shown = (
        queries.Month.parse("1405-08") if month == "۱۴۰۵-۰۸" else queries.Month.of(timezone.now())
    )
    assert f'data-month="{shown.iso}"' in response.content.decode()
