"""Oversight indicators: each one defined in words and computed from catalogue rows as of a moment.

An indicator is registered with :data:`registry` by a decorator that carries its definition
(names, numerator, denominator, unit, source); its function computes a :class:`Value` from a
:class:`Snapshot`, nationally (``agency_id is None``) or for one agency. The snapshot is read
once per moment through :mod:`panjereh.catalogue.queries`, so every figure on every page, report
and export comes from the same rows and carries the same as-of date and catalogue version.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from panjereh.catalogue import queries
from panjereh.catalogue.models import Agency, AgencyVersion, ServiceVersion
from panjereh.catalogue.queries import AgencyCounts, CatalogueStats
from panjereh.catalogue.vocab import ConnectionStatus
from panjereh.common import jalali

from . import data, servperf, sources

PERCENT = "percent"
COUNT = "count"
FLAG = "flag"
STATUS = "status"
CALLS = "calls_per_month"
CHANGE = "percent_change"  # a signed relative change, in percent


@dataclass
class Value:
    """One computed figure. ``value`` is what is shown; numerator and denominator let anyone
    check it. ``available`` is False when the source has no data (nothing is estimated)."""

    value: Any
    numerator: float | None = None
    denominator: float | None = None
    available: bool = True
    note: str = ""
    withheld: bool = False  # too few ratings to show without revealing someone's score

    def as_dict(self) -> dict:
        return {k: (str(v) if k == "note" else v) for k, v in asdict(self).items()}


def no_data(note: str) -> Value:
    return Value(None, available=False, note=note)


def ratio(numerator: int, denominator: int) -> Value:
    pct = round(100.0 * numerator / denominator, 1) if denominator else None
    return Value(pct, numerator, denominator, available=denominator > 0)


@dataclass(frozen=True)
class Indicator:
    code: str
    name_fa: str
    name_en: str
    definition_fa: str
    numerator: str
    denominator: str
    unit: str
    source: str
    levels: tuple[str, ...]
    compute: Callable[[Snapshot, int | None], Value]
    definition_en: str = ""

    def definition(self) -> dict:
        return {
            "code": self.code,
            "name_fa": self.name_fa,
            "name_en": str(self.name_en),
            "definition_fa": self.definition_fa,
            "definition_en": str(self.definition_en),
            "numerator": str(self.numerator),
            "denominator": str(self.denominator),
            "unit": self.unit,
            "source": str(self.source),
            "levels": list(self.levels),
        }


class Registry:
    """Indicators in registration order (the order in which pages and exports list them)."""

    def __init__(self) -> None:
        self._items: dict[str, Indicator] = {}

    def register(
        self,
        code: str,
        *,
        name_fa: str,
        name_en: str,
        definition_fa: str,
        numerator: str,
        denominator: str,
        unit: str,
        source: str,
        levels: tuple[str, ...] = ("national", "agency"),
        definition_en: str = "",
    ) -> Callable:
        def decorator(fn: Callable[[Snapshot, int | None], Value]):
            if code in self._items:
                raise ValueError(f"indicator {code!r} registered twice")
            self._items[code] = Indicator(
                code, name_fa, name_en, definition_fa, numerator, denominator, unit, source,
                levels, fn, definition_en,
            )  # fmt: skip
            return fn

        return decorator

    def __iter__(self):
        return iter(self._items.values())

    def __getitem__(self, code: str) -> Indicator:
        return self._items[code]

    def for_level(self, level: str) -> list[Indicator]:
        return [i for i in self if level in i.levels]


registry = Registry()


@dataclass
class AgencyInfo:
    id: int
    code: str
    name_fa: str
    name_en: str
    kind: str
    in_scope: bool
    connection_status: str
    has_own_window: bool
    sso_integrated: bool


@dataclass
class Snapshot:
    """The rows every indicator reads, fixed at one moment."""

    as_of: dt.datetime
    as_of_label: str
    catalogue_version: dict
    stats: CatalogueStats
    counts: dict[int, AgencyCounts]
    agencies: dict[int, AgencyInfo]
    required_smart_share: float | None
    exchange: dict | None = None
    satisfaction: dict | None = None  # applications' ratings (when no feedback ratings)
    satisfaction_progress: Any = None  # feedback.queries.ProgressTable per agency, or None
    performance: Any = None  # servperf.Performance of the report month
    _cache: dict = field(default_factory=dict)

    @property
    def connected_ids(self) -> list[int]:
        """In-scope agencies connected to the national window: the report's 149."""
        if "connected" not in self._cache:
            self._cache["connected"] = [
                a.id
                for a in self.agencies.values()
                if a.in_scope and a.connection_status == ConnectionStatus.CONNECTED
            ]
        return self._cache["connected"]

    @property
    def rated_ids(self) -> list[int]:
        """Connected agencies with at least one connectable service: those a rate applies to."""
        return [i for i in self.connected_ids if self.count(i).connectable]

    def count(self, agency_id: int) -> AgencyCounts:
        return self.counts.get(agency_id) or AgencyCounts()


def catalogue_version(as_of: dt.datetime | None) -> dict:
    """The newest version rows the figures could have read: together they name the catalogue
    state, so a figure can be traced to ``ServiceVersion``/``AgencyVersion`` rows."""
    sv = ServiceVersion.objects.all()
    av = AgencyVersion.objects.all()
    if as_of is not None:
        sv = sv.filter(valid_from__lte=as_of)
        av = av.filter(valid_from__lte=as_of)
    s = sv.aggregate(m=Max("id"))["m"] or 0
    a = av.aggregate(m=Max("id"))["m"] or 0
    return {"service_version_id": s, "agency_version_id": a, "label": f"s{s}.a{a}"}


def snapshot(as_of: dt.datetime | None = None) -> Snapshot:
    """Read the rows as of ``as_of`` (an aware datetime; None means now, from current tables)."""
    moment = as_of or timezone.now()
    label = jalali.iso(moment)
    names = {
        row["id"]: row for row in Agency.objects.values("id", "code", "name_fa", "name_en", "kind")
    }
    agencies: dict[int, AgencyInfo] = {}
    for aid, kind, in_scope, status, window, sso in queries.agency_rows(as_of):
        meta = names[aid]
        agencies[aid] = AgencyInfo(
            aid, meta["code"], meta["name_fa"], meta["name_en"], kind, in_scope, status,
            window, sso,
        )  # fmt: skip
    performance = servperf.compute(moment)
    progress = sources.satisfaction_progress(moment)
    satisfaction = None
    if progress is None:
        satisfaction = sources.ratings_from_performance(performance)
    return Snapshot(
        as_of=moment,
        as_of_label=label,
        catalogue_version=catalogue_version(as_of),
        stats=queries.stats(as_of, as_of_label=label),
        counts=queries.agency_counts(as_of),
        agencies=agencies,
        required_smart_share=data.required_smart_share(jalali.from_gregorian(moment)),
        exchange=sources.exchange_by_provider(moment),
        satisfaction=satisfaction,
        satisfaction_progress=progress,
        performance=performance,
    )


# --- service coverage --------------------------------------------------------------------

CATALOGUE = _("Service identity cards and their versions (catalogue)")
AGENCIES = _("Agency records and their versions (catalogue)")


@registry.register(
    "connection_rate",
    name_fa="نرخ اتصال خدمات به پنجره ملی",
    name_en=_("Services connected to the national window"),
    definition_fa=(
        "تعداد خدمات دارای شناسه و قابل اتصال که به پنجره ملی متصل شده‌اند، "
        "تقسیم بر تعداد همه خدمات دارای شناسه و قابل اتصال (بدون خدمات مستثنا)؛ "
        "در سطح ملی فقط دستگاه‌های اجرایی مشمول شمرده می‌شوند."
    ),
    numerator=_("Connectable services with a service ID that are connected"),
    denominator=_("Connectable (not exempt) services with a service ID"),
    unit=PERCENT,
    source=CATALOGUE,
)
def connection_rate(snap: Snapshot, agency_id: int | None) -> Value:
    if agency_id is None:
        s = snap.stats.services
        return ratio(s["connected"], s["connectable"])
    c = snap.count(agency_id)
    return ratio(c.connected, c.connectable)


@registry.register(
    "smart_rate",
    name_fa="نرخ هوشمندی خدمات",
    name_en=_("Services approved as smart"),
    definition_fa=(
        "تعداد خدمات قابل اتصالی که هوشمند بودنشان به تصویب کارگروه راهبری رسیده است، "
        "تقسیم بر تعداد همه خدمات دارای شناسه و قابل اتصال."
    ),
    numerator=_("Connectable services whose smart status is approved"),
    denominator=_("Connectable (not exempt) services with a service ID"),
    unit=PERCENT,
    source=CATALOGUE,
)
def smart_rate(snap: Snapshot, agency_id: int | None) -> Value:
    if agency_id is None:
        s = snap.stats.services
        return ratio(s["smart_approved"], s["connectable"])
    c = snap.count(agency_id)
    return ratio(c.smart, c.connectable)


# --- agencies ----------------------------------------------------------------------------


@registry.register(
    "agencies_connected",
    name_fa="سهم دستگاه‌های مشمول متصل به پنجره ملی",
    name_en=_("Applicable agencies connected to the national window"),
    definition_fa=(
        "تعداد دستگاه‌های اجرایی مشمول که به پنجره ملی متصل‌اند، تقسیم بر تعداد دستگاه‌های "
        "مشمول منهای دستگاه‌هایی که «عدم مصداق» شناخته شده‌اند؛ در سطح دستگاه، وضعیت اتصال آن."
    ),
    numerator=_("Agencies in scope whose connection status is connected"),
    denominator=_("Agencies in scope, less those found not applicable"),
    unit=PERCENT,
    source=AGENCIES,
)
def agencies_connected(snap: Snapshot, agency_id: int | None) -> Value:
    if agency_id is None:
        a = snap.stats.agencies
        return ratio(a["connected"], a["applicable"])
    return Value(snap.agencies[agency_id].connection_status)


@registry.register(
    "own_window",
    name_fa="پنجره واحد دستگاهی",
    name_en=_("Connected agencies with their own agency window"),
    definition_fa=(
        "تعداد دستگاه‌های متصل به پنجره ملی که پنجره واحد دستگاهی خود را دارند، "
        "تقسیم بر تعداد دستگاه‌های متصل."
    ),
    numerator=_("Connected agencies in scope with an own-window address"),
    denominator=_("Connected agencies in scope"),
    unit=PERCENT,
    source=AGENCIES,
)
def own_window(snap: Snapshot, agency_id: int | None) -> Value:
    if agency_id is None:
        return ratio(
            snap.stats.agencies["connected_with_own_agency_window"], len(snap.connected_ids)
        )
    return Value(snap.agencies[agency_id].has_own_window)


@registry.register(
    "sso",
    name_fa="ورود یکپارچه (SSO)",
    name_en=_("Connected agencies using national single sign-on"),
    definition_fa=(
        "تعداد دستگاه‌های متصل که برای ورود کاربران از ورود یکپارچه پنجره ملی استفاده می‌کنند، "
        "تقسیم بر تعداد دستگاه‌های متصل."
    ),
    numerator=_("Connected agencies in scope that use national single sign-on"),
    denominator=_("Connected agencies in scope"),
    unit=PERCENT,
    source=AGENCIES,
)
def sso(snap: Snapshot, agency_id: int | None) -> Value:
    if agency_id is None:
        return ratio(snap.stats.agencies["connected_with_sso"], len(snap.connected_ids))
    return Value(snap.agencies[agency_id].sso_integrated)


# --- the report's buckets (national counts; each agency's bucket is in its row) ------------


def _bucket(snap: Snapshot, key: str, group: str) -> Value:
    source = snap.stats.connection_buckets if group == "connection" else snap.stats.smart_buckets
    return ratio(source[key], len(snap.connected_ids))


_BUCKET_DENOMINATOR = _("Connected agencies in scope")
_NATIONAL = ("national",)

for _code, _group, _key, _fa, _en, _def_fa, _num in [
    (
        "connection_full",
        "connection",
        "all_connectable_services_connected_100pct",
        "دستگاه‌های با اتصال کامل خدمات",
        _("Agencies with all connectable services connected"),
        "تعداد دستگاه‌های متصلی که همه خدمات قابل اتصالشان (۱۰۰٪) به پنجره ملی متصل است.",
        _("Connected agencies whose connected services equal their connectable services"),
    ),
    (
        "connection_low",
        "connection",
        "under_20pct_connected",
        "دستگاه‌های با اتصال کمتر از ۲۰٪",
        # xgettext:no-python-format
        _("Agencies with under 20% of connectable services connected"),
        "تعداد دستگاه‌های متصلی که کمتر از ۲۰ درصد خدمات قابل اتصالشان متصل است.",
        _("Connected agencies whose connection rate is under 20%"),
    ),
    (
        "smart_full",
        "smart",
        "all_services_smart_100pct",
        "دستگاه‌های با هوشمندی کامل خدمات",
        _("Agencies with all connectable services smart"),
        "تعداد دستگاه‌های متصلی که همه خدمات قابل اتصالشان هوشمند مصوب است.",
        _("Connected agencies whose approved smart services equal their connectable services"),
    ),
    (
        "smart_low_nonzero",
        "smart",
        "above_0_under_20pct_smart",
        "دستگاه‌های با هوشمندی بیش از صفر و کمتر از ۲۰٪",
        # xgettext:no-python-format
        _("Agencies with some but under 20% of services smart"),
        "تعداد دستگاه‌های متصلی که دست‌کم یک خدمت هوشمند دارند ولی نرخ هوشمندی‌شان کمتر از ۲۰ درصد است.",
        _("Connected agencies with a smart rate above 0 and under 20%"),
    ),
    (
        "smart_zero",
        "smart",
        "zero_smart",
        "دستگاه‌های بدون خدمت هوشمند",
        _("Agencies with no smart service"),
        "تعداد دستگاه‌های متصلی که هیچ خدمت هوشمند مصوبی ندارند.",
        _("Connected agencies with no approved smart service"),
    ),
    (
        "smart_low",
        "smart",
        "under_20pct_smart_total",
        "دستگاه‌های با هوشمندی کمتر از ۲۰٪",
        # xgettext:no-python-format
        _("Agencies with under 20% of services smart"),
        "تعداد دستگاه‌های متصلی که نرخ هوشمندی‌شان (از جمله صفر) کمتر از ۲۰ درصد است، "
        "و سهم آن‌ها از همه دستگاه‌های متصل.",
        _("Connected agencies with a smart rate under 20% (zero included)"),
    ),
]:

    def _make(group: str = _group, key: str = _key) -> Callable:
        return lambda snap, agency_id: _bucket(snap, key, group)

    registry.register(
        _code,
        name_fa=_fa,
        name_en=_en,
        definition_fa=_def_fa,
        numerator=_num,
        denominator=_BUCKET_DENOMINATOR,
        unit=COUNT,
        source=CATALOGUE,
        levels=_NATIONAL,
    )(_make())


def connection_bucket(c: AgencyCounts) -> str | None:
    """The report's bucket for one agency's connection rate: full, low (<20%), or middle."""
    if not c.connectable:
        return None
    if c.connected == c.connectable:
        return "full"
    return "low" if c.connection_rate < data.targets()["bucket_low_share"] else "middle"


def smart_bucket(c: AgencyCounts) -> str | None:
    if not c.connectable:
        return None
    if c.smart == c.connectable:
        return "full"
    if c.smart == 0:
        return "zero"
    return "low" if c.smart_rate < data.targets()["bucket_low_share"] else "middle"


# --- compliance with the yearly 20% ------------------------------------------------------


@registry.register(
    "smart_compliance",
    name_fa="تحقق هدف هوشمندسازی سالانه ۲۰٪ در هر دستگاه",
    name_en=_("Agencies meeting the 20%-a-year smart target"),
    definition_fa=(
        "هر دستگاه جداگانه سنجیده می‌شود: دستگاه متصلی که نرخ هوشمندی‌اش به سهم لازم در آن "
        "تاریخ رسیده باشد (۲۰٪ از پایان دی ۱۴۰۲ و هر سال برنامه هفتم ۲۰٪ بیشتر) هدف را "
        "محقق کرده است؛ شاخص ملی تعداد این دستگاه‌ها تقسیم بر دستگاه‌های متصل دارای خدمت "
        "قابل اتصال است، نه سهم کل خدمات هوشمند."
    ),
    numerator=_("Connected agencies whose own smart rate reaches the share required on the date"),
    denominator=_("Connected agencies with at least one connectable service"),
    unit=PERCENT,
    source=_("Catalogue; targets of Budget 1402 note 7(c) and 7th Plan Art. 107(c)"),
)
def smart_compliance(snap: Snapshot, agency_id: int | None) -> Value:
    required = snap.required_smart_share
    if required is None:
        return no_data(_("No smart-share target was due yet on this date."))
    if agency_id is not None:
        c = snap.count(agency_id)
        if not c.connectable:
            return no_data(_("The agency has no connectable service."))
        return Value(c.smart_rate >= required, c.smart, c.connectable)
    rated = snap.rated_ids
    met = sum(1 for i in rated if snap.count(i).smart_rate >= required)
    return ratio(met, len(rated))


# --- exchange and satisfaction (from their apps when present) -----------------------------

_NO_EXCHANGE = _("No exchange statistics are available for this period.")


@registry.register(
    "exchange_activity",
    name_fa="فعالیت در مرکز ملی تبادل اطلاعات",
    name_en=_("Exchange activity as a provider"),
    definition_fa=(
        "تعداد فراخوانی‌های پاسخ‌داده‌شده توسط دستگاه به‌عنوان ارائه‌دهنده داده در ماه گزارش "
        "(آخرین ماه کامل شمسی تا تاریخ گزارش)؛ کمتر از ۱۰۰ فراخوانی در ماه «فعالیت کم» است. در سطح ملی، "
        "تعداد دستگاه‌های متصل با فعالیت کم."
    ),
    numerator=_(
        "Agency: calls served in the report month; national: connected agencies under 100 calls"
    ),
    denominator=_("National: connected agencies in scope"),
    unit=CALLS,
    source=_("Exchange message log (monthly statistics per provider)"),
)
def exchange_activity(snap: Snapshot, agency_id: int | None) -> Value:
    if snap.exchange is None:
        return no_data(_NO_EXCHANGE)
    threshold = data.targets()["nix_low_activity_threshold_tx_per_month"]
    if agency_id is not None:
        month = snap.exchange.get(agency_id)
        calls = month.calls if month else 0
        return Value(calls, note="low" if calls < threshold else "")
    low = sum(
        1
        for i in snap.connected_ids
        if (snap.exchange.get(i).calls if i in snap.exchange else 0) < threshold
    )
    return ratio(low, len(snap.connected_ids))


@registry.register(
    "exchange_quality",
    name_fa="کیفیت پاسخ‌گویی در مرکز ملی تبادل اطلاعات",
    name_en=_("Exchange quality as a provider"),
    definition_fa=(
        "تعداد فراخوانی‌های بی‌خطا (کل منهای ناموفق) تقسیم بر کل فراخوانی‌هایی که دستگاه "
        "به‌عنوان ارائه‌دهنده در ماه گزارش دریافت کرده است."
    ),
    numerator=_("Calls answered correctly (total less failed)"),
    denominator=_(
        "All calls to the provider in the report month (the last complete Jalali month to the date)"
    ),
    unit=PERCENT,
    source=_("Exchange message log (monthly statistics per provider)"),
)
def exchange_quality(snap: Snapshot, agency_id: int | None) -> Value:
    if snap.exchange is None:
        return no_data(_NO_EXCHANGE)
    months = [snap.exchange[agency_id]] if agency_id in snap.exchange else []
    if agency_id is None:
        months = list(snap.exchange.values())
    total = sum(m.calls for m in months)
    failed = sum(m.failed for m in months)
    return ratio(total - failed, total)


# Satisfaction: the share rating it high or very high in the current period, the baseline
# period's share, the change and the +20% target, all from feedback.queries (periods, baseline
# and target are the feedback app's). An agency or service with fewer than min_ratings() (5)
# ratings in a period shows "not enough data" for that period's figures, so no one's score can
# be read.

NO_RATINGS = "no_ratings"
TOO_FEW = "too_few_ratings"
SHOWN = "ok"
_NO_FEEDBACK = _("The change against the baseline needs the feedback app's ratings.")
_TOO_FEW = _(
    "Not enough data: too few ratings in the period to show without revealing a person's score."
)
_NO_RATING = _("No rating in the period.")


def min_ratings() -> int:
    """Fewer ratings than this in a period and its figures are withheld ("not enough data"):
    the feedback app's own rule (``PANJEREH_FEEDBACK_MIN_PUBLIC_RATINGS``, 5)."""
    from panjereh.feedback.queries import min_public_ratings

    return min_public_ratings()


@dataclass
class SatisfactionFigures:
    """One agency's, service's or the nation's satisfaction figures, with small numbers
    withheld: a share is None when its period has fewer than :func:`min_ratings` ratings
    (``data`` then says ``too_few_ratings``), and so are the change and the target, which
    would reveal it. Counts of ratings are always given: they reveal no score."""

    source: str  # "feedback", "applications" or "" (none)
    ratings: int | None = None
    favourable: int | None = None
    share: float | None = None
    baseline_ratings: int | None = None
    baseline_favourable: int | None = None
    baseline_share: float | None = None
    change_points: float | None = None
    change_pct: float | None = None
    target_pct: float | None = None
    target_met: bool | None = None
    data: str = NO_RATINGS
    current_period: tuple | None = None
    baseline_period: tuple | None = None

    def row(self) -> dict:
        """Open-data columns (see ``opendata.SATISFACTION_FIELDS``)."""
        return {
            "satisfaction_data": self.data if self.source else "",
            "satisfaction_ratings": self.ratings,
            "satisfaction_pct": self.share,
            "satisfaction_baseline_ratings": self.baseline_ratings,
            "satisfaction_baseline_pct": self.baseline_share,
            "satisfaction_change_points": self.change_points,
            "satisfaction_change_pct": self.change_pct,
            "satisfaction_target_pct": self.target_pct,
            "satisfaction_target_met": self.target_met,
        }


def satisfaction_figures(table, key: int | None, *, suppress: bool = True) -> SatisfactionFigures:
    """Figures from a ``feedback.queries.ProgressTable`` for ``key`` (an agency or service id;
    None: national). ``suppress`` withholds shares of periods with too few ratings."""
    if table is None:
        return SatisfactionFigures("")
    p = table.national if key is None else table.by.get(key)
    fig = SatisfactionFigures(
        "feedback", current_period=table.current_period, baseline_period=table.baseline_period
    )
    if p is None:
        fig.ratings = fig.baseline_ratings = 0
        return fig
    cur, base = p.current, p.baseline
    fig.ratings, fig.baseline_ratings = cur.ratings, base.ratings
    least = min_ratings() if suppress else 1
    cur_ok, base_ok = cur.ratings >= least, base.ratings >= least
    if cur_ok:
        fig.favourable, fig.share = cur.favourable, cur.share
    if base_ok:
        fig.baseline_favourable, fig.baseline_share = base.favourable, base.share
        fig.target_pct = p.target_share
    if cur_ok and base_ok:
        fig.change_points, fig.change_pct, fig.target_met = (
            p.change_points, p.change_relative, p.met,
        )  # fmt: skip
    if not (cur.ratings or base.ratings):
        fig.data = NO_RATINGS
    elif (cur.ratings and not cur_ok) or (base.ratings and not base_ok):
        fig.data = TOO_FEW
    else:
        fig.data = SHOWN
    return fig


def figures_from_applications(snap: Snapshot, agency_id: int | None) -> SatisfactionFigures:
    """The current share only, from the applications' ratings in the report month."""
    if snap.satisfaction is None:
        return SatisfactionFigures("")
    rows = list(snap.satisfaction.values()) if agency_id is None else []
    if agency_id is not None and agency_id in snap.satisfaction:
        rows = [snap.satisfaction[agency_id]]
    fig = SatisfactionFigures("applications", ratings=sum(r.ratings for r in rows))
    if not fig.ratings:
        return fig
    if fig.ratings < min_ratings():  # national figures too: one rule for every figure
        fig.data = TOO_FEW
        return fig
    fig.favourable = sum(r.favourable for r in rows)
    fig.share = round(100.0 * fig.favourable / fig.ratings, 1)
    fig.data = SHOWN
    return fig


def satisfaction_of(snap: Snapshot, agency_id: int | None) -> SatisfactionFigures:
    """Figures of an agency (None: national), computed once per snapshot. National figures
    are withheld like an agency's: with a handful of ratings in the country, the national
    share is a person's score (``feedback.queries.publishable``)."""
    key = ("satisfaction", agency_id)
    if key not in snap._cache:
        if snap.satisfaction_progress is not None:
            fig = satisfaction_figures(snap.satisfaction_progress, agency_id)
        else:
            fig = figures_from_applications(snap, agency_id)
        snap._cache[key] = fig
    return snap._cache[key]


def _withheld(fig: SatisfactionFigures, ratings: int | None) -> Value:
    if not fig.source:
        return no_data(_("No satisfaction ratings are recorded yet."))
    if ratings:
        return Value(None, None, ratings, available=False, note=_TOO_FEW, withheld=True)
    return no_data(_NO_RATING)


def too_few() -> Value:
    return Value(None, available=False, note=_TOO_FEW, withheld=True)


_FEEDBACK_SOURCE = _("Feedback app ratings (or, without them, ratings of finished applications)")


@registry.register(
    "satisfaction",
    name_fa="رضایت خدمت‌گیرندگان",
    name_en=_("User satisfaction"),
    definition_fa=(
        "تعداد ارزیابی‌هایی که رضایت را «زیاد» یا «خیلی زیاد» داده‌اند (۴ یا ۵ از ۵)، تقسیم بر "
        "همه ارزیابی‌های دوره جاری سامانه بازخورد (۹۰ روز منتهی به تاریخ گزارش، مگر در "
        "تنظیمات دوره دیگری تعیین شده باشد). تا زمانی که سامانه بازخورد ارزیابی ندارد، "
        "منبع آن امتیازی است که خدمت‌گیرنده پس از پایان هر "
        "درخواست در پنجره ملی می‌دهد، در ماه گزارش. دستگاهی که کمتر از ۵ ارزیابی در دوره دارد "
        "«داده کافی نیست» نشان داده می‌شود تا امتیاز یک نفر خوانده نشود."
    ),
    definition_en=_(
        "Ratings of 4 or 5 of 5 (high, very high satisfaction) over all ratings given in the "
        "feedback app in its current period (the 90 days to the date unless set otherwise). "
        "Until the feedback app has ratings, the ratings citizens give their finished "
        "applications on the national window in the report month. An agency with fewer than 5 "
        "ratings in the period shows “not enough data”, so no one's score can be read."
    ),
    numerator=_("Ratings of high or very high satisfaction in the current period"),
    denominator=_("All ratings in the current period (applications: in the report month)"),
    unit=PERCENT,
    source=_FEEDBACK_SOURCE,
)
def satisfaction(snap: Snapshot, agency_id: int | None) -> Value:
    fig = satisfaction_of(snap, agency_id)
    if fig.share is None:
        return _withheld(fig, fig.ratings)
    return Value(fig.share, fig.favourable, fig.ratings)


@registry.register(
    "satisfaction_baseline",
    name_fa="رضایت خدمت‌گیرندگان در دوره پایه",
    name_en=_("User satisfaction in the baseline period"),
    definition_fa=(
        "همان سهم رضایت «زیاد» یا «خیلی زیاد»، در دوره پایه: دوره‌ای که در تنظیمات سامانه "
        "بازخورد تعیین شده، یا دوره هم‌اندازه پیش از دوره جاری؛ از ارزیابی‌های سامانه بازخورد."
    ),
    definition_en=_(
        "The same share of high or very high satisfaction in the baseline period: the period "
        "set for the feedback app, or else the period of the same length just before the "
        "current one; from the feedback app's ratings."
    ),
    numerator=_("Ratings of high or very high satisfaction in the baseline period"),
    denominator=_("All ratings in the baseline period"),
    unit=PERCENT,
    source=_("Feedback app ratings"),
)
def satisfaction_baseline(snap: Snapshot, agency_id: int | None) -> Value:
    fig = satisfaction_of(snap, agency_id)
    if fig.source != "feedback":
        return no_data(_NO_FEEDBACK) if fig.source else _withheld(fig, None)
    if fig.baseline_share is None:
        return _withheld(fig, fig.baseline_ratings)
    return Value(fig.baseline_share, fig.baseline_favourable, fig.baseline_ratings)


@registry.register(
    "satisfaction_change",
    name_fa="تغییر رضایت نسبت به دوره پایه",
    name_en=_("Change in satisfaction against the baseline"),
    definition_fa=(
        "تغییر نسبی سهم رضایت دوره جاری نسبت به دوره پایه، به درصد: (سهم دوره جاری ÷ سهم "
        "دوره پایه − ۱) × ۱۰۰؛ صورت و مخرج آن دو سهم‌اند."
    ),
    definition_en=_(
        "The relative change of the current period's share against the baseline period's, in "
        "percent: (current share ÷ baseline share − 1) × 100."
    ),
    numerator=_("Share of high or very high satisfaction in the current period"),
    denominator=_("Share of high or very high satisfaction in the baseline period"),
    unit=CHANGE,
    source=_("Feedback app ratings"),
)
def satisfaction_change(snap: Snapshot, agency_id: int | None) -> Value:
    fig = satisfaction_of(snap, agency_id)
    if fig.source != "feedback":
        return no_data(_NO_FEEDBACK) if fig.source else _withheld(fig, None)
    if fig.change_pct is None:
        if fig.data == TOO_FEW:
            return too_few()
        return no_data(_("Both periods need ratings (and a baseline share above zero)."))
    return Value(fig.change_pct, fig.share, fig.baseline_share)


@registry.register(
    "satisfaction_target",
    name_fa="تحقق هدف افزایش ۲۰ درصدی رضایت",
    name_en=_("Satisfaction rise target met"),
    definition_fa=(
        "آیا سهم رضایت دوره جاری دست‌کم به اندازه هدف افزایش (۲۰٪ بیشتر از سهم دوره پایه، "
        "حداکثر ۱۰۰٪) بالا رفته است؛ صورت، سهم دوره جاری و مخرج، سهم هدف است."
    ),
    # xgettext:no-python-format
    definition_en=_(
        "Whether the current period's share has risen to the target: the baseline share raised "
        "by the target rise (20%, relative; at most 100%). Numerator: the current share; "
        "denominator: the target share."
    ),
    numerator=_("Share of high or very high satisfaction in the current period"),
    # xgettext:no-python-format
    denominator=_("Target share: baseline share × (1 + the target rise), at most 100%"),
    unit=FLAG,
    source=_("Feedback app ratings; the target rise set for the feedback app"),
)
def satisfaction_target(snap: Snapshot, agency_id: int | None) -> Value:
    fig = satisfaction_of(snap, agency_id)
    if fig.source != "feedback":
        return no_data(_NO_FEEDBACK) if fig.source else _withheld(fig, None)
    if fig.target_met is None:
        if fig.data == TOO_FEW:
            return too_few()
        return no_data(_("Both periods need ratings."))
    return Value(fig.target_met, fig.share, fig.target_pct)


# --- service performance (GOV.UK's four), from the journey log and agencies' entries -----

MONEY = "rials"
_JOURNEY = _("Applications and their journey log (smart services), in the report month")

for _code, _fa, _en, _def_fa, _def_en, _num, _den, _unit, _src in [
    (
        "completion_rate",
        "نرخ تکمیل درخواست‌ها",
        _("Completion rate"),
        "تعداد درخواست‌هایی که در ماه گزارش آغاز شده و تا تاریخ گزارش به نتیجه نهایی (صدور "
        "سند یا رد) رسیده‌اند، تقسیم بر همه درخواست‌های آغازشده در همان ماه؛ از گزارش "
        "مسیر درخواست‌ها.",
        _(
            "Applications started in the report month that reached a final outcome (document "
            "issued, or rejected) by the date, over all applications started in that month; "
            "from the applications' journey log."
        ),
        _("Applications started in the month that reached a final outcome by the date"),
        _("Applications started in the report month"),
        PERCENT,
        _JOURNEY,
    ),
    (
        "digital_takeup",
        "پذیرش دیجیتال",
        _("Digital take-up"),
        "تعداد درخواست‌های ثبت‌شده در پنجره ملی در ماه گزارش، تقسیم بر همه تراکنش‌های همان "
        "خدمت (درخواست‌های پنجره ملی به‌علاوه تراکنش‌های خارج از پنجره که دستگاه برای آن ماه "
        "ثبت کرده است)؛ فقط برای خدماتی که شمار تراکنش‌های خارج از پنجره ثبت شده است.",
        _(
            "Applications made through the national window in the report month, over all "
            "transactions of the service (those plus the transactions outside the window the "
            "agency entered for the month); only for services whose offline count is entered."
        ),
        _("Applications through the national window in the month"),
        _("Applications through the window plus transactions outside it entered by the agency"),
        PERCENT,
        _("Journey log; agencies' monthly entries of transactions outside the window"),
    ),
    (
        "cost_per_transaction",
        "هزینه هر تراکنش",
        _("Cost per transaction"),
        "هزینه کل خدمت در ماه گزارش که دستگاه ثبت کرده است، تقسیم بر همه تراکنش‌های آن ماه "
        "(درخواست‌های پنجره ملی به‌علاوه تراکنش‌های خارج از پنجره ثبت‌شده)؛ فقط جایی که "
        "هزینه ثبت شده است و هرگز برآورد نمی‌شود.",
        _(
            "The total cost of the service in the report month as entered by the agency, over "
            "all its transactions that month (applications through the window plus the "
            "transactions outside it entered); only where a cost is entered, never estimated."
        ),
        _("Cost entered by the agency for the month (rials)"),
        _("Applications through the window plus transactions outside it entered"),
        MONEY,
        _("Agencies' monthly entries of costs; journey log"),
    ),
]:

    def _perf(code: str = _code) -> Callable:
        def fn(snap: Snapshot, agency_id: int | None) -> Value:
            if snap.performance is None:
                return no_data(_("No service performance data."))
            return snap.performance.agency_values(agency_id)[code]

        return fn

    registry.register(
        _code,
        name_fa=_fa,
        name_en=_en,
        definition_fa=_def_fa,
        definition_en=_def_en,
        numerator=_num,
        denominator=_den,
        unit=_unit,
        source=_src,
    )(_perf())


# --- results ---------------------------------------------------------------------------


@dataclass
class AgencyResult:
    info: AgencyInfo
    counts: AgencyCounts
    connection_bucket: str | None
    smart_bucket: str | None
    values: dict[str, Value]

    def as_dict(self) -> dict:
        return {
            "code": self.info.code,
            "name_fa": self.info.name_fa,
            "name_en": self.info.name_en,
            "kind": self.info.kind,
            "connection_status": self.info.connection_status,
            "connectable": self.counts.connectable,
            "connected": self.counts.connected,
            "smart": self.counts.smart,
            "exempt": self.counts.exempt,
            "connection_bucket": self.connection_bucket,
            "smart_bucket": self.smart_bucket,
            "indicators": {k: v.as_dict() for k, v in self.values.items()},
        }


@dataclass
class Result:
    snapshot: Snapshot
    national: dict[str, Value]
    agencies: list[AgencyResult]

    @property
    def as_of(self) -> str:
        return self.snapshot.as_of_label

    def agency(self, code: str) -> AgencyResult | None:
        return next((a for a in self.agencies if a.info.code == code), None)

    def as_dict(self, agency_code: str | None = None) -> dict:
        agencies = self.agencies
        if agency_code:
            agencies = [a for a in agencies if a.info.code == agency_code]
        return {
            "as_of": self.snapshot.as_of_label,
            "as_of_instant": self.snapshot.as_of.isoformat(),
            "catalogue_version": self.snapshot.catalogue_version,
            "required_smart_share": self.snapshot.required_smart_share,
            "definitions": [i.definition() for i in registry],
            "national": {k: v.as_dict() for k, v in self.national.items()},
            "agencies": [a.as_dict() for a in agencies],
        }


def compute(as_of: dt.datetime | None = None, *, include_all_agencies: bool = False) -> Result:
    """Every indicator, nationally and for each agency in scope (every agency if asked)."""
    snap = snapshot(as_of)
    national = {i.code: i.compute(snap, None) for i in registry.for_level("national")}
    agency_indicators = registry.for_level("agency")
    rows = []
    for info in sorted(snap.agencies.values(), key=lambda a: a.name_fa):
        if not (info.in_scope or include_all_agencies):
            continue
        c = snap.count(info.id)
        rows.append(
            AgencyResult(
                info,
                c,
                connection_bucket(c),
                smart_bucket(c),
                {i.code: i.compute(snap, info.id) for i in agency_indicators},
            )
        )
    return Result(snap, national, rows)


def as_of_from_jalali(text: str | None) -> dt.datetime | None:
    """The end of a Jalali day (``1404-03-31``) as the as-of moment; None for "now"."""
    return jalali.end_of_day(text) if text else None
