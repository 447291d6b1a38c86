"""Permit search: the service catalogue's index (:class:`panjereh.catalogue.search.SearchIndex`)
over permit types, so a permit is found exactly as a service is (Persian letters and digits
folded, ZWNJ or space or nothing, word order, a typo, the ten-digit ID, the authority's name).

The index is built from permit rows shaped as the catalogue's card rows: the permit ID stands
in the service ID, the issuing authority in the agency, the kind in the recipients and
"registration-based" in the life events, so the catalogue's filters serve as this page's
filters (authority, kind, registration-based). It is rebuilt when the permits change: a
signature of row counts and newest IDs (all primary-key lookups) is asked at most every few
seconds, and every publish in this process drops it at once.
"""

from __future__ import annotations

import threading
import time

from django.db.models import Max

from panjereh.catalogue.search import MAX_QUERY_LENGTH, SearchIndex, SearchResult

from .models import IssuingAuthority, PermitType

__all__ = ["MAX_QUERY_LENGTH", "REGISTRATION_BASED", "get_index", "invalidate", "search_permits"]

STALE_CHECK_SECONDS = 3.0
# The "life event" a registration-based permit carries in the index.
REGISTRATION_BASED = "registration_based"

_lock = threading.Lock()
_index: SearchIndex | None = None
_signature: tuple | None = None
_checked_at = 0.0


def build() -> SearchIndex:
    authorities = [
        (pk, None, fa, en, code)
        for pk, fa, en, code in IssuingAuthority.objects.values_list(
            "id", "name_fa", "name_en", "code"
        )
    ]
    rows = [
        (
            pk,
            public_id,
            authority_id,
            [kind],
            [REGISTRATION_BASED] if registration_based else [],
            "",
            title_fa,
            title_en,
            summary_fa,
            summary_en,
        )
        for pk, public_id, authority_id, kind, registration_based, title_fa, title_en, summary_fa, summary_en in (
            PermitType.objects.filter(published_version__isnull=False)
            .values_list(
                "id",
                "public_id",
                "authority_id",
                "kind",
                "registration_based",
                "title_fa",
                "title_en",
                "summary_fa",
                "summary_en",
            )
            .order_by("id")
        )
    ]
    return SearchIndex(rows, authorities)


def _current_signature() -> tuple:
    # A publish always points a permit at a newer version row, so the newest published
    # version's ID moves with every publish (attempts do not change the catalogue).
    return (
        PermitType.objects.count(),
        PermitType.objects.aggregate(top=Max("published_version_id"))["top"],
        IssuingAuthority.objects.count(),
        IssuingAuthority.objects.aggregate(top=Max("id"))["top"],
    )


def get_index() -> SearchIndex:
    global _index, _signature, _checked_at
    now = time.monotonic()
    if _index is not None and now - _checked_at < STALE_CHECK_SECONDS:
        return _index
    with _lock:
        if _index is not None and time.monotonic() - _checked_at < STALE_CHECK_SECONDS:
            return _index
        signature = _current_signature()
        if _index is None or signature != _signature:
            _index = build()
            _signature = signature
        _checked_at = time.monotonic()
        return _index


def invalidate() -> None:
    global _index, _checked_at
    with _lock:
        _index = None
        _checked_at = 0.0


def search_permits(
    query: str = "",
    *,
    authority_pk: int | None = None,
    kind: str | None = None,
    registration_based: bool = False,
    limit: int | None = None,
) -> SearchResult:
    """Permit types matching ``query`` and the filters, best first (``service_pks`` holds
    the permit types' primary keys)."""
    return get_index().search(
        query,
        agency_pk=authority_pk,
        recipient=kind or None,
        life_event=REGISTRATION_BASED if registration_based else None,
        limit=limit,
    )
