"""The status monitor watches the judiciary's case system (courts), the Financial Convictions
Registry and the asset registries (the banks and the securities depository) like every other
registry: found on the exchange, probed on their data path, an outage opened and closed."""

from __future__ import annotations

import pytest

from panjereh.exchange import provision
from panjereh.registries import assets, convictions, courts
from panjereh.registries.supervisor import Cluster
from panjereh.status import monitor
from panjereh.status.models import Incident, IncidentState, System, SystemKind

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

NAMES = (courts.NAME, convictions.NAME, *assets.NAMES)


@pytest.fixture(scope="module")
def judicial_cluster():
    cluster = Cluster("small", seed=1404, registries=NAMES).start()
    yield cluster
    cluster.stop()


@pytest.fixture
def watched(judicial_cluster, live_server, settings):
    settings.PANJEREH_STATUS_BASE_URL = live_server.url
    provision.register_registries(judicial_cluster.addresses())
    monitor.sync_systems()
    yield judicial_cluster
    for name in NAMES:
        if name not in judicial_cluster.processes:
            judicial_cluster.start_one(name)
        judicial_cluster.control(name, mode="normal")


def _system(cluster, name: str) -> System:
    port = cluster.ports[name]
    return System.objects.get(kind=SystemKind.REGISTRY, check_url__contains=f":{port}/")


def test_each_judicial_and_asset_registry_is_watched_and_healthy(watched):
    systems = {name: _system(watched, name) for name in NAMES}
    assert len({s.pk for s in systems.values()}) == len(NAMES)
    results = dict((s.pk, r) for s, r in monitor.probe_round())
    for name, system in systems.items():
        assert system.enabled, name
        assert results[system.pk].ok, (name, system.check_url, results[system.pk].error)
        assert system.name_en, name


def test_an_outage_of_each_is_an_incident_with_its_start(watched):
    systems = {name: _system(watched, name) for name in NAMES}
    watched.control(courts.NAME, mode="drop")
    watched.control(convictions.NAME, mode="fail")
    watched.stop_one(assets.NAMES[0])
    watched.control(assets.NAMES[1], mode="drop")
    monitor.probe_round()
    monitor.probe_round()
    opened = {i.system_id for i in Incident.objects.filter(state=IncidentState.OPEN)}
    assert opened == {s.pk for s in systems.values()}
    for name in NAMES:
        if name in watched.processes:
            watched.control(name, mode="normal")
    watched.start_one(assets.NAMES[0])
    watched.control(assets.NAMES[0], mode="normal")
    monitor.probe_round()
    monitor.probe_round()
    assert not Incident.objects.filter(state=IncidentState.OPEN).exists()
