"""The per-agency compliance export (the report's recommendation 2: tie budget and hiring to
how far agencies carry out their duties): who may export what, figures equal to the rows,
CSV injection escaped, the language of headers and dates, the columns documented."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone, translation

from panjereh.catalogue import roles
from panjereh.common import jalali
from panjereh.oversight import obligations
from panjereh.oversight.models import DueInstance, DueStatus
from tests.factories import UserFactory, make_agency_staff

pytestmark = pytest.mark.django_db

DOCS = Path(__file__).resolve().parents[2] / "docs" / "oversight.md"
INJECTION = '=HYPERLINK("http://evil.example","click")'


def moment(jalali_day: str) -> dt.datetime:
    return jalali.end_of_day(jalali_day) - dt.timedelta(hours=12)


@pytest.fixture
def tracked(catalogue):
    """The tracker seeded up to today, with one duty of every agency met late (evidence that
    looks like a formula), one met on time, and one waived."""
    obligations.seed()
    obligations.generate_due(obligations.jalali_today().togregorian())
    supervisor = _supervisor()
    late = DueInstance.objects.get(obligation__key="itec-25/resolution-1")  # due 1401-12-29
    obligations.transition(
        late, DueStatus.MET, actor=supervisor, evidence=INJECTION, at=moment("1402-01-20")
    )
    on_time = DueInstance.objects.get(obligation__key="plan7-107/clause-پ")  # due 1403-12-30
    obligations.transition(
        on_time, DueStatus.MET, actor=supervisor, evidence="https://e.example/p",
        at=moment("1403-12-01"),
    )  # fmt: skip
    waived = DueInstance.objects.get(obligation__key="itec-25/resolution-2")
    obligations.transition(waived, DueStatus.WAIVED, actor=supervisor, reason="Superseded")
    return catalogue


def _supervisor(role=roles.AEO):
    roles.ensure_groups()
    user = UserFactory()
    user.groups.add(Group.objects.get(name=role))
    return user


def _csv(response) -> list[list[str]]:
    text = response.content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def _json(client, **params):
    response = client.get(reverse("oversight:obligations_export"), {"format": "json", **params})
    assert response.status_code == 200
    return json.loads(response.content)


# --- who may export what ------------------------------------------------------------------


def test_supervisors_export_every_agency_in_scope(client, tracked):
    in_scope = {code for code, a in tracked["agencies"].items() if a.in_scope}
    for role in (roles.AEO, roles.STEERING_WG, roles.ITO):
        client.force_login(_supervisor(role))
        body = _json(client)
        assert {a["agency_code"] for a in body["agencies"]} == in_scope
        assert {r["agency_code"] for r in body["rows"]} == in_scope


def test_agency_staff_export_only_their_own_agency(client, tracked):
    agencies = tracked["agencies"]
    client.force_login(make_agency_staff(agencies["mid"], role="viewer"))
    body = _json(client)
    assert [a["agency_code"] for a in body["agencies"]] == ["mid"]
    assert {r["agency_code"] for r in body["rows"]} == {"mid"}
    assert _json(client, agency="mid")["agencies"][0]["agency_code"] == "mid"
    url = reverse("oversight:obligations_export")
    # Another agency's rows are refused, in every format.
    for fmt in ("json", "csv", "excel"):
        assert client.get(url, {"agency": "low", "format": fmt}).status_code == 403


def test_staff_of_another_agency_and_outsiders_are_refused(client, tracked):
    agencies = tracked["agencies"]
    url = reverse("oversight:obligations_export")
    client.force_login(make_agency_staff(agencies["low"], role="admin"))
    assert client.get(url, {"agency": "mid"}).status_code == 403
    client.force_login(UserFactory())  # signed in, no agency, no platform role
    assert client.get(url).status_code == 403
    assert client.get(url, {"agency": "mid"}).status_code == 403


def test_anonymous_users_are_sent_to_sign_in(client, tracked):
    url = reverse("oversight:obligations_export")
    for params in ({}, {"format": "json"}, {"agency": "mid"}):
        response = client.get(url, params)
        assert response.status_code == 302
        assert "login" in response.url


def test_the_obligations_page_links_to_the_export(client, tracked):
    client.force_login(_supervisor())
    page = client.get(reverse("oversight:obligations")).content.decode()
    assert reverse("oversight:obligations_export") in page
    assert "format=excel" in page and "format=json" in page


# --- the figures --------------------------------------------------------------------------


def test_summary_figures_equal_a_recount_of_the_rows(client, tracked):
    client.force_login(_supervisor())
    with translation.override("en"):
        url = reverse("oversight:obligations_export")
    rows = _csv(client.get(url))
    header, data = rows[0], rows[1:]
    col = {name: header.index(name) for name in header}
    by_agency: dict[str, list[list[str]]] = {}
    for row in data:
        by_agency.setdefault(row[col["Agency code"]], []).append(row)
    assert set(by_agency) >= {"full", "mid", "low", "zero", "off", "na"}
    for code, agency_rows in by_agency.items():
        statuses = [r[col["Status"]] for r in agency_rows]
        on_time = statuses.count("Met on time")
        fallen_due = on_time + statuses.count("Met late") + statuses.count("Overdue")
        share = "" if not fallen_due else str(round(100 * on_time / fallen_due, 1))
        for r in agency_rows:
            assert r[col["Agency: met on time"]] == str(on_time), code
            assert r[col["Agency: instances fallen due"]] == str(fallen_due), code
            assert r[col["Agency: share met on time (%)"]] == share, code
    # The JSON summary says the same.
    body = json.loads(client.get(url, {"format": "json"}).content)
    for entry in body["agencies"]:
        agency_rows = by_agency[entry["agency_code"]]
        statuses = [r[col["Status"]] for r in agency_rows]
        assert entry["summary"]["Met on time"] == statuses.count("Met on time")
        assert entry["summary"]["Overdue"] == statuses.count("Overdue")
        assert entry["summary"]["Exempt"] == statuses.count("Exempt")


def test_statuses_and_days_late_follow_the_recorded_events(client, tracked):
    client.force_login(_supervisor())
    with translation.override("en"):
        url = reverse("oversight:obligations_export")
    body = json.loads(client.get(url, {"format": "json", "agency": "mid"}).content)
    rows = {r["basis"]: r for r in body["rows"]}
    late = next(r for b, r in rows.items() if "25th session" in b and "resolution 1" in b)
    assert late["status"] == "Met late"
    due = jalali.to_gregorian("1401-12-29")
    assert late["days_late"] == (jalali.to_gregorian("1402-01-20") - due).days
    assert late["due_on"] == due.isoformat()  # ISO dates in English
    assert late["done_on"] == jalali.to_gregorian("1402-01-20").isoformat()
    on_time = next(r for b, r in rows.items() if b.endswith("clause پ"))
    assert on_time["status"] == "Met on time" and on_time["days_late"] == 0
    assert on_time["evidence"] == "https://e.example/p"
    exempt = next(r for b, r in rows.items() if "resolution 2" in b and "25th" in b)
    assert exempt["status"] == "Exempt" and exempt["evidence"] == "Superseded"
    today = timezone.localdate()
    overdue = [r for r in body["rows"] if r["status"] == "Overdue"]
    assert overdue
    for r in overdue:
        assert r["days_late"] == (today - dt.date.fromisoformat(r["due_on"])).days
    # Every row carries its source in the seeds; no raw internal status code leaks.
    assert all(r["source"] for r in body["rows"])
    codes = {s.value for s in obligations.Standing} | set(DueStatus.values)
    assert not codes & {r["status"] for r in body["rows"]}
    assert "agencies" not in {r["responsible"] for r in body["rows"]}


def test_a_duty_of_a_named_body_is_the_agency_s_own(client, catalogue):
    from tests.factories import make_agency

    ito = make_agency(code="ito")
    obligations.seed()
    obligations.generate_due(obligations.jalali_today().togregorian())
    client.force_login(make_agency_staff(ito, role="viewer"))
    with translation.override("en"):
        body = _json(client)
    own = [r for r in body["rows"] if r["recorded_for"] == "This agency"]
    assert any("20 basic services" in r["duty"] for r in own)
    shared = [r for r in body["rows"] if r["recorded_for"] != "This agency"]
    assert shared  # the duties of every agency, recorded once for all


# --- the file -----------------------------------------------------------------------------


def test_a_formula_in_evidence_is_escaped_and_excel_gets_the_bom(client, tracked):
    client.force_login(_supervisor())
    url = reverse("oversight:obligations_export")
    plain = client.get(url)
    assert plain["Content-Type"].startswith("text/csv")
    assert "Access-Control-Allow-Origin" not in plain
    assert not plain.content.startswith("\ufeff".encode())
    cells = [cell for row in _csv(plain) for cell in row]
    assert "'" + INJECTION in cells
    assert INJECTION not in cells
    excel = client.get(url, {"format": "excel"})
    assert excel.content.startswith("\ufeff".encode())
    assert "attachment" in excel["Content-Disposition"]


def test_persian_export_has_persian_headers_and_jalali_dates(client, tracked):
    client.force_login(_supervisor())
    rows = _csv(client.get(reverse("oversight:obligations_export")))  # default: Persian
    header = rows[0]
    assert "دستگاه" in header and "وضعیت" in header
    col = header.index("مهلت")
    dates = {r[col] for r in rows[1:] if r[col]}
    assert "1401-12-29" in dates  # Jalali, not 2023-03-20
    status = header.index("وضعیت")
    assert {r[status] for r in rows[1:]} <= {
        "انجام‌شده در مهلت",
        "انجام‌شده با تأخیر",
        "گذشته از مهلت",
        "هنوز سررسید نشده",
        "مستثنا",
    }


def test_every_column_is_documented(client, tracked):
    from panjereh.oversight.views import export_columns

    docs = DOCS.read_text(encoding="utf-8")
    with translation.override("en"):
        columns = export_columns()
    for key, header in columns.items():
        assert f"`{key}`" in docs and header in docs, key
