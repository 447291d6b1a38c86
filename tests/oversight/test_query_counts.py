"""How many queries the indicators and service performance take: a fixed number whatever
the number of agencies, services and applications (the national dataset has 6,067 cards)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from panjereh.common import jalali
from panjereh.oversight import indicators, servperf
from tests.oversight.test_service_performance import journeys  # noqa: F401

pytestmark = pytest.mark.django_db

AS_OF = jalali.end_of_day("1404-03-31")


def _count(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


# Measured before oversight read the catalogue and services through their queries modules
# (the same figures then): the move must not add a query.
MOST = {
    "servperf_log": 7,
    "rollup": 9,
    "servperf_rollup": 5,
    "indicators": 23 + 6,
    "indicators_now": 24 + 6,
}
# The permits indicators per issuing authority add six, whatever the size: the authorities,
# the versions in force with their inspection flag, the permits issued in the quarter, the
# hand-offs grouped per authority, the violations grouped per authority, the attempts grouped.
# The payments demanded outside the window add one: the complaints grouped per agency.
# The observed indicators (declared next to observed) add five, whatever the size: the month's
# applications grouped, definitions with uploads, certified services, their cards, sign-ins and
# the cards of the services with applications, less one the catalogue read shares; and one
# more on PostgreSQL (SET LOCAL jit = off for the grouped read).


def test_indicators_and_service_performance_take_a_fixed_few_queries(journeys, catalogue):  # noqa: F811
    counts = {
        "servperf_log": _count(lambda: servperf.compute(AS_OF)),
        "rollup": _count(lambda: servperf.rollup("1404-03")),
        "servperf_rollup": _count(lambda: servperf.compute(AS_OF)),
        "indicators": _count(lambda: indicators.compute(AS_OF)),
        "indicators_now": _count(lambda: indicators.compute()),
    }
    assert all(counts[k] <= MOST[k] for k in MOST), counts
