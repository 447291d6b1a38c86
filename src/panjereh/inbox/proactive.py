"""Proactive services: a registry event starts the service without an application.

The registries publish no event feed, so the national window polls through the exchange: for
each citizen who uses the window it asks the Ministry of Health's "hospital births by mother"
data service (as Civil Registration, for the birth certificate's purpose) at most once per
``PANJEREH_PROACTIVE_POLL_MINUTES``. A birth not seen before, born on or after
``PANJEREH_PROACTIVE_BIRTHS_SINCE``, starts the newborn birth certificate for the mother (one
application per child, whatever the number of polls), and she gets an official notice. A real
deployment would subscribe to a feed of new births instead; the engine part stays the same.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from panjereh.services import engine, nix
from panjereh.services.models import Application, Origin, ServiceDefinition

from . import notify
from .models import BirthWatch, Message

log = logging.getLogger(__name__)
# The simulated registries answer "as of" 1404-01-01 (2025-03-20); a year before that day
# is "recent" in the demo. Production sets the day the service went live.
DEFAULT_SINCE = "2024-03-20"


def _since() -> dt.date:
    return dt.date.fromisoformat(
        getattr(settings, "PANJEREH_PROACTIVE_BIRTHS_SINCE", DEFAULT_SINCE)
    )


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
    child = birth.get("child_national_code") or ""
    try:
        born = dt.date.fromisoformat(str(birth.get("birth_time", ""))[:10])
    except ValueError:
        return 0
    if not child or born < _since():
        return 0
    if Application.objects.filter(definition__code=definition.code, subject_code=child).exists():
        return 0
    application, created = engine.submit(
        definition,
        mother,
        idempotency_key=f"birth:{child}",
        subject_code=child,
        origin=Origin.PROACTIVE,
    )
    if created:
        notify.post(
            mother,
            kind=Message.Kind.NOTICE,
            dedupe_key=f"proactive:{application.tracking_code}",
            subject_fa="تولد فرزندتان مبارک؛ گواهی ولادت او در حال صدور است",
            subject_en="Congratulations on your child's birth; the birth certificate is on its way",
            body_fa=(
                "ولادت فرزندتان در "
                f"{birth.get('hospital', '')} ثبت شد. گواهی ولادت بدون نیاز به درخواست شما "
                f"صادر می‌شود. کد رهگیری: {application.tracking_code}"
            ),
            body_en=(
                f"Your child's birth at the hospital was recorded. The birth certificate is "
                f"issued without you applying. Tracking code: {application.tracking_code}"
            ),
            application=application,
        )
    return int(created)
