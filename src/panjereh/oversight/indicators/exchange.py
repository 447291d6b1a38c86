"""Indicators from the exchange's monthly statistics per provider (activity and quality)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from .. import data
from .core import CALLS, OBSERVED, PERCENT, Value, no_data, ratio, registry
from .snapshots import Snapshot

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
    basis=OBSERVED,
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
    basis=OBSERVED,
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
