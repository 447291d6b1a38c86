"""Service performance (completion, satisfaction, digital take-up, cost per transaction) and the
satisfaction indicator, from applications made through the services app's own functions."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation

from panjereh.common import jalali
from panjereh.oversight import indicators, opendata, servperf
from panjereh.oversight.models import ServiceTransactions
from panjereh.services import definitions, engine, workflow
from panjereh.services.models import Application, JourneyEvent, State
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

AS_OF = "1404-03-31"  # report month 1404-03
IN_MONTH = jalali.end_of_day("1404-03-10") - dt.timedelta(hours=10)
DONE = jalali.end_of_day("1404-03-20") - dt.timedelta(hours=10)
AFTER = jalali.end_of_day("1404-04-05") - dt.timedelta(hours=10)
BEFORE = jalali.end_of_day("1404-02-20") - dt.timedelta(hours=10)
NATIONAL_CODE = "0012345679"

PATHS = {
    "issued": [State.FETCHING, State.DECIDING, State.ISSUING, State.ISSUED],
    "rejected": [State.FETCHING, State.DECIDING, State.REJECTED],
    "open": [State.FETCHING, State.HUMAN_REVIEW],
}


def _apply(code, user, key, *, outcome, submitted, finished=None, rating=None):
    app, _ = engine.submit(definitions.active(code), user, idempotency_key=key)
    for state in PATHS[outcome]:
        workflow.transition(app, state)
    if rating is not None:
        Application.objects.filter(pk=app.pk).update(rating=rating)
        workflow.record(app, JourneyEvent.Kind.RATED, f"امتیاز {rating}", f"Rated {rating}")
    Application.objects.filter(pk=app.pk).update(submitted_at=submitted)
    JourneyEvent.objects.filter(application=app).update(at=submitted)
    if finished:
        JourneyEvent.objects.filter(application=app).exclude(
            kind=JourneyEvent.Kind.SUBMITTED
        ).update(at=finished)
    return app


@pytest.fixture
def journeys(db):
    definitions.load()
    user = UserFactory(
        national_code=NATIONAL_CODE, first_name="Zhinoos", last_name="Parvaneh-Test",
        mobile="09120000000", assurance_level=3,
    )  # fmt: skip
    n = iter(range(1000))

    def k():
        return f"k{next(n)}"

    s = "student-status"
    v = "veteran-status"
    _apply(s, user, k(), outcome="issued", submitted=IN_MONTH, finished=DONE, rating=5)
    _apply(s, user, k(), outcome="issued", submitted=IN_MONTH, finished=DONE, rating=4)
    _apply(s, user, k(), outcome="rejected", submitted=IN_MONTH, finished=DONE, rating=2)
    _apply(s, user, k(), outcome="open", submitted=IN_MONTH, finished=DONE)
    # Finished only after the as-of date: started, not completed as of 1404-03-31.
    _apply(s, user, k(), outcome="issued", submitted=IN_MONTH, finished=AFTER, rating=5)
    # Started in the month before: outside the period.
    _apply(s, user, k(), outcome="issued", submitted=BEFORE, finished=BEFORE, rating=1)
    _apply(v, user, k(), outcome="issued", submitted=IN_MONTH, finished=DONE, rating=3)
    _apply(v, user, k(), outcome="open", submitted=IN_MONTH)
    student = definitions.active(s)
    ServiceTransactions.objects.create(
        service=student.service, agency=student.agency, month="1404-03",
        offline_transactions=15, cost_rials=4_000_000,
    )  # fmt: skip
    return {"student": student, "veteran": definitions.active(v)}


def _expected(service, as_of, month):
    """An independent computation from the rows."""
    start, end = servperf.month_bounds(month)
    started = completed = ratings = fav = 0
    for app in Application.objects.filter(definition__service=service):
        if start < app.submitted_at <= min(end, as_of):
            started += 1
            if any(
                e.kind == "state" and e.to_state in ("issued", "rejected") and e.at <= as_of
                for e in app.events.all()
            ):
                completed += 1
        for e in app.events.all():
            if e.kind == "rated" and start < e.at <= min(end, as_of) and app.rating:
                ratings += 1
                fav += app.rating >= 4
    return started, completed, ratings, fav


def test_each_measure_equals_an_independent_computation(journeys, settings):
    settings.PANJEREH_FEEDBACK_MIN_PUBLIC_RATINGS = 1  # the computation itself, no withholding
    as_of = jalali.end_of_day(AS_OF)
    perf = servperf.compute(as_of)
    assert perf.month == "1404-03"
    for key in ("student", "veteran"):
        service = journeys[key].service
        row = perf.service(service.service_id)
        started, completed, ratings, fav = _expected(service, as_of, "1404-03")
        assert (row.facts.started, row.facts.completed) == (started, completed)
        assert (row.facts.ratings, row.facts.favourable) == (ratings, fav)
        assert row.values["completion_rate"].value == round(100 * completed / started, 1)
        assert row.values["user_satisfaction"].value == round(100 * fav / ratings, 1)
    student = perf.service(journeys["student"].service.service_id)
    # 5 started in 1404-03; 3 reached an outcome by the date (one only in 1404-04).
    assert (student.facts.started, student.facts.completed) == (5, 3)
    # Ratings given in the month: 5, 4, 2 (the one rated after the date does not count).
    assert (student.facts.ratings, student.facts.favourable) == (3, 2)
    assert student.values["digital_takeup"].value == round(100 * 5 / (5 + 15), 1)
    cost = student.values["cost_per_transaction"]
    assert (cost.value, cost.numerator, cost.denominator) == (200_000, 4_000_000, 20)


def test_cost_and_takeup_absent_when_nothing_is_entered(journeys):
    perf = servperf.compute(jalali.end_of_day(AS_OF))
    veteran = perf.service(journeys["veteran"].service.service_id)
    assert not veteran.values["cost_per_transaction"].available
    assert veteran.values["cost_per_transaction"].value is None
    assert not veteran.values["digital_takeup"].available
    # An offline count without a cost: take-up yes, cost per transaction still absent.
    ServiceTransactions.objects.create(
        service=journeys["veteran"].service, agency=journeys["veteran"].agency,
        month="1404-03", offline_transactions=8,
    )  # fmt: skip
    veteran = servperf.compute(jalali.end_of_day(AS_OF)).service(
        journeys["veteran"].service.service_id
    )
    assert veteran.values["digital_takeup"].value == 20.0
    assert not veteran.values["cost_per_transaction"].available


def test_as_of_is_reproducible(journeys):
    as_of = jalali.end_of_day(AS_OF)
    first = servperf.compute(as_of).as_dict()
    # Later activity: a new application and a late outcome do not change the figures as of
    # the date.
    user = UserFactory(national_code="0023456781", assurance_level=3)
    _apply("student-status", user, "late", outcome="issued", submitted=AFTER, finished=AFTER)
    assert servperf.compute(as_of).as_dict() == first
    # The registered indicators carry the same values.
    result = indicators.compute(as_of)
    perf = servperf.compute(as_of)
    for code in ("completion_rate", "digital_takeup", "cost_per_transaction"):
        assert result.national[code].as_dict() == perf.national.values()[code].as_dict()
    agency_id = journeys["student"].agency.id
    snap = indicators.snapshot(as_of)
    fn = indicators.registry["completion_rate"].compute
    assert (
        fn(snap, agency_id).as_dict() == perf.agency_values(agency_id)["completion_rate"].as_dict()
    )


def test_satisfaction_indicator_reads_application_ratings(journeys, settings):
    as_of = jalali.end_of_day(AS_OF)
    start, end = servperf.month_bounds("1404-03")
    rated = JourneyEvent.objects.filter(kind="rated", at__gt=start, at__lte=end).select_related(
        "application"
    )
    ratings = [e.application.rating for e in rated]
    # National figures follow the one small-number rule too: withheld below the minimum.
    settings.PANJEREH_FEEDBACK_MIN_PUBLIC_RATINGS = len(ratings) + 1
    national = indicators.compute(as_of, include_all_agencies=True).national["satisfaction"]
    assert national.withheld and national.value is None
    assert national.denominator == len(ratings)
    settings.PANJEREH_FEEDBACK_MIN_PUBLIC_RATINGS = len(ratings)
    result = indicators.compute(as_of, include_all_agencies=True)
    national = result.national["satisfaction"]
    assert national.available
    assert (national.numerator, national.denominator) == (
        sum(1 for r in ratings if r >= 4),
        len(ratings),
    )
    with translation.override("en"):
        assert "feedback" in str(indicators.registry["satisfaction"].definition_en)


def test_satisfaction_is_no_data_without_ratings(db):
    result = indicators.compute(jalali.end_of_day(AS_OF))
    assert not result.national["satisfaction"].available
    assert not result.national["cost_per_transaction"].available


def test_definitions_in_both_languages():
    for code in ("completion_rate", "digital_takeup", "cost_per_transaction", "satisfaction"):
        d = indicators.registry[code].definition()
        assert d["definition_fa"] and d["definition_en"] and d["numerator"] and d["source"]


def test_public_pages_show_figures_and_no_person(client, journeys):
    service_id = journeys["student"].service.service_id
    for url in (
        reverse("transparency:services"),
        reverse("transparency:service", args=[service_id]),
        reverse("transparency:open_data_services_csv"),
        reverse("transparency:open_data_services_json"),
    ):
        response = client.get(url, {"as_of": AS_OF})
        assert response.status_code == 200, url
        body = response.content.decode()
        for personal in (NATIONAL_CODE, "Zhinoos", "Parvaneh", "09120000000"):
            assert personal not in body, (url, personal)
        for app in Application.objects.all():
            assert app.tracking_code not in body
    body = client.get(reverse("transparency:open_data_services_json"), {"as_of": AS_OF}).json()
    row = next(r for r in body["services"] if r["service_id"] == service_id)
    assert row["cost_per_transaction_rials"] == 200_000
    package = client.get(reverse("transparency:open_data_package")).json()
    names = [r["name"] for r in package["resources"]]
    assert "service-performance" in names
    csv_body = client.get(reverse("transparency:open_data_services_csv"), {"as_of": AS_OF})
    header = csv_body.content.decode().splitlines()[0].split(",")
    assert header == [f[0] for f in opendata.SERVICE_FIELDS]


def test_bad_jalali_date_is_a_clear_localised_error(client, db):
    response = client.get(reverse("transparency:services"), {"as_of": "1404-13-40"})
    assert response.status_code == 400
    assert "تاریخ باید خورشیدی باشد" in response.content.decode()
    response = client.get("/en" + reverse("transparency:services"), {"as_of": "nope"})
    assert response.status_code == 400
    assert "Jalali" in response.content.decode()
    with pytest.raises(CommandError, match="not a Jalali date"):
        call_command("oversight", "service-performance", "--as-of", "1404-13-01")


def test_command_prints_json(journeys):
    out = StringIO()
    call_command(
        "oversight", "service-performance", "--as-of", AS_OF, "--format", "json", stdout=out
    )
    data = json.loads(out.getvalue())
    assert data["month"] == "1404-03"
    row = next(
        r for r in data["services"] if r["service_id"] == journeys["student"].service.service_id
    )
    assert row["started"] == 5 and row["indicators"]["completion_rate"]["value"] == 60.0
    text = StringIO()
    call_command("oversight", "service-performance", "--as-of", AS_OF, stdout=text)
    assert "completion_rate=60.0" in text.getvalue()


def test_rollup_gives_the_same_figures_as_the_log(journeys):
    as_of = jalali.end_of_day(AS_OF)
    from_log = servperf.compute(as_of).as_dict()
    assert servperf.rows_from_rollup("1404-03", as_of) is None
    out = StringIO()
    call_command("oversight", "rollup-journeys", "--month", "1404-03", stdout=out)
    assert "1404-03:" in out.getvalue()
    assert servperf.rows_from_rollup("1404-03", as_of) is not None
    assert servperf.compute(as_of).as_dict() == from_log
    # As of the middle of the month too (end of a day).
    mid = jalali.end_of_day("1404-03-15")
    assert servperf.rows_from_rollup("1404-02", mid) is None  # 1404-02 not rolled up


def test_rollup_plus_what_the_log_gained_after_it(journeys):
    servperf.rollup("1404-03")
    # After the roll-up, the open student application is decided and rated.
    app = Application.objects.filter(
        definition__service=journeys["student"].service, state=State.HUMAN_REVIEW
    ).first()
    workflow.transition(app, State.REJECTED)
    Application.objects.filter(pk=app.pk).update(rating=5)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    start, end = servperf.month_bounds("1404-03")
    assert servperf.rows_from_rollup("1404-03", later) == servperf.rows_from_applications(
        start, end, later
    )
    student = servperf.rows_from_rollup("1404-03", later)[journeys["student"].service.pk]
    assert (student["started"], student["completed"]) == (5, 5)


def test_satisfaction_of_too_few_ratings_is_withheld(journeys, settings):
    """Three ratings in the month (fewer than the minimum of 5): the share and its numerator are
    not given, so no one's own score can be read; the counts behind it still are."""
    settings.PANJEREH_FEEDBACK_MIN_PUBLIC_RATINGS = 5
    perf = servperf.compute(jalali.end_of_day(AS_OF))
    student = perf.service(journeys["student"].service.service_id)
    assert student.facts.ratings == 3
    satisfaction = student.values["user_satisfaction"]
    assert satisfaction.value is None and satisfaction.numerator is None and satisfaction.withheld
    settings.PANJEREH_FEEDBACK_MIN_PUBLIC_RATINGS = 3
    shown = servperf.compute(jalali.end_of_day(AS_OF)).service(
        journeys["student"].service.service_id
    )
    assert shown.values["user_satisfaction"].value == round(100 * 2 / 3, 1)
