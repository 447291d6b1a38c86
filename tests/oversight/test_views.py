"""Public portal pages, dashboards with roles, open data equal to the pages, reports."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import translation

from panjereh.catalogue import roles
from panjereh.common.persian import to_latin_digits
from panjereh.oversight import obligations
from tests.factories import UserFactory, make_agency_staff

pytestmark = pytest.mark.django_db

PUBLIC = [
    "transparency:index",
    "transparency:agencies",
    "transparency:ranking",
    "transparency:not_offered",
    "transparency:deadlines",
    "transparency:indicators",
    "transparency:reports",
    "transparency:open_data",
]
NATIONAL_CODE = "0012345679"


@pytest.fixture
def seeded(catalogue):
    obligations.seed()
    obligations.generate_due(obligations.jalali_today().togregorian())
    return catalogue


@pytest.fixture
def person(seeded):
    """An agency editor with a national code, a name and a mobile number, who has proposed a
    plan and filed a monthly report: none of it may appear on a public page."""
    from django.utils import timezone

    from panjereh.oversight import cycle
    from panjereh.oversight.models import MonthlyReport

    agency = seeded["agencies"]["mid"]
    user = make_agency_staff(
        agency,
        role="editor",
        first_name="Zhinoos",
        last_name="Parvaneh-Test",
        email="zp@example.org",
        national_code=NATIONAL_CODE,
        mobile="09121234567",
    )
    eligible = list(cycle.eligible_services(agency.id).exclude(smart_status="approved"))
    cycle.propose(agency.id, 1405, [s.pk for s in eligible[:2]], author=user)
    MonthlyReport.objects.create(
        agency=agency, year=1405, month=8, actions="Zhinoos connected two services.",
        submitted_by=user, submitted_at=timezone.now(),
    )  # fmt: skip
    return user


def test_public_pages_render_for_anonymous_users_without_personal_data(client, seeded, person):
    pages = [reverse(name) for name in PUBLIC]
    pages.append(reverse("transparency:agency", args=["mid"]))
    pages.append(reverse("transparency:quarterly", args=[1404, 1]))
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert 'dir="rtl"' in html
        for secret in (
            NATIONAL_CODE,
            "Zhinoos",
            "Parvaneh-Test",
            "zp@example.org",
            person.username,
        ):
            assert secret not in html, (url, secret)


def test_index_shows_the_national_figures_with_persian_digits_and_accessible_charts(client, seeded):
    response = client.get(reverse("transparency:index"))
    html = response.content.decode()
    national = response.context["national"]
    numerator = national["connection_rate"].numerator
    assert 'data-indicator="connection_rate"' in html
    assert str(numerator).translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")) in html
    assert html.count("<svg") >= 3
    assert "<title id=" in html and "<desc id=" in html
    assert "<caption>" in html


def test_bad_as_of_date_is_refused_clearly(client, seeded):
    response = client.get(reverse("transparency:agencies") + "?as_of=1404-13-40")
    assert response.status_code == 400 and response.content.decode().strip()
    with translation.override("en"):
        url = reverse("transparency:agencies")
    assert url.startswith("/en/")
    response = client.get(url + "?as_of=1404-13-40")
    assert response.status_code == 400
    assert "Jalali date such as 1404-03-31" in response.content.decode()


def test_open_data_numbers_equal_the_portal(client, seeded):
    page = client.get(reverse("transparency:agencies") + "?as_of=1404-03-31")
    rows = {a.info.code: a for a in page.context["rows"]}
    body = client.get(reverse("transparency:open_data_csv") + "?as_of=1404-03-31").content.decode()
    records = list(csv.DictReader(io.StringIO(body)))
    assert {r["agency_code"] for r in records} == set(rows)
    html = page.content.decode()
    for record in records:
        row = rows[record["agency_code"]]
        assert int(record["connectable"]) == row.counts.connectable
        assert int(record["connected"]) == row.counts.connected
        assert int(record["smart"]) == row.counts.smart
        # The page shows the same rounded rate, in Persian digits.
        rate = record["smart_rate_pct"]
        if rate:
            assert float(rate) == row.values["smart_rate"].value
            shown = re.search(rf'data-agency="{record["agency_code"]}".*?</tr>', html, re.S).group(
                0
            )
            assert to_latin_digits(rate.replace(".", "٫")) in to_latin_digits(shown)
    data = json.loads(
        client.get(reverse("transparency:open_data_json") + "?as_of=1404-03-31").content
    )
    assert data["as_of"] == "1404-03-31"
    assert [r["agency_code"] for r in data["agencies"]] == [r["agency_code"] for r in records]
    national = page.context["result"].national
    assert data["national"]["smart_rate"]["numerator"] == national["smart_rate"].numerator
    package = json.loads(client.get(reverse("transparency:open_data_package")).content)
    fields = [f["name"] for f in package["resources"][0]["schema"]["fields"]]
    assert fields == list(records[0].keys())
    dcat = json.loads(client.get(reverse("transparency:open_data_dcat")).content)
    assert dcat["@type"] == "dcat:Dataset"
    assert dcat["dcat:distribution"][0]["dcat:downloadURL"]["@id"].endswith(
        "/transparency/open-data/agencies.csv"
    )


def test_agency_user_sees_only_their_own_dashboard(client, seeded):
    agencies = seeded["agencies"]
    user = make_agency_staff(agencies["mid"], role="viewer")
    client.force_login(user)
    own = client.get(reverse("oversight:agency", args=["mid"]))
    assert own.status_code == 200
    assert own.context["row"].info.code == "mid"
    other = client.get(reverse("oversight:agency", args=["low"]))
    assert other.status_code == 403
    assert client.get(reverse("oversight:monthly_report", args=["low"])).status_code == 403
    # The overview sends an agency user to their own dashboard.
    response = client.get(reverse("oversight:dashboard"))
    assert response.status_code == 302 and response.url.endswith("/oversight/agencies/mid/")


def test_anonymous_users_are_sent_to_log_in(client, seeded):
    response = client.get(reverse("oversight:agency", args=["mid"]))
    assert response.status_code == 302
    assert client.get(reverse("oversight:dashboard")).status_code == 302


def test_supervisors_see_every_agency(client, seeded):
    roles.ensure_groups()
    for role in (roles.AEO, roles.ITO, roles.STEERING_WG):
        user = UserFactory()
        user.groups.add(Group.objects.get(name=role))
        client.force_login(user)
        response = client.get(reverse("oversight:dashboard"))
        assert response.status_code == 200
        assert {a.info.code for a in response.context["result"].agencies} >= {"mid", "low"}
        assert client.get(reverse("oversight:agency", args=["low"])).status_code == 200
    outsider = UserFactory()
    client.force_login(outsider)
    assert client.get(reverse("oversight:dashboard")).status_code == 403
    assert client.get(reverse("oversight:agency", args=["low"])).status_code == 403


def test_monthly_report_is_prefilled_with_computed_figures(client, seeded):
    agency = seeded["agencies"]["mid"]
    user = make_agency_staff(agency, role="editor")
    client.force_login(user)
    url = reverse("oversight:monthly_report", args=["mid"])
    form = client.get(url)
    assert form.context["figures"]["connectable"] == 10
    assert form.context["figures"]["smart"] == 2
    empty = client.post(url, {"actions": " "})
    assert empty.status_code == 400
    done = client.post(url, {"actions": "Connected two services.", "obstacles": ""})
    assert done.status_code == 302
    report = agency.monthly_reports.get()
    assert report.figures["smart"] == 2 and report.submitted_by == user


def test_quarterly_report_html_has_the_four_contents(client, seeded):
    from tests.factories import make_service
    from tests.oversight.conftest import EARLY

    agency = seeded["agencies"]["mid"]
    made = [
        make_service(agency, category="business"),
        make_service(agency, life_events=["business"], smart_status="approved"),
        make_service(agency, category="business", connected=False, connection_form=""),
    ]
    for s in made:
        s.versions.update(valid_from=EARLY)
    response = client.get(reverse("transparency:quarterly", args=[1404, 1]))
    html = response.content.decode()
    for section in ("scope", "business", "nix", "behind"):
        assert f'<section id="{section}">' in html
    # No exchange statistics in this catalogue: the report says so instead of a number.
    assert response.context["exchange_available"] is False
    business = response.context["business"]
    assert (business["connectable"], business["connected"], business["smart"]) == (3, 2, 1)
    behind = {b["agency"].info.code for b in response.context["behind"]}
    assert {"off", "low", "zero"} <= behind
    assert "full" not in behind and "mid" not in behind


def test_quarterly_pdf_is_persian(client, seeded, tmp_path):
    response = client.get(reverse("transparency:quarterly_pdf", args=[1404, 1]))
    assert response.status_code == 200
    pdf = response.content
    assert pdf.startswith(b"%PDF") and len(pdf) > 5000
    # `make test` installs poppler-utils; the text check must run, not skip.
    assert shutil.which("pdftotext"), "pdftotext is missing: apt-get install poppler-utils"
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, check=True
    ).stdout.decode()
    # Joined Persian text, extracted in logical order: the title and an agency's name.
    assert "گزارش فصلی کارگروه راهبری" in text
    assert "آزمایشی" in text


def test_quarterly_report_states_nix_inquiries_from_the_exchange(client, seeded):
    pytest.importorskip("panjereh.exchange.models")
    from panjereh.exchange.models import MonthlyStat

    full, mid = seeded["agencies"]["full"], seeded["agencies"]["mid"]
    MonthlyStat.objects.create(
        month="1404-01", provider=full, consumer=mid, calls=1000, failures=20
    )
    MonthlyStat.objects.create(month="1404-03", provider=full, consumer=mid, calls=500, failures=5)
    MonthlyStat.objects.create(month="1404-04", provider=full, consumer=mid, calls=9999, failures=0)
    response = client.get(reverse("transparency:quarterly", args=[1404, 1]))
    months = response.context["exchange_months"]
    assert [(m["month"], m["calls"], m["failures"]) for m in months] == [
        ("1404-01", 1000, 20),
        ("1404-02", 0, 0),
        ("1404-03", 500, 5),
    ]
    assert response.context["exchange_quality"].numerator == 495  # Khordad, the report month
    html = response.content.decode()
    assert "۱٬۰۰۰" in html or "۱۰۰۰" in html


def test_no_report_for_a_quarter_that_has_not_ended(client, seeded):
    today = obligations.jalali_today()
    quarter = (today.month - 1) // 3 + 1
    assert (
        client.get(reverse("transparency:quarterly", args=[today.year, quarter])).status_code == 404
    )
    assert (
        client.get(reverse("transparency:quarterly_pdf", args=[today.year, 5])).status_code == 404
    )
