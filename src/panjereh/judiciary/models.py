"""Judicial e-services: SANA accounts, the person's cases mirrored from the judiciary's case
system (read through the exchange's event feed), and bills (لوایح) submitted to a case.

The judiciary's own case system is another organisation's (the simulated judiciary registry
process); these rows are the window's copy of what its feed said, each event once.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SanaAccount(models.Model):
    """A person's SANA account (سامانه ثنا): the judiciary's electronic-service account,
    opened without a visit from the window's identity."""

    class State(models.TextChoices):
        ACTIVE = "active", _("Active")
        CLOSED = "closed", _("Closed")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sana_account"
    )
    # The judiciary's number for the account (its answer to the registration call).
    sana_id = models.CharField(_("SANA number"), max_length=32, unique=True)
    mobile = models.CharField(_("mobile"), max_length=16, blank=True)
    assurance = models.PositiveSmallIntegerField(_("assurance level at registration"))
    state = models.CharField(max_length=10, choices=State.choices, default=State.ACTIVE)
    registered_at = models.DateTimeField(default=timezone.now)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("SANA account")
        verbose_name_plural = _("SANA accounts")

    def __str__(self) -> str:
        return self.sana_id


class Case(models.Model):
    """A judicial case as the judiciary's case system describes it (one row per case number)."""

    number = models.CharField(_("case number"), max_length=32, unique=True)
    kind = models.CharField(_("kind"), max_length=32)
    subject = models.CharField(_("subject"), max_length=300)
    court = models.CharField(_("court"), max_length=200)
    branch = models.CharField(_("branch"), max_length=100, blank=True)
    stage = models.CharField(_("current stage"), max_length=40)
    opened_at = models.DateTimeField()
    updated_at = models.DateTimeField(default=timezone.now)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-updated_at", "-pk"]

    def __str__(self) -> str:
        return self.number


class CaseParty(models.Model):
    class Role(models.TextChoices):
        PLAINTIFF = "plaintiff", _("Plaintiff")
        DEFENDANT = "defendant", _("Defendant")
        COMPLAINANT = "complainant", _("Complainant")
        ACCUSED = "accused", _("Accused")
        OTHER = "other", _("Other party")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="parties")
    national_code = models.CharField(max_length=11, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="case_parties",
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    name = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["case", "national_code", "role"], name="judiciary_party_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.role}"


class CaseEvent(models.Model):
    """One event of a case from the judiciary's feed: filed, a new stage, a hearing set, a
    decision. ``event_id`` is the feed's own identifier, so an event read twice is kept once."""

    class Kind(models.TextChoices):
        FILED = "filed", _("Case filed")
        STAGE = "stage", _("New stage")
        HEARING = "hearing", _("Hearing set")
        DECISION = "decision", _("Decision issued")
        PLEADING = "pleading", _("Bill received")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    event_id = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    stage = models.CharField(max_length=40, blank=True)
    at = models.DateTimeField()
    title = models.CharField(max_length=300)
    detail = models.JSONField(default=dict, blank=True)
    # The official notice (mailbox reference) the window sent the parties for this event.
    notice_reference = models.CharField(max_length=24, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["case", "at", "pk"]
        indexes = [models.Index(fields=["case", "at"], name="judiciary_event_case_at")]

    def __str__(self) -> str:
        return self.event_id


class FeedCursor(models.Model):
    """Where the window is in one feed of the judiciary's systems."""

    name = models.CharField(max_length=40, unique=True)
    cursor = models.CharField(max_length=200, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    failures = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return self.name


class Pleading(models.Model):
    """A bill (لایحه) composed from a template and submitted to a case."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTING = "submitting", _("Being sent to the court")
        SUBMITTED = "submitted", _("Received by the court")
        FAILED = "failed", _("Not accepted by the court")

    reference = models.CharField(_("reference"), max_length=24, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="pleadings"
    )
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="pleadings")
    template = models.CharField(_("template"), max_length=60)
    answers = models.JSONField(default=dict, blank=True)
    text = models.TextField(_("composed text"))
    state = models.CharField(max_length=12, choices=State.choices, default=State.DRAFT)
    created_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    # The court system's number for the received bill, and the signed receipt (JWS).
    court_reference = models.CharField(max_length=40, blank=True)
    receipt_token = models.TextField(blank=True)
    receipt_kid = models.CharField(max_length=80, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_try_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("bill")
        verbose_name_plural = _("bills")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["state", "next_try_at"], name="judiciary_pleading_due")]

    def __str__(self) -> str:
        return self.reference
