"""The inbox: one message per event, read/unread, private to its owner, delivery status."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from panjereh.common import messaging
from panjereh.inbox import notify
from panjereh.inbox.models import Delivery, Message
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _message(user, key="k1"):
    return notify.post(
        user,
        kind=Message.Kind.NOTICE,
        dedupe_key=key,
        subject_fa="اطلاعیه رسمی",
        subject_en="Official notice",
        body_fa="متن اطلاعیه",
    )


def test_one_message_per_event_and_its_alerts(settings, tmp_path, mailoutbox):
    settings.VAR_DIR = tmp_path
    user = UserFactory(national_code="0012345679", mobile="09121112233", email="a@example.org")
    first, created = _message(user)
    again, created_again = _message(user)
    assert created and not created_again and first.pk == again.pk
    assert set(first.deliveries.values_list("channel", flat=True)) == {"sms", "email"}
    assert notify.deliver_pending() == 2
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}
    (sms,) = messaging.sent_sms("09121112233")
    assert "اطلاعیه رسمی" in sms["text"]
    (email,) = mailoutbox
    assert email.to == ["a@example.org"] and email.subject == "اطلاعیه رسمی"


def test_the_sms_has_one_full_stop_after_a_subject_that_ends_with_one(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    user = UserFactory(national_code="0012345679", mobile="09121112233")
    notify.post(
        user,
        kind=Message.Kind.NOTICE,
        dedupe_key="stop",
        subject_fa="گواهی شما صادر شد.",
        subject_en="Your certificate has been issued.",
        body_fa="متن",
    )
    notify.deliver_pending()
    (sms,) = messaging.sent_sms("09121112233")
    assert sms["text"] == "پنجره ملی: گواهی شما صادر شد. صندوق پیام خود را ببینید."


def test_a_failing_backend_is_retried_then_marked_failed(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.PANJEREH_SMS_PROVIDER = "tests.broken_sms"
    user = UserFactory(national_code="0012345679", mobile="09121112233")
    message, _ = _message(user)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        notify.deliver_pending()
        # A second round at once does not try again: an outage of a few seconds must not use
        # up every attempt.
        notify.deliver_pending()
    delivery = message.deliveries.get()
    assert delivery.attempts == 1 and delivery.status == Delivery.Status.PENDING
    for hours in range(1, notify.MAX_ATTEMPTS + 2):
        with time_machine.travel(start + dt.timedelta(hours=hours), tick=False):
            notify.deliver_pending()
    delivery = message.deliveries.get()
    assert delivery.status == Delivery.Status.FAILED
    assert delivery.attempts == notify.MAX_ATTEMPTS
    assert "gateway down" in delivery.last_error
    assert Message.objects.filter(pk=message.pk).exists()  # the inbox copy stays


def test_inbox_is_private_and_tracks_reading(client):
    owner = UserFactory(national_code="0012345679", is_staff=False)
    other = UserFactory(national_code="0023456780", is_staff=False)
    message, _ = _message(owner)
    client.force_login(other)
    assert client.get(f"/inbox/{message.pk}/").status_code == 404
    assert "اطلاعیه رسمی" not in client.get("/inbox/").content.decode()
    client.force_login(owner)
    assert "اطلاعیه رسمی" in client.get("/inbox/").content.decode()
    assert client.get(f"/inbox/{message.pk}/").status_code == 200
    message.refresh_from_db()
    assert message.read_at is not None
