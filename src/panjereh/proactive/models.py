"""The window's subscriptions to the registries' life-event feeds, what it did with each event,
and people's consent to proactive services."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Subscription(models.Model):
    """One definition's subscription to its registry's feed: where it has read to.

    ``started_at`` is when the subscription began: an event published before it is history,
    never acted on. The cursor moves only in the transaction that acted on the events before
    it, so a failed read leaves it where it was and the next run reads the same events again."""

    definition_code = models.CharField(_("service definition"), max_length=100, unique=True)
    registry = models.CharField(_("registry"), max_length=40)
    service = models.CharField(_("data service"), max_length=100)
    cursor = models.CharField(_("cursor"), max_length=120, blank=True)
    started_at = models.DateTimeField(_("subscribed at"), default=timezone.now)
    read_at = models.DateTimeField(_("last read at"), null=True, blank=True)
    failed_at = models.DateTimeField(_("last failed at"), null=True, blank=True)
    failure = models.CharField(_("last failure"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("feed subscription")
        verbose_name_plural = _("feed subscriptions")

    def __str__(self) -> str:
        return f"{self.definition_code} ← {self.registry}/{self.service}"


class Firing(models.Model):
    """What the window did about one event for one service: at most one row, so an event is
    acted on once, even with two workers reading the feed at the same time.

    The event is kept as a keyed hash of its registry and id (an event id names a person), so a
    skipped event leaves no personal data; a started one links its application."""

    class Outcome(models.TextChoices):
        STARTED = "started", _("Service started")
        NO_CONSENT = "no_consent", _("Skipped: no consent to proactive services")

    event_key = models.CharField(max_length=64)
    definition_code = models.CharField(_("service definition"), max_length=100)
    event_type = models.CharField(_("event"), max_length=30)
    occurred_on = models.DateField(_("occurred on"))
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    application = models.ForeignKey(
        "services.Application", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("proactive firing")
        verbose_name_plural = _("proactive firings")
        constraints = [
            models.UniqueConstraint(
                fields=["event_key", "definition_code"], name="proactive_firing_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.definition_code} {self.event_type} {self.outcome}"


class Consent(models.Model):
    """One decision of a person about proactive services: given or withdrawn. Rows are only
    added: the latest is the person's decision now, the others its history."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="proactive_consents"
    )
    given = models.BooleanField(_("given"))
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("consent to proactive services")
        verbose_name_plural = _("consents to proactive services")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["user", "-at", "-id"], name="proactive_consent_latest")]

    def __str__(self) -> str:
        return f"{self.user_id} {'given' if self.given else 'withdrawn'} {self.at:%Y-%m-%d}"
