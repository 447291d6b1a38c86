"""The status page's facts: monitored systems, their checks (raw and rolled up per day) and
incidents with their timelines.

Incidents change state only through :mod:`panjereh.status.incidents`, which writes an
:class:`IncidentUpdate` for every change, so the public timeline is the history itself.
"""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SystemKind(models.TextChoices):
    NATIONAL_WINDOW = "national_window", _("National window")
    EXCHANGE = "exchange", _("Exchange gateway")
    REGISTRY = "registry", _("Registry")
    AGENCY_WINDOW = "agency_window", _("Agency window")


KIND_ORDER = [k.value for k in SystemKind]


class Source(models.TextChoices):
    SYNC = "sync", _("Found by the monitor")
    OPERATOR = "operator", _("Added by an operator")


class System(models.Model):
    """A system the status page watches: one URL that is checked every round."""

    key = models.SlugField(_("key"), max_length=120, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=SystemKind.choices)
    name_fa = models.CharField(_("Persian name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    check_url = models.URLField(_("check address"), max_length=300)
    # None: any 2xx/3xx answer is healthy; otherwise exactly this status (a registry answers
    # 404 "no such record" to the probe's made-up key, which proves its data path works).
    expect_status = models.PositiveSmallIntegerField(
        _("expected HTTP status"), null=True, blank=True
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    source = models.CharField(
        _("source"), max_length=10, choices=Source.choices, default=Source.OPERATOR
    )
    # The address the monitor derived last time: when check_url still equals it, the next sync
    # may update it; an operator's own address is left alone.
    derived_url = models.URLField(max_length=300, blank=True, editable=False)
    # Set when the system left its source (the monitor disabled it); cleared when it comes back.
    missing_since = models.DateTimeField(null=True, blank=True, editable=False)
    # The current state, kept on the row so the page reads one table: written with each check.
    last_checked_at = models.DateTimeField(
        _("last checked at"), null=True, blank=True, editable=False
    )
    last_ok = models.BooleanField(null=True, editable=False)
    last_latency_ms = models.PositiveIntegerField(null=True, editable=False)
    last_error = models.CharField(max_length=200, blank=True, editable=False)
    failures_in_row = models.PositiveIntegerField(default=0, editable=False)
    successes_in_row = models.PositiveIntegerField(default=0, editable=False)
    # The first failed (or first successful) check of the current run: an incident's start
    # (or end) is that check's time, not the time the threshold was reached.
    run_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("monitored system")
        verbose_name_plural = _("monitored systems")
        ordering = ["kind", "name_en", "key"]

    def __str__(self) -> str:
        return self.name_en or self.name_fa

    def is_healthy(self, status: int | None) -> bool:
        if status is None:
            return False
        if self.expect_status is not None:
            return status == self.expect_status
        return 200 <= status < 400


class Check(models.Model):
    """One probe of one system. Kept ``RAW_DAYS`` days, then only in :class:`DailyRollup`."""

    system = models.ForeignKey(System, on_delete=models.CASCADE, related_name="checks")
    at = models.DateTimeField(db_index=True)
    ok = models.BooleanField()
    latency_ms = models.PositiveIntegerField()
    http_status = models.PositiveSmallIntegerField(null=True)
    error = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [models.Index(fields=["system", "at"])]
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.system_id} {self.at:%Y-%m-%d %H:%M:%S} {'ok' if self.ok else 'failed'}"


class DailyRollup(models.Model):
    """The checks of one system on one (Tehran) day, counted once the day is over."""

    system = models.ForeignKey(System, on_delete=models.CASCADE, related_name="rollups")
    day = models.DateField()
    checks = models.PositiveIntegerField(default=0)
    ok_checks = models.PositiveIntegerField(default=0)
    slow_checks = models.PositiveIntegerField(default=0)
    latency_ms_sum = models.PositiveBigIntegerField(default=0)
    latency_ms_max = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["system", "day"], name="status_rollup_unique")
        ]
        indexes = [models.Index(fields=["day"])]

    def __str__(self) -> str:
        return f"{self.system_id} {self.day} {self.ok_checks}/{self.checks}"


class IncidentState(models.TextChoices):
    OPEN = "open", _("Ongoing")
    RESOLVED = "resolved", _("Resolved")


class IncidentKind(models.TextChoices):
    OUTAGE = "outage", _("Outage (detected by the monitor)")
    MAINTENANCE = "maintenance", _("Maintenance (announced by an operator)")
    OPERATOR = "operator", _("Problem reported by an operator")


# The one table of allowed transitions (a resolved incident may be reopened by an operator).
TRANSITIONS: dict[str, set[str]] = {
    IncidentState.OPEN: {IncidentState.RESOLVED},
    IncidentState.RESOLVED: {IncidentState.OPEN},
}


class Incident(models.Model):
    """A period in which a system was down (or under maintenance), with an id to quote."""

    public_id = models.CharField(_("incident id"), max_length=20, unique=True, editable=False)
    year = models.PositiveSmallIntegerField(editable=False)  # Jalali year of the start
    seq = models.PositiveIntegerField(editable=False)
    system = models.ForeignKey(
        System, on_delete=models.PROTECT, related_name="incidents", verbose_name=_("system")
    )
    kind = models.CharField(
        _("kind"), max_length=12, choices=IncidentKind.choices, default=IncidentKind.OUTAGE
    )
    state = models.CharField(
        _("state"), max_length=10, choices=IncidentState.choices, default=IncidentState.OPEN
    )
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    title_fa = models.CharField(_("Persian title"), max_length=200, blank=True)
    title_en = models.CharField(_("English title"), max_length=200, blank=True)
    note_fa = models.TextField(_("Persian note"), blank=True)
    note_en = models.TextField(_("English note"), blank=True)
    # What the first failed check saw ("HTTP 503", "connection refused"): no personal data.
    first_error = models.CharField(_("first error"), max_length=200, blank=True, editable=False)
    failed_checks = models.PositiveIntegerField(_("failed checks"), default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(fields=["year", "seq"], name="status_incident_number"),
            models.CheckConstraint(
                condition=models.Q(ended_at__isnull=True)
                | models.Q(ended_at__gte=models.F("started_at")),
                name="status_incident_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["state", "system"])]

    def __str__(self) -> str:
        return self.public_id or "(new incident)"

    @property
    def is_open(self) -> bool:
        return self.state == IncidentState.OPEN

    @property
    def duration(self) -> dt.timedelta:
        return (self.ended_at or timezone.now()) - self.started_at


class IncidentUpdate(models.Model):
    """One entry of an incident's public timeline."""

    class Kind(models.TextChoices):
        OPENED = "opened", _("Opened")
        RESOLVED = "resolved", _("Resolved")
        REOPENED = "reopened", _("Reopened")
        NOTE = "note", _("Update")

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="updates")
    at = models.DateTimeField(_("at"), default=timezone.now)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.NOTE)
    text_fa = models.TextField(_("Persian text"), blank=True)
    text_en = models.TextField(_("English text"), blank=True)

    class Meta:
        verbose_name = _("incident update")
        verbose_name_plural = _("incident updates")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.incident_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"
