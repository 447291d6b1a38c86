"""Permits indicators (issue 16, part 7), per issuing authority and nationally.

Computed from the permits app's rows (``permits.queries``) and the violations reported about
authorities (``feedback.queries``), read once per snapshot (:func:`permit_facts`, kept in the
snapshot's cache). The level is ``authority`` (an :class:`~panjereh.permits.models.IssuingAuthority`
id, not a catalogue agency: many authorities, guild chambers for one, are not agencies of the
service catalogue); ``compute(snap, None)`` is the national figure.

Declared figures are what the catalogue's published versions say (conditions, registration,
legal time); observed ones are what happened in the window: permits issued, hand-offs left
unanswered, violations upheld, removed conditions tried again. The period of the issuing
figures is the report quarter: the three report months ending with the report month
(:func:`period`), so a report as of a quarter's last day is about that quarter.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from panjereh.common import jalali

from .. import sources
from .core import COUNT, DAYS, DECLARED, OBSERVED, PERCENT, Value, no_data, ratio, registry
from .snapshots import Snapshot

LEVELS = ("national", "authority")
CATALOGUE = _("Permits catalogue: the published version of each permit type and its conditions")
ISSUED = _("Permits issued through the window from an application, in the report quarter")
SECONDS_A_DAY = 86400


@dataclass
class PermitFacts:
    """The permits rows a snapshot's indicators read."""

    first_month: str
    last_month: str
    start: dt.datetime
    end: dt.datetime
    authorities: list  # permits.queries.AuthorityRow
    types: list  # permits.queries.PermitTypeFact, as of the snapshot
    issued: list  # permits.queries.IssuedFact, in [start, end)
    handoffs: dict[int, tuple[int, int]]  # authority id -> (open, unanswered)
    violations: dict[int, tuple[int, int]]  # authority id -> (received, upheld)
    attempts: dict[int, int]  # authority id -> refused reintroduction attempts
    _by: dict = field(default_factory=dict)

    def types_of(self, authority_id: int | None) -> list:
        return [t for t in self.types if authority_id in (None, t.authority_id)]

    def issued_of(self, authority_id: int | None) -> list:
        return [i for i in self.issued if authority_id in (None, i.authority_id)]

    def total(self, table: dict, authority_id: int | None, width: int):
        if authority_id is not None:
            return table.get(authority_id, (0,) * width if width > 1 else 0)
        if width == 1:
            return sum(table.values())
        return tuple(sum(row[i] for row in table.values()) for i in range(width))

    @property
    def label(self) -> str:
        return f"{self.first_month}..{self.last_month}"


def period(as_of: dt.datetime) -> tuple[str, str, dt.datetime, dt.datetime]:
    """The report quarter of ``as_of``: the report month (:func:`sources.report_month`) and
    the two before it, as Tehran instants [start, end), end no later than just after as_of."""
    last = jalali.Month.parse(sources.report_month(as_of))
    first = last.plus(-2)
    end = min(last.bounds()[1], as_of + dt.timedelta(microseconds=1))
    return str(first), str(last), first.bounds()[0], end


def permit_facts(snap: Snapshot) -> PermitFacts | None:
    """The permits rows for ``snap`` (read once); None when the permits app is not there."""
    if "permits" not in snap._cache:
        first, last, start, end = period(snap.as_of)
        rows = sources.permit_rows(snap.as_of, start, end)
        snap._cache["permits"] = (
            None if rows is None else PermitFacts(first, last, start, end, **rows)
        )
    return snap._cache["permits"]


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[mid]
    return (ordered[mid - 1] + ordered[mid]) / 2


def nearest_rank(values: list[float], q: float) -> float:
    """The ``q`` quantile by the nearest-rank rule: the value at rank ⌈q·n⌉ of the sorted
    values (so at least a share ``q`` of the values are at or below it)."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


def days(seconds: float) -> float:
    return round(seconds / SECONDS_A_DAY, 1)


def _durations(facts: PermitFacts, authority_id: int | None) -> list[float]:
    return [(i.issued_at - i.submitted_at).total_seconds() for i in facts.issued_of(authority_id)]


_NO_PERMITS = _("The permits catalogue is not installed.")
_NO_TYPES = _("No permit type was published by this date.")
_NO_ISSUED = _("No permit was issued through the window in the report quarter.")


def _share_of_types(snap: Snapshot, authority_id: int | None, test) -> Value:
    facts = permit_facts(snap)
    if facts is None:
        return no_data(_NO_PERMITS)
    types = facts.types_of(authority_id)
    if not types:
        return no_data(_NO_TYPES)
    return ratio(sum(1 for t in types if test(t)), len(types))


@registry.register(
    "permits_electronic",
    name_fa="مجوزهای تمام‌الکترونیکی",
    name_en=_("Permit types fully electronic"),
    definition_fa=(
        "تعداد انواع مجوز منتشرشده که گرفتنشان به مراجعه حضوری نیاز ندارد (نسخه منتشرشده "
        "در آن تاریخ هیچ شرطی از نوع «بازدید یا مصاحبه» ندارد؛ در مجوزهای ثبت‌محور، بازدید "
        "نظارت پس از صدور است و شمرده نمی‌شود)، تقسیم بر همه انواع مجوز منتشرشده مرجع صدور."
    ),
    definition_en=_(
        "Published permit types that can be obtained with no visit (the version in force on "
        "the date has no condition of kind inspection or interview; for a registration-based "
        "permit the visit is supervision after issue and does not count), over all published "
        "permit types of the issuing authority."
    ),
    numerator=_("Published permit types with no inspection condition (or registration-based)"),
    denominator=_("Published permit types"),
    unit=PERCENT,
    source=CATALOGUE,
    levels=LEVELS,
    basis=DECLARED,
)
def permits_electronic(snap: Snapshot, authority_id: int | None) -> Value:
    return _share_of_types(snap, authority_id, lambda t: t.fully_electronic)


@registry.register(
    "permits_issued_online",
    name_fa="مجوزهای صادرشده از پنجره (مشاهده‌شده)",
    name_en=_("Permit types issued through the window (observed)"),
    definition_fa=(
        "تعداد انواع مجوز منتشرشده که در فصل گزارش دست‌کم یک مجوزشان از درخواستی در پنجره "
        "صادر شده است، تقسیم بر همه انواع مجوز منتشرشده مرجع صدور."
    ),
    definition_en=_(
        "Published permit types with at least one permit issued from an application in the "
        "window in the report quarter, over all published permit types of the authority."
    ),
    numerator=_("Published permit types with a permit issued through the window in the quarter"),
    denominator=_("Published permit types"),
    unit=PERCENT,
    source=ISSUED,
    levels=LEVELS,
    basis=OBSERVED,
)
def permits_issued_online(snap: Snapshot, authority_id: int | None) -> Value:
    facts = permit_facts(snap)
    issued = {i.permit_id for i in facts.issued} if facts is not None else set()
    return _share_of_types(snap, authority_id, lambda t: t.permit_id in issued)


@registry.register(
    "permits_registration_based",
    name_fa="مجوزهای ثبت‌محور",
    name_en=_("Permit types registration-based"),
    definition_fa=(
        "تعداد انواع مجوز منتشرشده‌ای که با تکمیل ثبت‌نام و بی‌مرحله تأیید صادر می‌شوند "
        "(نسخه در اجرا در آن تاریخ)، تقسیم بر همه انواع مجوز منتشرشده مرجع صدور."
    ),
    definition_en=_(
        "Published permit types issued on a complete registration with no approval step (the "
        "version in force on the date), over all published permit types of the authority."
    ),
    numerator=_("Published permit types that are registration-based"),
    denominator=_("Published permit types"),
    unit=PERCENT,
    source=CATALOGUE,
    levels=LEVELS,
    basis=DECLARED,
)
def permits_registration_based(snap: Snapshot, authority_id: int | None) -> Value:
    return _share_of_types(snap, authority_id, lambda t: t.registration_based)


@registry.register(
    "permits_legal_days",
    name_fa="زمان قانونی صدور (میانه)",
    name_en=_("Legal time to issue (median)"),
    definition_fa=(
        "میانه زمان قانونی صدور (روز) انواع مجوز منتشرشده تأییدمحور مرجع صدور، چنان‌که نسخه "
        "در اجرا اعلام کرده است؛ مجوزهای بی‌زمان قانونی (ثبت‌محور، صدور بی‌درنگ) شمرده "
        "نمی‌شوند. مخرج، شمار این انواع مجوز است."
    ),
    definition_en=_(
        "The median legal time to issue, in days, of the authority's published permit types "
        "with a legal time (the version in force on the date); registration-based permits, "
        "issued at once, have none and are left out. The denominator is how many there are."
    ),
    numerator=_("None (a median of the declared legal times)"),
    denominator=_("Published permit types with a legal time"),
    unit=DAYS,
    source=CATALOGUE,
    levels=LEVELS,
    basis=DECLARED,
)
def permits_legal_days(snap: Snapshot, authority_id: int | None) -> Value:
    facts = permit_facts(snap)
    if facts is None:
        return no_data(_NO_PERMITS)
    legal = [t.legal_days for t in facts.types_of(authority_id) if t.legal_days > 0]
    if not legal:
        return no_data(_("No published permit type with a legal time."))
    return Value(round(float(median(legal)), 1), None, len(legal))


def _issuing_time(snap: Snapshot, authority_id: int | None, q: float | None) -> Value:
    facts = permit_facts(snap)
    if facts is None:
        return no_data(_NO_PERMITS)
    durations = _durations(facts, authority_id)
    if not durations:
        return no_data(_NO_ISSUED)
    seconds = median(durations) if q is None else nearest_rank(durations, q)
    return Value(days(seconds), None, len(durations))


@registry.register(
    "permits_issuing_median",
    name_fa="زمان صدور مجوز (میانه، مشاهده‌شده)",
    name_en=_("Time to issue a permit (median, observed)"),
    definition_fa=(
        "میانه فاصله ثبت درخواست در پنجره تا صدور مجوز، به روز (یک رقم اعشار)، برای مجوزهایی "
        "که در فصل گزارش از درخواستی در پنجره صادر شده‌اند؛ مخرج، شمار این مجوزهاست."
    ),
    definition_en=_(
        "The median time from the application's registration in the window to the permit's "
        "issue, in days (one decimal), over the permits issued from an application in the "
        "window in the report quarter; the denominator is how many were issued."
    ),
    numerator=_("None (a median of issuing times)"),
    denominator=_("Permits issued through the window in the quarter"),
    unit=DAYS,
    source=ISSUED,
    levels=LEVELS,
    basis=OBSERVED,
)
def permits_issuing_median(snap: Snapshot, authority_id: int | None) -> Value:
    return _issuing_time(snap, authority_id, None)


@registry.register(
    "permits_issuing_p90",
    name_fa="زمان صدور مجوز (صدک ۹۰، مشاهده‌شده)",
    name_en=_("Time to issue a permit (90th percentile, observed)"),
    definition_fa=(
        "صدک ۹۰ فاصله ثبت درخواست تا صدور مجوز، به روز، به قاعده نزدیک‌ترین رتبه: مقدار "
        "رتبه ⌈۰٫۹ × n⌉ در فهرست مرتب زمان‌های صدور همان مجوزها."
    ),
    definition_en=_(
        "The 90th percentile of the time from registration to issue, in days, by the "
        "nearest-rank rule: the value at rank ⌈0.9 × n⌉ of the same permits' sorted issuing "
        "times."
    ),
    numerator=_("None (a percentile of issuing times)"),
    denominator=_("Permits issued through the window in the quarter"),
    unit=DAYS,
    source=ISSUED,
    levels=LEVELS,
    basis=OBSERVED,
)
def permits_issuing_p90(snap: Snapshot, authority_id: int | None) -> Value:
    return _issuing_time(snap, authority_id, 0.9)


@registry.register(
    "permits_within_legal",
    name_fa="صدور در زمان قانونی (مشاهده‌شده)",
    name_en=_("Permits issued within the legal time (observed)"),
    definition_fa=(
        "تعداد مجوزهای صادرشده در فصل گزارش که فاصله ثبت تا صدورشان از زمان قانونی نسخه‌ای "
        "که درخواست با آن ثبت شد بیشتر نبوده است، تقسیم بر مجوزهای صادرشده‌ای که زمان قانونی "
        "دارند (ثبت‌محورها، بی‌زمان قانونی، شمرده نمی‌شوند)."
    ),
    definition_en=_(
        "Permits issued in the report quarter whose time from registration to issue was no "
        "more than the legal time of the version applied under, over the permits issued that "
        "have a legal time (registration-based ones, with none, are left out)."
    ),
    numerator=_("Permits issued within the legal time"),
    denominator=_("Permits issued through the window in the quarter with a legal time"),
    unit=PERCENT,
    source=ISSUED,
    levels=LEVELS,
    basis=OBSERVED,
)
def permits_within_legal(snap: Snapshot, authority_id: int | None) -> Value:
    facts = permit_facts(snap)
    if facts is None:
        return no_data(_NO_PERMITS)
    timed = [i for i in facts.issued_of(authority_id) if i.legal_days > 0]
    if not timed:
        return no_data(_NO_ISSUED)
    within = sum(
        1
        for i in timed
        if (i.issued_at - i.submitted_at).total_seconds() <= i.legal_days * SECONDS_A_DAY
    )
    return ratio(within, len(timed))


@registry.register(
    "permits_handoffs_unanswered",
    name_fa="ارجاع‌های بی‌پاسخ",
    name_en=_("Hand-offs unanswered"),
    definition_fa=(
        "تعداد درخواست‌هایی که در تاریخ گزارش نزد مرجع صدور (درگاه تخصصی یا کارشناسانش) "
        "باز بوده و یا زمان قانونی‌شان گذشته بوده یا پنجره پس از دست‌کم یک تلاش نتوانسته به "
        "درگاه تخصصی برساندشان؛ مخرج، همه درخواست‌های باز نزد مرجع در آن تاریخ است."
    ),
    definition_en=_(
        "Applications open with the issuing authority (its specialised portal or its staff) "
        "on the date whose legal time had run out, or that the window could not deliver to "
        "the specialised portal after at least one attempt; the denominator is every "
        "application open with the authority on the date (not waiting for its fee)."
    ),
    numerator=_("Open applications past their legal time or not delivered"),
    denominator=_("Applications open with the authority on the date"),
    unit=COUNT,
    source=_("Permit applications and their state in the window"),
    levels=LEVELS,
    basis=OBSERVED,
)
def permits_handoffs_unanswered(snap: Snapshot, authority_id: int | None) -> Value:
    facts = permit_facts(snap)
    if facts is None:
        return no_data(_NO_PERMITS)
    open_, unanswered = facts.total(facts.handoffs, authority_id, 2)
    return Value(unanswered, unanswered, open_)


@registry.register(
    "permits_violations_upheld",
    name_fa="تخلف‌های تأییدشده مرجع صدور",
    name_en=_("Violations upheld against the issuing authority"),
    definition_fa=(
        "تعداد گزارش‌هایی که متقاضیان از درخواست مجوز ثبت کرده‌اند (مطالبه مراجعه حضوری، "
        "پرداخت بیرون از پنجره، یا شرط حذف‌شده) و مرجع رسیدگی تا تاریخ گزارش وارد دانسته "
        "است؛ مخرج، همه این گزارش‌های دریافت‌شده تا آن تاریخ."
    ),
    definition_en=_(
        "Reports filed from permit applications (a demand to come in person, a payment "
        "outside the window, or a removed condition asked again) that the supervising body "
        "upheld by the date; the denominator is all such reports received by then."
    ),
    numerator=_("Violation reports upheld"),
    denominator=_("Violation reports received"),
    unit=COUNT,
    source=_("Complaints filed in the window from permit applications (feedback app)"),
    levels=LEVELS,
    basis=OBSERVED,
)
def permits_violations_upheld(snap: Snapshot, authority_id: int | None) -> Value:
    facts = permit_facts(snap)
    if facts is None:
        return no_data(_NO_PERMITS)
    received, upheld = facts.total(facts.violations, authority_id, 2)
    return Value(upheld, upheld, received)


@registry.register(
    "permits_reattempts",
    name_fa="تلاش برای بازگرداندن شرط حذف‌شده",
    name_en=_("Removed conditions re-attempted"),
    definition_fa=(
        "تعداد دفعاتی که مرجع صدور تا تاریخ گزارش کوشیده است شرطی را که با مصوبه حذف شده در "
        "نسخه‌ای از مجوز بازگرداند و پنجره آن را نپذیرفته است."
    ),
    definition_en=_(
        "Times the issuing authority tried, by the date, to bring back in a version of a "
        "permit a condition a resolution removed, refused by the window."
    ),
    numerator=_("Refused attempts to reintroduce a removed condition"),
    denominator=_("None (a count)"),
    unit=COUNT,
    source=_("Register of removed conditions and the attempts refused"),
    levels=LEVELS,
    basis=OBSERVED,
)
def permits_reattempts(snap: Snapshot, authority_id: int | None) -> Value:
    facts = permit_facts(snap)
    if facts is None:
        return no_data(_NO_PERMITS)
    n = facts.total(facts.attempts, authority_id, 1)
    return Value(n, n)
