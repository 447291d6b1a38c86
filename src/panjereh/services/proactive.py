"""Proactive services: a registry event starts the service without an application.

The registries publish no event feed, so the national window polls through the exchange: for
each citizen who uses the window it asks the Ministry of Health's "hospital births by mother"
data service (as Civil Registration, for the birth certificate's purpose) at most once per
``PANJEREH_PROACTIVE_POLL_MINUTES``. A proactive service acts only on *new* events: a birth in
the definition's window (``proactive.window_days``, 60 days by default) before today, and not
before ``PANJEREH_PROACTIVE_BIRTHS_SINCE`` when that is set (the day the service went live).
An older birth is history, not news: nobody is congratulated on a two-year-old, and no
certificate is issued unasked. A new birth starts the newborn birth certificate for the mother
(one application per child, whatever the number of polls) and she gets one notice per birth
that names the child (the child's name from Civil Registration through the exchange, else the
day and place of birth). A real deployment would subscribe to a feed of new births instead;
the engine part stays the same.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from panjereh.common import jalali
from panjereh.inbox import notify
from panjereh.inbox.models import Message

from . import engine, nix, notices
from .models import Application, BirthWatch, Origin, ServiceDefinition

log = logging.getLogger(__name__)
DEFAULT_WINDOW_DAYS = 60


def _since() -> dt.date | None:
    value = getattr(settings, "PANJEREH_PROACTIVE_BIRTHS_SINCE", None)
    return dt.date.fromisoformat(value) if value else None


def window(definition: ServiceDefinition) -> tuple[dt.date, dt.date]:
    """The first and last day of birth the service acts on today."""
    today = timezone.localdate()
    days = int((definition.spec.get("proactive") or {}).get("window_days", DEFAULT_WINDOW_DAYS))
    first = today - dt.timedelta(days=days)
    since = _since()
    if since and since > first:
        first = since
    return first, today


def _definition() -> ServiceDefinition | None:
    for definition in ServiceDefinition.objects.filter(active=True).select_related(
        "agency", "service"
    ):
        if (definition.spec.get("proactive") or {}).get("trigger") == "hospital_birth":
            return definition
    return None


def poll_births(limit: int = 50, *, force: bool = False) -> int:
    """Poll the next ``limit`` citizens' hospital births; returns how many services started."""
    definition = _definition()
    if definition is None:
        return 0
    feed = definition.spec["proactive"]
    minutes = float(getattr(settings, "PANJEREH_PROACTIVE_POLL_MINUTES", 10))
    stale = timezone.now() - dt.timedelta(minutes=minutes)
    users = get_user_model().objects.filter(national_code__isnull=False, is_active=True)
    if not force:
        watched = BirthWatch.objects.filter(polled_at__gte=stale).values("user_id")
        users = users.exclude(Q(pk__in=watched))
    started = 0
    for user in users.order_by("pk")[:limit]:
        try:
            answer = nix.fetch(definition, feed, user.national_code, issue=f"PROACTIVE-{user.pk}")
        except nix.ProviderUnavailable as exc:
            log.info("birth poll for %s deferred: %s", user.pk, exc)
            break  # the registry is down: try everyone again on the next round
        BirthWatch.objects.update_or_create(user=user, defaults={"polled_at": timezone.now()})
        for birth in (answer.record.get("births") or []) if answer.found else []:
            started += _start(definition, user, birth)
    return started


def _start(definition: ServiceDefinition, mother, birth: dict) -> int:
    """Start the service for one birth, once; 1 if this call started it."""
    child = birth.get("child_national_code") or ""
    try:
        born = dt.date.fromisoformat(str(birth.get("birth_time", ""))[:10])
    except ValueError:
        return 0
    first, last = window(definition)
    if not child or not first <= born <= last:
        return 0  # not a new event: out of the service's window
    other = (
        Application.objects.filter(definition__code=definition.code, subject_code=child)
        .exclude(user=mother)
        .exists()
    )
    if other:
        return 0
    application, created = engine.submit(
        definition,
        mother,
        idempotency_key=f"birth:{child}",
        subject_code=child,
        origin=Origin.PROACTIVE,
    )
    # One notice per birth: posted again by a later poll only if an earlier one stopped
    # between the application and the notice.
    if not Message.objects.filter(user=mother, dedupe_key=_notice_key(child)).exists():
        _notice(definition, mother, application, birth, born)
    return int(created)


def _notice_key(child: str) -> str:
    return f"proactive:birth:{child}"


def _child_name(definition: ServiceDefinition, child: str, issue: str) -> str:
    """The child's name from Civil Registration (the definition's own fetch of the subject's
    identity, under its grant); "" when the registry does not give it now."""
    for fetch_spec in definition.spec.get("data", []):
        if fetch_spec.get("subject") == "subject" and "civil.identity" in fetch_spec["items"]:
            try:
                answer = nix.fetch(definition, fetch_spec, child, issue=issue)
            except nix.ProviderUnavailable as exc:
                log.info("no name for the notice of %s: %s", issue, exc)
                return ""
            record = answer.record if answer.found else {}
            return " ".join(
                str(record[k]) for k in ("first_name", "last_name") if record.get(k)
            ).strip()
    return ""


def _notice(definition, mother, application, birth: dict, born: dt.date) -> None:
    name = _child_name(definition, application.subject_code, application.tracking_code)
    hospital = birth.get("hospital") or ""
    day_fa = jalali.format_fa(born)
    day_en = jalali.iso(born).replace("-", "/")
    son = birth.get("sex") == "male"
    who_fa = name or ("پسرتان" if son else "دخترتان" if birth.get("sex") else "فرزندتان")
    who_en = name or ("your son" if son else "your daughter" if birth.get("sex") else "your child")
    notify.post(
        mother,
        kind=Message.Kind.NOTICE,
        dedupe_key=_notice_key(application.subject_code),
        subject_fa=f"تولد {who_fa} مبارک؛ گواهی ولادت در حال صدور است",
        subject_en=f"Congratulations on the birth of {who_en}; the birth certificate is on its way",
        body_fa=(
            f"ولادت {who_fa} (کد ملی {application.subject_code}) در تاریخ {day_fa}"
            + (f" در {hospital}" if hospital else "")
            + " ثبت شد. گواهی ولادت بدون نیاز به درخواست شما صادر می‌شود. "
            f"کد رهگیری: {application.tracking_code}"
        ),
        body_en=(
            f"The birth of {who_en} (national code {application.subject_code}) on {day_en} "
            "(Solar Hijri) was recorded. The birth certificate is issued without you applying. "
            f"Tracking code: {application.tracking_code}"
        ),
        **notices.link(application),
    )
