"""Indicators equal an independent computation from the rows, now and as of a past date."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from panjereh.catalogue.models import Agency, Service
from panjereh.common import jalali
from panjereh.oversight import indicators

pytestmark = pytest.mark.django_db

# After the fixture's last change and while the required smart share is 20%.
AS_OF = jalali.end_of_day("1404-03-31")


def independent() -> dict:
    """Figures straight from the current Agency and Service tables, without the queries."""
    agencies = list(Agency.objects.filter(in_scope=True))
    connected = [a for a in agencies if a.connection_status == "connected"]
    applicable = [a for a in agencies if a.connection_status != "not_applicable"]
    per = {}
    for a in agencies:
        rows = [s for s in Service.objects.filter(agency=a, service_id__isnull=False)]
        connectable = [s for s in rows if s.scope == "connectable"]
        smart = [s for s in connectable if s.smart_status == "approved"]
        per[a.code] = (len(connectable), sum(s.connected for s in connectable), len(smart))
    tot_connectable = sum(v[0] for v in per.values())
    rated = [per[a.code] for a in connected if per[a.code][0]]
    return {
        "connectable": tot_connectable,
        "connected": sum(v[1] for v in per.values()),
        "smart": sum(v[2] for v in per.values()),
        "agencies_connected": (len(connected), len(applicable)),
        "own_window": sum(1 for a in connected if a.own_window_url),
        "sso": sum(1 for a in connected if a.sso_integrated),
        "connection_full": sum(1 for c, n, s in rated if n == c),
        "connection_low": sum(1 for c, n, s in rated if n / c < 0.2),
        "smart_full": sum(1 for c, n, s in rated if s == c),
        "smart_zero": sum(1 for c, n, s in rated if s == 0),
        "smart_low_nonzero": sum(1 for c, n, s in rated if 0 < s / c < 0.2),
        "compliant": sum(1 for c, n, s in rated if s / c >= 0.2),
        "rated": len(rated),
        "per": per,
    }


def test_national_indicators_equal_independent_computation(catalogue):
    expected = independent()
    result = indicators.compute(AS_OF)
    assert result.snapshot.required_smart_share == 0.2
    n = result.national
    assert (n["connection_rate"].numerator, n["connection_rate"].denominator) == (
        expected["connected"],
        expected["connectable"],
    )
    assert n["connection_rate"].value == round(
        100 * expected["connected"] / expected["connectable"], 1
    )
    assert (n["smart_rate"].numerator, n["smart_rate"].denominator) == (
        expected["smart"],
        expected["connectable"],
    )
    assert (n["agencies_connected"].numerator, n["agencies_connected"].denominator) == expected[
        "agencies_connected"
    ]
    assert n["own_window"].numerator == expected["own_window"]
    assert n["sso"].numerator == expected["sso"]
    for code in (
        "connection_full",
        "connection_low",
        "smart_full",
        "smart_zero",
        "smart_low_nonzero",
    ):
        assert n[code].numerator == expected[code], code
    assert n["smart_low"].numerator == expected["smart_zero"] + expected["smart_low_nonzero"]
    assert (n["smart_compliance"].numerator, n["smart_compliance"].denominator) == (
        expected["compliant"],
        expected["rated"],
    )
    # The fixture has a non-trivial mix, so the checks above can fail.
    assert 0 < expected["compliant"] < expected["rated"]


def test_agency_rows_equal_independent_computation(catalogue):
    expected = independent()["per"]
    result = indicators.compute(AS_OF)
    assert {a.info.code for a in result.agencies} == set(expected)  # the university is out of scope
    for row in result.agencies:
        connectable, connected, smart = expected[row.info.code]
        rate = row.values["connection_rate"]
        assert (rate.numerator, rate.denominator) == (connected, connectable)
        assert row.values["smart_rate"].numerator == smart
    assert result.agency("full").smart_bucket == "full"
    assert result.agency("zero").smart_bucket == "zero"
    assert result.agency("low").connection_bucket == "low"
    assert result.agency("mid").values["smart_compliance"].value is True
    assert result.agency("zero").values["smart_compliance"].value is False
    # From the end of 1404 the law asks for 40%: "mid" (2 of 10) falls behind.
    later = indicators.compute(jalali.end_of_day("1405-01-15"))
    assert later.snapshot.required_smart_share == 0.4
    assert later.agency("mid").values["smart_compliance"].value is False


def test_as_of_reproduces_the_past_and_names_the_catalogue_version(catalogue):
    before = indicators.compute(jalali.end_of_day("1403-12-01"))
    now = indicators.compute()
    # "mid" had one smart service before its 1404 change, two after.
    assert before.agency("mid").counts.smart == 1
    assert now.agency("mid").counts.smart == 2
    assert before.national["smart_rate"].numerator == now.national["smart_rate"].numerator - 1
    assert (
        before.snapshot.catalogue_version["service_version_id"]
        < (now.snapshot.catalogue_version["service_version_id"])
    )
    again = indicators.compute(jalali.end_of_day("1403-12-01"))
    assert again.as_dict() == before.as_dict()
    # Nothing existed before the history starts.
    empty = indicators.compute(jalali.end_of_day("1402-01-01"))
    assert empty.national["connection_rate"].available is False


def test_exchange_and_satisfaction_say_no_data_when_there_is_none(catalogue, monkeypatch):
    monkeypatch.setattr(indicators.sources, "exchange_by_provider", lambda as_of: None)
    monkeypatch.setattr(indicators.sources, "satisfaction_progress", lambda as_of: None)
    result = indicators.compute()
    for code in ("exchange_activity", "exchange_quality", "satisfaction"):
        assert result.national[code].available is False
        assert result.national[code].value is None


def test_exchange_indicators_from_provider_statistics(catalogue, monkeypatch):
    agencies = catalogue["agencies"]
    stats = {
        agencies["full"].id: indicators.sources.ProviderMonth(calls=1000, failed=20),
        agencies["mid"].id: indicators.sources.ProviderMonth(calls=50, failed=5),
    }
    monkeypatch.setattr(indicators.sources, "exchange_by_provider", lambda as_of: stats)
    result = indicators.compute()
    quality = result.national["exchange_quality"]
    assert (quality.numerator, quality.denominator) == (1025, 1050)
    # connected in-scope agencies: full, mid, low, zero; all but "full" are under 100 calls.
    assert result.national["exchange_activity"].numerator == 3
    assert result.agency("mid").values["exchange_activity"].note == "low"


def test_every_indicator_has_a_written_definition():
    for ind in indicators.registry:
        d = ind.definition()
        assert d["name_fa"] and d["name_en"] and d["definition_fa"], ind.code
        assert d["numerator"] and d["denominator"] and d["unit"] and d["source"], ind.code


def test_command_prints_json_as_of_a_jalali_date(catalogue):
    out = StringIO()
    call_command("oversight", "indicators", "--as-of", "1404-03-31", "--format", "json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["as_of"] == "1404-03-31"
    assert data["national"]["smart_rate"]["numerator"] == independent()["smart"]
    out = StringIO()
    call_command("oversight", "indicators", "--agency", "mid", "--format", "json", stdout=out)
    rows = json.loads(out.getvalue())["agencies"]
    assert [r["code"] for r in rows] == ["mid"]
    out = StringIO()
    call_command("oversight", "indicators", "--as-of", "۱۴۰۴/۰۳/۳۱", stdout=out)
    assert "connection_rate" in out.getvalue()


def test_exchange_indicators_read_the_exchange_monthly_rollups(catalogue):
    pytest.importorskip("panjereh.exchange.models")
    from panjereh.exchange.models import MonthlyStat

    agencies = catalogue["agencies"]
    # Khordad 1404: "full" answers 900 calls (9 failed) for two consumers, "mid" answers 40.
    MonthlyStat.objects.create(
        month="1404-03", provider=agencies["full"], consumer=agencies["mid"], calls=600, failures=6
    )
    MonthlyStat.objects.create(
        month="1404-03", provider=agencies["full"], consumer=agencies["low"], calls=300, failures=3
    )
    MonthlyStat.objects.create(
        month="1404-03", provider=agencies["mid"], consumer=agencies["full"], calls=40, failures=4
    )
    # Another month must not count.
    MonthlyStat.objects.create(
        month="1404-02", provider=agencies["low"], consumer=agencies["full"], calls=5000, failures=0
    )
    result = indicators.compute(AS_OF)  # 1404-03-31, the last day of Khordad
    quality = result.national["exchange_quality"]
    assert (quality.numerator, quality.denominator) == (927, 940)
    activity = result.national["exchange_activity"]
    assert (activity.numerator, activity.denominator) == (3, 4)  # all connected but "full"
    assert result.agency("full").values["exchange_activity"].value == 900
    assert result.agency("low").values["exchange_activity"].note == "low"
    # Mid-month, the last complete month is the one reported: Ordibehesht.
    mid_month = indicators.compute(jalali.end_of_day("1404-03-15"))
    assert mid_month.agency("low").values["exchange_activity"].value == 5000
    # A month with no statistics at all is "no data", not zero.
    empty = indicators.compute(jalali.end_of_day("1404-01-31"))
    assert empty.national["exchange_quality"].available is False


INDICATOR_ORDER = [
    ("connection_rate", ("national", "agency")),
    ("smart_rate", ("national", "agency")),
    ("agencies_connected", ("national", "agency")),
    ("own_window", ("national", "agency")),
    ("sso", ("national", "agency")),
    ("connection_full", ("national",)),
    ("connection_low", ("national",)),
    ("smart_full", ("national",)),
    ("smart_low_nonzero", ("national",)),
    ("smart_zero", ("national",)),
    ("smart_low", ("national",)),
    ("smart_compliance", ("national", "agency")),
    ("exchange_activity", ("national", "agency")),
    ("exchange_quality", ("national", "agency")),
    ("satisfaction", ("national", "agency")),
    ("satisfaction_baseline", ("national", "agency")),
    ("satisfaction_change", ("national", "agency")),
    ("satisfaction_target", ("national", "agency")),
    ("payment_demands_reported", ("national", "agency")),
    ("payment_demands_upheld", ("national", "agency")),
    ("smart_certified", ("national", "agency")),
    ("smart_observed", ("national", "agency")),
    ("automatic_completion", ("national", "agency")),
    ("connected_observed", ("national", "agency")),
    ("completion_rate", ("national", "agency")),
    ("digital_takeup", ("national", "agency")),
    ("cost_per_transaction", ("national", "agency")),
    # Per issuing authority (indicators/permits.py): not agency rows.
    ("permits_electronic", ("national", "authority")),
    ("permits_issued_online", ("national", "authority")),
    ("permits_registration_based", ("national", "authority")),
    ("permits_legal_days", ("national", "authority")),
    ("permits_issuing_median", ("national", "authority")),
    ("permits_issuing_p90", ("national", "authority")),
    ("permits_within_legal", ("national", "authority")),
    ("permits_handoffs_unanswered", ("national", "authority")),
    ("permits_violations_upheld", ("national", "authority")),
    ("permits_reattempts", ("national", "authority")),
]


def test_the_indicators_and_their_order_are_fixed():
    """Pages, exports and open data list the indicators in registration order; the package's
    modules register on import, so this pins the codes, their levels and their order."""
    assert [(i.code, i.levels) for i in indicators.registry] == INDICATOR_ORDER


def test_national_and_agency_figures_follow_the_registry_order(catalogue):
    result = indicators.compute(AS_OF)
    assert list(result.national) == [c for c, levels in INDICATOR_ORDER if "national" in levels]
    assert list(result.agencies[0].values) == [
        c for c, levels in INDICATOR_ORDER if "agency" in levels
    ]
