"""The monitor: which systems to watch (:func:`sync_systems`), one probe round over all of them
(:func:`probe_round`), what a check result does to a system's incidents (:func:`record`), the
daily roll-up that keeps the check table bounded (:func:`rollup`). What runs them when is the one
job table (``panjereh.common.periodic``: ``status-probe`` every ``PANJEREH_STATUS_INTERVAL``
seconds, ``status-sync``, ``status-rollup``), under Celery beat or the embedded worker;
``panjereh status probe`` runs one round by hand.

A check is one HTTP GET with a short timeout. It succeeds when the answer comes in time with the
expected status; an answer slower than ``SLOW_MS`` still succeeds but marks the system degraded.
``OPEN_AFTER`` failed checks in a row open an outage incident that starts at the first of them;
``CLOSE_AFTER`` successful ones in a row resolve it, ending at the first of those.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from django.db import transaction
from django.db.models import Count, F, Max, Min, Q, Sum
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import slugify

from panjereh.catalogue import roles
from panjereh.catalogue.search import public_changed
from panjereh.common import addresses, jalali

from . import conf, incidents
from .models import Check, DailyRollup, Incident, IncidentKind, Source, System, SystemKind

log = logging.getLogger(__name__)

# The made-up key a registry probe asks for: a well-formed request on the registry's data path,
# for a record nobody has. The registry answers 404 "no such record", which proves that its
# data path, and not only its process, works (its /_health ignores the fault switch).
REGISTRY_PROBE_KEY = "0000000000"
FEED_CODE = "events"  # the registries' life-event feeds (registries.events)
USER_AGENT = "panjereh-status/1.0"


# -- which systems -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Wanted:
    key: str
    kind: str
    name_fa: str
    name_en: str
    url: str
    expect_status: int | None = None


def _own_path(name: str) -> str:
    # The health views sit under the language prefixes; the Persian address has none.
    with translation.override("fa"):
        return reverse(name)


def _national_systems() -> list[Wanted]:
    base = conf.base_url()
    # The gateway's health page is served where the gateway is: its own address when it has
    # one (``PANJEREH_EXCHANGE_URL``, as the services and identity callers use), else here.
    exchange_url = conf.get("EXCHANGE_URL") or (
        addresses.configured_exchange_url() or base
    ) + _own_path("status:healthz-exchange")
    return [
        Wanted(
            "national-window",
            SystemKind.NATIONAL_WINDOW,
            "پنجره ملی خدمات دولت هوشمند",
            "National window of smart government services",
            base + _own_path("status:healthz"),
        ),
        Wanted(
            "exchange-gateway",
            SystemKind.EXCHANGE,
            "درگاه تبادل اطلاعات (شبکه ملی تبادل)",
            "National information exchange gateway",
            exchange_url,
        ),
    ]


def registry_key(provider, subsystem: str) -> str:
    """The key of the system behind a provider's subsystem on the exchange."""
    return slugify(f"nix-{provider.member_class}-{provider.member_code}-{subsystem}")[:120]


def _probe_status(service) -> int:
    """What the probed service answers about nobody: 404 "no such record", unless its
    published description says otherwise (``x-panjereh-probe-status``: the judiciary's case
    system answers a person without cases 200 with an empty list)."""
    operation = (service.openapi or {}).get("operation") or {}
    declared = operation.get("x-panjereh-probe-status")
    return declared if isinstance(declared, int) and 100 <= declared <= 599 else 404


def _registry_systems() -> list[Wanted]:
    """One system per provider subsystem on the exchange, at the address the exchange calls."""
    from panjereh.exchange.models import DataService

    first: dict[tuple[int, str], DataService] = {}
    subsystems: dict[int, int] = {}
    services = list(
        DataService.objects.filter(enabled=True)
        .select_related("provider")
        .order_by("provider_id", "subsystem", "code")
    )
    # A life-event feed (``/events``) takes no person in its path: the probe's unknown person
    # would not get its 404 there. Probe a person-keyed service; a feed only when it is alone.
    services.sort(key=lambda s: s.code == FEED_CODE)
    for service in services:
        if (service.provider_id, service.subsystem) not in first:
            first[(service.provider_id, service.subsystem)] = service
            subsystems[service.provider_id] = subsystems.get(service.provider_id, 0) + 1
    wanted = []
    for (provider_id, subsystem), service in first.items():
        provider = service.provider
        info = (service.openapi or {}).get("info", {})
        name_fa = info.get("x-panjereh-name-fa") or provider.name_fa
        name_en = info.get("title") or provider.name_en or provider.name_fa
        if subsystems[provider_id] > 1:  # one provider, several systems: say which
            name_fa, name_en = f"{name_fa} ({subsystem})", f"{name_en} ({subsystem})"
        wanted.append(
            Wanted(
                registry_key(provider, subsystem),
                SystemKind.REGISTRY,
                name_fa,
                name_en,
                f"{service.upstream_base_url.rstrip('/')}/{REGISTRY_PROBE_KEY}",
                expect_status=_probe_status(service),
            )
        )
    return wanted


def _split_name(name: str) -> tuple[str, str]:
    """``پنجره نمونه الف (Sample agency window A)`` → the Persian and the English part."""
    if name.endswith(")") and " (" in name:
        fa, en = name[:-1].split(" (", 1)
        if en.isascii() and not fa.isascii():
            return fa.strip(), en.strip()
    return name, name


def _window_systems() -> list[Wanted]:
    """Agency windows: the OIDC clients of the national window, at their redirect URI's origin."""
    from oauth2_provider.models import get_application_model

    Application = get_application_model()
    wanted = []
    for application in Application.objects.filter(
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE
    ).order_by("pk"):
        uris = (application.redirect_uris or "").split()
        if not uris:
            continue
        parts = urlsplit(uris[0])
        if parts.scheme not in ("http", "https") or not parts.netloc:
            continue
        if (parts.hostname or "").endswith(".invalid"):
            # RFC 6761: a name under .invalid never resolves (the demo's simulated windows):
            # probing it could only ever report an outage.
            continue
        name_fa, name_en = _split_name(application.name or application.client_id)
        wanted.append(
            Wanted(
                slugify(f"window-{application.client_id}")[:120],
                SystemKind.AGENCY_WINDOW,
                name_fa,
                name_en,
                f"{parts.scheme}://{parts.netloc}/",
            )
        )
    return wanted


@transaction.atomic
def sync_systems() -> dict[str, int]:
    """Bring the watched systems in line with the platform's own records (idempotent).

    The national window and the exchange gateway; every provider subsystem registered on the
    exchange; every agency window registered as an OIDC client. A system that has left its source
    is disabled, not deleted (its history stays on the page). Systems added by operators and
    check addresses an operator changed are left alone.
    """
    counts = {"created": 0, "updated": 0, "disabled": 0}
    wanted = _national_systems() + _registry_systems() + _window_systems()
    existing = {s.key: s for s in System.objects.all()}
    for item in wanted:
        system = existing.get(item.key)
        if system is None:
            System.objects.create(
                key=item.key,
                kind=item.kind,
                name_fa=item.name_fa,
                name_en=item.name_en,
                check_url=item.url,
                derived_url=item.url,
                expect_status=item.expect_status,
                source=Source.SYNC,
            )
            counts["created"] += 1
            continue
        if system.source != Source.SYNC:
            continue
        changes = {"kind": item.kind, "name_fa": item.name_fa, "name_en": item.name_en}
        if system.check_url == system.derived_url:  # not overridden by an operator
            changes.update(check_url=item.url, expect_status=item.expect_status)
        changes["derived_url"] = item.url
        if system.missing_since is not None:  # back in its source (a registry registered again)
            changes.update(enabled=True, missing_since=None)
        if any(getattr(system, name) != value for name, value in changes.items()):
            System.objects.filter(pk=system.pk).update(**changes)
            counts["updated"] += 1
    keys = {item.key for item in wanted}
    counts["disabled"] = (
        System.objects.filter(source=Source.SYNC, enabled=True)
        .exclude(key__in=keys)
        .update(enabled=False, missing_since=timezone.now())
    )
    return counts


# -- probing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    at: dt.datetime
    ok: bool
    latency_ms: int
    http_status: int | None = None
    error: str = ""


def _describe(exc: Exception) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.ConnectError):
        return "connection refused"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "connection closed without an answer"
    return type(exc).__name__


def check_one(client: httpx.Client, system: System) -> Result:
    """GET the system's check address once and judge the answer."""
    at = timezone.now()
    started = time.perf_counter()
    status: int | None = None
    error = ""
    try:
        response = client.get(system.check_url)
        status = response.status_code
    except httpx.HTTPError as exc:
        error = _describe(exc)
    except Exception as exc:  # a probe must never stop the round
        log.warning("status probe of %s failed unexpectedly", system.key, exc_info=True)
        error = type(exc).__name__
    latency_ms = int((time.perf_counter() - started) * 1000)
    ok = system.is_healthy(status)
    if status is not None and not ok:
        error = f"HTTP {status}"
    return Result(at=at, ok=ok, latency_ms=latency_ms, http_status=status, error=error[:200])


def _client() -> httpx.Client:
    timeout = float(conf.get("TIMEOUT"))
    return httpx.Client(
        timeout=httpx.Timeout(timeout, connect=min(timeout, 2.0)),
        follow_redirects=False,
        trust_env=False,  # never through a proxy from the environment: these are direct checks
        headers={"User-Agent": USER_AGENT, "Accept": "application/json, text/html;q=0.9"},
    )


def check_all(systems: list[System]) -> list[Result]:
    """Check every system at once (one thread each, up to 32), so a round lasts one timeout."""
    if not systems:
        return []
    with _client() as client, ThreadPoolExecutor(max_workers=min(32, len(systems))) as pool:
        return list(pool.map(lambda system: check_one(client, system), systems))


def record(system: System, result: Result) -> Incident | None:
    """Store a check and move the system's incident on; returns the incident it opened or
    resolved, if any."""
    open_after = max(1, int(conf.get("OPEN_AFTER")))
    close_after = max(1, int(conf.get("CLOSE_AFTER")))
    with transaction.atomic():
        system = System.objects.select_for_update().get(pk=system.pk)
        Check.objects.create(
            system=system,
            at=result.at,
            ok=result.ok,
            latency_ms=result.latency_ms,
            http_status=result.http_status,
            error=result.error,
        )
        if result.ok:
            if system.successes_in_row == 0:
                system.run_started_at = result.at
            system.successes_in_row += 1
            system.failures_in_row = 0
        else:
            if system.failures_in_row == 0:
                system.run_started_at = result.at
            system.failures_in_row += 1
            system.successes_in_row = 0
        system.last_checked_at = result.at
        if system.last_ok != result.ok:
            # Public service and agency pages link out only to addresses that answer: a
            # change here must show on the next request of a kept page (portal.pagecache).
            public_changed()
        system.last_ok = result.ok
        system.last_latency_ms = result.latency_ms
        system.last_error = result.error
        system.save(
            update_fields=[
                "last_checked_at",
                "last_ok",
                "last_latency_ms",
                "last_error",
                "failures_in_row",
                "successes_in_row",
                "run_started_at",
            ]
        )
        current = incidents.open_for(system)
        if not result.ok:
            if current is None and system.failures_in_row >= open_after:
                first = (
                    Check.objects.filter(system=system, ok=False, at__gte=system.run_started_at)
                    .order_by("at")
                    .first()
                )
                # Failures during an operator's incident belong to it: an outage found when
                # that incident has ended starts at its end, not before.
                started_at = system.run_started_at
                last_end = Incident.objects.filter(system=system).aggregate(m=Max("ended_at"))["m"]
                if last_end is not None and last_end > started_at:
                    started_at = min(last_end, result.at)
                return incidents.open_incident(
                    system,
                    started_at,
                    first_error=first.error if first else result.error,
                    failed_checks=system.failures_in_row,
                    actor=roles.SYSTEM,
                )
            if current is not None and current.kind == IncidentKind.OUTAGE:
                Incident.objects.filter(pk=current.pk).update(failed_checks=F("failed_checks") + 1)
            return None
        # Only the monitor's own incidents close by themselves: an operator's (maintenance)
        # stays open until the operator ends it.
        if (
            current is not None
            and current.kind == IncidentKind.OUTAGE
            and system.successes_in_row >= close_after
        ):
            return incidents.resolve(current, system.run_started_at, actor=roles.SYSTEM)
        return None


def probe_round(
    systems: Iterable[System] | None = None,
    on_incident: Callable[[Incident], None] | None = None,
) -> list[tuple[System, Result]]:
    """Check every enabled system once, concurrently, and record the results; ``on_incident``
    hears of each incident opened or resolved."""
    targets = list(systems if systems is not None else System.objects.filter(enabled=True))
    results = check_all(targets)
    for system, result in zip(targets, results, strict=True):
        changed = record(system, result)
        if changed is not None and on_incident is not None:
            on_incident(changed)
    return list(zip(targets, results, strict=True))


# -- keeping the table bounded -----------------------------------------------------------------


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=jalali.TEHRAN)


def rollup(today: dt.date | None = None) -> dict[str, int]:
    """Count each finished day's checks into :class:`DailyRollup`, then drop raw rows older than
    ``RAW_DAYS`` days.

    Days are counted from the raw rows, one day at a time with plain range queries (the index on
    ``at``; no per-row time-zone function). The last day already rolled up is counted again, for
    checks recorded after it was first counted; so running it twice changes nothing.
    """
    today = today or timezone.localdate(timezone=jalali.TEHRAN)
    raw_days = max(1, int(conf.get("RAW_DAYS")))
    slow_ms = int(conf.get("SLOW_MS"))
    day = DailyRollup.objects.aggregate(m=Max("day"))["m"]
    if day is None:
        first = Check.objects.aggregate(m=Min("at"))["m"]
        day = timezone.localtime(first, jalali.TEHRAN).date() if first else today
    rolled = 0
    while day < today:
        following = day + dt.timedelta(days=1)
        rows = (
            Check.objects.filter(at__gte=_day_start(day), at__lt=_day_start(following))
            .order_by()
            .values("system_id")
            .annotate(
                checks=Count("id"),
                ok_checks=Count("id", filter=Q(ok=True)),
                slow_checks=Count("id", filter=Q(ok=True, latency_ms__gt=slow_ms)),
                latency_ms_sum=Sum("latency_ms"),
                latency_ms_max=Max("latency_ms"),
            )
        )
        with transaction.atomic():
            for row in rows:
                DailyRollup.objects.update_or_create(
                    system_id=row["system_id"],
                    day=day,
                    defaults={
                        "checks": row["checks"],
                        "ok_checks": row["ok_checks"],
                        "slow_checks": row["slow_checks"],
                        "latency_ms_sum": row["latency_ms_sum"] or 0,
                        "latency_ms_max": row["latency_ms_max"] or 0,
                    },
                )
                rolled += 1
        day = following
    cutoff = _day_start(today - dt.timedelta(days=raw_days))
    pruned, _ = Check.objects.filter(at__lt=cutoff).delete()
    return {"days": rolled, "pruned": pruned}


# -- telling ----------------------------------------------------------------------------------


def describe_incident(incident: Incident) -> str:
    """One line for the log about an incident a round opened or resolved."""
    if incident.ended_at is None:
        return (
            f"status: {incident.public_id} opened: {incident.system.key} is down "
            f"({incident.first_error or 'failed checks'})"
        )
    return f"status: {incident.public_id} resolved: {incident.system.key} is back"
