"""The citizen's inbox: decisions, documents and official notices, with delivery status."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Message(models.Model):
    class Kind(models.TextChoices):
        DECISION = "decision", _("Decision")
        DOCUMENT = "document", _("Document")
        NOTICE = "notice", _("Official notice")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="inbox_messages"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # One message per event and person, however often the engine re-runs the step.
    dedupe_key = models.CharField(max_length=120)
    subject_fa = models.CharField(max_length=300)
    subject_en = models.CharField(max_length=300, blank=True)
    body_fa = models.TextField(blank=True)
    body_en = models.TextField(blank=True)
    # A link the posting app gives (its page about the matter, e.g. an application and its
    # journey) with its label in both languages: the inbox shows it without knowing what it is.
    link_url = models.CharField(max_length=300, blank=True)
    link_label_fa = models.CharField(max_length=120, blank=True)
    link_label_en = models.CharField(max_length=120, blank=True)
    # The link of the document the message delivers (a signed PDF), set by the app that issued
    # it: the inbox shows it without knowing what it is.
    document_url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "dedupe_key"], name="inbox_message_once")
        ]
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.subject_en or self.subject_fa


class Delivery(models.Model):
    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        SMS = "sms", _("SMS")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    address = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # After a failed attempt: not before this (backoff), so a gateway outage of a few minutes
    # does not use up every attempt at once.
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["message", "channel"], name="inbox_delivery_once")
        ]

    def __str__(self) -> str:
        return f"{self.channel} to {self.address}: {self.status}"
