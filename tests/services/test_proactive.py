"""The newborn's birth certificate starts itself from the Ministry of Health's hospital birth
record, polled through the exchange; the parents find it in their inbox without applying."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from panjereh.common import messaging
from panjereh.inbox import notify
from panjereh.inbox.models import Delivery, Message
from panjereh.services import documents, proactive
from panjereh.services.models import Application, Document, Origin, State
from panjereh.services.notices import link

from .conftest import (
    REGISTRY_NEWS_DAY,
    REGISTRY_REFERENCE,
    TWO_YEARS_ON,
    citizen,
    recent_mother,
    run_until_settled,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_hospital_birth_issues_the_certificate_to_both_parents(smart, population):
    mother = citizen(
        population, lambda i: recent_mother(population, i) and population.mobile(i), level=2
    )
    father_index = mother.index - 1  # households are father, mother, children
    father = citizen(population, lambda i: i == father_index, level=2, start=father_index)
    assert Application.objects.count() == 0

    with time_machine.travel(REGISTRY_NEWS_DAY, tick=True):
        started = proactive.poll_births(force=True)
    assert started >= 1
    applications = list(Application.objects.filter(user=mother).order_by("pk"))
    assert len(applications) == started  # one per recent child
    application = applications[0]
    assert application.origin == Origin.PROACTIVE
    assert application.subject_code != mother.national_code  # about the child
    notice = Message.objects.get(
        user=mother, kind=Message.Kind.NOTICE, link_url=link(application)["link_url"]
    )
    assert application.tracking_code in notice.body_fa
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

    # The journey says what each registry line asked: no two lines read the same.
    asked = [e.text_en for e in application.events.filter(kind="data_requested")]
    assert len(asked) == len(set(asked)) == 5, asked
    # Polling again starts nothing new for the same child.
    with time_machine.travel(REGISTRY_NEWS_DAY, tick=True):
        assert proactive.poll_births(force=True) == 0
    assert Application.objects.filter(subject_code=application.subject_code).count() == 1

    # The SMS alerts go out through the file provider, and their status is kept.
    assert notify.deliver_pending() >= 2
    assert not Delivery.objects.filter(status=Delivery.Status.PENDING).exists()
    assert messaging.sent_sms(mother.mobile)


def test_a_birth_two_years_old_starts_nothing_and_congratulates_nobody(smart, population):
    mother = citizen(population, lambda i: recent_mother(population, i, days=365), level=2)
    with time_machine.travel(TWO_YEARS_ON, tick=True):
        assert proactive.poll_births(force=True) == 0
    assert not Application.objects.exists()
    assert not Message.objects.filter(user=mother).exists()


def test_a_new_birth_gives_one_notice_naming_the_child_however_often_polled(smart, population):
    mother = citizen(population, lambda i: recent_mother(population, i, days=50), level=2)
    new = [
        b
        for b in population.hospital_births_of_mother(mother.index)
        if dt.date.fromisoformat(b["birth_time"][:10]) >= REGISTRY_REFERENCE - dt.timedelta(days=50)
    ]
    with time_machine.travel(REGISTRY_NEWS_DAY, tick=True):
        assert proactive.poll_births(force=True) == len(new)
        assert proactive.poll_births(force=True) == 0  # the same events again: nothing new
    for birth in new:
        child = population.index_of(birth["child_national_code"])
        name = f"{population.person(child)['first_name']} {population.person(child)['last_name']}"
        application = Application.objects.get(
            user=mother, subject_code=birth["child_national_code"]
        )
        notices = Message.objects.filter(
            user=mother, kind=Message.Kind.NOTICE, link_url=link(application)["link_url"]
        )
        assert notices.count() == 1
        assert name in notices[0].subject_fa and name in notices[0].body_fa
        assert birth["child_national_code"] in notices[0].body_fa
    assert Message.objects.filter(user=mother, kind=Message.Kind.NOTICE).count() == len(new)
