"""Satisfaction in the oversight indicators: the current period's share, the baseline period's,
the change and the +20% target, computed from the feedback app's rating rows as of a date;
small numbers withheld on pages and in the open data."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import uuid

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from panjereh.common import jalali
from panjereh.feedback import queries
from panjereh.feedback.models import Rating
from panjereh.oversight import indicators, opendata, sources
from panjereh.services.models import Application, ServiceDefinition, State
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

AS_OF_TEXT = "1404-03-31"
AS_OF = jalali.end_of_day(AS_OF_TEXT)
NOW = AS_OF + dt.timedelta(days=3)  # the clock: a few days after the date looked at
CURRENT = AS_OF - dt.timedelta(days=5)  # inside the current period (and the report month)
BASELINE = AS_OF - dt.timedelta(days=120)  # inside the baseline period (days 90-180 before)
OLD = AS_OF - dt.timedelta(days=400)  # before both periods
AFTER = AS_OF + dt.timedelta(days=2)  # after the date: never counted

SAT = ("satisfaction", "satisfaction_baseline", "satisfaction_change", "satisfaction_target")
_n = itertools.count(1)


@pytest.fixture(autouse=True)
def frozen():
    cache.clear()  # the portal caches results per catalogue version, not per rating
    with time_machine.travel(NOW, tick=False):
        yield
    cache.clear()


def _definition(service):
    return ServiceDefinition.objects.create(
        code=f"oversight-sat-{next(_n)}", version=1, service=service, agency=service.agency,
        smart=True, title_fa="خدمت آزمون", title_en="Test service", spec={}, digest="0" * 64,
    )  # fmt: skip


def rate(service, scores, at):
    """One finished application and one feedback rating per satisfaction score, at ``at``."""
    definition = _definition(service)
    user = UserFactory(national_code=f"{8200000000 + next(_n)}", assurance_level=3)
    for satisfaction in scores:
        app = Application.objects.create(
            tracking_code=f"S{next(_n):011d}", definition=definition, agency=service.agency,
            user=user, subject_code=user.national_code, idempotency_key=uuid.uuid4().hex,
            state=State.ISSUED, submitted_at=at - dt.timedelta(hours=2), due_at=at,
            completed_at=at - dt.timedelta(hours=1),
        )  # fmt: skip
        Rating.objects.create(
            application=app, user=user, agency=service.agency, service=service, ease=3,
            satisfaction=satisfaction, created_at=at, updated_at=at,
            edit_until=at + dt.timedelta(days=7), reply_due_at=at + dt.timedelta(days=7),
        )  # fmt: skip


@pytest.fixture
def rated(catalogue):
    """full: 70% now, 50% at baseline (+40%, target 60%: met); mid: 50% both (not met), split
    over two services (5 + 1 now); low: 3 ratings now (too few), 6 at baseline; zero: only
    ratings outside both periods."""
    s = catalogue["services"]
    rate(s["full"][0], [5, 5, 4, 4, 5, 4, 4, 1, 2, 3], CURRENT)
    rate(s["full"][0], [5, 4, 4, 5, 4, 1, 2, 3, 3, 2], BASELINE)
    rate(s["mid"][0], [5, 4, 1, 2, 4], CURRENT)
    rate(s["mid"][1], [1], CURRENT)
    rate(s["mid"][0], [5, 4, 4, 4, 1, 1, 2, 3], BASELINE)
    rate(s["low"][0], [5, 4, 1], CURRENT)
    rate(s["low"][0], [5, 4, 4, 1, 1, 2], BASELINE)
    rate(s["zero"][0], [5, 5, 5, 5, 5, 5], AFTER)
    rate(s["zero"][0], [1, 1, 1, 1, 1, 1], OLD)
    return catalogue


def expected(agency_id=None):
    """The figures counted independently, walking every rating row in Python."""
    c0, b0 = AS_OF - dt.timedelta(days=90), AS_OF - dt.timedelta(days=180)
    rows = [r for r in Rating.objects.all() if agency_id in (None, r.agency_id)]
    cur = [r.satisfaction for r in rows if c0 <= r.created_at <= AS_OF]
    base = [r.satisfaction for r in rows if b0 <= r.created_at < c0]

    def share(scores):
        return round(100 * sum(1 for x in scores if x >= 4) / len(scores), 1) if scores else None

    return cur, base, share(cur), share(base)


def test_values_are_computed_from_rating_rows(rated):
    result = indicators.compute(AS_OF)
    n = result.national
    cur, base, share, base_share = expected()
    assert (len(cur), len(base)) == (19, 24)  # ratings after the date or before both: not read
    assert (n["satisfaction"].value, n["satisfaction"].denominator) == (share, len(cur))
    assert n["satisfaction"].numerator == sum(1 for x in cur if x >= 4)
    assert (n["satisfaction_baseline"].value, n["satisfaction_baseline"].denominator) == (
        base_share,
        len(base),
    )
    full = result.agency("full").values
    cur, base, share, base_share = expected(rated["agencies"]["full"].id)
    assert full["satisfaction"].as_dict()["value"] == share == 70.0
    assert full["satisfaction"].numerator == 7 and full["satisfaction"].denominator == 10
    assert full["satisfaction_baseline"].value == base_share == 50.0
    # The same figures as the feedback app's own progress, for the agency's rows.
    p = queries.progress(Rating.objects.filter(agency=rated["agencies"]["full"]), now=AS_OF)
    assert (p.current.share, p.baseline.share, p.change_relative, p.met) == (
        full["satisfaction"].value,
        full["satisfaction_baseline"].value,
        full["satisfaction_change"].value,
        full["satisfaction_target"].value,
    )
    # The national page lists the four with the rest, the change with its sign.
    with translation.override("en"):
        url = reverse("transparency:index")
    html = _get(url)
    for code in SAT:
        assert f"#{code}" in html
    assert f"+{n['satisfaction_change'].value:.1f}%" in html
    # An agency whose only ratings fall outside both periods has none in them.
    zero = result.agency("zero").values
    assert not zero["satisfaction"].available and not zero["satisfaction"].withheld


def test_change_against_the_baseline_and_the_target(rated, settings):
    result = indicators.compute(AS_OF)
    full, mid = result.agency("full").values, result.agency("mid").values
    assert full["satisfaction_change"].value == 40.0  # 70 / 50 − 1
    assert (full["satisfaction_target"].value, full["satisfaction_target"].denominator) == (
        True,
        60.0,  # 50% × 1.2
    )
    assert mid["satisfaction_change"].value == 0.0
    assert mid["satisfaction_target"].value is False
    fig = indicators.satisfaction_of(result.snapshot, rated["agencies"]["full"].id)
    assert (fig.change_points, fig.change_pct, fig.target_pct) == (20.0, 40.0, 60.0)
    n = result.national
    _cur, _base, share, base_share = expected()
    assert n["satisfaction_change"].value == round(100 * (share / base_share - 1), 1)
    assert n["satisfaction_target"].value is (share >= round(base_share * 1.2, 1))
    # The target rise is the feedback app's setting, read the same way.
    settings.PANJEREH_FEEDBACK_TARGET_RISE = 0.5
    full = indicators.compute(AS_OF).agency("full").values
    assert (full["satisfaction_target"].value, full["satisfaction_target"].denominator) == (
        False,
        75.0,
    )


def test_an_earlier_date_reads_earlier_periods(rated):
    # As of 100 days earlier, the baseline ratings are the current period's; nothing before.
    result = indicators.compute(AS_OF - dt.timedelta(days=100))
    full = result.agency("full").values
    assert (full["satisfaction"].value, full["satisfaction"].denominator) == (50.0, 10)
    assert not full["satisfaction_baseline"].available
    assert not full["satisfaction_change"].available


def test_small_numbers_are_withheld(rated):
    result = indicators.compute(AS_OF)
    low = result.agency("low").values
    assert low["satisfaction"].withheld and low["satisfaction"].value is None
    assert low["satisfaction"].numerator is None and low["satisfaction"].denominator == 3
    assert low["satisfaction_baseline"].value == 50.0  # 6 ratings: shown
    assert low["satisfaction_change"].withheld and low["satisfaction_target"].withheld
    assert all(low[c].value is None for c in ("satisfaction_change", "satisfaction_target"))
    fig = indicators.satisfaction_of(result.snapshot, rated["agencies"]["low"].id)
    assert fig.data == indicators.TOO_FEW
    assert (fig.share, fig.change_pct, fig.target_met) == (None, None, None)
    # The agency's public page says "not enough data", never the share of its 3 ratings.
    html = _get(reverse("transparency:agency", args=["low"]))
    assert gettext("not enough data") in html  # Persian: داده کافی نیست
    assert "۶۶٫۷٪" not in html  # 2 of 3
    with translation.override("en"):
        url = reverse("transparency:agency", args=["low"])
    html = _get(url)
    assert "not enough data" in html and "66.7%" not in html
    with translation.override("en"):
        url = reverse("transparency:agency", args=["full"])
    html = _get(url)
    assert "70.0%" in html and "+40.0%" in html and "50.0%" in html


def _get(url: str) -> str:
    response = Client().get(url, {"as_of": AS_OF_TEXT})
    assert response.status_code == 200, url
    return response.content.decode()


def _csv(url: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(_get(url))))


def test_open_data_columns(rated):
    names = [f[0] for f in opendata.SATISFACTION_FIELDS]
    assert names == [
        "satisfaction_data",
        "satisfaction_ratings",
        "satisfaction_pct",
        "satisfaction_baseline_ratings",
        "satisfaction_baseline_pct",
        "satisfaction_change_points",
        "satisfaction_change_pct",
        "satisfaction_target_pct",
        "satisfaction_target_met",
    ]
    rows = {r["agency_code"]: r for r in _csv(reverse("transparency:open_data_csv"))}
    assert all(name in rows["full"] for name in names)
    assert {k: rows["full"][k] for k in names} == {
        "satisfaction_data": "ok",
        "satisfaction_ratings": "10",
        "satisfaction_pct": "70.0",
        "satisfaction_baseline_ratings": "10",
        "satisfaction_baseline_pct": "50.0",
        "satisfaction_change_points": "20.0",
        "satisfaction_change_pct": "40.0",
        "satisfaction_target_pct": "60.0",
        "satisfaction_target_met": "true",
    }
    assert rows["mid"]["satisfaction_target_met"] == "false"
    low = rows["low"]
    assert low["satisfaction_data"] == "too_few_ratings" and low["satisfaction_ratings"] == "3"
    assert low["satisfaction_pct"] == low["satisfaction_change_pct"] == ""
    assert low["satisfaction_target_met"] == "" and low["satisfaction_baseline_pct"] == "50.0"
    assert rows["zero"]["satisfaction_data"] == "no_ratings"
    # JSON: the same rows, the periods compared and the threshold.
    body = _json(reverse("transparency:open_data_json"))
    assert body["satisfaction_periods"]["min_ratings"] == 5
    assert body["satisfaction_periods"]["target_rise"] == 0.2
    assert body["national"]["satisfaction_change"]["value"] is not None
    by_code = {a["agency_code"]: a for a in body["agencies"]}
    assert by_code["low"]["satisfaction_pct"] is None
    assert by_code["full"]["satisfaction_target_met"] is True
    # The data package documents every column.
    package = _json(reverse("transparency:open_data_package"))
    fields = {
        r["name"]: [f["name"] for f in r["schema"]["fields"]]
        for r in package["resources"]
        if "schema" in r
    }
    assert set(names) <= set(fields["agencies"])
    assert set(names) <= set(fields["service-performance"])


def _json(url: str) -> dict:
    response = Client().get(url, {"as_of": AS_OF_TEXT})
    assert response.status_code == 200
    return response.json()


def test_per_service_figures_on_pages_and_in_open_data(rated):
    s = rated["services"]
    rows = {r["service_id"]: r for r in _csv(reverse("transparency:open_data_services_csv"))}
    one, other = rows[s["mid"][0].service_id], rows[s["mid"][1].service_id]
    assert (one["satisfaction_ratings"], one["satisfaction_pct"]) == ("5", "60.0")
    assert one["satisfaction_baseline_pct"] == "50.0" and one["satisfaction_target_met"] == "true"
    assert other["satisfaction_data"] == "too_few_ratings" and other["satisfaction_pct"] == ""
    html = _get(reverse("transparency:service", args=[s["full"][0].service_id]))
    assert 'data-testid="service-satisfaction"' in html and "۷۰٫۰٪" in html
    html = _get(reverse("transparency:service", args=[s["mid"][1].service_id]))
    assert gettext("not enough data") in html
    html = _get(reverse("transparency:services"))
    assert 'data-satisfaction="share"' in html


def test_one_grouped_query_whatever_the_number_of_agencies(rated, django_assert_num_queries):
    with django_assert_num_queries(1):
        table = queries.progress_as_of(AS_OF)
    assert len(table.by) == 3  # "zero" has no rating in either period
    with django_assert_num_queries(1):
        per_service = sources.satisfaction_progress(AS_OF, "service_id")
    assert len(per_service.by) == 4


def test_a_configured_baseline_is_read_like_the_feedback_app(rated, settings):
    # A baseline overlapping the current period: a rating in both counts in both, as in the
    # feedback app's own progress; a rating after the date is never read.
    settings.PANJEREH_FEEDBACK_BASELINE = "2025-06-01/2025-06-30"
    table = queries.progress_as_of(AS_OF)
    theirs = queries.progress_by("agency_id", now=AS_OF)
    for code in ("full", "mid", "low"):
        pk = rated["agencies"][code].id
        ours = table.by[pk]
        assert (ours.current.share, ours.baseline.share) == (
            theirs[pk].current.share,
            theirs[pk].baseline.share,
        )
        assert ours.current.ratings == ours.baseline.ratings
    zero = table.by.get(rated["agencies"]["zero"].id)
    assert zero is None  # its ratings after the date fall in the baseline's dates, not read
