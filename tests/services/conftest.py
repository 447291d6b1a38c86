"""Fixtures of the smart-services tests: the exchange tests' real registry processes, the
gateway served by the live server, the definitions loaded and their grants approved."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from tests.exchange.conftest import _clean_state, population, registries  # noqa: F401

REGISTRY_REFERENCE = dt.date(2025, 3, 20)  # the day the simulated registries answer "as of"


@pytest.fixture
def smart(live_server, registries, settings, tmp_path):  # noqa: F811
    """The exchange knows the registries; every definition is loaded and provisioned; the
    engine calls the gateway of the live server over HTTP."""
    from panjereh.exchange import provision
    from panjereh.services import definitions, nix
    from panjereh.services.models import ServiceDefinition

    settings.PANJEREH_SERVICES_EXCHANGE_URL = live_server.url
    settings.PANJEREH_SERVICES_RETRY_BASE_SECONDS = 0.2
    settings.PANJEREH_SERVICES_RETRY_MAX_SECONDS = 1
    settings.PANJEREH_TASKS = "inprocess"
    settings.VAR_DIR = tmp_path
    # Definitions first: the registries then join the exchange under the same agencies.
    result = definitions.load()
    assert not result.refused, result.refused
    provision.register_registries(registries.addresses())
    for definition in ServiceDefinition.objects.filter(active=True).select_related(
        "agency", "service"
    ):
        nix.provision(definition, resolution_number="1404/test")
    return live_server


def citizen(population, pick, *, level: int = 3, start: int = 0, mobile: bool = True):  # noqa: F811
    """A user for the first person of the synthetic population for whom ``pick(i)`` holds."""
    from panjereh.identity.models import User

    for i in range(start, population.size):
        if pick(i):
            code = population.national_code(i)
            person = population.person(i)
            user, _created = User.objects.get_or_create(
                national_code=code,
                defaults={
                    "username": f"c{code}",
                    "first_name": person["first_name"],
                    "last_name": person["last_name"],
                    "mobile": (population.mobile(i) or "") if mobile else "",
                    "assurance_level": level,
                },
            )
            user.index = i
            return user
    raise AssertionError("nobody in the population fits")


def adult(population, i: int) -> bool:  # noqa: F811
    person = population.person(i)
    return person["alive"] and person["age"] >= 18


def clean_adult(population, i: int) -> bool:  # noqa: F811
    return adult(population, i) and not population.criminal_record(i)["has_record"]


def convicted(population, i: int) -> bool:  # noqa: F811
    return adult(population, i) and population.criminal_record(i)["has_record"]


def student(population, i: int) -> bool:  # noqa: F811
    return adult(population, i) and population.student_status(i)["enrolled"]


def veteran(population, i: int) -> bool:  # noqa: F811
    return population.person(i)["alive"] and population.veteran_status(i)["is_veteran"]


# A day the simulated registries' newest births are news: the proactive tests travel to it.
REGISTRY_NEWS_DAY = dt.datetime(2025, 3, 21, 9, 0, tzinfo=dt.UTC)


def births(population, i: int) -> list[dt.date]:  # noqa: F811
    return [
        dt.date.fromisoformat(b["birth_time"][:10]) for b in population.hospital_births_of_mother(i)
    ]


def recent_mother(population, i: int, days: int = 50) -> bool:  # noqa: F811
    """A living mother with a hospital birth in the ``days`` before the registries' day."""
    if population.person(i)["role"] != 1 or not population.person(i)["alive"]:
        return False
    return any(
        born >= REGISTRY_REFERENCE - dt.timedelta(days=days) for born in births(population, i)
    )


# Two years after the registries' day: their births of that year are two years old by then.
TWO_YEARS_ON = REGISTRY_NEWS_DAY + dt.timedelta(days=730)


def run_until_settled(application, *, timeout: float = 20.0):
    """Run the worker's task function until the application stops moving (or time runs out)."""
    import time

    from panjereh.services import tasks, workflow

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tasks.process_due()
        application.refresh_from_db()
        if application.state not in workflow.RUNNABLE:
            return application
        time.sleep(0.05)
    return application


def submit(code: str, user, **inputs):
    from panjereh.services import definitions, engine

    application, _created = engine.submit(
        definitions.active(code), user, idempotency_key=uuid.uuid4().hex, inputs=inputs
    )
    return application


@pytest.fixture(autouse=True)
def _english_messages():
    """Assertions read the English msgids; the pages are tested in Persian separately."""
    from django.utils import translation

    with translation.override("en"):
        yield
