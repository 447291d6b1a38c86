"""End to end with the real registry processes: take registries down through their control
endpoint (and by stopping one), run the prober over HTTP, see the incidents with their start on
the status page; bring them back, probe again, see their end."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from django.core.management import call_command

from panjereh.exchange import provision
from panjereh.registries import REGISTRIES
from panjereh.status import monitor
from panjereh.status.models import Check, Incident, IncidentState, System, SystemKind

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


@pytest.fixture
def watched(live_registries, live_server, settings):
    settings.PANJEREH_STATUS_BASE_URL = live_server.url
    provision.register_registries(live_registries.addresses())
    monitor.sync_systems()
    return live_registries


def _system(cluster, name: str) -> System:
    port = cluster.ports[name]
    return System.objects.get(kind=SystemKind.REGISTRY, check_url__contains=f":{port}/")


def _first_check(system: System, ok: bool, after: dt.datetime | None = None) -> Check:
    checks = Check.objects.filter(system=system, ok=ok)
    if after is not None:
        checks = checks.filter(at__gt=after)
    return checks.order_by("at").first()


def test_registry_down_and_back_on_the_status_page(watched, live_server):
    cluster = watched
    everything = monitor.probe_round()
    # The national window, the exchange gateway and the eighteen registries (the Post runs two).
    assert len(everything) == 2 + len(REGISTRIES) == 20
    assert all(result.ok for _system, result in everything), [
        (s.key, r.error) for s, r in everything if not r.ok
    ]

    civil, ssi = _system(cluster, "civil"), _system(cluster, "ssi")
    cluster.control("civil", mode="drop")  # answers nothing on its data paths
    cluster.stop_one("ssi")  # the process is gone
    monitor.probe_round()
    assert not Incident.objects.exists()
    monitor.probe_round()
    opened = {i.system_id: i for i in Incident.objects.filter(state=IncidentState.OPEN)}
    assert set(opened) == {civil.pk, ssi.pk}
    for system in (civil, ssi):
        assert opened[system.pk].started_at == _first_check(system, ok=False).at
    assert opened[civil.pk].first_error == "connection closed without an answer"
    assert opened[ssi.pk].first_error == "connection refused"

    page = httpx.get(f"{live_server.url}/en/status/", trust_env=False).text
    for system in (civil, ssi):
        incident = opened[system.pk]
        assert incident.public_id in page
        assert f'class="started" datetime="{_iso(incident.started_at)}"' in page
    assert page.count('data-state="down"') == 2

    cluster.control("civil", mode="normal")
    cluster.start_one("ssi")
    monitor.probe_round()
    monitor.probe_round()
    page = httpx.get(f"{live_server.url}/en/status/", trust_env=False).text
    assert "All systems are working." in page
    for system in (civil, ssi):
        incident = Incident.objects.get(pk=opened[system.pk].pk)
        assert incident.state == IncidentState.RESOLVED
        assert incident.ended_at == _first_check(system, ok=True, after=incident.started_at).at
        assert f'class="ended" datetime="{_iso(incident.ended_at)}"' in page
        detail = httpx.get(
            f"{live_server.url}/en/status/incidents/{incident.public_id}/", trust_env=False
        ).text
        assert f'id="incident-end" datetime="{_iso(incident.ended_at)}"' in detail


def test_failing_and_slow_registries(watched, settings):
    settings.PANJEREH_STATUS_SLOW_MS = 300
    cluster = watched
    cluster.control("post", mode="fail", status=503)
    cluster.control("relief", mode="slow", delay_ms=600)
    registries = list(System.objects.filter(kind=SystemKind.REGISTRY))
    results = {s.pk: r for s, r in monitor.probe_round(registries)}
    post, relief = _system(cluster, "post"), _system(cluster, "relief")
    assert not results[post.pk].ok and results[post.pk].error == "HTTP 503"
    assert results[relief.pk].ok and results[relief.pk].latency_ms >= 600
    from panjereh.status import queries

    states = {s.system.pk: s.state for s in queries.system_states()}
    assert states[post.pk] == queries.DOWN
    assert states[relief.pk] == queries.DEGRADED


def test_probe_command_once(watched, capsys):
    watched.control("martyrs", mode="fail")
    call_command("status", "probe", "--once")
    out = capsys.readouterr().out
    martyrs = _system(watched, "martyrs")
    assert f"{martyrs.key}: FAILED (HTTP 503)" in out
    assert f"{_system(watched, 'civil').key}: ok" in out


def test_the_embedded_worker_runs_the_probe_round_at_the_status_interval(watched, settings):
    from panjereh.common import periodic

    settings.PANJEREH_STATUS_INTERVAL = 0.2
    now = [1000.0]
    schedule = periodic.Schedule(clock=lambda: now[0])
    watched.control("martyrs", mode="fail")
    assert schedule.run_due() == []  # the first round one interval after the worker starts
    for _round in range(2):
        now[0] += 0.2
        assert "status-probe" in schedule.run_due()
    assert Check.objects.filter(ok=True).count() >= 2 * 12
    martyrs = _system(watched, "martyrs")
    assert Check.objects.filter(system=martyrs, ok=False).count() == 2
    incident = Incident.objects.get(system=martyrs, state=IncidentState.OPEN)  # two in a row
    assert incident.first_error == "HTTP 503"
