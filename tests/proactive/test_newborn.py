"""The newborn's birth certificate starts itself from the Ministry of Health's birth feed,
read through the exchange; the parents find it in their inbox without applying."""

from __future__ import annotations

import datetime as dt

import pytest

from panjereh.common import messaging
from panjereh.exchange.models import LogRecord
from panjereh.inbox import notify
from panjereh.inbox.models import Delivery, Message
from panjereh.proactive.models import Firing, Subscription
from panjereh.services import documents
from panjereh.services.models import Application, Document, Origin, State
from panjereh.services.notices import link

from .conftest import (
    REGISTRY_NEWS_DAY,
    REGISTRY_REFERENCE,
    SUBSCRIBED_ON,
    births_after,
    citizen,
    consent,
    newborn,
    read_at,
    recent_mother,
    run_until_settled,
    subscribe,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_hospital_birth_issues_the_certificate_to_both_parents(smart, registries, population):
    mother = citizen(
        population, lambda i: recent_mother(population, i) and population.mobile(i), level=2
    )
    father_index = mother.index - 1  # households are father, mother, children
    father = citizen(population, lambda i: i == father_index, level=2, start=father_index)
    consent(mother)
    definition = newborn()
    subscribe(definition)
    news = births_after(population, mother, SUBSCRIBED_ON, REGISTRY_REFERENCE)
    assert news

    started = read_at(registries, definition, REGISTRY_NEWS_DAY)
    applications = list(Application.objects.filter(user=mother).order_by("pk"))
    assert started == len(applications) == len(news)  # one per new child
    application = applications[0]
    assert application.origin == Origin.PROACTIVE
    assert application.subject_code in {e["related_national_code"] for e in news}
    notice = Message.objects.get(
        user=mother, kind=Message.Kind.NOTICE, link_url=link(application)["link_url"]
    )
    assert application.tracking_code in notice.body_fa
    # The feed was read through the exchange, logged like any other call, as the agency.
    feed_calls = LogRecord.objects.filter(
        service__code="events", service__subsystem="health-registry"
    )
    assert feed_calls.exists()
    assert set(feed_calls.values_list("subject", flat=True)) == {definition.agency.member_code}

    for other in applications[1:]:
        assert run_until_settled(other).state == State.ISSUED
    application = run_until_settled(application)
    assert application.state == State.ISSUED
    document = Document.objects.get(application=application)
    claims = documents.verify(document.token).claims
    assert claims["sub"] == application.subject_code
    values = {field[0]: field[2] for field in claims["fields"]}
    assert values["کد ملی مادر"] == mother.national_code
    assert values["کد ملی پدر"] == father.national_code
    # Both parents have it in their inbox; neither applied.
    about = link(application)["link_url"]
    assert Message.objects.filter(user=mother, link_url=about, kind="document").count() == 1
    assert Message.objects.filter(user=father, link_url=about, kind="document").count() == 1
    assert not Application.objects.filter(user=father).exists()

    # Reading again starts nothing new for the same child: the cursor moved past it.
    cursor = Subscription.objects.get(definition_code=definition.code).cursor
    assert read_at(registries, definition, REGISTRY_NEWS_DAY) == 0
    assert Subscription.objects.get(definition_code=definition.code).cursor == cursor
    assert Application.objects.filter(subject_code=application.subject_code).count() == 1
    assert Firing.objects.filter(outcome=Firing.Outcome.STARTED).count() == len(news)

    # The SMS alerts go out through the file provider, and their status is kept.
    assert notify.deliver_pending() >= 2
    assert not Delivery.objects.filter(status=Delivery.Status.PENDING).exists()
    assert messaging.sent_sms(mother.mobile)


def test_each_new_birth_gives_one_notice_naming_the_child(smart, registries, population):
    mother = citizen(population, lambda i: recent_mother(population, i, days=50), level=2)
    consent(mother)
    definition = newborn()
    subscribe(definition)
    news = births_after(population, mother, SUBSCRIBED_ON, REGISTRY_REFERENCE)
    assert read_at(registries, definition, REGISTRY_NEWS_DAY) == len(news)
    assert read_at(registries, definition, REGISTRY_NEWS_DAY + dt.timedelta(hours=1)) == 0
    for event in news:
        child = population.index_of(event["related_national_code"])
        person = population.person(child)
        name = f"{person['first_name']} {person['last_name']}"
        application = Application.objects.get(
            user=mother, subject_code=event["related_national_code"]
        )
        notices = Message.objects.filter(
            user=mother, kind=Message.Kind.NOTICE, link_url=link(application)["link_url"]
        )
        assert notices.count() == 1
        assert name in notices[0].subject_fa and name in notices[0].body_fa
        assert name in notices[0].subject_en
        assert event["related_national_code"] in notices[0].body_fa
    assert Message.objects.filter(user=mother, kind=Message.Kind.NOTICE).count() == len(news)
