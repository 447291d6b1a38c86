"""The services-of-the-week CSV escapes titles that a spreadsheet would run as formulas."""

from __future__ import annotations

import csv
import io

import pytest
import time_machine

from panjereh.catalogue import operations as catalogue
from panjereh.participation import operations

from .conftest import make_citizen, tehran

pytestmark = pytest.mark.django_db


def test_a_formula_title_is_escaped_in_the_weekly_csv(client, cards):
    catalogue.save_service(
        cards["offline"], {"title_en": "=HYPERLINK(\"http://evil.example\")"},
        author=catalogue.SYSTEM,
    )  # fmt: skip
    suggestion = operations.catalogue_suggestion(cards["offline"])
    with time_machine.travel(tehran(2026, 11, 24, 10, 0), tick=False):
        operations.vote(make_citizen(), suggestion)
        text = client.get("/en/participate/weekly/current.csv").content.decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["title_en"] == '\'=HYPERLINK("http://evil.example")'
