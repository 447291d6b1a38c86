"""The permits catalogue: who issues which permit, on which conditions, and what was removed.

A :class:`PermitType` is the public identity of a permit (a stable ``public_id``); what it
asks for lives in :class:`PermitVersion` rows, each with its own :class:`Condition` rows.
Editing never changes a published version: it drafts a new one, and publishing it supersedes
the old one, which stays as history. The deregulation register (:class:`RemovedCondition`,
each with the :class:`Resolution` that removed it) is what a new version may not bring back;
every refused attempt is kept (:class:`ReintroductionAttempt`) and shown publicly.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PermitKind(models.TextChoices):
    HOME_BUSINESS = "home_business", _("Home business")
    GUILD = "guild", _("Guild")
    AGENCY = "agency", _("Agency")


class ConditionKind(models.TextChoices):
    DOCUMENT = "document", _("Document")
    FEE = "fee", _("Fee")
    TIME = "time", _("Time")
    INSPECTION = "inspection", _("Inspection")
    ELIGIBILITY = "eligibility", _("Eligibility")


class VersionState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    SUPERSEDED = "superseded", _("Superseded")


class RemovalBody(models.TextChoices):
    DEREGULATION_BOARD = "deregulation_board", _("Deregulation Board")
    BUSINESS_BOARD = "business_board", _("Supreme Board for Supervising the Business Environment")
    CABINET = "cabinet", _("Cabinet")


class IssuingAuthority(models.Model):
    """A body that issues permits: a guild union's chamber, a ministry, a professional order.

    ``agency`` links to the service catalogue's agency where the body is one (its staff then
    edit its permits through their agency membership); a body outside the catalogue has none
    and only the platform's operators can act for it."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    name_fa = models.CharField(_("Persian name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    agency = models.ForeignKey(
        "catalogue.Agency",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("agency in the service catalogue"),
    )
    # The authority's specialised portal (``panjereh.portals``: behinyab, heritage, health);
    # empty: the authority decides its approval-based permits in the window itself.
    portal = models.CharField(_("specialised portal"), max_length=30, blank=True)

    class Meta:
        ordering = ["name_fa"]
        verbose_name = _("issuing authority")
        verbose_name_plural = _("issuing authorities")

    def __str__(self) -> str:
        return self.name_fa


class PermitType(models.Model):
    """A permit's public identity. The title, summary and timings shown are those of its
    published version, copied here when it is published so the catalogue reads one row."""

    public_id = models.CharField(_("permit ID"), max_length=10, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=PermitKind.choices, db_index=True)
    authority = models.ForeignKey(
        IssuingAuthority, on_delete=models.PROTECT, related_name="permit_types"
    )
    activity_code = models.CharField(_("activity code (ISIC)"), max_length=10, blank=True)
    title_fa = models.CharField(_("Persian title"), max_length=300)
    title_en = models.CharField(_("English title"), max_length=300, blank=True)
    summary_fa = models.TextField(_("Persian summary"), blank=True)
    summary_en = models.TextField(_("English summary"), blank=True)
    registration_based = models.BooleanField(_("registration-based"), default=False)
    legal_days = models.PositiveSmallIntegerField(_("legal time (days)"), default=0)
    # The permit's name at the authority's specialised portal (its ``permit_type``).
    portal_type = models.CharField(max_length=40, blank=True)
    published_version = models.ForeignKey(
        "PermitVersion", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["public_id"]
        verbose_name = _("permit type")
        verbose_name_plural = _("permit types")

    def __str__(self) -> str:
        return f"{self.public_id} {self.title_fa}"


class PermitVersion(models.Model):
    """One wording of a permit: a draft, the published one, or a superseded one (history)."""

    permit = models.ForeignKey(PermitType, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    state = models.CharField(
        max_length=12, choices=VersionState.choices, default=VersionState.DRAFT
    )
    title_fa = models.CharField(_("Persian title"), max_length=300)
    title_en = models.CharField(_("English title"), max_length=300, blank=True)
    summary_fa = models.TextField(_("Persian summary"), blank=True)
    summary_en = models.TextField(_("English summary"), blank=True)
    registration_based = models.BooleanField(_("registration-based"), default=False)
    legal_days = models.PositiveSmallIntegerField(_("legal time (days)"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["permit_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["permit", "number"], name="permit_version_number"),
            # One published and one draft at a time; superseded ones are history.
            models.UniqueConstraint(
                fields=["permit"], condition=Q(state="published"), name="permit_one_published"
            ),
            models.UniqueConstraint(
                fields=["permit"], condition=Q(state="draft"), name="permit_one_draft"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.permit_id} v{self.number} ({self.state})"


class Condition(models.Model):
    """One condition of one version, with the law that allows asking it."""

    version = models.ForeignKey(PermitVersion, on_delete=models.CASCADE, related_name="conditions")
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=12, choices=ConditionKind.choices)
    text_fa = models.CharField(_("Persian text"), max_length=500)
    text_en = models.CharField(_("English text"), max_length=500, blank=True)
    basis_fa = models.CharField(_("legal basis (Persian)"), max_length=300, blank=True)
    basis_en = models.CharField(_("legal basis (English)"), max_length=300, blank=True)
    # The register's key when the condition is one the register knows (e.g. a version written
    # before the removal); empty for the rest.
    register_key = models.CharField(max_length=60, blank=True, db_index=True)

    class Meta:
        ordering = ["version_id", "position", "id"]

    def __str__(self) -> str:
        return self.text_fa


class Resolution(models.Model):
    """A resolution that removed conditions (Deregulation Board, cabinet, …)."""

    body = models.CharField(max_length=30, choices=RemovalBody.choices)
    number = models.CharField(_("number"), max_length=40)
    date = models.DateField(_("date"))
    title_fa = models.CharField(_("Persian title"), max_length=300, blank=True)
    title_en = models.CharField(_("English title"), max_length=300, blank=True)

    class Meta:
        ordering = ["-date", "number"]
        constraints = [
            models.UniqueConstraint(fields=["body", "number"], name="resolution_body_number")
        ]

    def __str__(self) -> str:
        return f"{self.get_body_display()} {self.number}"


class RemovedCondition(models.Model):
    """A requirement removed by a resolution; no permit may ask it again, however reworded.

    ``phrases`` are the wordings (and synonyms) the register knows it by, in any language;
    :mod:`.matching` reduces each to a key of words and refuses a condition that holds every
    word of one of them."""

    key = models.SlugField(max_length=60, unique=True)
    kind = models.CharField(max_length=12, choices=ConditionKind.choices)
    wording_fa = models.CharField(_("Persian wording"), max_length=300)
    wording_en = models.CharField(_("English wording"), max_length=300, blank=True)
    phrases = models.JSONField(_("key phrases"), default=list)
    resolution = models.ForeignKey(Resolution, on_delete=models.PROTECT, related_name="removals")
    permit_types = models.ManyToManyField(PermitType, related_name="removed_conditions", blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.wording_fa


class ReintroductionAttempt(models.Model):
    """A refused try to bring a removed condition back (kept even though nothing changed)."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    authority = models.ForeignKey(
        IssuingAuthority, on_delete=models.CASCADE, related_name="attempts"
    )
    # Empty when the attempt was a new permit type, refused before it existed.
    permit = models.ForeignKey(
        PermitType, on_delete=models.CASCADE, null=True, blank=True, related_name="attempts"
    )
    permit_title = models.CharField(max_length=300)
    version = models.ForeignKey(
        PermitVersion, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    condition_text = models.CharField(max_length=500)
    removed = models.ForeignKey(RemovedCondition, on_delete=models.PROTECT, related_name="attempts")
    refused = models.BooleanField(default=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.permit_title}: {self.condition_text}"


# ---------------------------------------------------------------------------------------------
# Applications, the trace, issued permits and their ratings (issue 16, parts 4-6).
#
# An application is registered in the window first (the law: "register first, then route").
# A registration-based permit is issued at once; an approval-based one is handed to the
# issuing authority's specialised portal (``IssuingAuthority.portal``), and every hand-off and
# every move the portal reports is a :class:`TraceEvent`. An issued permit has a unique
# ``number`` (the permit ID printed with its QR code), a signed document, a public page, a
# status history (:class:`PermitEvent`) and customers' ratings.
# ---------------------------------------------------------------------------------------------


class ApplicationState(models.TextChoices):
    AWAITING_PAYMENT = "awaiting_payment", _("Waiting for the fee to be paid")
    ROUTING = "routing", _("Being sent to the issuing authority")
    AT_PORTAL = "at_portal", _("Received by the issuing authority")
    UNDER_REVIEW = "under_review", _("Under review")
    INFORMATION_REQUESTED = "information_requested", _("More information requested")
    INSPECTION_SCHEDULED = "inspection_scheduled", _("Site inspection scheduled")
    ISSUED = "issued", _("Permit issued")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


OPEN_APPLICATION_STATES = (
    ApplicationState.AWAITING_PAYMENT,
    ApplicationState.ROUTING,
    ApplicationState.AT_PORTAL,
    ApplicationState.UNDER_REVIEW,
    ApplicationState.INFORMATION_REQUESTED,
    ApplicationState.INSPECTION_SCHEDULED,
)


class PermitApplication(models.Model):
    """One request for a permit, registered in the window, by a person for themselves or for a
    company (the profile switch). ``reference`` is the window's identifier, sent to the
    specialised portal as its idempotency key."""

    reference = models.CharField(_("tracking code"), max_length=20, unique=True)
    permit = models.ForeignKey(PermitType, on_delete=models.PROTECT, related_name="applications")
    version = models.ForeignKey(PermitVersion, on_delete=models.PROTECT, related_name="+")
    authority = models.ForeignKey(
        IssuingAuthority, on_delete=models.PROTECT, related_name="applications"
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="permit_applications"
    )
    company = models.ForeignKey(
        "identity.LegalPerson",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("on behalf of"),
    )
    title = models.CharField(_("business name"), max_length=200)
    details = models.JSONField(default=dict, blank=True)
    state = models.CharField(
        max_length=24, choices=ApplicationState.choices, default=ApplicationState.ROUTING
    )
    fee_rials = models.PositiveBigIntegerField(default=0)
    submitted_at = models.DateTimeField(default=timezone.now, db_index=True)
    # The legal time runs from submission; ``due_by`` = submitted_at + the version's legal days.
    due_by = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    # Routing: the portal's code (copied from the authority when sent), the sending attempts
    # and when to try again; the last error in plain words for the trace.
    portal = models.CharField(max_length=30, blank=True)
    send_attempts = models.PositiveSmallIntegerField(default=0)
    next_try_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    portal_state = models.CharField(max_length=40, blank=True)
    portal_updated_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    requested = models.TextField(_("information requested"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("permit application")
        verbose_name_plural = _("permit applications")
        indexes = [
            models.Index(fields=["applicant", "-submitted_at"], name="permit_app_applicant"),
            models.Index(fields=["company", "-submitted_at"], name="permit_app_company"),
            models.Index(fields=["authority", "state"], name="permit_app_authority_state"),
            models.Index(
                fields=["next_try_at"],
                condition=Q(state="routing"),
                name="permit_app_to_send",
            ),
        ]

    def __str__(self) -> str:
        return self.reference


class TraceSource(models.TextChoices):
    WINDOW = "window", _("The window")
    PORTAL = "portal", _("The specialised portal")


class TraceEvent(models.Model):
    """One step of an application's trace: what the window did (registered, sent, could not
    reach the portal, issued) or what the portal reported (received, under review, …).
    ``portal_event_id`` is the portal's event ``id``; unique, so an event read twice (feed and
    webhook, or a retry) is recorded once."""

    application = models.ForeignKey(
        PermitApplication, on_delete=models.CASCADE, related_name="trace"
    )
    at = models.DateTimeField(default=timezone.now)
    recorded_at = models.DateTimeField(auto_now_add=True)
    source = models.CharField(max_length=10, choices=TraceSource.choices)
    kind = models.CharField(max_length=40)
    portal_event_id = models.CharField(max_length=80, null=True, blank=True, unique=True)
    detail = models.JSONField(default=dict, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["application_id", "at", "id"]

    def __str__(self) -> str:
        return f"{self.application_id} {self.kind}"


class PortalLink(models.Model):
    """The window's reading of one specialised portal: the feed cursor kept once a page is
    processed, and the portal's health as the window saw it (shown per authority)."""

    portal = models.CharField(max_length=30, unique=True)
    cursor = models.CharField(max_length=40, blank=True)
    last_ok_at = models.DateTimeField(null=True, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    failures = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return self.portal


class PermitStatus(models.TextChoices):
    VALID = "valid", _("Valid")
    SUSPENDED = "suspended", _("Suspended")
    REVOKED = "revoked", _("Revoked")
    CANCELLED = "cancelled", _("Cancelled by the holder")
    EXPIRED = "expired", _("Expired")


class IssuedPermit(models.Model):
    """A permit as issued: the permit ID (``number``, on the document and in its QR code),
    the holder (a person, or a company with the person who applied), validity and status.
    ``token`` is the signed document (JWS by the authority's agency key, or the platform's)."""

    number = models.CharField(_("permit ID"), max_length=16, unique=True)
    permit = models.ForeignKey(PermitType, on_delete=models.PROTECT, related_name="issued")
    authority = models.ForeignKey(IssuingAuthority, on_delete=models.PROTECT, related_name="issued")
    application = models.OneToOneField(
        PermitApplication,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="issued_permit",
    )
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="permits_held",
    )
    company = models.ForeignKey(
        "identity.LegalPerson", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    holder_name = models.CharField(_("holder"), max_length=300)
    business_name = models.CharField(_("business name"), max_length=200, blank=True)
    province = models.CharField(_("province"), max_length=60, blank=True)
    status = models.CharField(
        max_length=12, choices=PermitStatus.choices, default=PermitStatus.VALID, db_index=True
    )
    issued_at = models.DateTimeField(default=timezone.now, db_index=True)
    valid_from = models.DateField()
    valid_until = models.DateField(null=True, blank=True)
    portal_number = models.CharField(max_length=40, blank=True)
    token = models.TextField(blank=True)
    kid = models.CharField(max_length=80, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = _("issued permit")
        verbose_name_plural = _("issued permits")
        indexes = [
            models.Index(fields=["holder", "-issued_at"], name="issued_holder"),
            models.Index(fields=["company", "-issued_at"], name="issued_company"),
            models.Index(fields=["authority", "status"], name="issued_authority_status"),
        ]

    def __str__(self) -> str:
        return self.number


class PermitEventKind(models.TextChoices):
    ISSUED = "issued", _("Issued")
    AMENDED = "amended", _("Amended")
    RENEWED = "renewed", _("Renewed")
    SUSPENDED = "suspended", _("Suspended")
    REINSTATED = "reinstated", _("Suspension lifted")
    REVOKED = "revoked", _("Revoked")
    CANCELLED = "cancelled", _("Cancelled by the holder")
    EXPIRED = "expired", _("Expired")


class PermitEvent(models.Model):
    """One step of an issued permit's public history."""

    issued = models.ForeignKey(IssuedPermit, on_delete=models.CASCADE, related_name="history")
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=12, choices=PermitEventKind.choices)
    from_status = models.CharField(max_length=12, blank=True)
    to_status = models.CharField(max_length=12, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.TextField(blank=True)
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["issued_id", "at", "id"]

    def __str__(self) -> str:
        return f"{self.issued_id} {self.kind}"


class HolderRating(models.Model):
    """A customer's rating of a permit holder, given from the public permit page: one per
    person per permit per ``period`` (a Jalali quarter, e.g. ``1405-3``). ``hidden`` is set by
    the abuse controls (a moderator, or too many ratings from one person); hidden ratings do
    not count. The holder may answer once (``answer``)."""

    issued = models.ForeignKey(IssuedPermit, on_delete=models.CASCADE, related_name="ratings")
    rater = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="holder_ratings"
    )
    period = models.CharField(max_length=8)
    stars = models.PositiveSmallIntegerField()
    comment = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    hidden = models.BooleanField(default=False)
    answer = models.TextField(blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["issued", "rater", "period"], name="holder_rating_once_per_period"
            ),
            models.CheckConstraint(
                condition=Q(stars__gte=1) & Q(stars__lte=5), name="holder_rating_stars_1_5"
            ),
        ]
        indexes = [models.Index(fields=["rater", "-created_at"], name="holder_rating_rater")]

    def __str__(self) -> str:
        return f"{self.issued_id} {self.stars}"
