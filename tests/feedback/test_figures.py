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


def test_agency_satisfaction_for_oversight(world, settings):
    assert sources.satisfaction_progress(NOW) is None  # no rating yet
    _rate_many(world, [(5, 5), (4, 4), (1, 2)], at=NOW - dt.timedelta(days=3))
    _rate_many(world, [(2, 3)], definition=world.other_definition, at=NOW - dt.timedelta(days=3))
    _rate_many(world, [(5, 5)], at=NOW + dt.timedelta(days=1))  # after as_of
    # Oversight reads the rating rows through its source module, and the indicator uses them.
    table = sources.satisfaction_progress(NOW)
    assert (table.national.current.ratings, table.national.current.favourable) == (4, 2)
    result = indicators.compute(NOW, include_all_agencies=True)
    national = result.national["satisfaction"]
    # National figures follow the one small-number rule: 4 ratings are too few under 5...
    assert national.withheld and (national.numerator, national.denominator) == (None, 4)
    settings.PANJEREH_FEEDBACK_MIN_PUBLIC_RATINGS = 4  # ...and published from 4
    national = indicators.compute(NOW, include_all_agencies=True).national["satisfaction"]
    assert (national.numerator, national.denominator) == (2, 4)


def _steering(user):
    roles.ensure_groups()
    user.groups.add(Group.objects.get(name=roles.STEERING_WG))
    return user


def test_pages_show_figures_computed_from_rows(world, settings):
    settings.PANJEREH_FEEDBACK_MIN_PUBLIC_RATINGS = 3  # publish these three (the rule: below)
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
    # Oversight page: supervisors and supervising bodies only.
    refused = other.get("/en/feedback/oversight/")
    assert refused.status_code == 403
    assert "This page is for the supervising bodies" in refused.content.decode()
    boss = Client()
    boss.force_login(_steering(world.ministry_officer))
    page = boss.get("/en/feedback/oversight/")
    assert page.status_code == 200 and 'data-agency="agency-a"' in page.content.decode()


def test_public_page_hides_shares_of_too_few_ratings(world, settings):
    assert operations.min_public_ratings() == 5  # the default
    _rate_many(world, [(5, 5)], at=timezone.now())  # one person's score
    _rate_many(world, [(4, 4)] * 4 + [(2, 2)], definition=world.other_definition, at=timezone.now())
    html = Client().get("/en/feedback/public/").content.decode()
    table = html.split('id="agency-satisfaction"')[1].split("</table>")[0]
    alone = table.split('data-agency="agency-a"')[1].split("</tr>")[0]
    assert 'data-figure="ratings">1<' in alone  # the count stays
    assert "too few ratings" in alone and "100.0%" not in alone
    five = table.split('data-agency="agency-b"')[1].split("</tr>")[0]
    assert 'data-figure="share">80.0%<' in five and "too few ratings" not in five
    assert "Shares of fewer than 5 ratings are not published" in html
    # Nationally there are six: shown.
    national = html.split('id="national-progress"')[1].split("</dl>")[0]
    assert "too few ratings" not in national and "83.3%" in national
    # With a higher minimum the national figures and cross-table are hidden too.
    settings.PANJEREH_FEEDBACK_MIN_PUBLIC_RATINGS = 10
    html = Client().get("/en/feedback/public/").content.decode()
    national = html.split('id="national-progress"')[1].split("</dl>")[0]
    assert "too few ratings" in national and "83.3%" not in national
    assert 'data-satisfaction="5"' not in html.split('id="national-cross"')[1].split("</p>")[0]
    assert "83.3" not in html and "100.0" not in html and "80.0" not in html
    # The Persian page too.
    persian = Client().get("/feedback/public/").content.decode()
    assert "۱۰۰٫۰٪" not in persian and "۸۳٫۳٪" not in persian and "۸۰٫۰٪" not in persian
    # Supervisors still see every figure on the oversight page.
    roles.ensure_groups()
    world.ministry_officer.groups.add(Group.objects.get(name=roles.STEERING_WG))
    boss = Client()
    boss.force_login(world.ministry_officer)
    page = boss.get("/en/feedback/oversight/").content.decode()
    assert "too few ratings" not in page and "100.0%" in page and "80.0%" in page


def test_target_shows_the_configured_rise_in_persian_digits(world, settings):
    settings.PANJEREH_FEEDBACK_TARGET_RISE = 0.25
    english = Client().get("/en/feedback/public/").content.decode()
    target = english.split('id="national-progress"')[1].split("</dl>")[0]
    assert "Target (+25% of the satisfaction index)" in target
    assert "+20%" not in english
    persian = Client().get("/feedback/public/").content.decode()
    target = persian.split('id="national-progress"')[1].split("</dl>")[0]
    assert "۲۵" in target and "25" not in target and "۲۰" not in target
    staff = Client()
    staff.force_login(world.officer)
    page = staff.get("/en/feedback/agency/").content.decode()
    assert "Target (+25% of the satisfaction index)" in page


def test_public_column_headings_of_complaint_kinds_are_translatable(world):
    from django.utils.functional import Promise

    from panjereh.feedback import views

    assert all(isinstance(label, Promise) for _value, label in views.SHORT_KINDS)
    # makemessages only extracts calls of the names Django gives xgettext (``_``,
    # ``gettext_lazy``, ...): under an alias like ``_lazy`` the headings were never translated.
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(views))
    assigned = next(
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "SHORT_KINDS"
    )
    calls = [element.elts[1] for element in assigned.elts]
    assert {call.func.id for call in calls} <= {"_", "gettext_lazy"}
    html = Client().get("/en/feedback/public/").content.decode()
    head = html.split('id="agency-complaints"')[1].split("</thead>")[0]
    for label in ("Document already held", "In-person visit", "Payment off the portal"):
        assert label in head


def test_supervising_body_without_complaints_gets_an_empty_oversight_page(world):
    # The ministry supervises agency A but nothing was routed to it yet.
    assert operations.supervising_bodies([world.ministry.pk]) == [world.ministry.pk]
    assert operations.supervising_bodies([world.agency.pk, world.other.pk]) == []
    client = Client()
    client.force_login(world.ministry_officer)
    page = client.get("/en/feedback/oversight/")
    assert page.status_code == 200
    assert list(page.context["complaints"]) == [] and list(page.context["escalated"]) == []
    assert "No complaint waits." in page.content.decode()
    assert not page.context["supervisor"]
    # Not a handler at all: the staff of a supervised agency, of an agency with no one under
    # it, and a citizen.
    for user in (world.officer, world.other_officer, world.citizen):
        other = Client()
        other.force_login(user)
        response = other.get("/en/feedback/oversight/")
        assert response.status_code == 403
        assert 'id="feedback-message"' in response.content.decode()
    # The agency named by PANJEREH_FEEDBACK_SUPERVISOR is a supervising body too.
    from django.test import override_settings

    with override_settings(PANJEREH_FEEDBACK_SUPERVISOR=world.other.code):
        other = Client()
        other.force_login(world.other_officer)
        assert other.get("/en/feedback/oversight/").status_code == 200


def test_a_target_with_no_figure_says_not_enough_data_once(world):
    """No baseline yet: the target row said "— — not enough data" (a dash for the missing
    share, then the separator)."""
    html = Client().get("/en/feedback/public/").content.decode()
    target = html.split('data-figure="target"')[1].split("</dd>")[0]
    assert "not enough data" in target
    assert "—" not in target
