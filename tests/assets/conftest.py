"""Fixtures of the asset inquiry tests: the four asset registries as real processes, the real
gateway of a live server, the judiciary as an exchange consumer with its grants, judges."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache

from panjereh.catalogue import roles
from panjereh.exchange import breaker, gateway, provision
from panjereh.registries.population import Population
from panjereh.registries.supervisor import Cluster
from tests.factories import make_agency, make_agency_staff

ASSET_REGISTRIES = ("banks", "stock", "ssaa", "vehicle")


@pytest.fixture(scope="session")
def asset_registries():
    cluster = Cluster("small", seed=1404, registries=ASSET_REGISTRIES).start()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def population() -> Population:
    return Population(seed=1404, size=10_000)


@pytest.fixture(scope="session")
def rich(population) -> str:
    """A person with an account, holdings, a property and a vehicle."""
    from panjereh.registries.assets import AssetBook

    book = AssetBook(population)
    for i in range(0, 4000, 4):
        code = population.national_code(i)
        if (
            book.accounts(code)
            and book.holdings(code)
            and book.properties(code)
            and book.vehicles(code)
        ):
            return code
    raise AssertionError("no person with every kind of asset")


@dataclass
class Court:
    judiciary: object
    judge: object
    other_judge: object
    registries: Cluster


def make_judge(agency, **fields):
    user = make_agency_staff(agency, role="viewer", **fields)
    user.groups.add(Group.objects.get_or_create(name=roles.JUDGE)[0])
    return user


@pytest.fixture
def court(live_server, asset_registries, settings, tmp_path) -> Court:
    settings.VAR_DIR = tmp_path
    settings.PANJEREH_SERVICES_EXCHANGE_URL = live_server.url
    settings.PANJEREH_EXCHANGE_SEAL_INTERVAL = 0
    settings.PANJEREH_ASSETS_RETRY_BASE = 0  # a retried call is due at once in the tests
    gateway.clear_caches()
    breaker.reset()
    cache.clear()
    provision.register_registries(asset_registries.addresses())
    judiciary = make_agency(code="judiciary", name_en="Judiciary", name_fa="قوه قضاییه")
    from panjereh.assets import operations

    operations.provision(resolution_number="1404/assets-test")
    yield Court(judiciary, make_judge(judiciary), make_judge(judiciary), asset_registries)
    for name in ASSET_REGISTRIES:
        if name not in asset_registries.processes:
            asset_registries.start_one(name)
        asset_registries.control(name, mode="normal")
    breaker.reset()
