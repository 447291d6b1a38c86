"""What the rest of the window (and the public pages) may read about permits."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Prefetch

from .models import (
    Condition,
    IssuingAuthority,
    PermitKind,
    PermitType,
    ReintroductionAttempt,
    RemovedCondition,
    Resolution,
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
