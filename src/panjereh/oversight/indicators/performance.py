"""Service performance indicators (GOV.UK's four but satisfaction), from the journey log and
the agencies' monthly entries (:mod:`..servperf`)."""

from __future__ import annotations

from collections.abc import Callable

from django.utils.translation import gettext_lazy as _

from .core import DECLARED, MONEY, OBSERVED, PERCENT, Value, no_data, registry
from .snapshots import Snapshot

JOURNEY = _("Applications and their journey log (smart services), in the report month")

for _code, _fa, _en, _def_fa, _def_en, _num, _den, _unit, _src, _basis in [
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
        JOURNEY,
        OBSERVED,
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
        DECLARED,
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
        DECLARED,
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
        basis=_basis,
    )(_perf())
