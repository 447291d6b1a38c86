"""Facts of the catalogue: agencies and service identity cards, with every version kept.

The current state lives on :class:`Agency` and :class:`Service` for fast reads; every change
also appends an immutable :class:`AgencyVersion` / :class:`ServiceVersion` row (full snapshot plus
the columns that counts need), so any count can be recomputed "as of" a date. Writes go through
:mod:`panjereh.catalogue.operations`, which enforces the rules of the law and records the version.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .vocab import (
    AgencyKind,
    ConnectionForm,
    ConnectionStatus,
    ElectronificationLevel,
    Scope,
    ServiceLevel,
    SmartStatus,
)


class Agency(models.Model):
    """An executive agency (دستگاه اجرایی) or another body connected to the national window."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    name_fa = models.CharField(_("Persian name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("parent"),
    )
    kind = models.CharField(_("kind"), max_length=30, choices=AgencyKind.choices)
    in_scope = models.BooleanField(
        _("one of the executive agencies in scope"),
        default=True,
        help_text=_("Counted among the executive agencies of the national window (186 in 1404)."),
    )
    connection_status = models.CharField(
        _("connection status"),
        max_length=20,
        choices=ConnectionStatus.choices,
        default=ConnectionStatus.NOT_CONNECTED,
    )
    connection_reason = models.TextField(_("reason"), blank=True)
    connection_evidence = models.CharField(_("evidence"), max_length=300, blank=True)
    connection_form = models.CharField(
        _("connection form"), max_length=20, choices=ConnectionForm.choices, blank=True, default=""
    )
    own_window_url = models.URLField(_("own agency window"), blank=True)
    sso_integrated = models.BooleanField(_("uses national single sign-on"), default=False)
    member_class = models.CharField(_("exchange member class"), max_length=10, default="GOV")
    member_code = models.CharField(_("exchange member code"), max_length=40, blank=True)
    search_key = models.TextField(editable=False, default="")
    version = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")
        ordering = ["name_fa"]
        constraints = [
            models.UniqueConstraint(
                fields=["member_class", "member_code"],
                condition=~models.Q(member_code=""),
                name="agency_member_unique",
            )
        ]

    def __str__(self) -> str:
        return self.name_fa

    @property
    def has_own_window(self) -> bool:
        return bool(self.own_window_url)


class Service(models.Model):
    """A service identity card (شناسنامه خدمت), its current version."""

    service_id = models.CharField(
        _("service ID"),
        max_length=10,
        unique=True,
        null=True,
        blank=True,
        help_text=_("Ten digits, the last a check digit; assigned by AEO."),
    )
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="services", verbose_name=_("agency")
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("parent service"),
    )
    level = models.CharField(
        _("level"), max_length=10, choices=ServiceLevel.choices, default=ServiceLevel.SERVICE
    )
    title_fa = models.CharField(_("Persian title"), max_length=300)
    title_en = models.CharField(_("English title"), max_length=300, blank=True)
    description_fa = models.TextField(_("Persian description"), blank=True)
    description_en = models.TextField(_("English description"), blank=True)
    recipients = models.JSONField(_("recipients"), default=list, blank=True)
    category = models.CharField(_("category"), max_length=20, default="other")
    life_events = models.JSONField(_("life events"), default=list, blank=True)
    channels = models.JSONField(_("channels"), default=list, blank=True)
    scope = models.CharField(
        _("scope"), max_length=20, choices=Scope.choices, default=Scope.CONNECTABLE
    )
    exemption_reason = models.TextField(_("exemption reason"), blank=True)
    exemption_document = models.CharField(
        _("exemption justification document"), max_length=300, blank=True
    )
    connected = models.BooleanField(_("connected to the national window"), default=False)
    connection_form = models.CharField(
        _("connection form"), max_length=20, choices=ConnectionForm.choices, blank=True, default=""
    )
    electronification_level = models.PositiveSmallIntegerField(
        _("electronification level"),
        choices=ElectronificationLevel.choices,
        default=ElectronificationLevel.NONE,
    )
    smart_status = models.CharField(
        _("smart status"), max_length=12, choices=SmartStatus.choices, default=SmartStatus.NONE
    )
    min_assurance_level = models.PositiveSmallIntegerField(_("minimum assurance level"), default=2)
    fee = models.PositiveBigIntegerField(_("fee (rials)"), default=0)
    target_minutes = models.PositiveIntegerField(_("target time (minutes)"), null=True, blank=True)
    inputs = models.JSONField(_("inputs"), default=list, blank=True)
    documents_required = models.JSONField(_("documents asked for"), default=list, blank=True)
    in_person_steps = models.JSONField(_("in-person steps"), default=list, blank=True)
    online_url = models.URLField(_("where to get it online"), blank=True)
    search_key = models.TextField(editable=False, default="")
    version = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("service identity card")
        verbose_name_plural = _("service identity cards")
        ordering = ["agency_id", "service_id"]
        indexes = [
            models.Index(fields=["agency", "scope", "connected"]),
            models.Index(fields=["smart_status"]),
        ]

    def __str__(self) -> str:
        return f"{self.service_id or '—'} {self.title_fa}"

    @property
    def is_smart(self) -> bool:
        return self.smart_status == SmartStatus.APPROVED


class AgencyVersion(models.Model):
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    valid_from = models.DateTimeField(db_index=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)
    data = models.JSONField()
    # Columns copied from ``data`` so that "as of" counts are plain SQL.
    in_scope = models.BooleanField()
    connection_status = models.CharField(max_length=20)
    has_own_window = models.BooleanField()
    sso_integrated = models.BooleanField()

    class Meta:
        ordering = ["agency_id", "version"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "version"], name="agency_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.agency_id} v{self.version}"


class ServiceVersion(models.Model):
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    valid_from = models.DateTimeField(db_index=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)
    data = models.JSONField()
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="+")
    has_id = models.BooleanField()
    scope = models.CharField(max_length=20)
    connected = models.BooleanField()
    smart_status = models.CharField(max_length=12)

    class Meta:
        ordering = ["service_id", "version"]
        constraints = [
            models.UniqueConstraint(fields=["service", "version"], name="service_version_unique")
        ]
        indexes = [models.Index(fields=["service", "valid_from"])]

    def __str__(self) -> str:
        return f"{self.service_id} v{self.version}"


class AgencyRole(models.TextChoices):
    ADMIN = "admin", _("Agency administrator")
    EDITOR = "editor", _("Agency editor")
    VIEWER = "viewer", _("Agency viewer")


class AgencyMembership(models.Model):
    """A staff user who works for an agency. Agency admins edit only their agency's cards."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agency_memberships"
    )
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=AgencyRole.choices, default=AgencyRole.EDITOR)

    class Meta:
        verbose_name = _("agency membership")
        verbose_name_plural = _("agency memberships")
        constraints = [models.UniqueConstraint(fields=["user", "agency"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.agency} ({self.role})"


class OnceOnlyJustification(models.Model):
    """Why a card may ask for something a base registry holds (Art. 107(ح) of the 7th Plan).

    Recorded by :func:`panjereh.catalogue.operations.record_once_only_justification` only, and
    never changed: a new reason for the same card and registry item is a new row with the next
    ``version``; the latest one stands. A connected (published) card may not take on a
    registry-held document or datum without one.
    """

    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, related_name="once_only_justifications"
    )
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="+")
    item = models.CharField(_("registry item"), max_length=60)
    version = models.PositiveIntegerField()
    asked = models.CharField(_("what the card asks for"), max_length=300)
    reason_fa = models.TextField(_("justification (Persian)"))
    reason_en = models.TextField(_("justification (English)"), blank=True)
    legal_basis = models.CharField(_("legal basis cited"), max_length=300)
    service_version = models.PositiveIntegerField(_("card version"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), db_index=True)

    class Meta:
        verbose_name = _("once-only justification")
        verbose_name_plural = _("once-only justifications")
        ordering = ["service_id", "item", "version"]
        constraints = [
            models.UniqueConstraint(
                fields=["service", "item", "version"], name="once_only_justification_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.service_id} {self.item} v{self.version}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("A once-only justification is never changed; record a new one.")
        super().save(*args, **kwargs)
