"""Public pages of the national window: home, search, agencies, services and life events."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from panjereh.catalogue import queries
from panjereh.catalogue.models import Agency, Service
from panjereh.catalogue.rules import ONCE_ONLY_BASIS_EN, ONCE_ONLY_BASIS_FA
from panjereh.catalogue.search import MAX_QUERY_LENGTH, get_index, search_services
from panjereh.catalogue.vocab import (
    REGISTRY_ITEMS,
    AgencyKind,
    Channel,
    InputSource,
    LifeEvent,
    Recipient,
    Scope,
    SmartStatus,
)
from panjereh.common.persian import digits_only

from .pagecache import public_page

PAGE_SIZE = 20
# Rendered page bodies are cached per language and catalogue snapshot (``{% cache %}`` in the
# templates); the work behind them is wrapped in SimpleLazyObject so a cache hit skips it.
CACHE_SECONDS = 600
_SERVICE_KEY = re.compile(r"[0-9۰-۹٠-٩][0-9۰-۹٠-٩ \-]{0,20}")
# Top-level bodies shown as the home page's icons: ministries and independent organisations.
TOP_LEVEL_KINDS = (AgencyKind.MINISTRY, AgencyKind.ORGANISATION)


def _counts_for(agency_ids: set[int], per_agency: dict) -> dict:
    connectable = sum(per_agency[a].connectable for a in agency_ids if a in per_agency)
    connected = sum(per_agency[a].connected for a in agency_ids if a in per_agency)
    smart = sum(per_agency[a].smart for a in agency_ids if a in per_agency)
    return {
        "connectable": connectable,
        "connected": connected,
        "smart": smart,
        "connected_pct": 100.0 * connected / connectable if connectable else None,
        "smart_pct": 100.0 * smart / connectable if connectable else None,
    }


@public_page
def home(request: HttpRequest) -> HttpResponse:
    top = (
        Agency.objects.filter(parent__isnull=True, kind__in=TOP_LEVEL_KINDS)
        .annotate(n_children=Count("children", distinct=True))
        .order_by("kind", "name_fa")
    )
    # Figures derived from the whole catalogue are computed once per catalogue snapshot.
    index = get_index()
    return render(
        request,
        "portal/home.html",
        {
            "snapshot": index.snapshot,
            "cache_seconds": CACHE_SECONDS,
            "stats": SimpleLazyObject(lambda: index.memo("stats", queries.stats)),
            "top_agencies": top,
            "life_events": SimpleLazyObject(_life_event_counts),
        },
    )


def _page_of_services(pks: list[int], number: int):
    """One page of services in the order of ``pks``, with their agencies."""
    page = Paginator(pks, PAGE_SIZE).get_page(number)
    by_pk = Service.objects.select_related("agency").in_bulk(list(page.object_list))
    page.services = [by_pk[pk] for pk in page.object_list if pk in by_pk]
    return page


def _int_or_none(value: str | None) -> int | None:
    value = digits_only(value or "")
    return int(value) if value and len(value) < 12 else None


@public_page
def search(request: HttpRequest) -> HttpResponse:
    query = (request.GET.get("q") or "")[:MAX_QUERY_LENGTH].strip()
    agency_code = (request.GET.get("agency") or "")[:60]
    recipient = request.GET.get("recipient") or ""
    life_event = request.GET.get("event") or ""
    smart = request.GET.get("smart") in {"1", "on", "true"}
    if recipient not in Recipient.values:
        recipient = ""
    if life_event not in LifeEvent.values:
        life_event = ""
    agency = Agency.objects.filter(code=agency_code).first() if agency_code else None

    page_number = _int_or_none(request.GET.get("page")) or 1

    def find() -> dict:
        # With nothing typed or chosen the page lists every service, A to Z.
        result = search_services(
            query,
            agency_pk=agency.pk if agency else None,
            recipient=recipient or None,
            smart=smart,
            life_event=life_event or None,
        )
        agencies = []
        if query and not agency:
            by_pk = Agency.objects.in_bulk(result.agency_pks)
            agencies = [by_pk[pk] for pk in result.agency_pks if pk in by_pk]
        return {
            "result": result,
            "page": _page_of_services(result.service_pks, page_number),
            "agencies": agencies,
        }

    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "portal/search.html",
        {
            "snapshot": get_index().snapshot,
            "cache_seconds": CACHE_SECONDS,
            "cache_key": "|".join(
                [query, agency.code if agency else "", recipient, life_event, str(smart)]
                + [str(page_number)]
            ),
            "query": query,
            "searched": bool(query or agency or recipient or smart or life_event),
            "filtered": bool(agency or recipient or smart or life_event),
            "found": SimpleLazyObject(find),
            "selected_agency": agency,
            "agency_choices": SimpleLazyObject(lambda: _agency_choices(agency)),
            "recipient": recipient,
            "recipient_choices": Recipient.choices,
            "life_event": life_event,
            "life_event_choices": LifeEvent.choices,
            "smart": smart,
            "page_query": params.urlencode(),
            "max_query_length": MAX_QUERY_LENGTH,
        },
    )


def _agency_choices(selected: Agency | None) -> list[dict]:
    """The search filter offers the top-level bodies (choosing one includes everything under
    it), plus the agency already chosen if it is not one of them."""
    choices = get_index().memo(
        "agency_choices",
        lambda: list(
            Agency.objects.filter(parent__isnull=True, kind__in=TOP_LEVEL_KINDS)
            .order_by("name_fa")
            .values("pk", "code", "name_fa", "name_en")
        ),
    )
    if selected is not None and all(c["pk"] != selected.pk for c in choices):
        extra = {k: getattr(selected, k) for k in ("pk", "code", "name_fa", "name_en")}
        return [extra, *choices]
    return choices


@public_page
def agency_detail(request: HttpRequest, code: str) -> HttpResponse:
    agency = get_object_or_404(Agency.objects.select_related("parent"), code=code)
    index = get_index()
    page_number = _int_or_none(request.GET.get("page")) or 1

    def children() -> list[Agency]:
        per_agency = index.memo("agency_counts", queries.agency_counts)
        found = list(agency.children.order_by("name_fa"))
        for child in found:
            child.counts = _counts_for(index.agency_and_descendants(child.pk), per_agency)
        return found

    def page():
        services = Service.objects.filter(agency_id=agency.pk).select_related("agency")
        found = Paginator(services.order_by("title_fa"), PAGE_SIZE).get_page(page_number)
        found.services = list(found.object_list)
        return found

    def counts() -> dict:
        # The agency's figures include its subsidiaries, as they answer to it.
        per_agency = index.memo("agency_counts", queries.agency_counts)
        return _counts_for(index.agency_and_descendants(agency.pk), per_agency)

    lazy_children = SimpleLazyObject(children)
    return render(
        request,
        "portal/agency.html",
        {
            "snapshot": index.snapshot,
            "cache_seconds": CACHE_SECONDS,
            "page_number": page_number,
            "agency": agency,
            "window_link": SimpleLazyObject(lambda: _outside_link(agency.own_window_url) or {}),
            "ancestors": SimpleLazyObject(lambda: _ancestors(agency)),
            "counts": SimpleLazyObject(counts),
            "has_subsidiaries": SimpleLazyObject(lambda: bool(lazy_children)),
            "children": lazy_children,
            "page": SimpleLazyObject(page),
            "page_query": "",
        },
    )


def _ancestors(agency: Agency) -> list[Agency]:
    chain = []
    current = agency.parent
    while current is not None and len(chain) < 10:
        chain.append(current)
        current = current.parent
    return list(reversed(chain))


@public_page
def service_detail(request: HttpRequest, key: str) -> HttpResponse:
    # A service ID may arrive in Persian or Arabic digits and with separators; a primary key
    # is fewer digits. Anything else is not a service address.
    if not _SERVICE_KEY.fullmatch(key):
        raise Http404(_("No such service."))
    digits = digits_only(key)
    base = Service.objects.select_related("agency", "agency__parent", "parent")
    # get() rather than first(): both keys are unique, and first() would compile an ORDER BY
    # over the joined models on every request (a third of this view's time).
    lookup = {"service_id": digits} if len(digits) == 10 else {"pk": int(digits or 0)}
    try:
        service = base.get(**lookup) if len(digits) <= 10 else None
    except Service.DoesNotExist:
        service = None
    if service is None:
        raise Http404(_("No such service."))

    registry_inputs, typed_inputs, document_inputs = [], [], []
    for item in service.inputs or []:
        entry = {
            "label_fa": item.get("label_fa") or "",
            "label_en": item.get("label_en") or "",
        }
        source = item.get("source")
        if source == InputSource.REGISTRY:
            known = REGISTRY_ITEMS.get(item.get("item") or "")
            if known and not entry["label_fa"]:
                entry["label_fa"], entry["label_en"] = known[1], known[2]
            registry_inputs.append(entry)
        elif source == InputSource.DOCUMENT:
            document_inputs.append(entry)
        else:
            typed_inputs.append(entry)

    channels = [Channel(c).label for c in service.channels or [] if c in Channel.values]
    recipients = [Recipient(r).label for r in service.recipients or [] if r in Recipient.values]
    events = [(e, LifeEvent(e).label) for e in service.life_events or [] if e in LifeEvent.values]
    return render(
        request,
        "portal/service.html",
        {
            "snapshot": get_index().snapshot,
            "cache_seconds": CACHE_SECONDS,
            "service": service,
            "registry_inputs": registry_inputs,
            "typed_inputs": typed_inputs,
            "document_inputs": document_inputs,
            "documents": [_labelled(d) for d in service.documents_required or []],
            "in_person_steps": [_labelled(s) for s in service.in_person_steps or []],
            "channels": channels,
            "recipients": recipients,
            "life_events": events,
            "is_smart": service.smart_status == SmartStatus.APPROVED,
            "is_exempt": service.scope == Scope.EXEMPT,
            "smart_label": SmartStatus(service.smart_status).label
            if service.smart_status in SmartStatus.values
            else "",
            "target": _duration(service.target_minutes),
            "ancestors": [*_ancestors(service.agency), service.agency],
            **_start(service),
        },
    )


def _start(service: Service) -> dict:
    """How "Start now" works, in this order: apply here (a published definition, smart or
    human-path); hand over, signed in, to the agency's own window that handles the service
    (a registered OIDC client on the address of ``online_url``) when that window answers;
    a plain link out to an address that answers; else a notice (exempt, or not yet online)
    with how to reach the agency. Never a link to an address that does not answer."""
    from panjereh.identity import clients

    apply_url = _apply_url(service)
    online_link = _outside_link(service.online_url)
    handover_url = ""
    if not apply_url and service.service_id and online_link and online_link["answers"]:
        if clients.window_for(service.agency_id, service.online_url) is not None:
            handover_url = reverse("services:handover", args=[service.service_id])
    return {
        "apply_url": apply_url,
        "handover_url": handover_url,
        "online_link": online_link,
        "agency_window_link": _outside_link(service.agency.own_window_url),
    }


def _outside_link(url: str) -> dict | None:
    """A link out of the national window: its host, to say where it goes, and whether the
    status monitor last found that host answering (a link is offered only then)."""
    from urllib.parse import urlsplit

    from panjereh.status.models import System

    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    origin = f"{parts.scheme}://{parts.netloc}"
    answers = (
        System.objects.filter(
            enabled=True, last_ok=True, check_url__startswith=origin + "/"
        ).exists()
        or System.objects.filter(enabled=True, last_ok=True, check_url=origin).exists()
    )
    return {"url": url, "host": parts.hostname, "answers": answers}


def _apply_url(service: Service) -> str:
    """Where to apply inside the national window, when the service has a definition here."""
    from panjereh.services.models import ServiceDefinition

    code = (
        ServiceDefinition.objects.filter(service=service, active=True)
        .values_list("code", flat=True)
        .first()
    )
    return reverse("services:apply", args=[code]) if code else ""


def _labelled(value) -> dict:
    """Documents and steps are stored as text or as {label_fa, label_en}; show either."""
    if isinstance(value, dict):
        return {
            "label_fa": value.get("label_fa") or value.get("title_fa") or "",
            "label_en": value.get("label_en") or value.get("title_en") or "",
        }
    return {"label_fa": str(value), "label_en": ""}


def _duration(minutes: int | None) -> dict | None:
    """Minutes split into days, hours and minutes, so templates can say it in words."""
    if minutes is None:
        return None
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    return {"days": days, "hours": hours, "minutes": mins, "total": minutes}


def _life_event_counts() -> list[dict]:
    counts = get_index().memo("life_events", lambda: get_index().life_event_counts())
    return [
        {"code": code, "label": LifeEvent(code).label, "count": counts.get(code, 0)}
        for code in LifeEvent.values
    ]


@public_page
def life_events(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/life_events.html", {"life_events": _life_event_counts()})


@public_page
def life_event_detail(request: HttpRequest, code: str) -> HttpResponse:
    if code not in LifeEvent.values:
        raise Http404(_("No such life event."))
    page_number = _int_or_none(request.GET.get("page")) or 1

    def find() -> dict:
        result = search_services("", life_event=code)
        tally = get_index().agencies_of(result.service_pks).most_common(12)
        by_pk = Agency.objects.in_bulk([pk for pk, _n in tally])
        return {
            "total": result.total,
            "page": _page_of_services(result.service_pks, page_number),
            "agencies": [(by_pk[pk], n) for pk, n in tally if pk in by_pk],
        }

    return render(
        request,
        "portal/life_event.html",
        {
            "snapshot": get_index().snapshot,
            "cache_seconds": CACHE_SECONDS,
            "page_number": page_number,
            "event": {"code": code, "label": LifeEvent(code).label},
            "found": SimpleLazyObject(find),
            "page_query": "",
        },
    )


@public_page
def once_only(request: HttpRequest) -> HttpResponse:
    """Art. 107(ح) in public: every justified exception (a card that asks for what a base
    registry holds, and why) and the unjustified requests per agency."""
    index = get_index()
    exceptions = index.memo("once_only_exceptions", queries.once_only_exceptions)
    agencies = index.memo("once_only_agencies", queries.once_only_agency_counts)
    return render(
        request,
        "portal/once_only.html",
        {
            "exceptions": exceptions,
            "agencies": agencies,
            "unjustified_total": sum(a["unjustified"] for a in agencies),
            "unjustified_published": sum(a["unjustified_published"] for a in agencies),
            "basis_fa": ONCE_ONLY_BASIS_FA,
            "basis_en": ONCE_ONLY_BASIS_EN,
        },
    )


def switch_language(request: HttpRequest, language: str) -> HttpResponse:
    """Remember the chosen language and go back to the page in it.

    A plain link rather than a form: every page carries the switch, and a form would need a
    CSRF token, which would make the public pages personal and unfit to share from the cache.
    The language is the only thing it changes (a cookie), and ``next`` may only point into the
    window.
    """
    if language not in dict(settings.LANGUAGES):
        raise Http404(_("No such language."))
    target = request.GET.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    response = HttpResponseRedirect(target)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE or "Lax",
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
    )
    return response
