"""Export and import: exact round trips, and a bad file reports every error and changes nothing."""

from __future__ import annotations

import csv
import io
import json

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from panjereh.catalogue import transfer
from panjereh.catalogue.models import Agency, AgencyVersion, Service, ServiceVersion
from panjereh.catalogue.rules import make_service_id
from panjereh.demo import dataset

pytestmark = pytest.mark.django_db


@pytest.fixture
def small():
    dataset.seed("small")


def _run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("catalogue", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _counts() -> tuple[int, ...]:
    return (
        Agency.objects.count(),
        AgencyVersion.objects.count(),
        Service.objects.count(),
        ServiceVersion.objects.count(),
    )


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_import_round_trip(small, tmp_path, fmt):
    agencies, _ = _run("export", "--what", "agencies", "--format", fmt)
    services, _ = _run("export", "--what", "services", "--format", fmt)
    (tmp_path / f"a.{fmt}").write_text(agencies, encoding="utf-8")
    (tmp_path / f"s.{fmt}").write_text(services, encoding="utf-8")

    # Into the same catalogue: nothing changes, no version is added.
    before = _counts()
    out, _ = _run("import", "--what", "services", str(tmp_path / f"s.{fmt}"))
    assert _counts() == before
    assert "200" in out or str(Service.objects.count()) in out

    # Into an empty catalogue: the same rows come back.
    dataset.clear_catalogue()
    _run("import", "--what", "agencies", str(tmp_path / f"a.{fmt}"))
    _run("import", "--what", "services", str(tmp_path / f"s.{fmt}"))
    assert _run("export", "--what", "agencies", "--format", fmt)[0] == agencies
    assert _run("export", "--what", "services", "--format", fmt)[0] == services


def test_csv_encodes_lists_with_bars_and_inputs_as_json(small):
    text = transfer.export("services", "csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    birth = next(r for r in rows if r["title_fa"] == "صدور گواهی ولادت نوزاد")
    assert birth["channels"] == "web|mobile"
    assert birth["connected"] == "true"
    first = json.loads(birth["inputs"])[0]
    assert (first["source"], first["item"]) == ("registry", "health.birth_record")
    assert birth["valid_from"] == "1404-01-25"


def test_import_updates_a_card_with_a_dated_version(small, tmp_path):
    records = transfer.service_records()
    card = next(r for r in records if r["title_fa"] == "گواهی عدم سوء پیشینه")
    card["fee"] = 300000
    card["valid_from"] = "1404-04-10"
    path = tmp_path / "one.json"
    path.write_text(json.dumps([card], ensure_ascii=False), encoding="utf-8")
    with time_machine.travel("2025-07-15 10:00 +0330", tick=False):
        out, _ = _run("import", "--what", "services", str(path))
    service = Service.objects.get(service_id=card["service_id"])
    assert service.fee == 300000
    latest = service.versions.order_by("-version").first()
    assert latest.note == "imported" and latest.version == service.version
    assert transfer.service_records()[records.index(card)]["valid_from"] == "1404-04-10"


BAD_ROWS = [
    # (what is wrong, the changes to a good row, the field named in the error)
    ("duplicate ID in the file", {}, "service_id"),
    ("ID of another agency's card", {"agency": "ssi"}, "service_id"),
    ("unknown agency", {"agency": "no-such-agency", "service_id": ""}, "agency"),
    ("malformed ID", {"service_id": "1234567890"}, "service_id"),
    ("bad Jalali date", {"valid_from": "1404-13-40"}, "valid_from"),
    ("negative fee", {"fee": "-100"}, "fee"),
    (
        "exempt without justification",
        {"scope": "exempt", "connected": "false"},
        "exemption_document",
    ),
    ("unknown channel", {"channels": "web|fax"}, "channels"),
    ("unknown smart status", {"smart_status": "brilliant"}, "smart_status"),
    ("fee not a number", {"fee": "cheap"}, "fee"),
    ("date in the future", {"valid_from": "1405-01-01"}, "valid_from"),
    ("not a boolean", {"connected": "maybe"}, "connected"),
]


def _bad_file(tmp_path) -> tuple[str, list[tuple[int, str]]]:
    rows = list(csv.DictReader(io.StringIO(transfer.export("services", "csv"))))
    nocr = [r for r in rows if r["agency"] == "nocr" and r["service_id"]]
    good = nocr[0]
    records, expected = [dict(good)], []
    for index, (_name, changes, field) in enumerate(BAD_ROWS):
        record = dict(nocr[index % len(nocr)]) if index else dict(good)
        record["title_fa"] = f"{record['title_fa']} {index}"
        record.update(changes)
        records.append(record)
        expected.append((len(records), field))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=transfer.SERVICE_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    path = tmp_path / "bad.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    return str(path), expected


@time_machine.travel("2025-07-01 12:00 +0330", tick=False)  # 1404-04-10
def test_bad_file_reports_every_error_by_row_and_imports_nothing(small, tmp_path):
    path, expected = _bad_file(tmp_path)
    before = _counts()
    err = io.StringIO()
    with translation.override("en"), pytest.raises(CommandError) as info:
        call_command("catalogue", "import", "--what", "services", path, stderr=err)
    report = err.getvalue()
    for row, field in expected:
        assert f"Row {row}: {field}:" in report, (row, field, report)
    assert "Duplicate service ID" in report
    assert "belongs to a card of another agency (nocr)" in report
    assert "Unknown agency: no-such-agency" in report
    assert "Not a Jalali date" in report
    assert "Nothing was imported" in str(info.value)
    assert _counts() == before


def test_errors_are_in_persian_by_default(small, tmp_path):
    path, _ = _bad_file(tmp_path)
    err = io.StringIO()
    with translation.override("fa"), pytest.raises(CommandError):
        call_command("catalogue", "import", "--what", "services", path, stderr=err)
    assert "شناسه خدمت ده رقم است" in err.getvalue()
    assert "ردیف" in err.getvalue()


def test_dry_run_keeps_nothing(small, tmp_path):
    records = transfer.service_records()
    new = dict(records[0], service_id=make_service_id("999000001"), title_fa="خدمت تازه")
    path = tmp_path / "new.json"
    path.write_text(json.dumps([new], ensure_ascii=False), encoding="utf-8")
    before = _counts()
    out, _ = _run("import", "--what", "services", "--dry-run", str(path))
    assert "1" in out
    assert _counts() == before
    _run("import", "--what", "services", str(path))
    assert Service.objects.filter(title_fa="خدمت تازه").exists()


def test_agency_import_checks_parents_codes_and_member_codes(small, tmp_path):
    records = transfer.agency_records()
    first = records[0]
    rows = [
        dict(first, code="new-agency", parent="no-such-parent", member_code="77000001"),
        dict(first, code="other-agency", member_code=first["member_code"]),
        dict(first, code="third", kind="castle", member_code="77000002", valid_from="1404/02/30"),
        dict(first, code="third", member_code="77000003"),
    ]
    path = tmp_path / "agencies.json"
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    err = io.StringIO()
    before = _counts()
    with translation.override("en"), pytest.raises(CommandError):
        call_command("catalogue", "import", "--what", "agencies", str(path), stderr=err)
    report = err.getvalue()
    assert "Row 1: parent: Unknown parent agency: no-such-parent" in report
    assert (
        f"Row 2: member_code: The exchange member code belongs to agency {first['code']}" in report
    )
    assert "Row 3: kind:" in report
    assert "Row 4: code: Duplicate agency code third: also on row 3" in report
    assert _counts() == before


def test_malformed_files_are_refused(small, tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(CommandError):
        _run("import", "--what", "services", str(path))
    path = tmp_path / "header.csv"
    path.write_text("title\nx\n", encoding="utf-8")
    err = io.StringIO()
    with translation.override("en"), pytest.raises(CommandError):
        call_command("catalogue", "import", "--what", "services", str(path), stderr=err)
    assert "Missing columns: agency, title_fa" in err.getvalue()
