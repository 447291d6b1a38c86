"""Fixtures of the credit-check tests: the Financial Convictions Registry as a real process,
the real gateway of a live server, the national window's grant on its service, and people of
the simulated population (one with open convictions, one without)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import translation

from panjereh.catalogue import operations as catalogue_operations
from panjereh.catalogue.models import Agency
from panjereh.credit import registry
from panjereh.exchange import breaker, gateway, provision
from panjereh.registries import convictions
from panjereh.registries.population import Population
from panjereh.registries.supervisor import Cluster
from tests.factories import UserFactory

PLATFORM = {
    "code": "ito",
    "name_fa": "سازمان فناوری اطلاعات ایران",
    "name_en": "Information Technology Organization of Iran",
    "kind": "organisation",
    "connection_status": "connected",
    "connection_form": "national_system",
    "member_class": "GOV",
    "member_code": "10103609470",
}


@pytest.fixture(scope="session")
def population() -> Population:
    return Population(seed=1404, size=10_000)


def person_index(population: Population, *, convicted: bool, start: int = 0) -> int:
    """The first adult from ``start`` with (or without) open financial convictions."""
    for i in range(start, population.size):
        record = convictions.status(population, i)
        if population.person(i)["age"] >= 18 and record["has_open_convictions"] == convicted:
            if not convicted or record["count"] >= 2:
                return i
    raise LookupError("no such person")


@pytest.fixture(scope="session")
def registry_process():
    cluster = Cluster("small", seed=1404, registries=(convictions.NAME,)).start()
    yield cluster
    cluster.stop()


@pytest.fixture(autouse=True)
def _language_back():
    language = translation.get_language()
    yield
    translation.activate(language)


@pytest.fixture
def window(live_server, registry_process, settings, tmp_path):
    """The exchange knows the registry; the national window holds its grant."""
    settings.VAR_DIR = tmp_path
    settings.PANJEREH_CREDIT_EXCHANGE_URL = live_server.url
    settings.PANJEREH_EXCHANGE_SEAL_INTERVAL = 0
    gateway.clear_caches()
    breaker.reset()
    cache.clear()
    provision.register_registries(registry_process.addresses())
    operator = catalogue_operations.save_agency(
        Agency(), dict(PLATFORM), author=catalogue_operations.SYSTEM
    )
    registry.provision(operator, resolution_number="1404/test")
    yield registry_process
    registry_process.control(convictions.NAME, mode="normal")
    breaker.reset()


def make_person(national_code: str, mobile: str, first_name: str = "", last_name: str = ""):
    user = UserFactory(
        is_staff=False,
        national_code=national_code,
        mobile=mobile,
        first_name=first_name,
        last_name=last_name,
    )
    user.save()
    return user


@pytest.fixture
def people(db, population):
    """(Ali, without convictions; Sara, with two or more open convictions)."""
    clean = person_index(population, convicted=False)
    convicted = person_index(population, convicted=True)
    ali = make_person(population.national_code(clean), "09121111111", "علی", "رضایی")
    sara = make_person(population.national_code(convicted), "09122222222", "سارا", "کریمی")
    return ali, sara


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client
