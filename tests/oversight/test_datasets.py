"""Indicators on the demo datasets: the small profile against an independent count of the
version rows, and the calibrated national profile against the supervisory report."""

from __future__ import annotations

import pytest

from panjereh.catalogue.models import AgencyVersion, ServiceVersion
from panjereh.common import jalali
from panjereh.demo import dataset
from panjereh.oversight import indicators, opendata

pytestmark = pytest.mark.django_db


def count_versions(as_of) -> dict:
    """Walk every version row in Python and keep each card's latest as of the moment."""
    agencies = {}
    for v in AgencyVersion.objects.filter(valid_from__lte=as_of).order_by("agency_id", "version"):
        agencies[v.agency_id] = v
    services = {}
    for v in ServiceVersion.objects.filter(valid_from__lte=as_of).order_by("service_id", "version"):
        services[v.service_id] = v
    in_scope = {a for a, v in agencies.items() if v.in_scope}
    connected_agencies = {a for a in in_scope if agencies[a].connection_status == "connected"}
    per: dict[int, list[int]] = {}
    for v in services.values():
        if not v.has_id or v.scope != "connectable":
            continue
        c = per.setdefault(v.agency_id, [0, 0, 0])
        c[0] += 1
        c[1] += v.connected
        c[2] += v.smart_status == "approved"
    national = [sum(per[a][i] for a in in_scope if a in per) for i in range(3)]
    rated = [per[a] for a in connected_agencies if a in per and per[a][0]]
    return {
        "national": national,
        "per": per,
        "applicable": sum(1 for a in in_scope if agencies[a].connection_status != "not_applicable"),
        "connected_agencies": len(connected_agencies),
        "smart_zero": sum(1 for c in rated if c[2] == 0),
        "smart_full": sum(1 for c in rated if c[2] == c[0]),
        "connection_full": sum(1 for c in rated if c[1] == c[0]),
    }


@pytest.mark.parametrize("day", ["1402-06-31", "1403-12-29", "1404-03-31"])
def test_small_profile_equals_an_independent_count(day):
    dataset.seed("small")
    as_of = jalali.end_of_day(day)
    expected = count_versions(as_of)
    result = indicators.compute(as_of)
    n = result.national
    assert [
        n["connection_rate"].denominator,
        n["connection_rate"].numerator,
        n["smart_rate"].numerator,
    ] == expected["national"]
    assert n["agencies_connected"].numerator == expected["connected_agencies"]
    assert n["agencies_connected"].denominator == expected["applicable"]
    assert n["smart_zero"].numerator == expected["smart_zero"]
    assert n["smart_full"].numerator == expected["smart_full"]
    assert n["connection_full"].numerator == expected["connection_full"]
    for row in result.agencies:
        got = [row.counts.connectable, row.counts.connected, row.counts.smart]
        assert got == expected["per"].get(row.info.id, [0, 0, 0]), row.info.code
    # The open data carries the same rows.
    csv_rows = opendata.rows(result)
    assert sum(r["smart"] for r in csv_rows) == expected["national"][2]


def test_small_profile_history_moves_forward():
    dataset.seed("small")
    early = indicators.compute(jalali.end_of_day("1402-06-31")).national["smart_rate"].numerator
    late = indicators.compute(jalali.end_of_day("1404-03-31")).national["smart_rate"].numerator
    assert early < late


@pytest.mark.slow
def test_national_profile_reproduces_the_report():
    dataset.seed("national")
    result = indicators.compute(jalali.end_of_day("1404-03-31"))
    n = result.national
    assert (n["connection_rate"].numerator, n["connection_rate"].denominator) == (2127, 3505)
    assert n["connection_rate"].value == 60.7
    assert (n["smart_rate"].numerator, n["smart_rate"].denominator) == (780, 3505)
    assert n["smart_rate"].value == 22.3
    assert n["connection_full"].numerator == 86
    assert n["connection_low"].numerator == 13
    assert n["smart_full"].numerator == 19
    assert n["smart_low_nonzero"].numerator == 8
    assert n["smart_zero"].numerator == 28
    assert (n["smart_low"].numerator, n["smart_low"].denominator) == (36, 149)
    assert round(100 * n["smart_low"].numerator / n["smart_low"].denominator, 1) == 24.2
    assert (n["agencies_connected"].numerator, n["agencies_connected"].denominator) == (149, 151)
    # Judged per agency, the 20% target is missed by exactly the 36 under 20%.
    assert n["smart_compliance"].denominator - n["smart_compliance"].numerator == 36
    # And the independent count agrees.
    expected = count_versions(jalali.end_of_day("1404-03-31"))
    assert expected["national"] == [3505, 2127, 780]
