"""A judge's asset inquiry for a case, the registries' answers, and freeze orders (docs/assets.md).

An :class:`Inquiry` (one case number, one subject) asks the four asset registries, one
:class:`RegistryCall` each, through the exchange under the judiciary's grants. A
:class:`FreezeOrder` is the judge's second step: one :class:`FreezeItem` per account (an amount)
or property, sent to the registries that freeze online; the others go to a letter queue for
the judiciary's staff. Every change of state is an :class:`AssetEvent` (who, when, what).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from panjereh.catalogue.models import Agency

REGISTRY_CHOICES = [
    ("banks", _("Banks")),
    ("ssaa", _("Deeds and properties")),
    ("stock", _("Securities")),
    ("vehicle", _("Vehicles")),
]


class Inquiry(models.Model):
    class SubjectKind(models.TextChoices):
        PERSON = "person", _("Natural person")
        COMPANY = "company", _("Legal person")

    # The form's one-time key: a second submission of the same form is the same inquiry.
    key = models.CharField(max_length=64, unique=True)
    case_number = models.CharField(_("case number"), max_length=16, db_index=True)
    subject_code = models.CharField(_("subject's national code or ID"), max_length=11)
    subject_kind = models.CharField(max_length=8, choices=SubjectKind.choices)
    judge = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="asset_inquiries"
    )
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("asset inquiry")
        verbose_name_plural = _("asset inquiries")

    def __str__(self) -> str:
        return f"{self.case_number} / {self.subject_code}"


class RegistryCall(models.Model):
    """One registry asked for one inquiry; retried with backoff until it answers."""

    class State(models.TextChoices):
        PENDING = "pending", _("Asking")
        RETRYING = "retrying", _("Registry unavailable, asking again")
        ANSWERED = "answered", _("Answered")
        NOT_FOUND = "not_found", _("No record")
        REFUSED = "refused", _("Refused by the exchange")

    inquiry = models.ForeignKey(Inquiry, on_delete=models.CASCADE, related_name="calls")
    registry = models.CharField(max_length=16, choices=REGISTRY_CHOICES)
    state = models.CharField(max_length=12, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_error = models.CharField(max_length=200, blank=True)
    result = models.JSONField(default=dict, blank=True)
    message_id = models.CharField(max_length=64, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["inquiry", "registry"], name="assets_call_unique")
        ]
        ordering = ["registry"]

    def __str__(self) -> str:
        return f"{self.inquiry_id}:{self.registry} ({self.state})"


class FreezeOrder(models.Model):
    """The judge's freeze order: who, when, why; its items say what and how much."""

    inquiry = models.ForeignKey(Inquiry, on_delete=models.PROTECT, related_name="orders")
    key = models.CharField(max_length=64, unique=True)  # the form's one-time key
    ordered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    ordered_at = models.DateTimeField(auto_now_add=True)
    reason = models.TextField(_("reason"), max_length=1000)

    class Meta:
        ordering = ["-ordered_at", "-id"]

    def __str__(self) -> str:
        return f"order {self.pk} of inquiry {self.inquiry_id}"


class FreezeItem(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", _("Being sent")
        RETRYING = "retrying", _("Registry unavailable, sending again")
        FROZEN = "frozen", _("Frozen")
        LETTER = "letter", _("Sent to the letter queue (not online)")
        LETTER_SENT = "letter_sent", _("Letter sent by staff")
        REFUSED = "refused", _("Refused")

    order = models.ForeignKey(FreezeOrder, on_delete=models.PROTECT, related_name="items")
    registry = models.CharField(max_length=16, choices=REGISTRY_CHOICES)
    target = models.CharField(max_length=40)  # IBAN, deed serial, VIN or stock symbol
    label = models.CharField(max_length=200, blank=True)
    amount = models.BigIntegerField(null=True, blank=True)  # rials, for an account
    # The id the registry keeps the order under: the same id is never frozen twice.
    registry_order_id = models.CharField(max_length=64, unique=True)
    state = models.CharField(max_length=12, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_error = models.CharField(max_length=200, blank=True)
    reference = models.CharField(max_length=40, blank=True)
    frozen_amount = models.BigIntegerField(null=True, blank=True)
    answer = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["registry", "id"]

    def __str__(self) -> str:
        return f"{self.registry}:{self.target} ({self.state})"


class AssetEvent(models.Model):
    """The audit trail: every request, answer, order and change of state."""

    inquiry = models.ForeignKey(Inquiry, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=32)
    registry = models.CharField(max_length=16, blank=True)
    from_state = models.CharField(max_length=12, blank=True)
    to_state = models.CharField(max_length=12, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.inquiry_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"
