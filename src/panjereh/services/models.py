"""Service definitions, applications with their journey, fetched data, signing keys, documents.

The application's state changes only through :func:`panjereh.services.workflow.transition`,
which checks the move against :data:`panjereh.services.workflow.TRANSITIONS` and appends a
:class:`JourneyEvent` in the same transaction.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from panjereh.catalogue.models import Agency, Service


class DefinitionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted for review")
    CERTIFIED = "certified", _("Certified by AEO")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


# What a published (or retired) version may never change: the engine and every application
# that started on it read these.
DEFINITION_CONTENT = (
    "code",
    "version",
    "service_id",
    "agency_id",
    "smart",
    "title_fa",
    "title_en",
    "assurance_level",
    "target_minutes",
    "spec",
    "digest",
)


class ImmutableDefinition(ValueError):
    """A published or retired version's content was about to change."""


class ServiceDefinition(models.Model):
    """One version of a declarative service definition (the file it came from, as JSON).

    Its ``status`` moves through ``services.design.MACHINE``: draft → submitted → (certified,
    for a smart one) → published → retired. ``active`` marks the one published version of a
    code the engine uses. A published or retired version's content is never changed
    (:meth:`save` refuses); a change is a new version.
    """

    code = models.SlugField(_("code"), max_length=80)
    version = models.PositiveIntegerField(_("version"))
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="definitions")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    smart = models.BooleanField(_("smart"), default=False)
    title_fa = models.CharField(max_length=300)
    title_en = models.CharField(max_length=300, blank=True)
    assurance_level = models.PositiveSmallIntegerField(default=2)
    target_minutes = models.PositiveIntegerField(default=5)
    spec = models.JSONField()
    digest = models.CharField(max_length=64)
    active = models.BooleanField(default=True)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=DefinitionStatus.choices,
        default=DefinitionStatus.DRAFT,
        db_index=True,
    )
    loaded_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="services_definition_version")
        ]
        ordering = ["code", "-version"]

    def __str__(self) -> str:
        return f"{self.code} v{self.version}"

    def save(self, *args, **kwargs) -> None:
        update_fields = kwargs.get("update_fields")
        fields = {name.removesuffix("_id") for name in DEFINITION_CONTENT} | set(DEFINITION_CONTENT)
        if self.pk is not None and (update_fields is None or fields & set(update_fields)):
            stored = (
                type(self).objects.filter(pk=self.pk).values("status", *DEFINITION_CONTENT).first()
            )
            if stored and stored["status"] in (
                DefinitionStatus.PUBLISHED,
                DefinitionStatus.RETIRED,
            ):
                changed = [n for n in DEFINITION_CONTENT if stored[n] != getattr(self, n)]
                if changed:
                    raise ImmutableDefinition(
                        f"{self.code} v{self.version} is {stored['status']}: its content "
                        f"({', '.join(changed)}) never changes; make a new version"
                    )
        super().save(*args, **kwargs)


class DefinitionEvent(models.Model):
    """One move of a definition version through its lifecycle: who, when, from, to, why."""

    definition = models.ForeignKey(
        ServiceDefinition, on_delete=models.CASCADE, related_name="events"
    )
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    by_system = models.BooleanField(default=False)  # the window itself (loading its files)
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12)
    note = models.CharField(max_length=1000, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.definition_id} {self.from_status or '-'} → {self.to_status}"


class State(models.TextChoices):
    AWAITING_PAYMENT = "awaiting_payment", _("Waiting for your payment")
    SUBMITTED = "submitted", _("Submitted")
    FETCHING = "fetching", _("Collecting data from the registries")
    WAITING = "waiting_for_provider", _("Waiting for a registry")
    DECIDING = "deciding", _("Deciding")
    HUMAN_REVIEW = "human_review", _("With an officer")
    ISSUING = "issuing", _("Issuing the document")
    ISSUED = "issued", _("Issued")
    REJECTED = "rejected", _("Rejected")
    # Closed before its fee was paid: withdrawn by the applicant, or left unpaid too long.
    CLOSED = "closed", _("Closed unpaid")


class Origin(models.TextChoices):
    CITIZEN = "citizen", _("Applied by the citizen")
    PROACTIVE = "proactive", _("Started by a registry event")


class Application(models.Model):
    tracking_code = models.CharField(_("tracking code"), max_length=20, unique=True)
    definition = models.ForeignKey(
        ServiceDefinition, on_delete=models.PROTECT, related_name="applications"
    )
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="applications"
    )
    # Whom the data is about: the applicant, or (proactive birth certificate) the newborn.
    subject_code = models.CharField(max_length=10)
    # The company the person applied for (the profile switch), checked with the company
    # registry when the application was made; empty: for themselves.
    company = models.ForeignKey(
        "identity.LegalPerson",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("on behalf of"),
    )
    origin = models.CharField(max_length=10, choices=Origin.choices, default=Origin.CITIZEN)
    idempotency_key = models.CharField(max_length=100)
    inputs = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=24, choices=State.choices, default=State.SUBMITTED)
    waiting_for = models.CharField(max_length=200, blank=True)
    review_reason = models.TextField(blank=True)
    decision = models.CharField(max_length=10, blank=True)  # approved | rejected
    decision_reasons = models.JSONField(default=list, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_applications",
    )
    submitted_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    # The fee asked when it was submitted (rials; 0: free), ``services.fees``; and, once it is
    # rejected, when its fee's refund was asked of the payments app (or found not owed).
    fee_rials = models.PositiveBigIntegerField(default=0)
    fee_refund_checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "idempotency_key"], name="services_application_idempotency"
            )
        ]
        indexes = [models.Index(fields=["state", "next_attempt_at"])]
        ordering = ["-submitted_at"]

    def __str__(self) -> str:
        return self.tracking_code

    @property
    def is_open(self) -> bool:
        return self.state not in (State.ISSUED, State.REJECTED, State.CLOSED)

    @property
    def overdue(self) -> bool:
        end = self.completed_at or timezone.now()
        return end > self.due_at


class JourneyEvent(models.Model):
    class Kind(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        STATE = "state", _("State changed")
        DATA_REQUESTED = "data_requested", _("Data requested")
        DATA_RECEIVED = "data_received", _("Data received")
        PROVIDER_FAILED = "provider_failed", _("Registry did not answer")
        INCOMPLETE = "incomplete", _("Incomplete record")
        DECIDED = "decided", _("Decided")
        ASSIGNED = "assigned", _("Assigned to an officer")
        ISSUED = "issued", _("Document issued")
        NOTIFIED = "notified", _("Notified")
        RATED = "rated", _("Rated")
        REVOKED = "revoked", _("Document revoked")
        PAYMENT = "payment", _("Payment")
        REFUND = "refund", _("Refund")

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    from_state = models.CharField(max_length=24, blank=True)
    to_state = models.CharField(max_length=24, blank=True)
    text_fa = models.CharField(max_length=500, blank=True)
    text_en = models.CharField(max_length=500, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.application_id} {self.kind}"


class FetchedData(models.Model):
    """The answer of one registry call of one application (the engine's durable progress)."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="fetched")
    name = models.CharField(max_length=60)
    found = models.BooleanField(default=True)
    record = models.JSONField(default=dict)
    message_id = models.CharField(max_length=100, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["application", "name"], name="services_fetched_once")
        ]

    def __str__(self) -> str:
        return f"{self.application_id} {self.name}"


class AgencyKey(models.Model):
    """An agency's key pair. The private half is encrypted at rest (see ``keys.py``)."""

    class Use(models.TextChoices):
        SIGN = "sign", _("Document signing")
        EXCHANGE = "exchange", _("Exchange client assertions")

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="+")
    use = models.CharField(max_length=10, choices=Use.choices)
    kid = models.CharField(max_length=100, unique=True)
    public_jwk = models.JSONField()
    private_encrypted = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    active = models.BooleanField(default=True)  # the one that signs; retired keys stay published

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.kid


class Document(models.Model):
    application = models.OneToOneField(
        Application, on_delete=models.PROTECT, related_name="document"
    )
    number = models.CharField(max_length=40, unique=True)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    kid = models.CharField(max_length=100)
    token = models.TextField()
    issued_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revocation_reason = models.CharField(max_length=300, blank=True)

    def __str__(self) -> str:
        return self.number


class Receipt(models.Model):
    """The signed receipt of an application's paid fee (one per payment): a JWS of the
    collecting agency like a document's, verifiable on the public page, with a PDF."""

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="receipts")
    payment_reference = models.CharField(max_length=20, unique=True)
    number = models.CharField(max_length=40, unique=True)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    amount = models.PositiveBigIntegerField()
    kid = models.CharField(max_length=100, blank=True)
    token = models.TextField(blank=True)
    issued_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-issued_at", "-pk"]

    def __str__(self) -> str:
        return self.number


class BirthWatch(models.Model):
    """When each citizen's hospital births were last polled through the exchange (the
    proactive birth certificate, ``services.proactive``)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    polled_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.user_id} polled {self.polled_at:%Y-%m-%d %H:%M}"


class Upload(models.Model):
    """A file the applicant gave with an application (a human-path service's ``uploads``).

    The bytes are in the uploads storage (``services.uploads.storage``) under ``stored_name``,
    a random name; the type is the one its content shows (PDF, JPEG or PNG), never the name or
    the browser's word. Only the applicant and the agency's staff open it
    (``services.uploads.open_upload``)."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="uploads")
    code = models.CharField(max_length=60)  # the definition's upload code
    stored_name = models.CharField(max_length=200, unique=True)
    original_name = models.CharField(max_length=200, blank=True)
    content_type = models.CharField(max_length=40)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["application", "code"], name="services_upload_once")
        ]
        ordering = ["application", "pk"]

    def __str__(self) -> str:
        return f"{self.application_id} {self.code}"
