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
