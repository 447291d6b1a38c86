"""Oversight indicators: each one defined in words and computed from catalogue rows as of a moment.

An indicator is registered with :data:`registry` by a decorator that carries its definition
(names, numerator, denominator, unit, source); its function computes a :class:`Value` from a
:class:`Snapshot`, nationally (``agency_id is None``) or for one agency. The snapshot is read
once per moment through the other apps' ``queries`` modules, so every figure on every page,
report and export comes from the same rows and carries the same as-of date and catalogue
version.

The package is split by source: :mod:`.core` (the registry and values), :mod:`.snapshots`
(the rows as of a moment), :mod:`.catalogue`, :mod:`.exchange`, :mod:`.feedback`
(satisfaction), :mod:`.observed` (declared next to observed), :mod:`.performance` and
:mod:`.permits` (per issuing authority: the ``authority`` level) (the indicators, registered
in that order: the order pages and exports list them), and :mod:`.results` (:func:`compute`). Everything is re-exported
here: ``from panjereh.oversight import indicators; indicators.compute(...)``.

The indicator modules register on import, so the order of the ``from .<module> import`` lines
below is the indicators' order (catalogue, exchange, feedback, observed, performance, permits: alphabetical, as
the import sorter keeps it); ``tests/oversight/test_indicators.py`` pins the codes and order.
"""

from .. import data, servperf, sources
from .catalogue import (
    AGENCIES,
    CATALOGUE,
    agencies_connected,
    connection_bucket,
    connection_rate,
    own_window,
    smart_bucket,
    smart_compliance,
    smart_rate,
    sso,
)
from .core import (
    CALLS,
    CHANGE,
    COUNT,
    DAYS,
    DECLARED,
    FLAG,
    MONEY,
    OBSERVED,
    PERCENT,
    STATUS,
    Indicator,
    Registry,
    Value,
    no_data,
    ratio,
    registry,
)
from .exchange import exchange_activity, exchange_quality
from .feedback import (
    NO_RATINGS,
    SHOWN,
    TOO_FEW,
    SatisfactionFigures,
    figures_from_applications,
    min_ratings,
    payment_demands_reported,
    payment_demands_upheld,
    satisfaction,
    satisfaction_baseline,
    satisfaction_change,
    satisfaction_figures,
    satisfaction_of,
    satisfaction_target,
    too_few,
)
from .observed import (
    Comparison,
    Observed,
    automatic_completion,
    comparison,
    connected_observed,
    observed,
    smart_certified,
    smart_observed,
)
from .performance import JOURNEY
from .permits import PermitFacts, permit_facts
from .results import AgencyResult, AuthorityResult, Result, as_of_from_jalali, compute
from .snapshots import AgencyInfo, Snapshot, catalogue_version, snapshot

__all__ = [
    "AGENCIES",
    "CALLS",
    "CATALOGUE",
    "CHANGE",
    "COUNT",
    "DAYS",
    "DECLARED",
    "FLAG",
    "JOURNEY",
    "MONEY",
    "NO_RATINGS",
    "OBSERVED",
    "PERCENT",
    "SHOWN",
    "STATUS",
    "TOO_FEW",
    "AgencyInfo",
    "AgencyResult",
    "AuthorityResult",
    "Comparison",
    "Indicator",
    "Observed",
    "PermitFacts",
    "Registry",
    "Result",
    "SatisfactionFigures",
    "Snapshot",
    "Value",
    "agencies_connected",
    "as_of_from_jalali",
    "automatic_completion",
    "catalogue_version",
    "comparison",
    "compute",
    "connection_bucket",
    "connected_observed",
    "connection_rate",
    "data",
    "exchange_activity",
    "exchange_quality",
    "figures_from_applications",
    "min_ratings",
    "no_data",
    "observed",
    "own_window",
    "payment_demands_reported",
    "payment_demands_upheld",
    "permit_facts",
    "ratio",
    "registry",
    "satisfaction",
    "satisfaction_baseline",
    "satisfaction_change",
    "satisfaction_figures",
    "satisfaction_of",
    "satisfaction_target",
    "servperf",
    "smart_bucket",
    "smart_certified",
    "smart_compliance",
    "smart_observed",
    "smart_rate",
    "snapshot",
    "sources",
    "sso",
    "too_few",
]
