"""The public status page, incident pages, the incident lookup, the open-data JSON and the
health views the monitor itself checks."""

from __future__ import annotations

import time
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from panjereh.common import jalali, ratelimit
from panjereh.common.templatetags.persian import code

from . import incidents, queries
from .models import Incident
from .templatetags.status_tags import iso

REFRESH_SECONDS = 60
# Looking up an exchange reference searches a day of the message log: limited per address.
LOOKUP_LIMIT = ratelimit.Limit("status-nix", limit=30, window=10 * 60, lockout=10 * 60)


def _too_many() -> str:
    return _("Too many look-ups from your connection. Try again in ten minutes.")


MONTHS_SHOWN = 3


def _months(request: HttpRequest) -> tuple[queries.Month, list[queries.Month]]:
    current = queries.Month.of(timezone.now())
    try:
        chosen = queries.Month.parse(request.GET.get("month", ""))
    except jalali.InvalidJalaliDate:
        chosen = current
    if not 1300 <= chosen.year <= 1500:  # no status history before or after the window
        chosen = current
    if (chosen.year, chosen.month) > (current.year, current.month):
        chosen = current
    months = [chosen]
    while len(months) < MONTHS_SHOWN:
        months.append(months[-1].previous())
    return chosen, months


def _refreshing(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    # Opt-in automatic refresh (WCAG 2.2.1: a page must not refresh by itself unasked); the
    # Refresh header needs no script and no change to the base template.
    if request.GET.get("refresh") == "1":
        response["Refresh"] = str(REFRESH_SECONDS)
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    chosen, months = _months(request)
    open_list = queries.open_incidents()
    states = queries.system_states(open_list=open_list)
    counts = {state: 0 for state in queries.STATES}
    for item in states:
        counts[item.state] += 1
    table = queries.availability_table(months, states)
    in_month = queries.incidents_in(chosen)
    context = {
        "states": states,
        "counts": counts,
        "problems": counts[queries.DOWN] + counts[queries.DEGRADED] + counts[queries.MAINTENANCE],
        "open_incidents": open_list,
        "recent_incidents": queries.recent_incidents(),
        "months": months,
        "chosen": chosen,
        "newer": chosen.next() if chosen != queries.Month.of(timezone.now()) else None,
        "older": chosen.previous(),
        "availability": [{**row, "incidents": in_month.get(row["system"].pk, 0)} for row in table],
        "checked_at": queries.latest_check_time(),
        "refresh": request.GET.get("refresh") == "1",
        "refresh_seconds": REFRESH_SECONDS,
        "lookup_value": "",
        "lookup_error": "",
    }
    return _refreshing(request, render(request, "status/index.html", context))


@require_GET
def incident_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    incident = incidents.find(public_id)
    if incident is None:
        raise Http404(_("No incident has this id."))
    if incident.public_id != public_id:
        return redirect("status:incident", public_id=incident.public_id)
    context = {"incident": incident, "updates": incident.updates.all()}
    return _refreshing(request, render(request, "status/incident.html", context))


@require_GET
def lookup(request: HttpRequest) -> HttpResponse:
    """``?id=INC-1405-0007`` → that incident's page; otherwise the form with an error."""
    text = (request.GET.get("id") or "").strip()
    error = ""
    exchange_call = None
    if not text:
        error = format_html(
            _("Enter the incident id you were given, for example {example}."),
            example=code("INC-1405-0007"),
        )
    else:
        incident = incidents.find(text)
        if incident is not None:
            return redirect("status:incident", public_id=incident.public_id)
        if queries.looks_like_exchange_reference(text) and ratelimit.hit(
            LOOKUP_LIMIT, ratelimit.client_ip(request)
        ):
            context = {"lookup_value": text, "lookup_error": _too_many()}
            return render(request, "status/lookup.html", context, status=429)
        exchange_call = queries.exchange_call(text)
        if exchange_call is None:
            if incidents.parse_id(text) is None:
                error = format_html(
                    _("This is not an incident id. Incident ids look like {example}."),
                    example=code("INC-1405-0007"),
                )
            else:
                error = _("No incident has this id. Check the id and try again.")
    context = {
        "lookup_value": text,
        "lookup_error": error,
        "exchange_call": exchange_call,
    }
    status = 200 if exchange_call else (400 if not text else 404)
    return render(request, "status/lookup.html", context, status=status)


# -- open data ---------------------------------------------------------------------------------


def _incident_json(incident: Incident, request: HttpRequest) -> dict[str, Any]:
    with translation.override("fa"):
        url = reverse("status:incident", kwargs={"public_id": incident.public_id})
    return {
        "id": incident.public_id,
        "system": incident.system.key,
        "kind": incident.kind,
        "state": incident.state,
        "started_at": iso(incident.started_at),
        "ended_at": iso(incident.ended_at) or None,
        "duration_seconds": int(incident.duration.total_seconds()),
        "title_fa": incident.title_fa,
        "title_en": incident.title_en,
        "first_error": incident.first_error,
        "url": request.build_absolute_uri(url),
    }


def _json(data: dict[str, Any]) -> JsonResponse:
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False, "indent": 1})
    response["Access-Control-Allow-Origin"] = "*"  # open data
    response["Cache-Control"] = "no-cache"
    return response


def _availability_json(figures: queries.Availability) -> dict:
    share = figures.share
    return {
        "checks": figures.checks,
        "ok_checks": figures.ok_checks,
        "percent": None if share is None else round(share, 3),
    }


@require_GET
def api(request: HttpRequest) -> JsonResponse:
    """The page as open data: systems and their states, incidents, monthly availability."""
    chosen, months = _months(request)
    open_list = queries.open_incidents()
    states = queries.system_states(open_list=open_list)
    figures = queries.availability_by_month(months)
    systems = []
    for item in states:
        system = item.system
        systems.append(
            {
                "key": system.key,
                "kind": system.kind,
                "name_fa": system.name_fa,
                "name_en": system.name_en,
                "state": item.state,
                "last_checked_at": iso(system.last_checked_at) or None,
                "last_latency_ms": system.last_latency_ms,
                "open_incident": item.incident.public_id if item.incident else None,
                "availability": {
                    month: _availability_json(f.get(system.pk, queries.Availability()))
                    for month, f in figures.items()
                },
            }
        )
    return _json(
        {
            "generated_at": iso(timezone.now()),
            "availability_definition": (
                "share of successful checks in the Jalali month (slow answers count as available)"
            ),
            "months": [m.iso for m in months],
            "systems": systems,
            "open_incidents": [_incident_json(i, request) for i in open_list],
            "recent_incidents": [_incident_json(i, request) for i in queries.recent_incidents()],
        }
    )


@require_GET
def api_incident(request: HttpRequest, public_id: str) -> JsonResponse:
    incident = incidents.find(public_id)
    if incident is None:
        raise Http404(_("No incident has this id."))
    data = _incident_json(incident, request)
    data["updates"] = [
        {"at": iso(u.at), "kind": u.kind, "text_fa": u.text_fa, "text_en": u.text_en}
        for u in incident.updates.all()
    ]
    return _json(data)


# -- health (what the monitor checks) ----------------------------------------------------------


def _timed(check) -> tuple[bool, float, str]:
    started = time.perf_counter()
    try:
        check()
        return True, (time.perf_counter() - started) * 1000, ""
    except Exception as exc:  # report, never raise: this view is the one that must answer
        return False, (time.perf_counter() - started) * 1000, type(exc).__name__


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _cache() -> None:
    cache.set("status:healthz", "1", 10)
    if cache.get("status:healthz") != "1":
        raise RuntimeError("cache does not keep values")


def _health(checks: dict[str, Any]) -> JsonResponse:
    results = {}
    ok = True
    for name, check in checks.items():
        passed, ms, error = _timed(check)
        results[name] = {"ok": passed, "ms": round(ms, 1), **({"error": error} if error else {})}
        ok = ok and passed
    response = JsonResponse({"ok": ok, "checks": results}, status=200 if ok else 503)
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """The national window: it answers, and its database and cache work."""
    return _health({"database": _database, "cache": _cache})


@never_cache
@require_GET
def healthz_exchange(request: HttpRequest) -> JsonResponse:
    """The exchange gateway's own dependencies, without a grant and without writing a log
    record: its configuration tables, the head of its message log, and the cache its rate limits
    and grant caches use. (A call to ``/r1/`` would be refused and logged as a call.)"""
    from panjereh.exchange.models import DataService, LogHead

    def configuration() -> None:
        DataService.objects.filter(enabled=True).only("pk").first()

    def message_log() -> None:
        LogHead.objects.only("pk").first()

    return _health({"configuration": configuration, "message_log": message_log, "cache": _cache})
