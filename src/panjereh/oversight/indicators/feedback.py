"""Satisfaction indicators, from the feedback app's ratings (or, without them, the ratings of
finished applications in the report month), with small numbers withheld."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from .core import CHANGE, COUNT, FLAG, OBSERVED, PERCENT, Value, no_data, registry
from .snapshots import Snapshot

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
    basis=OBSERVED,
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
    basis=OBSERVED,
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
    basis=OBSERVED,
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
    basis=OBSERVED,
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


# Payments demanded outside the window (Art. 107 of the 7th Plan: fees are paid through the
# window): complaints of the kind "payment" per agency. Received is what citizens reported (a
# claim, counted as the window observed it); upheld is what the supervising body found true.
_DEMANDS_SOURCE = _(
    "Complaints filed in the window (feedback app), kind “payment outside the portal”"
)


def _demands(snap: Snapshot, agency_id: int | None) -> tuple[int, int]:
    rows = snap.payment_demands
    if agency_id is not None:
        return rows.get(agency_id, (0, 0))
    return sum(r[0] for r in rows.values()), sum(r[1] for r in rows.values())


@registry.register(
    "payment_demands_reported",
    name_fa="گزارش‌های مطالبه پرداخت بیرون از پنجره",
    name_en=_("Reports of payment demanded outside the window"),
    definition_fa=(
        "تعداد شکایت‌هایی که شهروندان در پنجره ملی ثبت کرده‌اند که دستگاه پرداخت هزینه خدمت را "
        "بیرون از پنجره (نقدی، کارت‌خوان یا حساب دیگر) خواسته است، از آغاز تا تاریخ گزارش. "
        "ادعای شهروند است، نه یافته رسیدگی."
    ),
    definition_en=_(
        "Complaints filed in the national window that the agency demanded the service's fee "
        "be paid outside the window (cash, a card reader, another account), from the start to "
        "the date. A citizen's claim, not a finding."
    ),
    numerator=_("Complaints of a payment demanded outside the window, received"),
    denominator=_("None (a count)"),
    unit=COUNT,
    source=_DEMANDS_SOURCE,
    basis=OBSERVED,
)
def payment_demands_reported(snap: Snapshot, agency_id: int | None) -> Value:
    received, _upheld = _demands(snap, agency_id)
    return Value(received, received)


@registry.register(
    "payment_demands_upheld",
    name_fa="مطالبه پرداخت بیرون از پنجره (تأییدشده)",
    name_en=_("Payment demanded outside the window, upheld"),
    definition_fa=(
        "از شکایت‌های مطالبه پرداخت بیرون از پنجره، آنهایی که مرجع رسیدگی تا تاریخ گزارش وارد "
        "دانسته است؛ مخرج، همه شکایت‌های دریافت‌شده از این نوع است."
    ),
    definition_en=_(
        "Of the complaints of a payment demanded outside the window, those the supervising "
        "body upheld by the date; the denominator is all such complaints received."
    ),
    numerator=_("Complaints of a payment demanded outside the window, upheld"),
    denominator=_("Complaints of a payment demanded outside the window, received"),
    unit=COUNT,
    source=_DEMANDS_SOURCE,
    basis=OBSERVED,
)
def payment_demands_upheld(snap: Snapshot, agency_id: int | None) -> Value:
    received, upheld = _demands(snap, agency_id)
    return Value(upheld, upheld, received)
