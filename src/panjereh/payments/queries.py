"""What other apps (and the payments pages) may read about payments.

Finance figures are counted from the rows themselves (payments, refunds, finance cases), by
Tehran day and by Jalali month, so they can always be recomputed and never drift from the
records they summarise.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate

from panjereh.catalogue import roles
from panjereh.catalogue.models import Agency
from panjereh.common.jalali import TEHRAN, Month

from .models import (
    LIVE,
    OPEN_STATES,
    PAID_STATES,
    CaseState,
    FinanceCase,
    Payment,
    PaymentState,
    Refund,
    RefundState,
    TreasuryAccount,
)


@dataclass
class Figures:
    """Money of one period (a day or a Jalali month), rials."""

    period: dt.date | Month
    collected: int = 0
    collected_count: int = 0
    refunded: int = 0
    refunded_count: int = 0
    pending: int = 0
    pending_count: int = 0
    mismatch: int = 0
    mismatch_count: int = 0

    @property
    def net(self) -> int:
        return self.collected - self.refunded


@dataclass
class Totals:
    rows: list[Figures] = field(default_factory=list)

    def total(self, name: str) -> int:
        return sum(getattr(row, name) for row in self.rows)


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """From the first instant of ``start`` to the last of ``end``, Tehran time."""
    return (
        dt.datetime.combine(start, dt.time.min, tzinfo=TEHRAN),
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=TEHRAN),
    )


def _by_day(rows: QuerySet, stamp: str, amount: str, where: Q) -> dict[dt.date, tuple[int, int]]:
    grouped = (
        rows.filter(where)
        .annotate(day=TruncDate(stamp, tzinfo=TEHRAN))
        .values("day")
        .annotate(total=Sum(amount), n=Count("pk"))
        .order_by()
    )
    return {row["day"]: (int(row["total"] or 0), row["n"]) for row in grouped}


def figures(
    *,
    start: dt.date,
    end: dt.date,
    agency_ids: Iterable[int] | None = None,
    by: str = "day",
) -> Totals:
    """Collected, refunded, pending and in mismatch, per Tehran day (``by="day"``) or per
    Jalali month (``by="month"``) from ``start`` to ``end`` (both Gregorian dates, inclusive),
    for the given agencies (None: all).

    Collected: captured payments by the moment they were captured; refunded: refunds done, by
    the moment they were; pending: payments still open (created, at the bank, being
    confirmed), by the moment they were created; mismatch: open finance cases by the moment
    they were opened, as the absolute difference the bank and the window disagree by."""
    low, high = _bounds(start, end)
    payments = Payment.objects.all()
    refunds = Refund.objects.all()
    cases = FinanceCase.objects.all()
    if agency_ids is not None:
        ids = list(agency_ids)
        payments = payments.filter(agency_id__in=ids)
        refunds = refunds.filter(payment__agency_id__in=ids)
        cases = cases.filter(agency_id__in=ids)
    collected = _by_day(
        payments,
        "captured_at",
        "captured_amount",
        Q(state__in=PAID_STATES, captured_at__gte=low, captured_at__lt=high),
    )
    refunded = _by_day(
        refunds,
        "ended_at",
        "amount",
        Q(state=RefundState.REFUNDED, ended_at__gte=low, ended_at__lt=high),
    )
    pending = _by_day(
        payments,
        "created_at",
        "amount",
        Q(state__in=OPEN_STATES, created_at__gte=low, created_at__lt=high),
    )
    mismatch: dict[dt.date, tuple[int, int]] = defaultdict(lambda: (0, 0))
    for case in cases.filter(state=CaseState.OPEN, opened_at__gte=low, opened_at__lt=high).only(
        "opened_at", "expected_amount", "reported_amount"
    ):
        day = case.opened_at.astimezone(TEHRAN).date()
        total, n = mismatch[day]
        mismatch[day] = (total + abs(case.difference), n + 1)
    rows: dict[object, Figures] = {}
    day = start
    while day <= end:
        key = Month.of(day) if by == "month" else day
        row = rows.setdefault(key, Figures(period=key))
        for name, table in (
            ("collected", collected),
            ("refunded", refunded),
            ("pending", pending),
            ("mismatch", mismatch),
        ):
            total, n = table.get(day, (0, 0))
            setattr(row, name, getattr(row, name) + total)
            setattr(row, f"{name}_count", getattr(row, f"{name}_count") + n)
        day += dt.timedelta(days=1)
    return Totals(rows=list(rows.values()))


@dataclass
class PurposeDay:
    """Money of one purpose on one Tehran day: captures (count, rials) and refunds done."""

    purpose_id: str
    day: dt.date
    captured: int = 0
    collected: int = 0
    refunds: int = 0
    refunded: int = 0


def money_by_purpose(
    purpose_kind: str, *, until: dt.datetime, since: dt.datetime | None = None
) -> list[PurposeDay]:
    """Per purpose and Tehran day: payments captured (by the moment they were captured) and
    refunds done (by the moment they were), of one kind of purpose, up to ``until``. Two
    grouped queries; no payer, card or reference comes out (open data is built on it)."""
    paid = Q(state__in=PAID_STATES, captured_at__lte=until, purpose_kind=purpose_kind)
    done = Q(state=RefundState.REFUNDED, ended_at__lte=until, payment__purpose_kind=purpose_kind)
    if since is not None:
        paid &= Q(captured_at__gte=since)
        done &= Q(ended_at__gte=since)
    rows: dict[tuple[str, dt.date], PurposeDay] = {}
    captures = (
        Payment.objects.filter(paid)
        .annotate(day=TruncDate("captured_at", tzinfo=TEHRAN))
        .values("purpose_id", "day")
        .annotate(total=Sum("captured_amount"), n=Count("pk"))
        .order_by()
    )
    for row in captures:
        key = (row["purpose_id"], row["day"])
        item = rows.setdefault(key, PurposeDay(*key))
        item.captured, item.collected = row["n"], int(row["total"] or 0)
    refunds = (
        Refund.objects.filter(done)
        .annotate(day=TruncDate("ended_at", tzinfo=TEHRAN))
        .values("payment__purpose_id", "day")
        .annotate(total=Sum("amount"), n=Count("pk"))
        .order_by()
    )
    for row in refunds:
        key = (row["payment__purpose_id"], row["day"])
        item = rows.setdefault(key, PurposeDay(*key))
        item.refunds, item.refunded = row["n"], int(row["total"] or 0)
    return sorted(rows.values(), key=lambda r: (r.day, r.purpose_id))


def agencies_visible_to(user) -> set[int] | None:
    """The agencies whose money ``user`` may see: None for all (supervisors), else their own."""
    if roles.can(user, roles.SUPERVISE):
        return None
    return roles.agencies_for(user, roles.READ)


def agencies(ids: Iterable[int]) -> list[Agency]:
    """The given agencies, by Persian name."""
    return list(Agency.objects.filter(pk__in=list(ids)).order_by("name_fa"))


def agencies_with_money() -> list[Agency]:
    """Agencies with a treasury account or a payment: those a supervisor may choose."""
    with_account = TreasuryAccount.objects.values("agency_id")
    with_payment = Payment.objects.values("agency_id")
    return list(
        Agency.objects.filter(Q(pk__in=with_account) | Q(pk__in=with_payment)).order_by("name_fa")
    )


def can_resolve(user, case: FinanceCase) -> bool:
    """Whether ``operations.resolve_case`` would let ``user`` close ``case`` (to offer the
    form; the operation checks again)."""
    return roles.can(user, roles.OPERATE) or bool(
        case.agency_id and roles.can(user, roles.DECIDE, case.agency_id)
    )


def open_mismatch(agency_ids: Iterable[int] | None = None) -> tuple[int, int]:
    """All open finance cases, whenever opened: (how many, the rials they differ by)."""
    cases = FinanceCase.objects.filter(state=CaseState.OPEN)
    if agency_ids is not None:
        cases = cases.filter(agency_id__in=list(agency_ids))
    rows = cases.only("expected_amount", "reported_amount")
    return len(rows), sum(abs(c.difference) for c in rows)


def history(user) -> QuerySet[Payment]:
    """The payer's payments, newest first, with their refunds."""
    if not getattr(user, "is_authenticated", False):
        return Payment.objects.none()
    return (
        Payment.objects.filter(payer=user)
        .select_related("agency")
        .prefetch_related("refunds")
        .order_by("-created_at", "-id")
    )


def live_payment(purpose_kind: str, purpose_id: str) -> Payment | None:
    """The purpose's payment under way or paid (None if none: it may be paid again)."""
    return Payment.objects.filter(
        LIVE, purpose_kind=purpose_kind, purpose_id=str(purpose_id)
    ).first()


def latest_of(purpose_kind: str, purpose_ids: Iterable[str]) -> dict[str, Payment]:
    """The newest payment (any state) of each of these purposes, by purpose ID: what a list
    of applications shows of its fees, in one query."""
    ids = {str(pid) for pid in purpose_ids}
    if not ids:
        return {}
    found: dict[str, Payment] = {}
    for payment in Payment.objects.filter(purpose_kind=purpose_kind, purpose_id__in=ids).order_by(
        "-created_at", "-id"
    ):
        found.setdefault(payment.purpose_id, payment)
    return found


def is_paid(purpose_kind: str, purpose_id: str) -> bool:
    return Payment.objects.filter(
        LIVE, purpose_kind=purpose_kind, purpose_id=str(purpose_id), state__in=PAID_STATES
    ).exists()


def open_cases(agency_ids: Iterable[int] | None = None) -> QuerySet[FinanceCase]:
    cases = FinanceCase.objects.filter(state=CaseState.OPEN).select_related("payment", "agency")
    if agency_ids is not None:
        cases = cases.filter(agency_id__in=list(agency_ids))
    return cases.order_by("-opened_at", "-id")


def by_reference(reference: str) -> Payment | None:
    return Payment.objects.filter(reference=reference).select_related("agency").first()


__all__ = [
    "Figures",
    "PaymentState",
    "Totals",
    "agencies",
    "agencies_with_money",
    "can_resolve",
    "open_mismatch",
    "PurposeDay",
    "agencies_visible_to",
    "by_reference",
    "figures",
    "history",
    "is_paid",
    "live_payment",
    "money_by_purpose",
    "open_cases",
]
