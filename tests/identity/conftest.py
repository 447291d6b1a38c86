"""Fixtures for the identity tests.

``fake_registry`` replaces the three functions of ``registry_checks`` for the unit tests of
registration and sign-in (their subject is the national window's own rules). End-to-end tests
use the real registries through the exchange instead.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest
from django.core.cache import cache
from django.utils import timezone

from panjereh.identity import assurance, registry_checks
from panjereh.identity.models import User

from .helpers import national_code


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


@dataclass
class FakeRegistry:
    people: dict[str, registry_checks.CivilRecord] = field(default_factory=dict)
    mobiles: dict[str, str] = field(default_factory=dict)
    photos: dict[str, bytes] = field(default_factory=dict)
    calls: list[tuple] = field(default_factory=list)
    down: bool = False

    def add(self, code: str, birth: dt.date, mobile: str, first="مریم", last="رضایی"):
        self.people[code] = registry_checks.CivilRecord(
            national_code=code,
            first_name=first,
            last_name=last,
            father_name="حسن",
            birth_date=birth,
            sex="female",
            alive=True,
        )
        self.mobiles[mobile] = code
        self.photos[code] = f"photo of {code}".encode()

    def match_identity(self, code, birth_date):
        self.calls.append(("identity", code))
        if self.down:
            raise registry_checks.RegistryUnavailable("down")
        record = self.people.get(code)
        return record if record and record.birth_date == birth_date else None

    def mobile_belongs_to(self, code, mobile):
        self.calls.append(("mobile", code))
        if self.down:
            raise registry_checks.RegistryUnavailable("down")
        return self.mobiles.get(mobile) == code

    def photo_matches(self, code, image):
        self.calls.append(("photo", code))
        return self.photos.get(code) == image


PERSON_CODE = national_code("049937089")
PERSON_BIRTH = dt.date(1991, 9, 22)  # 1370/06/31
PERSON_MOBILE = "09121234567"
OTHER_CODE = national_code("123456780")
OTHER_MOBILE = "09350000001"


@pytest.fixture
def fake_registry(monkeypatch) -> FakeRegistry:
    fake = FakeRegistry()
    fake.add(PERSON_CODE, PERSON_BIRTH, PERSON_MOBILE)
    fake.add(OTHER_CODE, dt.date(1980, 1, 1), OTHER_MOBILE, first="علی", last="کریمی")
    for name in ("match_identity", "mobile_belongs_to", "photo_matches"):
        monkeypatch.setattr(registry_checks, name, getattr(fake, name))
    return fake


def make_citizen(code: str = PERSON_CODE, mobile: str = PERSON_MOBILE, **fields) -> User:
    """A registered citizen at level 1 (as registration leaves them)."""
    now = timezone.now()
    user = User(
        username=f"c-{code}",
        national_code=code,
        mobile=mobile,
        first_name=fields.pop("first_name", "مریم"),
        last_name=fields.pop("last_name", "رضایی"),
        registry_verified_at=now,
        mobile_verified_at=now,
        **fields,
    )
    user.set_unusable_password()
    user.save()
    assurance.recompute(user)
    return user


@pytest.fixture
def citizen(db) -> User:
    return make_citizen()


# -- the real registries, reached through the exchange -------------------------------------------


@pytest.fixture(scope="session")
def registry_cluster():
    from panjereh.registries.supervisor import Cluster

    cluster = Cluster("small", seed=1404, registries=("civil", "shahkar", "ssaa")).start()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def population():
    from panjereh.registries.population import Population

    return Population(seed=1404, size=10_000)


@pytest.fixture
def through_exchange(live_server, registry_cluster, settings):
    """The exchange knows the registries; the national window is its consumer with approved
    grants; ``registry_checks`` calls the gateway of the running server over HTTP."""
    from panjereh.catalogue import operations
    from panjereh.catalogue.models import Agency
    from panjereh.exchange import provision
    from panjereh.identity.management.commands.identity_exchange import PLATFORM_AGENCY

    settings.PANJEREH_IDENTITY_EXCHANGE_URL = live_server.url
    provision.register_registries(registry_cluster.addresses())
    operator = operations.save_agency(Agency(), dict(PLATFORM_AGENCY), author=operations.SYSTEM)
    return registry_checks.provision(operator, resolution_number="1404/test")


def adult_with_mobile(population, start: int = 0) -> dict:
    """A living adult of the synthetic population who has a mobile number."""
    for i in range(start, population.size):
        person = population.person(i)
        if person["alive"] and person["age"] >= 18 and population.mobile(i):
            return {
                "index": i,
                "national_code": population.national_code(i),
                "birth_date": person["birth_date"],
                "mobile": population.mobile(i),
                "first_name": person["first_name"],
                "last_name": person["last_name"],
            }
    raise AssertionError("no adult with a mobile")


# -- the sample agency windows, as separate processes ------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def agency_windows(live_server, var_dir):
    """Windows A and B registered as clients and running as their own processes."""
    import json
    import subprocess
    import sys
    import time
    import urllib.request

    from panjereh.identity.management.commands.sso_windows import write_window_configs

    ports = {"a": free_port(), "b": free_port()}
    paths = write_window_configs(live_server.url, ports)
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "panjereh.samples.agency_window", "--config", path],
            stdout=subprocess.DEVNULL,
        )
        for path in paths
    ]
    windows = {}
    try:
        for path in paths:
            config = json.loads(open(path, encoding="utf-8").read())
            deadline = time.monotonic() + 20
            while True:
                try:
                    urllib.request.urlopen(config["base_url"] + "/status", timeout=1)  # noqa: S310
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
            windows[config["name"]] = config
        yield windows
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)
