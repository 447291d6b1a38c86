"""The legal status: opened by the addressee only, deemed served exactly when the rule says,
immutability, the SMS alert without the content, attachments for the addressee only."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.test import override_settings
from django.utils import timezone

from panjereh.common import messaging
from panjereh.identity.models import Delegation
from panjereh.inbox import notify
from panjereh.inbox.models import Message
from panjereh.mailbox import operations
from panjereh.mailbox.models import Attachment, Immutable, Notice, NoticeEvent
from tests.factories import UserFactory

from .conftest import PDF, b64, national_code

pytestmark = pytest.mark.django_db
START = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)


def _helper_for(citizen):
    helper = UserFactory(national_code=national_code(), is_staff=False)
    helper.save()
    now = timezone.now()
    delegation = Delegation.objects.create(
        principal=citizen,
        helper_national_code=helper.national_code,
        helper=helper,
        purpose="کمک",
        accepted_at=now,
        expires_at=now + dt.timedelta(days=30),
    )
    return helper, delegation


def test_the_addressee_opening_it_records_opened_and_served_once(sender, citizen, client):
    reference = sender.send(citizen.national_code).json()["id"]
    client.force_login(citizen)
    page = client.get(f"/mailbox/{reference}/")
    assert page.status_code == 200
    notice = Notice.objects.get(reference=reference)
    assert notice.opened_at is not None and notice.served_at == notice.opened_at
    assert notice.served_by == "opened"
    first = notice.opened_at
    client.get(f"/mailbox/{reference}/")
    notice.refresh_from_db()
    assert notice.opened_at == first
    states = list(NoticeEvent.objects.filter(notice=notice).values_list("to_state", "by"))
    assert states[-2:] == [("opened", citizen.pk), ("served", citizen.pk)]
    status = sender.get(f"notices/{reference}").json()
    assert status["status"] == "served"
    assert status["opened_at"] == first.isoformat()
    assert status["served_at"] == first.isoformat()


def test_opened_by_a_helper_is_not_opened(sender, citizen, client):
    reference = sender.send(citizen.national_code).json()["id"]
    helper, delegation = _helper_for(citizen)
    client.force_login(helper)
    session = client.session
    session["panjereh_acting_delegation"] = delegation.pk
    session.save()
    page = client.get(f"/mailbox/{reference}/")
    assert page.status_code == 200
    assert b"not-opened-note" in page.content
    notice = Notice.objects.get(reference=reference)
    assert notice.opened_at is None and notice.state == "made_available"
    # The helper reads the notice, but its papers are the addressee's.
    assert client.get(f"/mailbox/{reference}/files/0/").status_code == 404


def test_staff_and_strangers_cannot_read_and_do_not_open(sender, citizen, client):
    reference = sender.send(
        citizen.national_code, attachments=[{"name": "a.pdf", "content": b64(PDF)}]
    ).json()["id"]
    admin = get_user_model().objects.create_superuser("root", "r@example.org", "pw-long-enough-1")
    client.force_login(admin)
    assert client.get(f"/mailbox/{reference}/").status_code == 404
    admin_page = client.get(f"/en/admin/mailbox/notice/{Notice.objects.get().pk}/change/")
    assert admin_page.status_code == 200
    stranger = UserFactory(national_code=national_code(), is_staff=False)
    stranger.save()
    client.force_login(stranger)
    assert client.get(f"/mailbox/{reference}/").status_code == 404
    assert client.get(f"/mailbox/{reference}/files/0/").status_code == 404
    notice = Notice.objects.get(reference=reference)
    assert notice.opened_at is None
    client.force_login(citizen)
    download = client.get(f"/mailbox/{reference}/files/0/")
    assert download.status_code == 200 and download.content == PDF


@override_settings(PANJEREH_MAILBOX_DEEMED_DAYS=10)
def test_deemed_served_exactly_when_the_rule_says(sender, citizen):
    with time_machine.travel(START, tick=False):
        reference = sender.send(citizen.national_code).json()["id"]
    made = Notice.objects.get(reference=reference).made_available_at
    assert made == START
    with time_machine.travel(START + dt.timedelta(days=10, seconds=-1), tick=False):
        assert sender.get(f"notices/{reference}").json()["status"] == "made_available"
        assert operations.serve_due() == 0
    with time_machine.travel(START + dt.timedelta(days=10), tick=False):
        status = sender.get(f"notices/{reference}").json()
    assert status["status"] == "served"
    assert status["served_at"] == (START + dt.timedelta(days=10)).isoformat()
    assert status["served_by"] == "deemed" and status["opened_at"] is None


@override_settings(PANJEREH_MAILBOX_DEEMED_DAYS=3)
def test_the_job_serves_at_the_rules_moment_and_a_late_opening_is_kept(sender, citizen, client):
    with time_machine.travel(START, tick=False):
        reference = sender.send(citizen.national_code).json()["id"]
    with time_machine.travel(START + dt.timedelta(days=5), tick=False):
        assert operations.serve_due() == 1
        client.force_login(citizen)
        client.get(f"/mailbox/{reference}/")
    notice = Notice.objects.get(reference=reference)
    assert notice.served_at == START + dt.timedelta(days=3)
    assert notice.served_by == "deemed"
    assert notice.opened_at == START + dt.timedelta(days=5)


@override_settings(PANJEREH_MAILBOX_DEEMED_DAYS=0)
def test_with_no_days_only_opening_serves(sender, citizen):
    with time_machine.travel(START, tick=False):
        reference = sender.send(citizen.national_code).json()["id"]
    with time_machine.travel(START + dt.timedelta(days=400), tick=False):
        assert operations.serve_due() == 0
        assert sender.get(f"notices/{reference}").json()["status"] == "made_available"


def test_a_notice_cannot_be_edited_or_deleted(sender, citizen, client):
    sender.send(citizen.national_code, attachments=[{"name": "a.pdf", "content": b64(PDF)}])
    notice = Notice.objects.get()
    notice.subject = "changed"
    with pytest.raises(Immutable):
        notice.save()
    with pytest.raises(Immutable):
        notice.delete()
    with pytest.raises(Immutable):
        Notice.objects.all().delete()
    with pytest.raises(Immutable):
        Notice.objects.update(body="changed")
    with pytest.raises(Immutable):
        Attachment.objects.get().delete()
    with pytest.raises(Immutable):
        NoticeEvent.objects.all().delete()
    assert Notice.objects.get().subject == "احضاریه"
    admin = get_user_model().objects.create_superuser("root", "r@example.org", "pw-long-enough-1")
    client.force_login(admin)
    pk = notice.pk
    assert client.get(f"/en/admin/mailbox/notice/{pk}/delete/").status_code == 403
    changed = client.post(f"/en/admin/mailbox/notice/{pk}/change/", {"subject": "x"})
    assert changed.status_code == 403
    assert Notice.objects.get().subject == "احضاریه"


def test_the_sms_alert_carries_no_content(sender, citizen, settings):
    sender.send(citizen.national_code, subject="حکم جلب متهم", body="متن محرمانه")
    message = Message.objects.get(user=citizen)
    assert message.kind == "notice" and "/mailbox/" in message.link_url
    assert notify.deliver_pending() >= 1
    texts = [sms["text"] for sms in messaging.sent_sms(citizen.mobile)]
    assert texts and "حکم جلب" not in texts[-1] and "محرمانه" not in texts[-1]
    assert sender.agency.name_fa in texts[-1]


def test_the_inbox_links_to_official_notices(citizen, client):
    client.force_login(citizen)
    page = client.get("/inbox/")
    assert b'id="official-mailbox"' in page.content and b"/mailbox/" in page.content


@override_settings(PANJEREH_MAILBOX_DEEMED_DAYS=2)
def test_the_list_shows_the_rule_s_status_without_opening(sender, citizen, client):
    with time_machine.travel(START, tick=False):
        reference = sender.send(citizen.national_code).json()["id"]
    client.force_login(citizen)
    with time_machine.travel(START + dt.timedelta(days=2, seconds=1), tick=False):
        page = client.get("/en/mailbox/")
    assert b'data-state="served"' in page.content
    notice = Notice.objects.get(reference=reference)
    assert notice.served_at == START + dt.timedelta(days=2) and notice.opened_at is None
