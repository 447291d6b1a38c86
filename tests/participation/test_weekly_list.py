"""The services of the week: computed from the vote rows, published once, stable, open data."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
import time_machine

from panjereh.catalogue import operations as catalogue
from panjereh.participation import operations, queries, weeks
from panjereh.participation.models import Vote, WeeklyList, WeeklyTally

from .conftest import SATURDAY, make_citizen, tehran

pytestmark = pytest.mark.django_db

IN_WEEK = tehran(2026, 11, 24, 10, 0)
NEXT_WEEK = tehran(2026, 11, 29, 10, 0)


def _vote(people, suggestion, at=IN_WEEK):
    with time_machine.travel(at, tick=False):
        for person in people:
            operations.vote(person, suggestion)


@pytest.fixture
def voted(cards):
    """Votes: offline 3, other_offline 3 (a tie, created later), not_smart 1."""
    people = [make_citizen() for _ in range(3)]
    offline = operations.catalogue_suggestion(cards["offline"])
    not_smart = operations.catalogue_suggestion(cards["not_smart"])
    other = operations.catalogue_suggestion(cards["other_offline"])
    _vote(people, other)  # voted first, but created after offline
    _vote(people, offline)
    _vote(people[:1], not_smart)
    return {"people": people, "offline": offline, "not_smart": not_smart, "other": other}


def test_standings_from_rows_and_from_the_roll_up_agree_ties_broken_by_age(voted):
    expected = [(voted["offline"], 3), (voted["other"], 3), (voted["not_smart"], 1)]
    assert [(s.suggestion, s.votes) for s in queries.standings(SATURDAY)] == expected
    assert [(s.suggestion, s.votes) for s in queries.standings_from_votes(SATURDAY)] == expected
    assert [s.rank for s in queries.standings(SATURDAY)] == [1, 2, 3]
    assert [s.suggestion for s in queries.standings(SATURDAY, limit=2)] == [
        voted["offline"],
        voted["other"],
    ]
    # The roll-up is rebuilt exactly from the rows.
    WeeklyTally.objects.filter(jalali_week=SATURDAY).update(votes=99)
    operations.recount(SATURDAY)
    assert [(s.suggestion, s.votes) for s in queries.standings(SATURDAY)] == expected


def test_a_week_is_published_only_after_it_ends(voted):
    with time_machine.travel(tehran(2026, 11, 27, 23, 59, 59), tick=False):
        with pytest.raises(operations.WrongState):
            operations.publish_week(SATURDAY)
    assert not WeeklyList.objects.exists()


def test_published_snapshot_is_computed_from_rows_and_stays_stable(voted, cards):
    with time_machine.travel(NEXT_WEEK, tick=False):
        weekly = operations.publish_due()
    assert weekly.jalali_week == SATURDAY
    assert (weekly.total_votes, weekly.voters) == (7, 3)
    entries = list(weekly.entries.values_list("rank", "suggestion_id", "votes", "title_en"))
    assert entries == [
        (1, voted["offline"].pk, 3, "Business licence"),
        (2, voted["other"].pk, 3, "Digging permit"),
        (3, voted["not_smart"].pk, 1, "School certificate"),
    ]
    # A late vote row written into that week (e.g. a repaired import), a renamed card and a
    # second publication change nothing in the published list.
    late = make_citizen()
    Vote.objects.create(user=late, suggestion=voted["not_smart"], jalali_week=SATURDAY)
    Vote.objects.create(user=make_citizen(), suggestion=voted["not_smart"], jalali_week=SATURDAY)
    catalogue.save_service(cards["offline"], {"title_en": "Renamed"}, author=catalogue.SYSTEM)
    with time_machine.travel(NEXT_WEEK + dt.timedelta(days=1), tick=False):
        again = operations.publish_week(SATURDAY)
    assert again.pk == weekly.pk
    assert list(again.entries.values_list("rank", "suggestion_id", "votes", "title_en")) == entries
    assert WeeklyList.objects.count() == 1


def test_public_page_and_open_data_show_counts_and_no_personal_data(client, voted):
    with time_machine.travel(NEXT_WEEK, tick=False):
        page = client.get("/en/participate/")  # publishes last week's list on first visit
        assert page.status_code == 200
        label = weeks.label(SATURDAY)
        assert f"/en/participate/weekly/{label}/" in page.content.decode()
        html = client.get(f"/en/participate/weekly/{label}/").content.decode()
        data = client.get(f"/en/participate/weekly/{label}.json").json()
        text = client.get(f"/en/participate/weekly/{label}.csv").content.decode()
        excel = client.get(f"/en/participate/weekly/{label}.csv?format=excel")
    assert "Business licence" in html
    # Programs get plain UTF-8; the spreadsheet download carries the BOM Excel needs.
    assert not text.startswith("\ufeff")
    assert excel.content.decode() == "\ufeff" + text
    assert excel["Content-Disposition"].startswith("attachment;")
    assert f"{label}.csv?format=excel" in html
    assert data["status"] == "published" and data["total_votes"] == 7 and data["voters"] == 3
    assert [(i["rank"], i["votes"]) for i in data["items"]] == [(1, 3), (2, 3), (3, 1)]
    assert data["items"][0]["service_id"] == voted["offline"].service.service_id
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["rank"], r["votes"], r["agency_code"]) for r in rows] == [
        ("1", "3", "ministry-a"),
        ("2", "3", "agency-b"),
        ("3", "1", "ministry-a"),
    ]
    for body in (html, text, str(data)):
        for person in voted["people"]:
            assert person.national_code not in body
            assert person.last_name not in body
            assert person.mobile not in body
    assert client.get("/en/participate/weekly/1405-09-07/").status_code == 404  # not published
    assert client.get("/en/participate/weekly/1405-09-01/").status_code == 404  # not a Saturday


def test_current_standings_are_live(client, voted, cards):
    with time_machine.travel(IN_WEEK, tick=False):
        before = client.get("/en/participate/weekly/current.json").json()
        _vote([make_citizen()], voted["not_smart"], at=IN_WEEK)
        after = client.get("/en/participate/weekly/current.json").json()
        page = client.get("/en/participate/").content.decode()
    assert before["status"] == "live" and before["week"] == "1405-08-30"
    assert [i["votes"] for i in before["items"]] == [3, 3, 1]
    assert [i["votes"] for i in after["items"]] == [3, 3, 2]
    assert 'data-votes="2"' in page


def test_publish_command(voted, capsys):
    from django.core.management import call_command

    with time_machine.travel(NEXT_WEEK, tick=False):
        call_command("participation", "publish")
    assert "week 1405-08-30: 3 entries, 7 votes" in capsys.readouterr().out
