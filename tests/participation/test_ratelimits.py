"""Rate limits on voting, proposing and commenting (per person, in the shared cache)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from panjereh.catalogue.models import Service
from panjereh.participation import limits, operations
from panjereh.participation.models import Comment, Suggestion, Vote
from tests.factories import make_service

from .conftest import make_citizen, tehran

pytestmark = pytest.mark.django_db


def test_votes_are_rate_limited(cards):
    extra = [make_service(cards["agency"], connected=False, connection_form="") for _ in range(3)]
    client = Client()
    client.force_login(make_citizen())
    allowed = limits.VOTES.limit - 1
    cards_ids = list(Service.objects.values_list("pk", flat=True))
    statuses = []
    for i in range(allowed + 1):
        # Repeated votes for the same card count as attempts too.
        pk = cards_ids[i % len(cards_ids)] if i < len(cards_ids) else extra[0].pk
        statuses.append(
            client.post(
                "/en/participate/vote/", {"service": pk}, HTTP_ACCEPT="application/json"
            ).status_code
        )
    assert statuses[-1] == 429
    assert 429 not in statuses[:-1]
    before = Vote.objects.count()
    response = client.post("/en/participate/vote/", {"service": extra[1].pk}, follow=True)
    assert "Too many votes" in response.content.decode()
    assert Vote.objects.count() == before


def test_proposals_are_rate_limited(cards):
    client = Client()
    client.force_login(make_citizen())
    data = {"p-agency": cards["agency"].pk, "p-goal": "smart"}
    for i in range(limits.PROPOSALS.limit - 1):
        response = client.post(
            "/en/participate/propose/", {**data, "p-text": f"پیشنهاد شماره {i} برای خدمت"}
        )
        assert response.status_code == 302
    response = client.post(
        "/en/participate/propose/", {**data, "p-text": "یک پیشنهاد دیگر برای خدمت"}
    )
    assert response.status_code == 429 and "Too many proposals" in response.content.decode()
    assert Suggestion.objects.count() == limits.PROPOSALS.limit - 1


def test_comments_are_rate_limited(cards, staff):
    now = tehran(2026, 11, 22, 10, 0)
    item = operations.create_consultation(
        staff["a"],
        cards["agency"],
        "عنوان",
        "متن نظرخواهی",
        now - dt.timedelta(days=1),
        now + dt.timedelta(days=700),
    )
    operations.open_consultation(staff["a"], item)
    client = Client()
    client.force_login(make_citizen())
    url = f"/en/participate/consultations/{item.pk}/"
    for i in range(limits.COMMENTS.limit - 1):
        assert client.post(url, {"text": f"نظر شماره {i} درباره این متن"}).status_code == 302
    response = client.post(url, {"text": "یک نظر دیگر درباره این متن"})
    assert response.status_code == 429 and "Too many comments" in response.content.decode()
    assert Comment.objects.count() == limits.COMMENTS.limit - 1
