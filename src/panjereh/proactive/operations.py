"""Proactive services from life events: read the feeds, act once per event, and consent.

:func:`read_feeds` is the periodic job (``proactive-read-feeds`` in
``panjereh.common.periodic``). For each definition with a trigger it reads the registry's feed
through the exchange from its subscription's cursor, page by page, and for each event of the
trigger:

* an event published before the subscription began, or that occurred outside the service's
  window, is history: nothing is done;
* among the people the event concerns who use the window, the first who consented to
  proactive services gets the service started and one notice naming whom it is about; if none
  of them consented, that is recorded (no personal data) and nothing else happens;
* a :class:`~.models.Firing` row per (event, definition), unique in the database, makes sure
  an event is acted on once, even with two workers reading at the same moment.

The cursor moves forward only after every event before it was handled (a compare-and-set, so
two workers cannot move it back): when the feed or the exchange fails, it stays where it was
and the next run reads the same events again. Nothing is lost.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from panjereh.catalogue import roles
from panjereh.services import nix
from panjereh.services import proactive as services_proactive
from panjereh.services.models import ServiceDefinition

from .models import Consent, Firing, Subscription
from .queries import consents

log = logging.getLogger(__name__)
PAGE_SIZE = 100
MAX_PAGES = 50  # per definition and run: a long backlog is read over several runs


class ConsentError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# -- consent ---------------------------------------------------------------------------------


def _require_person(actor) -> None:
    if (
        actor is None
        or roles.is_system(actor)
        or not getattr(actor, "is_authenticated", False)
        or not getattr(actor, "national_code", None)
        or not getattr(actor, "is_active", True)
    ):
        raise roles.NotPermitted()


def set_consent(actor, given: bool) -> Consent:
    """The signed-in person gives (``given``) or withdraws their consent to proactive
    services; a new row of their history, unless it is already their decision."""
    _require_person(actor)
    with transaction.atomic():
        # One decision at a time per person (two tabs): lock the person's row.
        get_user_model().objects.select_for_update().filter(pk=actor.pk).first()
        latest = Consent.objects.filter(user=actor).order_by("-at", "-id").first()
        if latest is not None and latest.given == given:
            return latest
        return Consent.objects.create(user=actor, given=given)


# -- reading the feeds -----------------------------------------------------------------------


def event_key(registry: str, event_id: str) -> str:
    """The event's key in the database: a keyed hash (an event id names a person)."""
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"{registry}:{event_id}".encode(), hashlib.sha256).hexdigest()


def subscribe(definition: ServiceDefinition) -> Subscription:
    """The definition's subscription, begun now if it has none: it reads from this moment on
    (the feed's cursor is the publication second, then the event id)."""
    feed = definition.spec["proactive"]
    now = timezone.now()
    subscription, _created = Subscription.objects.get_or_create(
        definition_code=definition.code,
        defaults={
            "registry": feed["registry"],
            "service": feed["service"],
            "started_at": now,
            "cursor": f"{int(now.timestamp()):011d}-",
        },
    )
    return subscription


def read_feeds() -> int:
    """The periodic job: read every subscribed feed; how many services it started."""
    started = 0
    for definition in services_proactive.triggered():
        try:
            started += read(definition)
        except nix.ProviderUnavailable as exc:
            log.info("feed of %s not read now: %s", definition.code, exc)
    return started


def read(definition: ServiceDefinition, *, limit: int = PAGE_SIZE, pages: int = MAX_PAGES) -> int:
    """Read the definition's feed from its cursor and act on the new events; how many services
    it started. Raises :class:`nix.ProviderUnavailable` when the feed cannot be read (the cursor
    stays; the failure is noted on the subscription)."""
    subscription = subscribe(definition)
    started = 0
    for _page in range(pages):
        cursor = subscription.cursor
        try:
            page = services_proactive.read_feed(definition, after=cursor, limit=limit)
        except nix.ProviderUnavailable as exc:
            Subscription.objects.filter(pk=subscription.pk).update(
                failed_at=timezone.now(), failure=str(exc)[:300]
            )
            raise
        for event in page.events:
            started += act(definition, subscription, event)
        # Forward only, and only from where this run read: a worker that read the same page
        # does not move it again, nor back.
        if page.next and page.next > cursor:
            Subscription.objects.filter(pk=subscription.pk, cursor=cursor).update(
                cursor=page.next, read_at=timezone.now()
            )
        else:
            Subscription.objects.filter(pk=subscription.pk).update(read_at=timezone.now())
        subscription.refresh_from_db()
        if not page.has_more:
            break
    return started


def _published(event: dict[str, Any]) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(str(event.get("published_at", "")))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def _concerned(event: dict[str, Any]) -> list:
    """The people the event concerns who use the window, in the event's order."""
    codes = [c for c in event.get("subjects") or [] if isinstance(c, str)]
    users = {
        u.national_code: u
        for u in get_user_model().objects.filter(national_code__in=codes, is_active=True)
    }
    return [users[c] for c in codes if c in users]


def act(definition: ServiceDefinition, subscription: Subscription, event: dict[str, Any]) -> int:
    """Handle one event of the feed for the definition, once; 1 if this call started it."""
    if event.get("type") != services_proactive.trigger(definition):
        return 0
    published = _published(event)
    if published is None or published < subscription.started_at:
        return 0  # before the subscription: history
    if not services_proactive.in_window(definition, event):
        return 0  # outside the service's window: not news
    people = _concerned(event)
    if not people:
        return 0  # nobody concerned uses the window
    chosen = next((p for p in people if consents(p)), None)
    key = event_key(subscription.registry, str(event["id"]))
    occurred = services_proactive.occurred_on(event)
    try:
        with transaction.atomic():
            firing = Firing.objects.create(
                event_key=key,
                definition_code=definition.code,
                event_type=event["type"],
                occurred_on=occurred,
                outcome=Firing.Outcome.STARTED if chosen else Firing.Outcome.NO_CONSENT,
                user=chosen,
            )
            if chosen is None:
                return 0
            application, created = services_proactive.begin(definition, chosen, event)
            firing.application = application
            firing.save(update_fields=["application"])
    except IntegrityError:
        # Acted on already (another run, or another worker right now). If that run stopped
        # before its notice, post it now: the notice is once per event whoever posts it.
        firing = Firing.objects.filter(event_key=key, definition_code=definition.code).first()
        if firing is None or firing.application is None or firing.user is None:
            return 0
        services_proactive.announce(definition, firing.user, firing.application, event)
        return 0
    services_proactive.announce(definition, chosen, application, event)
    return int(created)
