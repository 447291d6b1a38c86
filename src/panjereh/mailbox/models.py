"""The official mailbox: notices agencies send to people and companies, with a legal status.

A notice is signed by its agency and never changes: its content columns are written once,
only its state and the moments of its legal status move (through :data:`operations.MACHINE`,
each move an event). Nothing deletes a notice, an attachment or an event, not even the admin.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from panjereh.catalogue.models import Agency


class Immutable(Exception):
    """A notice, its attachments and its history are never edited or deleted."""


class NoDeleteQuerySet(models.QuerySet):
    def delete(self):
        raise Immutable("official notices are never deleted")

    def update(self, **kwargs):
        if not set(kwargs) <= getattr(self.model, "MUTABLE", set()):
            raise Immutable("official notices are never edited")
        return super().update(**kwargs)


class State(models.TextChoices):
    """Delivery states, in GOV.UK Notify's shape."""

    CREATED = "created", _("Accepted")
    # Addressed to a person the civil registry knows who has not signed up to the window yet:
    # kept for them, made available when they first sign in (docs/mailbox.md).
    HELD = "held", _("Kept until the addressee signs in")
    SENDING = "sending", _("Being made available")
    MADE_AVAILABLE = "made_available", _("Made available")
    OPENED = "opened", _("Opened")
    SERVED = "served", _("Served")
    FAILED = "failed", _("Failed")


class RecipientKind(models.TextChoices):
    PERSON = "person", _("Person")
    COMPANY = "company", _("Company")


class Notice(models.Model):
    # The columns the state machine may change; everything else is written once.
    MUTABLE = {
        "state",
        "made_available_at",
        "opened_at",
        "served_at",
        "served_by",
        "failed_reason",
        "alerted",
    }

    class ServedBy(models.TextChoices):
        OPENED = "opened", _("Opened by the addressee")
        DEEMED = "deemed", _("Deemed served after the set days")

    reference = models.CharField(_("reference"), max_length=24, unique=True)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    client = models.CharField(_("sending system"), max_length=200)
    recipient_kind = models.CharField(max_length=10, choices=RecipientKind.choices)
    # A person's national code (10 digits) or a company's national ID (11 digits).
    recipient = models.CharField(_("addressee"), max_length=11)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("text"))
    callback_url = models.CharField(max_length=500, blank=True)
    idempotency_key = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    batch = models.ForeignKey(
        "Batch", on_delete=models.PROTECT, null=True, blank=True, related_name="notices"
    )
    token = models.TextField(_("signed notice (JWS)"))
    kid = models.CharField(max_length=80)
    created_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(max_length=16, choices=State.choices, default=State.CREATED)
    made_available_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    served_at = models.DateTimeField(null=True, blank=True)
    served_by = models.CharField(max_length=10, choices=ServedBy.choices, blank=True)
    failed_reason = models.CharField(max_length=300, blank=True)
    # How many people were alerted (by SMS, through the inbox) when it was made available.
    alerted = models.PositiveIntegerField(default=0)

    objects = NoDeleteQuerySet.as_manager()

    class Meta:
        verbose_name = _("official notice")
        verbose_name_plural = _("official notices")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "idempotency_key"], name="mailbox_notice_idempotent"
            )
        ]
        indexes = [
            # The mailbox page: one addressee's notices, newest first, a page at a time.
            models.Index(
                fields=["recipient", "recipient_kind", "-created_at", "-id"],
                name="mailbox_notice_box",
            ),
            models.Index(fields=["state", "made_available_at"], name="mailbox_notice_due"),
        ]

    def __str__(self) -> str:
        return self.reference

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            fields = kwargs.get("update_fields")
            if fields is None or not set(fields) <= self.MUTABLE:
                raise Immutable("official notices are never edited")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise Immutable("official notices are never deleted")


class Attachment(models.Model):
    class Kind(models.TextChoices):
        PDF = "application/pdf", "PDF"
        PNG = "image/png", "PNG"
        JPEG = "image/jpeg", "JPEG"

    notice = models.ForeignKey(Notice, on_delete=models.PROTECT, related_name="attachments")
    position = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=40, choices=Kind.choices)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    data = models.BinaryField()

    objects = NoDeleteQuerySet.as_manager()

    class Meta:
        ordering = ["notice", "position"]
        constraints = [
            models.UniqueConstraint(fields=["notice", "position"], name="mailbox_attachment_once")
        ]

    def __str__(self) -> str:
        return f"{self.notice_id}/{self.position}: {self.name}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise Immutable("attachments are never edited")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise Immutable("attachments are never deleted")


class NoticeEvent(models.Model):
    """One step of a notice's legal status: who (the addressee, the window) and when."""

    notice = models.ForeignKey(Notice, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16, choices=State.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    detail = models.CharField(max_length=300, blank=True)

    objects = NoDeleteQuerySet.as_manager()

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.notice_id}: {self.to_state} at {self.at:%Y-%m-%d %H:%M:%S}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise Immutable("events are never edited")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise Immutable("events are never deleted")


class Callback(models.Model):
    """A signed status report owed to the sending agency (an outbox row): sent by the job
    ``mailbox-callbacks``, tried again with a doubling pause until the agency answers 2xx."""

    notice = models.ForeignKey(Notice, on_delete=models.PROTECT, related_name="callbacks")
    state = models.CharField(max_length=16)
    url = models.CharField(max_length=500)
    created_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    next_try_at = models.DateTimeField(default=timezone.now, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["notice", "state"], name="mailbox_callback_once")
        ]

    def __str__(self) -> str:
        return f"{self.notice_id}: {self.state}"


class Batch(models.Model):
    """A bulk send (a court's daily list): items made available in chunks by a worker."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        DONE = "done", _("Done")

    reference = models.CharField(max_length=24, unique=True)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    client = models.CharField(max_length=200)
    idempotency_key = models.CharField(max_length=200)
    request_hash = models.CharField(max_length=64)
    callback_url = models.CharField(max_length=500, blank=True)
    total = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "idempotency_key"], name="mailbox_batch_idempotent"
            )
        ]

    def __str__(self) -> str:
        return self.reference


class BatchItem(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        DONE = "done", _("Made available")
        FAILED = "failed", _("Refused")

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField()
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    notice = models.OneToOneField(
        Notice, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    attempts = models.PositiveIntegerField(default=0)
    next_try_at = models.DateTimeField(default=timezone.now)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["batch", "position"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "position"], name="mailbox_item_once")
        ]
        indexes = [models.Index(fields=["status", "next_try_at"], name="mailbox_item_due")]

    def __str__(self) -> str:
        return f"{self.batch_id}/{self.position}: {self.status}"
