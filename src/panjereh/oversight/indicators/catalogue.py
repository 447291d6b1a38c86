"""Indicators from the catalogue: service coverage (connection and smart rates), agencies
(connected, own window, single sign-on), the report's buckets and the yearly 20% smart target."""

from __future__ import annotations

from collections.abc import Callable

from django.utils.translation import gettext_lazy as _

from panjereh.catalogue.queries import AgencyCounts

from .. import data
from .core import COUNT, PERCENT, Value, no_data, ratio, registry
from .snapshots import Snapshot

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
