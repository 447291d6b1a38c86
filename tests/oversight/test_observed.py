"""Declared next to observed: smart (observed) and connected (observed) from the window's own
rows, each displayed figure equal to a count made here with plain loops over the model rows."""

from __future__ import annotations

import csv
import datetime as dt
import html as html_lib
import importlib
import io
import re

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from panjereh.catalogue.models import Agency, Service
from panjereh.common import jalali
from panjereh.identity.clients import register_agency_client
from panjereh.identity.models import ClientProfile, SsoSession
from panjereh.oversight import indicators, opendata, reports
from panjereh.services import definitions, engine, queries, workflow
from panjereh.services.models import Application, JourneyEvent, ServiceDefinition, State
from tests.factories import UserFactory, make_agency

# The module (the package's ``observed`` name is its function).
observed_module = importlib.import_module("panjereh.oversight.indicators.observed")

pytestmark = pytest.mark.django_db

AS_OF = "1404-03-31"  # report month 1404-03: [1404-03-01 00:00, 1404-04-01 00:00) Tehran
MONTH_START, MONTH_END = jalali.Month(1404, 3).bounds()
IN_MONTH = jalali.end_of_day("1404-03-10") - dt.timedelta(hours=10)
DONE = jalali.end_of_day("1404-03-20") - dt.timedelta(hours=10)
BEFORE = jalali.end_of_day("1404-02-20") - dt.timedelta(hours=10)
TICK = dt.timedelta(microseconds=1)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

PATHS = {
    "auto": [State.FETCHING, State.DECIDING, State.ISSUING, State.ISSUED],
    "auto_rejected": [State.FETCHING, State.DECIDING, State.REJECTED],
    "human": [State.FETCHING, State.HUMAN_REVIEW, State.ISSUING, State.ISSUED],
}


def _apply(code, user, key, *, path, submitted, finished):
    definition = definitions.active(code)
    inputs = {i["code"]: "1" for i in definition.spec.get("inputs", [])}
    files = {
        u["code"]: SimpleUploadedFile(f"{u['code']}.pdf", PDF, content_type="application/pdf")
        for u in definition.spec.get("uploads", [])
    }
    app, _ = engine.submit(definition, user, idempotency_key=key, inputs=inputs, files=files)
    for state in PATHS[path]:
        changes = {}
        if state == State.REJECTED:
            changes = {"decision": "rejected", "decision_reasons": [{"code": "x", "fa": "x"}]}
        workflow.transition(app, state, **changes)
    Application.objects.filter(pk=app.pk).update(submitted_at=submitted, completed_at=finished)
    JourneyEvent.objects.filter(application=app).update(at=finished)
    JourneyEvent.objects.filter(application=app, kind=JourneyEvent.Kind.SUBMITTED).update(
        at=submitted
    )
    return app


@pytest.fixture
def rows(db):
    # Everything exists before the month (the snapshot reads the catalogue as of the date).
    with time_machine.travel(jalali.end_of_day("1404-02-01"), tick=True):
        return _rows()


def _rows():
    definitions.load()
    user = UserFactory(national_code="0012345679", mobile="09120000000", assurance_level=3)
    n = iter(range(1000))

    def k():
        return f"k{next(n)}"

    # student-status: only automatic completions (one rejected with a reason): observed smart.
    _apply("student-status", user, k(), path="auto", submitted=IN_MONTH, finished=DONE)
    _apply("student-status", user, k(), path="auto_rejected", submitted=IN_MONTH, finished=DONE)
    # veteran-status: one automatic, one human-reviewed: not observed smart.
    _apply("veteran-status", user, k(), path="auto", submitted=IN_MONTH, finished=DONE)
    _apply("veteran-status", user, k(), path="human", submitted=IN_MONTH, finished=DONE)
    # no-criminal-record: automatic, but its definition asks for an upload: not observed smart.
    upload = definitions.active("no-criminal-record")
    photo = {"code": "photo", "label_fa": "عکس", "label_en": "Photo", "reason": "no registry"}
    spec = dict(upload.spec, uploads=[photo])
    ServiceDefinition.objects.filter(pk=upload.pk).update(spec=spec)
    _apply("no-criminal-record", user, k(), path="auto", submitted=IN_MONTH, finished=DONE)
    # household-support: completed in the month before: outside the period.
    _apply("household-support", user, k(), path="auto", submitted=BEFORE, finished=BEFORE)
    # An agency with nothing but an SSO sign-in through its window in the month.
    window_agency = make_agency(code="sso-only", connection_status="connected")
    client, _ = register_agency_client("w", ["https://w.example/cb"], agency=window_agency)
    session = SsoSession.objects.create(sid="s1", user=user, started_at=IN_MONTH)
    session.clients.add(client)
    # A sign-in of the month before counts for nobody.
    other = make_agency(code="sso-before")
    old_client, _ = register_agency_client("o", ["https://o.example/cb"], agency=other)
    old = SsoSession.objects.create(sid="s0", user=user, started_at=BEFORE)
    old.clients.add(old_client)
    return {"window_agency": window_agency, "other": other}


# --- the independent count: plain loops over the rows -----------------------------------------


def _in(t, start=MONTH_START, end=MONTH_END):
    return t is not None and start <= t < end


def count_from_rows(agency_id=None, start=MONTH_START, end=MONTH_END):
    uploads = {d.pk for d in ServiceDefinition.objects.all() if d.spec.get("uploads")}
    per_service: dict[int, dict] = {}
    for app in Application.objects.all():
        if agency_id is not None and app.agency_id != agency_id:
            continue
        if not (_in(app.submitted_at, start, end) or _in(app.completed_at, start, end)):
            continue
        human = any(
            (e.to_state == "human_review" or e.kind == "assigned") and e.at < end
            for e in app.events.all()
        )
        manual = human or app.definition_id in uploads
        done = _in(app.completed_at, start, end) and (
            app.state == "issued" or (app.state == "rejected" and bool(app.decision_reasons))
        )
        s = per_service.setdefault(
            app.definition.service_id, {"completed": 0, "manual": 0, "automatic": 0, "agency": 0}
        )
        s["agency"] = app.agency_id
        s["completed"] += bool(done)
        s["manual"] += manual
        s["automatic"] += bool(done and not manual)
    smart = [pk for pk, s in per_service.items() if s["completed"] and not s["manual"]]
    sign_ins: dict[int, int] = {}
    for session in SsoSession.objects.all():
        if not _in(session.started_at, start, end):
            continue
        for client in session.clients.all():
            profile = ClientProfile.objects.filter(application=client).first()
            if profile and profile.agency_id:
                sign_ins[profile.agency_id] = sign_ins.get(profile.agency_id, 0) + 1
    took = {app.agency_id for app in Application.objects.all() if _in(app.submitted_at, start, end)}
    connected = {a for a in took | set(sign_ins) if agency_id in (None, a)}
    in_scope = {a.pk for a in Agency.objects.filter(in_scope=True)}
    certified = set()
    for d in ServiceDefinition.objects.all():
        if (
            d.active
            and d.smart
            and d.status == "published"
            and any(e.to_status == "certified" for e in d.events.all())
            and agency_id in (None, Service.objects.get(pk=d.service_id).agency_id)
        ):
            certified.add(d.service_id)
    return {
        "observed_smart": len(smart),
        "services_active": len(per_service),
        "automatic": sum(s["automatic"] for s in per_service.values()),
        "completed": sum(s["completed"] for s in per_service.values()),
        "observed_connected": len(connected & in_scope) if agency_id is None else len(connected),
        "certified_smart": len(certified),
        "sign_ins": sign_ins,
    }


# --- behaviour -----------------------------------------------------------------------------


def _result():
    return indicators.compute(jalali.end_of_day(AS_OF))


def test_a_service_with_one_human_reviewed_application_is_not_observed_smart(rows):
    obs = indicators.observed(_result().snapshot)
    student = definitions.active("student-status").service_id
    veteran = definitions.active("veteran-status").service_id
    assert student in obs.smart_ids()
    assert veteran not in obs.smart_ids()
    assert obs.services[veteran]["automatic"] == 1  # its other application was automatic


def test_an_upload_breaks_observed_smartness(rows):
    obs = indicators.observed(_result().snapshot)
    upload = definitions.active("no-criminal-record").service_id
    assert obs.services[upload]["completed"] == 1
    assert obs.services[upload]["automatic"] == 0
    assert upload not in obs.smart_ids()


def test_an_agency_with_only_an_sso_sign_in_is_connected_observed(rows):
    snap = _result().snapshot
    assert indicators.connected_observed(snap, rows["window_agency"].pk).value is True
    assert indicators.connected_observed(snap, rows["other"].pk).value is False


def test_the_indicators_say_they_are_observed_and_the_catalogue_ones_declared():
    assert indicators.registry["smart_observed"].basis == indicators.OBSERVED
    assert indicators.registry["connected_observed"].basis == indicators.OBSERVED
    assert indicators.registry["smart_rate"].basis == indicators.DECLARED
    assert all(i.basis in (indicators.DECLARED, indicators.OBSERVED) for i in indicators.registry)
    assert all(i.definition()["basis"] for i in indicators.registry)


def test_the_national_figures_equal_an_independent_count(rows):
    result = _result()
    cmp = indicators.comparison(result.snapshot)
    expected = count_from_rows()
    assert expected["observed_smart"] == 1  # the fixture means what it says
    assert cmp.observed_smart == expected["observed_smart"]
    assert cmp.services_active == expected["services_active"]
    assert (cmp.automatic, cmp.completed) == (expected["automatic"], expected["completed"])
    assert cmp.observed_connected == expected["observed_connected"]
    assert cmp.certified_smart == expected["certified_smart"]
    v = result.national["smart_observed"]
    assert (v.numerator, v.denominator) == (expected["observed_smart"], expected["services_active"])


def test_open_data_columns_equal_an_independent_count(rows):
    result = _result()
    table = list(csv.DictReader(io.StringIO(opendata.to_csv(result))))
    assert set(f[0] for f in opendata.OBSERVED_FIELDS) <= set(table[0])
    by_code = {r["agency_code"]: r for r in table}
    for agency in Agency.objects.filter(in_scope=True):
        expected = count_from_rows(agency.pk)
        row = by_code[agency.code]
        assert int(row["observed_smart"]) == expected["observed_smart"], agency.code
        assert int(row["certified_smart"]) == expected["certified_smart"], agency.code
        assert int(row["applications_automatic"]) == expected["automatic"]
        assert int(row["applications_completed"]) == expected["completed"]
        assert int(row["sso_sign_ins"]) == expected["sign_ins"].get(agency.pk, 0)
        assert (row["connected_observed"] == "true") == bool(expected["observed_connected"])
    data = opendata.to_json(result)["declared_and_observed"]
    assert data["observed_smart"] == count_from_rows()["observed_smart"]


def test_the_transparency_page_shows_declared_and_observed_as_counted(rows, client):
    translation.activate("en")
    page = client.get(reverse("transparency:index") + f"?as_of={AS_OF}")
    assert page.status_code == 200
    cmp = page.context["comparison"]
    expected = count_from_rows()
    assert cmp.observed_smart == expected["observed_smart"]
    assert cmp.observed_connected == expected["observed_connected"]
    html = page.content.decode()
    assert 'data-testid="declared-observed"' in html
    assert cmp.smart_sentence() in html.replace("&#x27;", "'")


def test_the_persian_page_has_persian_digits_and_no_raw_code(rows, client):
    page = client.get(reverse("transparency:index") + f"?as_of={AS_OF}")
    html = page.content.decode()
    section = html.split('data-testid="declared-observed"')[1].split("</section>")[0]
    assert "smart_observed" not in section
    latin = re.findall(r".{0,30}[0-9].{0,30}", html_lib.unescape(re.sub(r"<[^>]*>", " ", section)))
    assert not latin  # Persian digits only
    assert "۱۴۰۴" in section  # the Jalali month, in Persian


def test_the_quarterly_report_shows_them_as_counted(rows):
    context = reports.quarterly_context(1404, 1)  # Q1 ends 1404-03-31: month 1404-03
    assert context["comparison"].month == "1404-03"
    expected = count_from_rows()
    assert context["comparison"].observed_smart == expected["observed_smart"]
    html = reports.quarterly_html(1404, 1)
    assert 'id="observed"' in html


def test_periods_follow_tehran_month_edges(rows):
    """An application completed at the first instant of the month counts; one completed at the
    first instant of the next month does not; the as-of moment is frozen."""
    user = UserFactory(national_code="0012345680", mobile="09120000001", assurance_level=3)
    edge_in = _apply(
        "household-support",
        user,
        "edge-in",
        path="auto",
        submitted=MONTH_START,
        finished=MONTH_START,
    )
    edge_out = _apply(
        "household-support", user, "edge-out", path="auto", submitted=MONTH_END, finished=MONTH_END
    )
    with time_machine.travel(jalali.end_of_day(AS_OF) + dt.timedelta(days=3), tick=False):
        rows_ = queries.observed_smartness(MONTH_START, MONTH_END)
        household = definitions.active("household-support").service_id
        assert rows_[household]["completed"] == 1  # edge_in only; the one before and after: no
        assert count_from_rows()["completed"] == sum(r["completed"] for r in rows_.values())
        # "now" in the middle of 1404-04: the report month is 1404-03 still.
        cmp = indicators.comparison(indicators.compute().snapshot)
        assert cmp.month == "1404-03"
        assert cmp.completed == count_from_rows()["completed"]
    assert edge_in.pk != edge_out.pk
    assert observed_module.period(jalali.end_of_day("1404-04-15")) == (
        "1404-03",
        MONTH_START,
        MONTH_END,
    )
    # On the month's last day the month itself is reported, up to the as-of moment.
    month, _start, end = observed_module.period(jalali.end_of_day("1404-03-31"))
    assert month == "1404-03" and end <= MONTH_END


def test_the_demo_history_is_simulated_deterministic_and_fills_the_observed_figures(db):
    from panjereh.demo import history

    definitions.load()
    Agency.objects.update(in_scope=True, connection_status="connected", sso_integrated=True)
    first = history.seed(months=2, per_month=6)
    assert first.applications and first.events and first.sign_ins
    assert history.seed(months=2).skipped  # once only
    assert all(e["simulated"] for e in JourneyEvent.objects.values_list("data", flat=True))
    cmp = indicators.comparison(indicators.compute().snapshot)
    assert cmp.completed and cmp.observed_connected
    # The same seed gives the same rows.
    codes = sorted(Application.objects.values_list("tracking_code", "state", "definition_id"))
    Application.objects.all().delete()
    SsoSession.objects.all().delete()
    again = history.seed(months=2, per_month=6)
    assert again.applications == first.applications
    assert (
        sorted(Application.objects.values_list("tracking_code", "state", "definition_id")) == codes
    )
