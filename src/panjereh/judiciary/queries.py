"""What other apps (and the judiciary's own pages) may read of the person's cases."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from .models import Case, CaseEvent, CaseParty, FeedCursor, Pleading, SanaAccount


def _code(user) -> str:
    return str(getattr(user, "national_code", "") or "") if user is not None else ""


def has_sana(user) -> bool:
    """Whether the person holds an active SANA account (the case pages are for them)."""
    if user is None or not getattr(user, "pk", None):
        return False
    return SanaAccount.objects.filter(user=user, state=SanaAccount.State.ACTIVE).exists()


def cases_of(user) -> QuerySet[Case]:
    """The cases the person is a party of (by their national code), the latest first."""
    code = _code(user)
    if not code:
        return Case.objects.none()
    return (
        Case.objects.filter(parties__national_code=code).distinct().order_by("-updated_at", "-pk")
    )


def case_for(user, number: str) -> Case | None:
    """The case if the person is one of its parties; None otherwise (not theirs, or unknown)."""
    return cases_of(user).filter(number=str(number)[:32]).first()


def roles_in(user, case: Case) -> list[str]:
    """The person's roles in the case (``CaseParty.Role`` values)."""
    code = _code(user)
    if not code:
        return []
    return list(
        CaseParty.objects.filter(case=case, national_code=code)
        .order_by("role")
        .values_list("role", flat=True)
    )


def is_party(user, case: Case) -> bool:
    return bool(roles_in(user, case))


def events_of(case: Case) -> QuerySet[CaseEvent]:
    """The case's events in the order they happened."""
    return case.events.order_by("at", "pk")


def pleadings_of(user, case: Case) -> QuerySet[Pleading]:
    """The bills the person submitted to the case."""
    return Pleading.objects.filter(user=user, case=case).order_by("-created_at", "-pk")


@dataclass(frozen=True)
class FeedState:
    """How the window's reading of the courts' feed stands."""

    checked_at: object
    failures: int
    last_error: str

    @property
    def failing(self) -> bool:
        return self.failures > 0


def feed_state() -> FeedState:
    from .cases import FEED

    row = FeedCursor.objects.filter(name=FEED).first()
    if row is None:
        return FeedState(None, 0, "")
    return FeedState(row.checked_at, row.failures, row.last_error)


# -- what a person holds (the personal app's "my documents") ------------------------------------


def bill_receipts_of(user, reference: str | None = None) -> list[Pleading]:
    """The person's bills that the court received, with the judiciary's signed receipt,
    newest first (``reference``: that one, if theirs)."""
    rows = Pleading.objects.filter(user=user).exclude(receipt_token="")
    if reference is not None:
        rows = rows.filter(reference=reference)
    return list(rows.select_related("case").order_by("-submitted_at", "-pk"))


def bill_receipt_pdf_path(pleading: Pleading) -> str:
    from . import pleadings

    return pleadings.pdf_url(pleading)
