"""The public permits pages: the catalogue with search, a permit's page, the removed register.

Thin: the search is :mod:`.search`, the reads are :mod:`.queries`."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from panjereh.common.persian import digits_only

from . import operations, queries
from .models import PermitKind
from .search import MAX_QUERY_LENGTH, get_index, search_permits

PAGE_SIZE = 20


def _page_number(value: str | None) -> int:
    value = digits_only(value or "")
    return int(value) if value and len(value) < 7 else 1


@require_safe
def catalogue(request: HttpRequest) -> HttpResponse:
    query = (request.GET.get("q") or "")[:MAX_QUERY_LENGTH].strip()
    kind = request.GET.get("kind") or ""
    if kind not in PermitKind.values:
        kind = ""
    registration_based = request.GET.get("registration") in {"1", "on", "true"}
    authority_code = (request.GET.get("authority") or "")[:60]
    authorities = list(queries.authorities())
    authority = next((a for a in authorities if a.code == authority_code), None)
    result = search_permits(
        query,
        authority_pk=authority.pk if authority else None,
        kind=kind or None,
        registration_based=registration_based,
    )
    page = Paginator(result.service_pks, PAGE_SIZE).get_page(_page_number(request.GET.get("page")))
    page.permits = queries.permit_types_by_pk(list(page.object_list))
    params = request.GET.copy()
    params.pop("page", None)
    filtered = bool(kind or registration_based or authority)
    return render(
        request,
        "permits/catalogue.html",
        {
            "query": query,
            "kind": kind,
            "kind_choices": PermitKind.choices,
            "registration_based": registration_based,
            "authority": authority,
            "authorities": authorities,
            "result": result,
            "page": page,
            "page_query": params.urlencode(),
            "filtered": filtered,
            "searched": bool(query) or filtered,
            "max_query_length": MAX_QUERY_LENGTH,
            # Figures of the catalogue as the index holds it: computed once per snapshot.
            "counts": None if query or filtered else get_index().memo("counts", queries.counts),
        },
    )


@require_safe
def permit(request: HttpRequest, public_id: str) -> HttpResponse:
    found = queries.published_permit(public_id)
    if found is None:
        raise Http404
    version = found.published_version
    return render(
        request,
        "permits/permit.html",
        {
            "permit": found,
            "version": version,
            "conditions": list(version.conditions.all()),
            "removed": list(found.removed_conditions.all()),
            "can_edit": operations.can_edit(request.user, found.authority),
        },
    )


@require_safe
def removed(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "permits/removed.html",
        {
            "register": list(queries.removed_register()),
            "resolutions": list(queries.resolutions()),
            "attempts": list(queries.recent_attempts()),
            "counts": queries.counts(),
        },
    )
