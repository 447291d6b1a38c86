"""A notice kept for a person who has not signed up does not wait forever: after
``PANJEREH_MAILBOX_HELD_DAYS`` (30) the job ``mailbox-held-expire`` closes it as not reachable
electronically, and the sender is told through its status and its signed callback, to serve it
on paper (tested with frozen time)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from panjereh.common import periodic
from panjereh.inbox.models import Message
from panjereh.mailbox import operations
from panjereh.mailbox.models import Callback, Notice, NoticeEvent
from tests.factories import UserFactory

from .conftest import national_code

pytestmark = pytest.mark.django_db


def _held(sender, registries, key: str = "held-p"):
    code = national_code()
    registries.people.add(code)
    answer = sender.send(code, key=key, callback_url="https://court.example/hooks")
    assert answer.status_code == 201 and answer.json()["status"] == "held"
    return code, Notice.objects.get(reference=answer.json()["id"])


def test_a_held_notice_closes_exactly_after_its_days_and_the_sender_is_told(
    sender, registries, settings
):
    settings.PANJEREH_MAILBOX_HELD_DAYS = 30
    code, notice = _held(sender, registries)
    due = notice.created_at + dt.timedelta(days=30)
    with time_machine.travel(due - dt.timedelta(seconds=1), tick=False):
        assert operations.expire_held() == 0
    notice.refresh_from_db()
    assert notice.state == "held"
    with time_machine.travel(due, tick=False):
        assert operations.expire_held() == 1
        assert operations.expire_held() == 0  # once
    notice.refresh_from_db()
    assert notice.state == "failed" and notice.failed_reason == operations.NOT_REACHABLE
    event = NoticeEvent.objects.filter(notice=notice).latest("pk")
    assert (event.from_state, event.to_state) == ("held", "failed")
    assert "paper" in event.detail
    # The sender reads it in the status and gets one callback for it.
    status = sender.get(f"notices/{notice.reference}").json()
    assert (
        status["status"] == "failed" and status["failed_reason"] == "not_reachable_electronically"
    )
    assert Callback.objects.filter(notice=notice, state="failed").count() == 1
    # Signing up later does not make it available: the agency was told to serve it otherwise.
    user = UserFactory(national_code=code, mobile="0913" + code[-7:], is_staff=False)
    user.save()
    assert operations.deliver_held(user) == 0
    notice.refresh_from_db()
    assert notice.state == "failed" and notice.made_available_at is None
    assert not Message.objects.filter(user=user).exists()


def test_a_person_who_signs_up_in_time_gets_it_and_the_job_leaves_it(sender, registries, client):
    code, notice = _held(sender, registries, key="held-q")
    user = UserFactory(national_code=code, mobile="0913" + code[-7:], is_staff=False)
    user.save()
    with time_machine.travel(notice.created_at + dt.timedelta(days=29), tick=False):
        client.force_login(user)
    with time_machine.travel(notice.created_at + dt.timedelta(days=31), tick=False):
        assert operations.expire_held() == 0
    notice.refresh_from_db()
    assert notice.state in ("made_available", "served")


def test_zero_days_keeps_held_notices_without_end(sender, registries, settings):
    settings.PANJEREH_MAILBOX_HELD_DAYS = 0
    _code, notice = _held(sender, registries, key="held-r")
    with time_machine.travel(timezone.now() + dt.timedelta(days=3650), tick=False):
        assert operations.expire_held() == 0
    notice.refresh_from_db()
    assert notice.state == "held"


def test_the_job_is_in_the_one_periodic_table():
    assert (
        periodic.DEFAULT_JOBS["mailbox-held-expire"][0] == "panjereh.mailbox.operations.expire_held"
    )
