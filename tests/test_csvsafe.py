"""Every CSV the window writes escapes cells a spreadsheet would run as formulas; the
catalogue reads its own escaped export back unchanged."""

from __future__ import annotations

import csv
import io

import pytest

from panjereh.catalogue import transfer
from panjereh.catalogue.models import Agency
from panjereh.common import csvsafe
from tests.factories import make_agency


@pytest.mark.parametrize("text", ["=1+1", "+98912", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_a_text_starting_like_a_formula_gets_an_apostrophe_and_reads_back(text):
    assert csvsafe.cell(text) == "'" + text
    assert csvsafe.unescape(csvsafe.cell(text)) == text


def test_ordinary_text_and_numbers_are_left_alone():
    for value in ["سازمان ثبت", "a=b", "'quoted", "", None, -3.5, 0, True]:
        assert csvsafe.cell(value) == value
    assert csvsafe.unescape("'quoted") == "'quoted"


def test_dict_writer_and_writer_escape_every_row():
    out = io.StringIO()
    writer = csvsafe.DictWriter(out, fieldnames=["a", "b"])
    writer.writeheader()
    writer.writerows([{"a": "=cmd", "b": -1}, {"a": "ok", "b": "@x"}])
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert rows == [{"a": "'=cmd", "b": "-1"}, {"a": "ok", "b": "'@x"}]
    out = io.StringIO()
    csvsafe.Writer(out).writerows([["+1", 2]])
    assert out.getvalue().strip() == "'+1,2"


def test_the_spreadsheet_text_has_one_bom():
    assert csvsafe.for_spreadsheet("a,b\n") == "\ufeffa,b\n"
    assert csvsafe.for_spreadsheet("\ufeffa,b\n") == "\ufeffa,b\n"


@pytest.mark.django_db
def test_catalogue_export_is_escaped_and_imports_back_unchanged():
    make_agency(code="eq-agency", name_en="=HYPERLINK(1)", name_fa="سازمان")
    text = transfer.export("agencies", "csv")
    row = next(r for r in csv.DictReader(io.StringIO(text)) if r["code"] == "eq-agency")
    assert row["name_en"] == "'=HYPERLINK(1)"
    records, errors = transfer.read_records(text, "csv", "agencies")
    assert not errors
    assert next(r for r in records if r["code"] == "eq-agency")["name_en"] == "=HYPERLINK(1)"
    report = transfer.import_text(text, "agencies", "csv")
    assert not report.errors
    assert Agency.objects.get(code="eq-agency").name_en == "=HYPERLINK(1)"
