"""Consultations: draft → open → closed → summary published; comments moderated; each
agency's staff manage only their own agency's consultations."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client

from panjereh.participation import operations
from panjereh.participation.models import (
    Comment,
    Consultation,
    ConsultationEvent,
    ConsultationState,
    Moderation,
)

from .conftest import make_citizen, tehran

pytestmark = pytest.mark.django_db

COMMENT = "پیشنهاد می‌کنم مهلت ارسال مدارک یک ماه شود"
NOW = tehran(2026, 11, 22, 10, 0)


def _new(client, agency, **extra):
    data = {
        "agency": agency.pk,
        "kind": "draft_text",
        "title": "پیش‌نویس آیین‌نامه",
        "text": "متن پیش‌نویس آیین‌نامه برای نظرخواهی عمومی",
        "opens_on": "۱۴۰۵/۰۹/۰۱",
        "closes_on": "1405/09/15",
        **extra,
    }
    return client.post("/en/participate/agency/new/", data)


def test_lifecycle_through_the_pages(cards, staff, moderator):
    agency_client, citizen_client, moderator_client = Client(), Client(), Client()
    citizen = make_citizen()
    with time_machine.travel(NOW, tick=False):
        agency_client.force_login(staff["a"])
        citizen_client.force_login(citizen)
        moderator_client.force_login(moderator)
        response = _new(agency_client, cards["agency"])
        item = Consultation.objects.get()
        assert response["Location"].endswith(f"/participate/agency/{item.pk}/")
        assert item.state == ConsultationState.DRAFT
        assert item.opens_at == tehran(2026, 11, 22, 0, 0)
        assert item.closes_at == tehran(2026, 12, 7, 0, 0)  # end of 1405/09/15
        # A draft is not public.
        assert citizen_client.get(f"/en/participate/consultations/{item.pk}/").status_code == 404
        agency_client.post(f"/en/participate/agency/{item.pk}/", {"action": "open"})
        item.refresh_from_db()
        assert item.state == ConsultationState.OPEN

        page = citizen_client.get(f"/en/participate/consultations/{item.pk}/")
        assert 'id="comment-form"' in page.content.decode()
        response = citizen_client.post(
            f"/en/participate/consultations/{item.pk}/", {"text": COMMENT}
        )
        assert response.status_code == 302
        comment = Comment.objects.get()
        assert comment.status == Moderation.PENDING
        assert (
            COMMENT
            not in citizen_client.get(f"/en/participate/consultations/{item.pk}/").content.decode()
        )

        moderator_client.post(
            f"/en/participate/moderation/comment/{comment.pk}/", {"decision": "approve"}
        )
        public = Client().get(f"/en/participate/consultations/{item.pk}/").content.decode()
        assert COMMENT in public
        assert citizen.last_name not in public and citizen.national_code not in public

        # The summary cannot come before closing.
        response = agency_client.post(
            f"/en/participate/agency/{item.pk}/", {"action": "summary", "summary": "x" * 20}
        )
        assert response.status_code == 400
        agency_client.post(f"/en/participate/agency/{item.pk}/", {"action": "close"})
        item.refresh_from_db()
        assert item.state == ConsultationState.CLOSED
        late = citizen_client.post(f"/en/participate/consultations/{item.pk}/", {"text": COMMENT})
        assert Comment.objects.count() == 1 and late.status_code == 400
        assert "not open for comments" in late.content.decode()
        agency_client.post(
            f"/en/participate/agency/{item.pk}/",
            {"action": "summary", "summary": "مهلت ارسال مدارک به یک ماه افزایش یافت"},
        )
    item.refresh_from_db()
    assert item.state == ConsultationState.SUMMARY
    public = Client().get(f"/en/participate/consultations/{item.pk}/").content.decode()
    assert "مهلت ارسال مدارک به یک ماه افزایش یافت" in public and 'data-state="summary"' in public
    events = list(ConsultationEvent.objects.values_list("from_state", "to_state", "by"))
    assert events == [
        ("draft", "open", staff["a"].pk),
        ("open", "closed", staff["a"].pk),
        ("closed", "summary", staff["a"].pk),
    ]


def test_staff_of_one_agency_cannot_manage_another_agencys_consultations(cards, staff):
    item = operations.create_consultation(
        staff["a"], cards["agency"], "عنوان", "متن نظرخواهی", NOW, NOW + dt.timedelta(days=7)
    )
    with pytest.raises(operations.NotAllowed):
        operations.create_consultation(
            staff["b"], cards["agency"], "عنوان", "متن", NOW, NOW + dt.timedelta(days=7)
        )
    with pytest.raises(operations.NotAllowed):
        operations.open_consultation(staff["b"], item)
    other = Client()
    other.force_login(staff["b"])
    assert other.get(f"/en/participate/agency/{item.pk}/").status_code == 404
    assert other.post(f"/en/participate/agency/{item.pk}/", {"action": "open"}).status_code == 404
    assert "عنوان" not in other.get("/en/participate/agency/").content.decode()
    # Creating through the form for an agency one does not belong to is refused too.
    response = _new(other, cards["agency"])
    assert response.status_code == 200 and not Consultation.objects.exclude(pk=item.pk).exists()
    item.refresh_from_db()
    assert item.state == ConsultationState.DRAFT
    # Citizens and viewers are not agency staff here.
    citizen = Client()
    citizen.force_login(make_citizen())
    assert citizen.get("/en/participate/agency/").status_code == 404


def test_transitions_are_checked_and_expired_consultations_close(cards, staff):
    item = operations.create_consultation(
        staff["a"], cards["agency"], "عنوان", "متن نظرخواهی", NOW, NOW + dt.timedelta(days=7)
    )
    with pytest.raises(operations.WrongState):
        operations.publish_summary(staff["a"], item, "خلاصه تغییرات آیین‌نامه")
    with pytest.raises(operations.WrongState):
        operations.close_consultation(staff["a"], item)
    with time_machine.travel(NOW, tick=False):
        operations.open_consultation(staff["a"], item)
        item.refresh_from_db()
        operations.comment(make_citizen(), item, COMMENT)
    with time_machine.travel(NOW + dt.timedelta(days=7, seconds=1), tick=False):
        item.refresh_from_db()
        assert not item.accepting_comments
        with pytest.raises(operations.WrongState):
            operations.comment(make_citizen(), item, COMMENT)
        assert operations.close_expired() == 1
        item.refresh_from_db()
        assert item.state == ConsultationState.CLOSED
        with pytest.raises(operations.InvalidText):
            operations.publish_summary(staff["a"], item, "کوتاه")
        operations.publish_summary(staff["a"], item, "خلاصه تغییرات آیین‌نامه")
    with pytest.raises(operations.WrongState):
        operations.open_consultation(staff["a"], item)


def test_comment_with_personal_data_is_refused(cards, staff):
    item = operations.create_consultation(
        staff["a"], cards["agency"], "عنوان", "متن نظرخواهی", NOW, NOW + dt.timedelta(days=7)
    )
    with time_machine.travel(NOW, tick=False):
        operations.open_consultation(staff["a"], item)
        client = Client()
        client.force_login(make_citizen())
        response = client.post(
            f"/en/participate/consultations/{item.pk}/", {"text": COMMENT + " ۰۹۱۲۱۲۳۴۵۶۷"}
        )
    assert response.status_code == 400
    assert "remove the mobile number" in response.content.decode()
    assert not Comment.objects.exists()
