"""What the rest of the window (and the public pages) may read about permits."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Prefetch, Q

from .models import (
    OPEN_APPLICATION_STATES,
    ApplicationState,
    Condition,
    ConditionKind,
    IssuedPermit,
    IssuingAuthority,
    PermitApplication,
    PermitKind,
    PermitType,
    PermitVersion,
    ReintroductionAttempt,
    RemovedCondition,
    Resolution,
    VersionState,
)


@dataclass(frozen=True)
class PermitCounts:
    """The catalogue's own figures (see docs/permits.md for the seed's)."""

    permit_types: int
    by_kind: dict[str, int]
    registration_based: int
    conditions_published: int
    conditions_all_versions: int
    removed_conditions: int
    removals: int
    attempts: int


def counts() -> PermitCounts:
    by_kind = dict(
        PermitType.objects.filter(published_version__isnull=False)
        .values_list("kind")
        .annotate(n=Count("id"))
        .values_list("kind", "n")
    )
    published = PermitType.objects.filter(published_version__isnull=False)
    return PermitCounts(
        permit_types=published.count(),
        by_kind={kind: by_kind.get(kind, 0) for kind in PermitKind.values},
        registration_based=published.filter(registration_based=True).count(),
        conditions_published=Condition.objects.filter(version__state="published").count(),
        conditions_all_versions=Condition.objects.count(),
        removed_conditions=RemovedCondition.objects.count(),
        removals=RemovedCondition.permit_types.through.objects.count(),
        attempts=ReintroductionAttempt.objects.count(),
    )


def authorities():
    return IssuingAuthority.objects.order_by("name_fa")


def permit_types_by_pk(pks: list[int]) -> list[PermitType]:
    """Permit types in the order of ``pks`` (a search result's page)."""
    rows = PermitType.objects.select_related("authority").in_bulk(pks)
    return [rows[pk] for pk in pks if pk in rows]


def published_permit(public_id: str) -> PermitType | None:
    """A published permit type with its published version's conditions, or ``None``."""
    return (
        PermitType.objects.select_related("authority", "published_version")
        .prefetch_related(
            Prefetch(
                "published_version__conditions",
                queryset=Condition.objects.order_by("position", "id"),
            ),
            Prefetch(
                "removed_conditions",
                queryset=RemovedCondition.objects.select_related("resolution"),
            ),
        )
        .filter(public_id=public_id, published_version__isnull=False)
        .first()
    )


def removed_register():
    """Every removed condition with its resolution and how many permits it was removed from."""
    return (
        RemovedCondition.objects.select_related("resolution")
        .annotate(
            permit_count=Count("permit_types", distinct=True),
            attempt_count=Count("attempts", distinct=True),
        )
        .order_by("-resolution__date", "key")
    )


def resolutions():
    return Resolution.objects.annotate(removal_count=Count("removals")).order_by("-date", "number")


def recent_attempts(limit: int = 50):
    return ReintroductionAttempt.objects.select_related(
        "authority", "permit", "removed", "removed__resolution"
    ).order_by("-at", "-id")[:limit]


# -- what oversight reads (issue 16, part 7): aggregated rows, never a person -----------------


@dataclass(frozen=True)
class AuthorityRow:
    id: int
    code: str
    name_fa: str
    name_en: str
    agency_id: int | None
    portal: str


def authority_rows() -> list[AuthorityRow]:
    return [
        AuthorityRow(*row)
        for row in IssuingAuthority.objects.order_by("name_fa", "id").values_list(
            "id", "code", "name_fa", "name_en", "agency_id", "portal"
        )
    ]


@dataclass(frozen=True)
class PermitTypeFact:
    """A permit type as its version in force at a moment declared it."""

    permit_id: int
    authority_id: int
    registration_based: bool
    legal_days: int
    fully_electronic: bool


def fully_electronic(registration_based: bool, has_inspection: bool) -> bool:
    """The rule (docs/permits.md, "Violations and oversight"): a permit is fully electronic
    when obtaining it needs no visit, that is, its version has no condition of kind
    *inspection* (a site inspection, an interview); a registration-based permit is issued on
    registration, so its inspection condition is supervision after issue and does not count.
    Documents are uploaded or checked online and fees paid online in every version of the
    catalogue, so only inspections make a permit need a visit."""
    return registration_based or not has_inspection


def permit_types_as_of(as_of: dt.datetime) -> list[PermitTypeFact]:
    """Each permit type published by ``as_of``, as its version in force then declared it
    (the version published last by then, superseded since or not)."""
    rows = (
        PermitVersion.objects.filter(
            state__in=[VersionState.PUBLISHED, VersionState.SUPERSEDED], published_at__lte=as_of
        )
        .annotate(
            inspection=Exists(
                Condition.objects.filter(version=OuterRef("pk"), kind=ConditionKind.INSPECTION)
            )
        )
        .order_by()
        .values_list(
            "permit_id",
            "permit__authority_id",
            "published_at",
            "number",
            "registration_based",
            "legal_days",
            "inspection",
        )
    )
    latest: dict[int, tuple] = {}
    for row in rows:
        kept = latest.get(row[0])
        if kept is None or (row[2], row[3]) > (kept[2], kept[3]):
            latest[row[0]] = row
    return [
        PermitTypeFact(pid, aid, reg, days, fully_electronic(reg, inspection))
        for pid, aid, _at, _n, reg, days, inspection in latest.values()
    ]


@dataclass(frozen=True)
class IssuedFact:
    """A permit issued through the window (from an application) in a period."""

    authority_id: int
    permit_id: int
    submitted_at: dt.datetime
    issued_at: dt.datetime
    legal_days: int  # of the version applied under


def issued_between(start: dt.datetime, end: dt.datetime) -> list[IssuedFact]:
    """Permits issued from an application in the window in ``[start, end)``."""
    return [
        IssuedFact(*row)
        for row in IssuedPermit.objects.filter(
            issued_at__gte=start, issued_at__lt=end, application__isnull=False
        )
        .order_by()
        .values_list(
            "authority_id",
            "permit_id",
            "application__submitted_at",
            "issued_at",
            "application__version__legal_days",
        )
        .iterator(chunk_size=5000)
    ]


# States in which the issuing authority (its specialised portal, or its staff in the window)
# holds the hand-off; an application waiting for its fee is not handed off yet.
HANDED_OFF_STATES = [s for s in OPEN_APPLICATION_STATES if s != ApplicationState.AWAITING_PAYMENT]


def handoffs_as_of(as_of: dt.datetime) -> dict[int, tuple[int, int]]:
    """Per authority id: (hand-offs open at ``as_of``, of those unanswered).

    Open: submitted by ``as_of``, not waiting for its fee, and not decided by then (decided
    later, or still in a handed-off state). Unanswered: open, and its legal time ran out by
    ``as_of`` (``due_by`` before it), or the window could not deliver it (still being sent
    after at least one failed attempt)."""
    open_then = Q(submitted_at__lte=as_of) & ~Q(state=ApplicationState.AWAITING_PAYMENT)
    open_then &= Q(decided_at__gt=as_of) | Q(decided_at__isnull=True, state__in=HANDED_OFF_STATES)
    unanswered = Q(due_by__lt=as_of) | Q(
        state=ApplicationState.ROUTING, send_attempts__gt=0, decided_at__isnull=True
    )
    rows = (
        PermitApplication.objects.filter(open_then)
        .order_by()
        .values("authority_id")
        .annotate(open=Count("id"), unanswered=Count("id", filter=unanswered))
    )
    return {r["authority_id"]: (r["open"], r["unanswered"]) for r in rows}


def attempts_as_of(as_of: dt.datetime) -> dict[int, int]:
    """Refused attempts to bring a removed condition back, per authority id, by ``as_of``."""
    rows = (
        ReintroductionAttempt.objects.filter(at__lte=as_of)
        .order_by()
        .values("authority_id")
        .annotate(n=Count("id"))
    )
    return {r["authority_id"]: r["n"] for r in rows}


# -- what a person holds (the personal app's "my documents") ------------------------------------


def permits_held_by(user, number: str | None = None) -> list[IssuedPermit]:
    """The signed permits issued to ``user`` (as a person), newest first; ``number``: that
    one (if theirs). Unsigned permits (no key could sign them) are left out."""
    rows = IssuedPermit.objects.filter(holder=user).exclude(token="")
    if number is not None:
        rows = rows.filter(number=number)
    return list(rows.select_related("permit", "authority").order_by("-issued_at", "-id"))


def permit_pdf_path(number: str) -> str:
    from . import issuing

    return issuing.pdf_path(number)


def permit_public_url(number: str) -> str:
    from . import issuing

    return issuing.public_url(number)


def verify_permit(token: str):
    """A permit's token checked against the published keys and the register
    (``issuing.Verdict``: ``status`` is the permit's, or invalid / superseded / not_found)."""
    from . import issuing

    return issuing.verify(token)


def applications_waiting_for(user, limit: int = 20) -> list[PermitApplication]:
    """``user``'s permit applications whose next step is theirs: a fee to pay, or more
    information the authority asked for. Newest first."""
    return list(
        PermitApplication.objects.filter(
            applicant=user,
            state__in=(ApplicationState.AWAITING_PAYMENT, ApplicationState.INFORMATION_REQUESTED),
        )
        .select_related("permit")
        .order_by("-submitted_at")[:limit]
    )
