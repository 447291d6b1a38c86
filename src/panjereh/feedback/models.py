"""The citizen's voice: ratings of finished applications with the agency's reply, and
complaints about agencies that break the single-window rules, with their evidence.

Writes go through :mod:`panjereh.feedback.operations` (one function per use case); figures are
read through :mod:`panjereh.feedback.queries`.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from panjereh.catalogue.models import Agency, Service

SCALE = [MinValueValidator(1), MaxValueValidator(5)]
FAVOURABLE = 4  # "high" or "very high" on the five-point scale
UNHAPPY = 2  # 1 or 2: the agency's reply is awaited and the citizen may escalate


class Score(models.IntegerChoices):
    VERY_LOW = 1, _("Very low")
    LOW = 2, _("Low")
    MEDIUM = 3, _("Medium")
    HIGH = 4, _("High")
    VERY_HIGH = 5, _("Very high")


class EscalationState(models.TextChoices):
    """Where an escalated rating stands (derived from the rating's escalation fields)."""

    ESCALATED = "escalated", _("Escalated: awaiting the supervising body")
    HANDLED = "handled", _("Handled by the supervising body")


class Rating(models.Model):
    """One citizen's rating of one finished application (one per application, editable for
    ``PANJEREH_FEEDBACK_EDIT_DAYS``); the agency replies by ``reply_due_at``."""

    application = models.OneToOneField(
        "services.Application", on_delete=models.CASCADE, related_name="feedback_rating"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="feedback_ratings"
    )
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    ease = models.PositiveSmallIntegerField(_("ease"), choices=Score.choices, validators=SCALE)
    satisfaction = models.PositiveSmallIntegerField(
        _("satisfaction"), choices=Score.choices, validators=SCALE
    )
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now)
    edit_until = models.DateTimeField()
    reply_due_at = models.DateTimeField(db_index=True)
    reply = models.TextField(_("reply"), blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Escalation by an unhappy citizen: who, why, and the supervising body it was routed to
    # (``operations.supervising_body``; None: the Steering WG), then its outcome.
    escalated_at = models.DateTimeField(null=True, blank=True)
    escalated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    escalation_reason = models.TextField(_("reason for escalating"), blank=True)
    escalated_to = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("supervising body"),
    )
    escalation_outcome = models.TextField(_("outcome of the escalation"), blank=True)
    escalation_handled_at = models.DateTimeField(null=True, blank=True)
    escalation_handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["agency", "replied_at", "reply_due_at"]),
            models.Index(fields=["service", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.application_id}: {self.ease}/{self.satisfaction}"

    @property
    def unhappy(self) -> bool:
        return self.satisfaction <= UNHAPPY

    @property
    def editable(self) -> bool:
        return self.escalated_at is None and timezone.now() <= self.edit_until

    @property
    def reply_overdue(self) -> bool:
        end = self.replied_at or timezone.now()
        return end > self.reply_due_at

    @property
    def escalation_state(self) -> EscalationState | None:
        if self.escalated_at is None:
            return None
        if self.escalation_handled_at is not None:
            return EscalationState.HANDLED
        return EscalationState.ESCALATED

    @property
    def can_escalate(self) -> bool:
        """An unhappy citizen may take it further once the agency replied or its time ran out."""
        return (
            self.escalated_at is None
            and self.unhappy
            and (self.replied_at is not None or self.reply_overdue)
        )


class ComplaintKind(models.TextChoices):
    DOCUMENT_HELD = "document_held", _("Asked for a document the government already holds")
    IN_PERSON = "in_person", _("Demanded an in-person visit")
    OFF_PORTAL_PAYMENT = "payment", _("Demanded a payment outside the portal")
    IDENTITY_AGAIN = "identity_again", _("Collected identity documents again after sign-on")
    REMOVED_CONDITION = "removed_condition", _("Asked for a condition that was removed")


# What a person may report from a permit application (issue 16, part 6): a visit, a payment
# off the portal, or a removed condition asked again. These count against the issuing
# authority in oversight (``queries.permit_violations_as_of``).
PERMIT_KINDS = (
    ComplaintKind.IN_PERSON,
    ComplaintKind.OFF_PORTAL_PAYMENT,
    ComplaintKind.REMOVED_CONDITION,
)


class ComplaintState(models.TextChoices):
    RECEIVED = "received", _("Received")
    UNDER_REVIEW = "under_review", _("Under review")
    UPHELD = "upheld", _("Upheld")
    NOT_UPHELD = "not_upheld", _("Not upheld")


class Complaint(models.Model):
    """A citizen's report that an agency broke a single-window rule (شکایت از تخلف).

    A report made from a permit application names the application and its issuing authority
    (``permit_application``, ``authority``), and for a removed condition asked again, the
    register's row (``removed_condition``). ``agency`` is the authority's agency in the
    service catalogue when it has one (the complaint is then routed like any other); an
    authority outside the catalogue has none, and the complaint goes to the Steering WG."""

    tracking_code = models.CharField(_("tracking code"), max_length=12, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="feedback_complaints"
    )
    agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("agency"),
    )
    authority = models.ForeignKey(
        "permits.IssuingAuthority",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("issuing authority"),
    )
    permit_application = models.ForeignKey(
        "permits.PermitApplication",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("permit application"),
    )
    removed_condition = models.ForeignKey(
        "permits.RemovedCondition",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("removed condition"),
    )
    service = models.ForeignKey(
        Service,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("service"),
    )
    kind = models.CharField(_("what happened"), max_length=20, choices=ComplaintKind.choices)
    description = models.TextField(_("description"))
    # The supervising body the complaint is routed to (the agency's top parent, a ministry);
    # None when the agency has none: then only the Steering WG handles it.
    routed_to = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("supervising body"),
    )
    state = models.CharField(
        max_length=20, choices=ComplaintState.choices, default=ComplaintState.RECEIVED
    )
    reply = models.TextField(_("reply"), blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["agency", "kind", "state"]),
            models.Index(
                fields=["authority", "kind", "state"],
                condition=models.Q(authority__isnull=False),
                name="complaint_authority",
            ),
        ]
        constraints = [
            # Every complaint is about someone: an agency, or an issuing authority.
            models.CheckConstraint(
                condition=models.Q(agency__isnull=False) | models.Q(authority__isnull=False),
                name="complaint_about_someone",
            )
        ]

    def __str__(self) -> str:
        return self.tracking_code

    @property
    def against_fa(self) -> str:
        """Whom the complaint is about: the issuing authority if any, else the agency."""
        if self.authority_id:
            return self.authority.name_fa
        return self.agency.name_fa if self.agency_id else ""

    @property
    def against_en(self) -> str:
        if self.authority_id:
            return self.authority.name_en or self.authority.name_fa
        return (self.agency.name_en or self.agency.name_fa) if self.agency_id else ""

    @property
    def closed(self) -> bool:
        return self.state in (ComplaintState.UPHELD, ComplaintState.NOT_UPHELD)


class ComplaintEvent(models.Model):
    """One step of a complaint's history (every state change is an event)."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.complaint_id} {self.from_state}→{self.to_state}"

    @property
    def to_label(self) -> str:
        return ComplaintState(self.to_state).label


class Evidence(models.Model):
    """A file attached to a complaint, stored outside the web root under a random name."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="evidence")
    stored_name = models.CharField(max_length=64, unique=True)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")

    def __str__(self) -> str:
        return f"{self.complaint_id}: {self.original_name}"
