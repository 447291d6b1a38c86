"""CSV that a spreadsheet opens safely: every CSV file the window writes goes through here.

A text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula
to Excel, LibreOffice and Google Sheets ("CSV injection": a proposal titled
``=HYPERLINK(...)`` would run in a civil servant's spreadsheet). Such a cell is written with a
leading apostrophe, which spreadsheets show as text and do not display; numbers (a negative
change in points) are numbers and stay as they are. :func:`unescape` undoes it for files the
window reads back (the catalogue's import of its own export).

Files are plain UTF-8 for programs; :data:`BOM` is offered for the spreadsheet download only
(Excel reads a file without it as the local code page and shows Persian garbled).
"""

from __future__ import annotations

import csv
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"


def cell(value: Any) -> Any:
    """The value to write: a text starting like a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def unescape(text: str) -> str:
    """Undo :func:`cell` for a text read back from a file the window wrote."""
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text


class DictWriter(csv.DictWriter):
    """``csv.DictWriter`` escaping every cell that would be read as a formula."""

    def writerow(self, rowdict):
        return super().writerow({key: cell(value) for key, value in rowdict.items()})

    def writerows(self, rowdicts):
        for row in rowdicts:
            self.writerow(row)


class Writer:
    """``csv.writer`` escaping every cell that would be read as a formula."""

    def __init__(self, f, **kwargs):
        self._writer = csv.writer(f, **kwargs)

    def writerow(self, row):
        return self._writer.writerow([cell(value) for value in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


def for_spreadsheet(text: str) -> str:
    """The CSV text with a UTF-8 byte-order mark, so that Excel reads it as UTF-8."""
    return text if text.startswith(BOM) else BOM + text


def csv_response(request, text: str, name: str):
    """A CSV answer: plain UTF-8 for programs (as the data packages say), or with
    ``?format=excel`` the byte-order mark Excel needs to read Persian, downloaded as
    ``<name>-excel.csv``. Open data, so any site may read it."""
    from django.http import HttpResponse

    if request.GET.get("format") == "excel":
        response = HttpResponse(for_spreadsheet(text), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}-excel.csv"'
    else:
        response = HttpResponse(text, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'inline; filename="{name}.csv"'
    response["Access-Control-Allow-Origin"] = "*"
    return response
