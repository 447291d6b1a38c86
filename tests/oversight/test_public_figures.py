"""Every public figure follows one small-number rule (national figures too), every CSV the
window writes is safe to open in a spreadsheet, and the spreadsheet download has a BOM while
the machine-readable file stays plain UTF-8."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import translation

from panjereh.catalogue import operations
from panjereh.oversight import indicators

from .test_satisfaction import AS_OF, AS_OF_TEXT, CURRENT, NOW, rate

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen():
    import time_machine

    cache.clear()
    with time_machine.travel(NOW, tick=False):
        yield
    cache.clear()


@pytest.fixture
def one_rating(catalogue):
    """A single rating in the whole country: a 5 of 5 (a share of 100% is that person's)."""
    rate(catalogue["services"]["full"][0], [5], CURRENT)
    return catalogue


def _get(url: str, **params):
    response = Client().get(url, {"as_of": AS_OF_TEXT, **params})
    assert response.status_code == 200, url
    return response


def test_a_single_rating_is_withheld_nationally_as_for_an_agency(one_rating):
    national = indicators.compute(AS_OF).national
    assert national["satisfaction"].value is None and national["satisfaction"].withheld
    assert national["satisfaction"].denominator == 1  # the count is published
    fig = indicators.satisfaction_of(indicators.compute(AS_OF).snapshot, None)
    assert fig.share is None and fig.data == indicators.TOO_FEW


def test_no_public_page_or_file_shows_the_share_of_a_single_rating(one_rating):
    # /transparency/ and /feedback/public/ agree: withheld.
    page = _get(reverse("transparency:index"))
    assert page.context["national"]["satisfaction"].value is None
    with translation.override("en"):
        feedback_url = reverse("feedback:public")
    html = Client().get(feedback_url).content.decode()
    assert "too few ratings" in html and "100.0%" not in html
    # Open data: the national figures in JSON, the agency's row in CSV and JSON.
    data = json.loads(_get(reverse("transparency:open_data_json")).content)
    assert data["national"]["satisfaction"]["value"] is None
    row = next(r for r in data["agencies"] if r["agency_code"] == "full")
    assert row["satisfaction_pct"] is None and row["satisfaction_data"] == "too_few_ratings"
    text = _get(reverse("transparency:open_data_csv")).content.decode()
    row = next(r for r in csv.DictReader(io.StringIO(text)) if r["agency_code"] == "full")
    assert row["satisfaction_pct"] == "" and row["satisfaction_ratings"] == "1"
    services = json.loads(_get(reverse("transparency:open_data_services_json")).content)
    for figures in [services["national"], *services["services"]]:
        for key in ("user_satisfaction", "satisfaction_pct", "user_satisfaction_pct"):
            value = figures.get(key)
            assert (value.get("value") if isinstance(value, dict) else value) is None, key


def test_open_data_csv_cells_that_look_like_formulas_are_escaped(catalogue):
    agency = catalogue["agencies"]["full"]
    operations.save_agency(
        agency,
        {"name_en": '=HYPERLINK("http://evil.example","x")', "name_fa": "+سازمان"},
        author=operations.SYSTEM,
    )
    cache.clear()
    text = _get(reverse("transparency:open_data_csv")).content.decode()
    row = next(r for r in csv.DictReader(io.StringIO(text)) if r["agency_code"] == "full")
    assert row["agency_name_en"] == '\'=HYPERLINK("http://evil.example","x")'
    assert row["agency_name_fa"] == "'+سازمان"
    # Numbers are numbers: a negative change is not escaped (no formula can hide in it).
    assert not any(v.startswith("'") for k, v in row.items() if k.endswith(("_pct", "_points")))


def test_the_spreadsheet_download_has_a_bom_and_the_open_data_file_has_none(catalogue):
    for name in ("transparency:open_data_csv", "transparency:open_data_services_csv"):
        plain = _get(reverse(name))
        assert not plain.content.startswith(b"\xef\xbb\xbf")
        assert plain["Content-Disposition"].startswith("inline")
        excel = _get(reverse(name), format="excel")
        assert excel.content.startswith(b"\xef\xbb\xbf")
        assert excel.content[3:] == plain.content
        assert "excel.csv" in excel["Content-Disposition"]
        assert excel["Content-Disposition"].startswith("attachment")
    with translation.override("en"):
        html = Client().get(reverse("transparency:open_data")).content.decode()
    assert "agencies.csv?format=excel" in html and "for spreadsheets" in html
