"""Other life events than births: a death in a family and an 18th birthday start the service
their definition names, and the notice says whom it is about."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from panjereh.inbox.models import Message
from panjereh.proactive.models import Firing
from panjereh.services import nix
from panjereh.services.models import Application, Origin

from .conftest import consent, feed_of, newborn, read_at, subscribe

pytestmark = pytest.mark.django_db(transaction=True)


def _definition(code: str, trigger: str, item: str):
    """A definition started by ``trigger`` on the civil feed: the newborn's data lines (its
    subject's identity from Civil Registration names the person), another trigger."""
    definition = copy.copy(newborn())
    spec = copy.deepcopy(definition.spec)
    spec.update(
        code=code,
        title_fa="خدمت آزمایشی رویداد",
        title_en="Life-event test service",
        proactive={
            "trigger": trigger,
            "window_days": 3650,
            "registry": "civil",
            "service": "events",
            "items": [item],
        },
    )
    definition.pk = None
    definition.code = code
    definition.spec = spec
    definition.save()
    nix.provision(definition, resolution_number="1404/test")
    return definition


def _user(population, index: int):  # noqa: F811 -- the session's population
    from panjereh.identity.models import User

    code = population.national_code(index)
    person = population.person(index)
    return User.objects.create(
        username=f"c{code}",
        national_code=code,
        first_name=person["first_name"],
        last_name=person["last_name"],
        assurance_level=2,
    )


def test_a_death_in_the_family_names_the_deceased(smart, registries, population):
    definition = _definition("bereavement-test", "death", "civil.death_events")
    event = max(
        (e for e in feed_of("civil", population).all() if e["type"] == "death"),
        key=lambda e: e["cursor"],
    )
    relative = _user(population, population.index_of(event["subjects"][0]))
    consent(relative)
    published = dt.datetime.fromisoformat(event["published_at"])
    subscribe(definition, on=published - dt.timedelta(days=1))
    assert read_at(registries, definition, published + dt.timedelta(hours=1), "civil") == 1
    application = Application.objects.get(user=relative)
    assert application.origin == Origin.PROACTIVE
    assert application.subject_code == event["related_national_code"]  # about the deceased
    deceased = population.person(population.index_of(event["related_national_code"]))
    name = f"{deceased['first_name']} {deceased['last_name']}"
    notice = Message.objects.get(user=relative, kind=Message.Kind.NOTICE)
    assert name in notice.subject_fa and name in notice.body_fa and name in notice.subject_en
    assert "درگذشت" in notice.subject_fa
    # Again: nothing new.
    assert read_at(registries, definition, published + dt.timedelta(hours=2), "civil") == 0
    assert Firing.objects.filter(definition_code=definition.code).count() == 1


def test_an_18th_birthday_starts_the_service_for_the_person(smart, registries, population):
    definition = _definition("coming-of-age-test", "coming_of_age", "civil.coming_of_age_events")
    events = [
        e
        for e in feed_of("civil", population).all()
        if e["type"] == "coming_of_age" and e["occurred_on"] <= "2025-03-20"
    ]
    event = events[-1]
    person = _user(population, population.index_of(event["subjects"][0]))
    consent(person)
    published = dt.datetime.fromisoformat(event["published_at"])
    subscribe(definition, on=published - dt.timedelta(seconds=1))
    # The grant covers 18th birthdays only: the civil feed's deaths and marriages are not
    # passed to this subscriber at all.
    assert read_at(registries, definition, published + dt.timedelta(seconds=1), "civil") == 1
    application = Application.objects.get(user=person)
    assert application.subject_code == person.national_code
    notice = Message.objects.get(user=person, kind=Message.Kind.NOTICE)
    assert "۱۸" in notice.subject_fa and "18th" in notice.subject_en
    born = population.person(population.index_of(person.national_code))["birth_date"]
    assert event["occurred_on"] == born.replace(year=born.year + 18).isoformat()
