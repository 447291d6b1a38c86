"""One vote per person per item per Jalali week (Saturday 00:00 to Friday 24:00, Tehran)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from panjereh.participation import operations, queries, weeks
from panjereh.participation.models import Suggestion, Vote, WeeklyTally

from .conftest import SATURDAY, make_citizen, tehran

pytestmark = pytest.mark.django_db

FRIDAY_2359 = tehran(2026, 11, 27, 23, 59, 59)
SATURDAY_0000 = tehran(2026, 11, 28, 0, 0, 0)


def test_week_runs_saturday_to_friday_in_tehran():
    assert weeks.week_of(tehran(2026, 11, 21, 0, 0)) == SATURDAY
    assert weeks.week_of(FRIDAY_2359) == SATURDAY
    assert weeks.week_of(SATURDAY_0000) == SATURDAY + dt.timedelta(days=7)
    # 20:29 UTC on Friday is already Saturday 00:00 in Tehran (UTC+03:30).
    assert weeks.week_of(dt.datetime(2026, 11, 27, 20, 29, tzinfo=dt.UTC)) == SATURDAY
    assert weeks.week_of(
        dt.datetime(2026, 11, 27, 20, 30, tzinfo=dt.UTC)
    ) == SATURDAY + dt.timedelta(days=7)
    assert weeks.label(SATURDAY) == "1405-08-30"
    assert weeks.parse_label("۱۴۰۵-۰۸-۳۰") == SATURDAY
    with pytest.raises(ValueError):
        weeks.parse_label("1405-09-01")  # a Sunday


def test_second_vote_in_the_same_week_is_refused_and_changes_nothing(cards):
    citizen = make_citizen()
    suggestion = operations.catalogue_suggestion(cards["offline"])
    with time_machine.travel(tehran(2026, 11, 21, 9, 0), tick=False):
        operations.vote(citizen, suggestion)
    with time_machine.travel(FRIDAY_2359, tick=False):
        with pytest.raises(operations.AlreadyVoted):
            operations.vote(citizen, suggestion)
    assert Vote.objects.count() == 1
    assert WeeklyTally.objects.get(jalali_week=SATURDAY, suggestion=suggestion).votes == 1
    with time_machine.travel(SATURDAY_0000, tick=False):
        ballot = operations.vote(citizen, suggestion)
    assert ballot.jalali_week == SATURDAY + dt.timedelta(days=7)
    assert Vote.objects.count() == 2
    assert [s.votes for s in queries.standings(SATURDAY)] == [1]
    assert [s.votes for s in queries.standings(SATURDAY + dt.timedelta(days=7))] == [1]


def test_one_person_may_vote_for_several_items_and_many_people_for_one(cards):
    first, second = make_citizen(), make_citizen()
    offline = operations.catalogue_suggestion(cards["offline"])
    not_smart = operations.catalogue_suggestion(cards["not_smart"])
    with time_machine.travel(tehran(2026, 11, 22, 10, 0), tick=False):
        operations.vote(first, offline)
        operations.vote(first, not_smart)
        operations.vote(second, offline)
    result = queries.standings(SATURDAY)
    assert [(s.suggestion, s.votes) for s in result] == [(offline, 2), (not_smart, 1)]


def test_smart_exempt_and_unapproved_items_cannot_be_voted_for(cards):
    citizen = make_citizen()
    for card in (cards["smart"], cards["exempt"]):
        with pytest.raises(operations.NotAllowed):
            operations.catalogue_suggestion(card)
    pending = operations.propose(
        citizen, cards["agency"], "smart", "خدمت تازه‌ای که باید هوشمند شود"
    )
    with pytest.raises(operations.NotAllowed):
        operations.vote(citizen, pending)
    staff_without_code = make_citizen(national_code=None)
    with pytest.raises(operations.NotAllowed):
        operations.vote(staff_without_code, operations.catalogue_suggestion(cards["offline"]))
    assert Vote.objects.count() == 0


def test_a_card_that_went_online_is_no_longer_votable(cards):
    from panjereh.catalogue import operations as catalogue

    citizen = make_citizen()
    suggestion = operations.catalogue_suggestion(cards["offline"])
    card = cards["offline"]
    catalogue.save_service(
        card,
        {"connected": True, "connection_form": "direct", "smart_status": "approved"},
        author=catalogue.SYSTEM,
    )
    suggestion.refresh_from_db()
    with pytest.raises(operations.NotAllowed):
        operations.vote(citizen, suggestion)


def test_vote_page_second_vote_shows_the_error_and_changes_nothing(client, cards):
    citizen = make_citizen()
    url = "/en/participate/vote/"
    back = f"/en/participate/services/{cards['agency'].code}/"
    with time_machine.travel(tehran(2026, 11, 23, 12, 0), tick=False):
        # Signed in within the frozen time: a session lasts two hours.
        client.force_login(citizen)
        first = client.post(url, {"service": cards["offline"].pk, "next": back}, follow=True)
        assert "Your vote is counted for this week." in first.content.decode()
        second = client.post(url, {"service": cards["offline"].pk, "next": back}, follow=True)
        body = second.content.decode()
        assert "You have already voted for this item this week." in body
        assert second.redirect_chain[-1][0] == back
        suggestion = Suggestion.objects.get(service=cards["offline"])
        assert Vote.objects.filter(suggestion=suggestion).count() == 1
        assert queries.votes_this_week([suggestion.pk], SATURDAY) == {suggestion.pk: 1}
        # JSON clients get status codes.
        again = client.post(url, {"service": cards["offline"].pk}, HTTP_ACCEPT="application/json")
        assert again.status_code == 409
    with time_machine.travel(SATURDAY_0000, tick=False):
        client.force_login(citizen)
        next_week = client.post(
            url, {"service": cards["offline"].pk}, HTTP_ACCEPT="application/json"
        )
        assert next_week.status_code == 201
        assert next_week.json()["week"] == "1405-09-07"


def test_voting_needs_a_signed_in_citizen_and_csrf(cards):
    from django.test import Client

    anonymous = Client()
    response = anonymous.post("/en/participate/vote/", {"service": cards["offline"].pk})
    assert response.status_code == 302 and "/account/login/" in response["Location"]
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(make_citizen())
    assert strict.post("/en/participate/vote/", {"service": cards["offline"].pk}).status_code == 403
    assert Vote.objects.count() == 0
