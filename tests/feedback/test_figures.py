"""Satisfaction figures from the rating rows: share of high or very high, the ease ×
satisfaction cross-table, change against the baseline and the +20% target, the oversight hook,
and the pages that show them."""

from __future__ import annotations

import datetime as dt
import random

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from panjereh.catalogue import roles
from panjereh.feedback import operations, queries
from panjereh.feedback.models import Rating
from panjereh.oversight import indicators, sources

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2025, 9, 1, 12, 0, tzinfo=dt.UTC)


def _rate_many(world, pairs, *, definition=None, at=None):
    made = []
    with time_machine.travel(at or NOW, tick=False):
        for ease, satisfaction in pairs:
            app = world.finished(definition=definition)
            rating, _ = operations.rate(app, world.citizen, ease=ease, satisfaction=satisfaction)
            made.append(rating)
    return made


def test_summary_and_cross_table_from_rows(world):
    rng = random.Random(7)
    pairs = [(rng.randint(1, 5), rng.randint(1, 5)) for _ in range(40)]
    _rate_many(world, pairs)
    summary = queries.summarize()
    rows = list(Rating.objects.values_list("ease", "satisfaction"))
    assert summary.ratings == len(rows) == 40
    for e in range(1, 6):
        for s in range(1, 6):
            assert summary.cross[e - 1][s - 1] == rows.count((e, s))
    favourable = sum(1 for _e, s in rows if s >= 4)
    assert summary.favourable == favourable
    assert summary.share == round(100 * favourable / 40, 1)
    assert summary.easy == sum(1 for e, _s in rows if e >= 4)
    assert summary.mean_satisfaction == round(sum(s for _e, s in rows) / 40, 2)
    assert summary.column_totals() == [sum(1 for _e, s in rows if s == k) for k in range(1, 6)]
    assert [r["ease"] for r in summary.table()] == [5, 4, 3, 2, 1]


def test_grouped_per_agency_and_per_service(world):
    _rate_many(world, [(5, 5), (4, 2), (1, 1)])
    _rate_many(world, [(3, 4), (2, 5)], definition=world.other_definition)
    per_agency = queries.grouped("agency_id")
    assert (per_agency[world.agency.pk].ratings, per_agency[world.agency.pk].favourable) == (3, 1)
    assert (per_agency[world.other.pk].ratings, per_agency[world.other.pk].favourable) == (2, 2)
    per_service = queries.grouped("service_id")
    assert per_service[world.definition.service_id].ratings == 3


def test_change_against_baseline_and_the_twenty_percent_target(world, settings):
    settings.PANJEREH_FEEDBACK_PERIOD_DAYS = 90
    # Baseline (91-180 days ago): 2 of 5 favourable = 40%. Current: 3 of 6 = 50% (+25%).
    _rate_many(world, [(4, 4), (4, 5), (2, 2), (1, 1), (3, 3)], at=NOW - dt.timedelta(days=120))
    _rate_many(
        world, [(5, 5), (5, 4), (4, 4), (2, 1), (3, 2), (3, 3)], at=NOW - dt.timedelta(days=10)
    )
    _rate_many(world, [(5, 5)], at=NOW - dt.timedelta(days=400))  # in neither period
    p = queries.progress(now=NOW)
    assert (p.baseline.ratings, p.baseline.favourable) == (5, 2)
    assert (p.current.ratings, p.current.favourable) == (6, 3)
    assert p.change_points == 10.0
    assert p.change_relative == 25.0
    assert p.target_share == 48.0 and p.met is True
    # One favourable rating fewer in the current period: 2 of 6 = 33.3%, target missed.
    Rating.objects.filter(created_at__gt=NOW - dt.timedelta(days=90), satisfaction=5).update(
        satisfaction=3
    )
    p = queries.progress(now=NOW)
    assert p.current.favourable == 2 and p.met is False
    by_agency = queries.progress_by("agency_id", now=NOW)
    assert by_agency[world.agency.pk].baseline.ratings == 5
    # A configured baseline period replaces the default one.
    settings.PANJEREH_FEEDBACK_BASELINE = "2024-01-01/2024-12-31"
    p = queries.progress(now=NOW)
    assert p.baseline.ratings == 1  # the rating 400 days before NOW (July 2024)


def test_no_baseline_means_no_verdict(world):
    _rate_many(world, [(5, 5)], at=NOW)
    p = queries.progress(now=NOW)
    assert p.met is None and p.change_relative is None


def test_agency_satisfaction_for_oversight(world):
    assert queries.agency_satisfaction(NOW) is None
    _rate_many(world, [(5, 5), (4, 4), (1, 2)], at=NOW - dt.timedelta(days=3))
    _rate_many(world, [(2, 3)], definition=world.other_definition, at=NOW - dt.timedelta(days=3))
    _rate_many(world, [(5, 5)], at=NOW + dt.timedelta(days=1))  # after as_of
    rows = queries.agency_satisfaction(NOW)
    assert rows == {
        world.agency.pk: {"ratings": 3, "favourable": 2},
        world.other.pk: {"ratings": 1, "favourable": 0},
    }
    assert queries.agency_satisfaction(NOW - dt.timedelta(days=10)) is None
    # Oversight reads it through its source module, and the indicator uses it.
    assert sources.satisfaction_by_agency(NOW)[world.agency.pk] == sources.Satisfaction(3, 2)
    result = indicators.compute(NOW, include_all_agencies=True)
    national = result.national["satisfaction"]
    assert (national.numerator, national.denominator) == (2, 4)


def _steering(user):
    roles.ensure_groups()
    user.groups.add(Group.objects.get(name=roles.STEERING_WG))
    return user


def test_pages_show_figures_computed_from_rows(world):
    ratings = _rate_many(world, [(5, 5), (4, 4), (2, 1)], at=timezone.now())
    ratings[2].comment = "private comment text"
    ratings[2].save()
    public = Client().get("/en/feedback/public/")
    assert public.status_code == 200
    html = public.content.decode()
    row = html.split('data-agency="agency-a"')[1].split("</tr>")[0]
    assert 'data-figure="ratings">3<' in row and 'data-figure="share">66.7%<' in row
    cross = html.split('id="national-cross"')[1].split("</table>")[0]
    assert 'data-ease="5" data-satisfaction="5">1<' in cross
    assert 'data-ease="2" data-satisfaction="1">1<' in cross
    assert "private comment text" not in html and world.citizen.last_name not in html
    # Persian page renders too, with Persian digits.
    assert "۶۶٫۷٪" in Client().get("/feedback/public/").content.decode()
    # Agency staff: their services' figures; oversight: the per-agency table.
    staff = Client()
    staff.force_login(world.officer)
    page = staff.get("/en/feedback/agency/")
    assert 'id="agency-progress"' in page.content.decode()
    assert page.context["overall"].current.ratings == 3
    other = Client()
    other.force_login(world.other_officer)
    assert other.get("/en/feedback/agency/").context["overall"].current.ratings == 0
    # Oversight page: supervisors only (or a supervising body with complaints).
    assert other.get("/en/feedback/oversight/").status_code == 403
    boss = Client()
    boss.force_login(_steering(world.ministry_officer))
    page = boss.get("/en/feedback/oversight/")
    assert page.status_code == 200 and 'data-agency="agency-a"' in page.content.decode()
