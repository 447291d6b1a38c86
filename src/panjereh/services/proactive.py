"""Proactive services: a life event in a registry starts the service without an application.

The registries publish life events as feeds with a cursor (``GET /events``, births, deaths in a
family, marriages, 18th birthdays, retirements); ``panjereh.proactive`` subscribes to them
through the exchange, keeps each feed's cursor and decides, per event, whether to act (the
person's consent, the service's window, once per event). This module is the services' side of
it, the public functions that app uses:

* :func:`triggered` lists the active definitions with a ``proactive.trigger``;
* :func:`read_feed` reads one page of a definition's feed through the exchange, as the
  definition's agency, under its grant (every call is logged like any other);
* :func:`window` is the days of occurrence the service acts on today
  (``proactive.window_days``, 60 by default; never before
  ``PANJEREH_PROACTIVE_EVENTS_SINCE`` when that is set, the day the service went live);
* :func:`begin` starts the service for one event, once (an idempotency key per event), and
  :func:`announce` posts one notice that names whom it is about: the child (its name from
  Civil Registration through the exchange, else the day and place of birth), the family member
  who died, or the person themselves.

Polling each citizen's births (``BirthWatch``) is retired: the birth feed replaced it.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils import timezone

from panjereh.common import jalali
from panjereh.inbox import notify
from panjereh.inbox.models import Message

from . import engine, keys, nix, notices
from .models import AgencyKey, Application, Origin, ServiceDefinition

log = logging.getLogger(__name__)
DEFAULT_WINDOW_DAYS = 60
TRIGGERS = ("birth", "death", "marriage", "coming_of_age", "retirement")
# The answer's field of each event type (the registries' feeds list each type apart, so the
# exchange passes only the types a grant covers).
FIELDS = {
    "birth": "births",
    "death": "deaths",
    "marriage": "marriages",
    "coming_of_age": "comings_of_age",
    "retirement": "retirements",
}
# The trigger's former name, before the feeds (kept so an older definition still reads).
ALIASES = {"hospital_birth": "birth"}


@dataclass(frozen=True)
class Page:
    """One page of a feed: the events of the definition's trigger, and where to read on."""

    events: list[dict[str, Any]] = field(default_factory=list)
    next: str = ""
    has_more: bool = False
    message_id: str = ""


def trigger(definition: ServiceDefinition) -> str:
    """The event type that starts the definition ("" when none)."""
    name = (definition.spec.get("proactive") or {}).get("trigger", "")
    return ALIASES.get(name, name)


def triggered() -> list[ServiceDefinition]:
    """The active definitions a life event starts, in a stable order."""
    rows = ServiceDefinition.objects.filter(active=True).select_related("agency", "service")
    return sorted((d for d in rows if trigger(d) in TRIGGERS), key=lambda d: d.code)


def _since() -> dt.date | None:
    value = getattr(settings, "PANJEREH_PROACTIVE_EVENTS_SINCE", None) or getattr(
        settings, "PANJEREH_PROACTIVE_BIRTHS_SINCE", None
    )
    return dt.date.fromisoformat(value) if value else None


def window(definition: ServiceDefinition) -> tuple[dt.date, dt.date]:
    """The first and last day of occurrence the service acts on today."""
    today = timezone.localdate()
    days = int((definition.spec.get("proactive") or {}).get("window_days", DEFAULT_WINDOW_DAYS))
    first = today - dt.timedelta(days=days)
    since = _since()
    if since and since > first:
        first = since
    return first, today


def read_feed(definition: ServiceDefinition, *, after: str, limit: int = 100) -> Page:
    """One page of the definition's feed after ``after``, through the exchange.

    The call is the agency's own (``X-Road-UserId`` is the agency's member code: the feed is
    about no one person), with the definition's service as its purpose. Raises
    :class:`nix.ProviderUnavailable` (:class:`nix.ExchangeRefused` when retrying cannot help)."""
    from panjereh.exchange import client as nix_client
    from panjereh.exchange.models import ConsumerSystem

    feed = definition.spec["proactive"]
    registry = feed["registry"]
    agency = definition.agency
    system = ConsumerSystem.objects.filter(
        agency=agency, subsystem=nix.SUBSYSTEM, enabled=True
    ).first()
    address = nix_client.service_address(f"{registry}-registry", feed["service"])
    if system is None or address is None or not agency.member_code:
        raise nix.ExchangeRefused(registry, "no subscription to this feed", "no_subscription", "")
    row = keys.active_key(agency, AgencyKey.Use.EXCHANGE)
    client = nix_client.NixClient(
        nix.gateway_url(), system.client_id, keys.private_key(row), timeout=nix.timeout()
    )
    params = {"limit": str(limit)}
    if after:
        params["after"] = after
    try:
        reply = client.get(
            address,
            user_id=agency.member_code,
            issue=f"FEED-{definition.code}"[:64],
            purpose=definition.service.service_id or "",
            items=feed["items"],
            params=params,
        )
    except nix_client.ExchangeError as exc:
        raise nix.error_for(registry, exc) from exc
    data = reply.data if reply.found else {}
    if not isinstance(data, dict) or not isinstance(data.get("next", ""), str):
        raise nix.ProviderUnavailable(registry, "the feed answered in an unknown form")
    events = data.get(FIELDS[trigger(definition)]) or []
    return Page(
        events=[e for e in events if isinstance(e, dict) and e.get("id")],
        next=data.get("next") or after,
        has_more=bool(data.get("has_more")),
        message_id=reply.message_id,
    )


def occurred_on(event: dict[str, Any]) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(event.get("occurred_on", ""))[:10])
    except ValueError:
        return None


def in_window(definition: ServiceDefinition, event: dict[str, Any]) -> bool:
    """Whether the event is news for the service today (not older than its window)."""
    day = occurred_on(event)
    first, last = window(definition)
    return day is not None and first <= day <= last


def subject_of(event: dict[str, Any], user) -> str:
    """Whom the application is about: the event's related person (the child, the deceased),
    else the person themselves."""
    return event.get("related_national_code") or user.national_code


def begin(definition: ServiceDefinition, user, event: dict[str, Any]) -> tuple[Application, bool]:
    """Start the service for ``user`` for one event, once (an idempotency key per event):
    (application, created). Writes only to the database: safe inside the caller's transaction."""
    return engine.submit(
        definition,
        user,
        idempotency_key=f"event:{event['id']}"[:100],
        subject_code=subject_of(event, user),
        origin=Origin.PROACTIVE,
    )


def announce(definition: ServiceDefinition, user, application: Application, event) -> bool:
    """Post the one notice of the event that names whom it is about; False if it was posted
    before. Asks Civil Registration for the name through the exchange: call it outside a
    transaction that holds the database."""
    if Message.objects.filter(user=user, dedupe_key=notice_key(event)).exists():
        return False
    _notice(definition, user, application, event)
    return True


def start(definition: ServiceDefinition, user, event: dict[str, Any]) -> tuple[Application, bool]:
    """:func:`begin` and :func:`announce`: (application, created)."""
    application, created = begin(definition, user, event)
    announce(definition, user, application, event)
    return application, created


def notice_key(event: dict[str, Any]) -> str:
    return f"proactive:{event['type']}:{event.get('related_national_code') or event['id']}"[:100]


def _name(definition: ServiceDefinition, code: str, issue: str) -> str:
    """A person's name from Civil Registration (the definition's own fetch of the subject's
    identity, under its grant); "" when the definition has none or the registry is down."""
    for fetch_spec in definition.spec.get("data", []):
        if fetch_spec.get("subject") == "subject" and "civil.identity" in fetch_spec["items"]:
            try:
                answer = nix.fetch(definition, fetch_spec, code, issue=issue)
            except nix.ProviderUnavailable as exc:
                log.info("no name for the notice of %s: %s", issue, exc)
                return ""
            record = answer.record if answer.found else {}
            return " ".join(
                str(record[k]) for k in ("first_name", "last_name") if record.get(k)
            ).strip()
    return ""


def _about(event: dict[str, Any], name: str) -> tuple[str, str, str, str]:
    """(headline fa, headline en, sentence fa, sentence en) naming whom the event is about."""
    kind = event["type"]
    sex = event.get("sex")
    if kind == "birth":
        who_fa = name or ("پسرتان" if sex == "male" else "دخترتان" if sex else "فرزندتان")
        who_en = name or ("your son" if sex == "male" else "your daughter" if sex else "your child")
        return (
            f"تولد {who_fa} مبارک",
            f"Congratulations on the birth of {who_en}",
            f"ولادت {who_fa}",
            f"The birth of {who_en}",
        )
    if kind == "death":
        who_fa = name or "یکی از اعضای خانواده‌تان"
        who_en = name or "a member of your family"
        return (
            f"درگذشت {who_fa} را تسلیت می‌گوییم",
            f"Our condolences on the death of {who_en}",
            f"درگذشت {who_fa}",
            f"The death of {who_en}",
        )
    if kind == "marriage":
        return (
            "ازدواج‌تان مبارک",
            "Congratulations on your marriage",
            "ازدواج شما",
            "Your marriage",
        )
    if kind == "coming_of_age":
        return (
            "۱۸ سالگی‌تان مبارک",
            "Happy 18th birthday",
            "رسیدن شما به ۱۸ سالگی",
            "Your coming of age (18)",
        )
    return ("بازنشستگی‌تان مبارک", "On your retirement", "بازنشستگی شما", "Your retirement")


def _notice(definition: ServiceDefinition, user, application: Application, event) -> None:
    subject = application.subject_code
    name = ""
    if subject != user.national_code:
        name = _name(definition, subject, application.tracking_code)
    day = occurred_on(event) or timezone.localdate()
    day_fa = jalali.format_fa(day)
    day_en = jalali.iso(day).replace("-", "/")
    head_fa, head_en, what_fa, what_en = _about(event, name)
    place = event.get("hospital") or ""
    code_fa = f" (کد ملی {subject})" if subject != user.national_code else ""
    code_en = f" (national code {subject})" if subject != user.national_code else ""
    title_fa, title_en = definition.spec["title_fa"], definition.spec["title_en"]
    notify.post(
        user,
        kind=Message.Kind.NOTICE,
        dedupe_key=notice_key(event),
        subject_fa=f"{head_fa}؛ «{title_fa}» بدون درخواست شما آغاز شد",
        subject_en=f"{head_en}; “{title_en}” has started without you applying",
        body_fa=(
            f"{what_fa}{code_fa} در تاریخ {day_fa}"
            + (f" در {place}" if place else "")
            + f" ثبت شد. «{title_fa}» بدون نیاز به درخواست شما انجام می‌شود. "
            f"کد رهگیری: {application.tracking_code}"
        ),
        body_en=(
            f"{what_en}{code_en} on {day_en} (Solar Hijri) was recorded. “{title_en}” is "
            f"done without you applying. Tracking code: {application.tracking_code}"
        ),
        **notices.link(application),
    )
