"""Pages of the exchange for people: "who read my data"."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.utils import translation

from . import queries
from .models import item_label

PAGE_SIZE = 50


def _base_template() -> str:
    # The portal's base page when the portal provides one; a minimal page otherwise.
    try:
        get_template("portal/base.html")
    except TemplateDoesNotExist:
        return "exchange/standalone_base.html"
    return "portal/base.html"


@login_required
def my_data_accesses(request: HttpRequest) -> HttpResponse:
    """Every access to the signed-in person's data, and nobody else's."""
    national_code = getattr(request.user, "national_code", None) or ""
    records = queries.accesses_to(national_code)
    page_number = request.GET.get("page") or "1"
    page = Paginator(records, PAGE_SIZE).get_page(page_number if page_number.isdigit() else 1)
    language = translation.get_language() or "fa"
    rows = []
    for record in page.object_list:
        consumer = record.consumer
        service = record.service
        purpose = record.grant.purpose if record.grant else None
        rows.append(
            {
                "when": record.created_at,
                "agency": (
                    consumer.name_fa
                    if language.startswith("fa")
                    else consumer.name_en or consumer.name_fa
                )
                if consumer
                else record.client,
                "provider": (
                    service.provider.name_fa
                    if language.startswith("fa")
                    else service.provider.name_en or service.provider.name_fa
                )
                if service
                else "",
                "items": [item_label(code, language) for code in record.items],
                "purpose": (
                    purpose.title_fa
                    if language.startswith("fa")
                    else purpose.title_en or purpose.title_fa
                )
                if purpose
                else "",
                "purpose_id": purpose.service_id if purpose else record.purpose,
                "issue": record.issue,
            }
        )
    return render(
        request,
        "exchange/my_data.html",
        {
            "base_template": _base_template(),
            "rows": rows,
            "page": page,
            "has_national_code": bool(national_code),
        },
    )
