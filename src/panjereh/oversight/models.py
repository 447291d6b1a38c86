"""Oversight facts: legal obligations and their due instances, the yearly smartening plans,
agencies' monthly progress reports, and evaluation rounds with stored scores.

Obligation instances and smartening plans are state machines: the allowed transitions are
declared next to the model, the services in :mod:`.obligations` and :mod:`.cycle` are the only
writers, and every transition appends an event row (who, when, from, to, note).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Instrument(models.Model):
    """A law, bylaw or resolution that imposes obligations."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    title_fa = models.CharField(_("Persian title"), max_length=300)
    authority = models.CharField(_("authority"), max_length=100)
    notified = models.DateField(_("notified on"), null=True, blank=True)

    class Meta:
        verbose_name = _("legal instrument")
        verbose_name_plural = _("legal instruments")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.title_fa


class Trigger(models.Model):
    """A dated event that relative deadlines count from (e.g. a bylaw's notification)."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    occurred_on = models.DateField(_("occurred on"), null=True, blank=True)

    class Meta:
        verbose_name = _("deadline trigger")
        verbose_name_plural = _("deadline triggers")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class DeadlineKind(models.TextChoices):
    ABSOLUTE = "absolute", _("On a fixed date")
    RELATIVE = "relative", _("Within a period of a trigger")
    RECURRING = "recurring", _("Recurring")
    PER_CASE = "per_case", _("Within a period of each case")
    NONE = "none", _("No deadline set")


class Recurrence(models.TextChoices):
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")
    SIX_MONTHLY = "six_monthly", _("Every six months")
    YEARLY = "yearly", _("Yearly")


RECURRENCE_MONTHS = {
    Recurrence.MONTHLY: 1,
    Recurrence.QUARTERLY: 3,
    Recurrence.SIX_MONTHLY: 6,
    Recurrence.YEARLY: 12,
}


class Obligation(models.Model):
    key = models.CharField(_("key"), max_length=80, unique=True)
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="obligations")
    reference = models.CharField(_("article or row"), max_length=60, blank=True)
    reference_fa = models.CharField(_("article or row (Persian)"), max_length=80, blank=True)
    duty_fa = models.TextField(_("duty (Persian)"))
    duty_en = models.TextField(_("duty (English)"))
    responsible = models.JSONField(_("responsible bodies"), default=list)
    deadline_kind = models.CharField(
        _("deadline kind"), max_length=12, choices=DeadlineKind.choices
    )
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    trigger = models.ForeignKey(
        Trigger, null=True, blank=True, on_delete=models.PROTECT, related_name="obligations"
    )
    relative_months = models.PositiveSmallIntegerField(null=True, blank=True)
    relative_days = models.PositiveSmallIntegerField(null=True, blank=True)
    trigger_event = models.CharField(
        _("per-case trigger"), max_length=60, blank=True, help_text=_("e.g. proposal_received")
    )
    recurrence = models.CharField(
        _("recurrence"), max_length=12, choices=Recurrence.choices, blank=True
    )
    target = models.JSONField(_("target"), default=dict, blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("obligation")
        verbose_name_plural = _("obligations")
        ordering = ["order"]

    def __str__(self) -> str:
        return f"{self.key}: {self.duty_en[:60]}"


class DueStatus(models.TextChoices):
    OPEN = "open", _("Open")
    MET = "met", _("Met")
    MISSED = "missed", _("Missed")
    WAIVED = "waived", _("Waived")


# The state machine of a due instance. "Missed" may still be met late (the event keeps the
# record that it was missed); a waiver always needs a reason.
DUE_TRANSITIONS: dict[str, set[str]] = {
    DueStatus.OPEN: {DueStatus.MET, DueStatus.MISSED, DueStatus.WAIVED},
    DueStatus.MISSED: {DueStatus.MET, DueStatus.WAIVED},
    DueStatus.MET: set(),
    DueStatus.WAIVED: set(),
}


class DueInstance(models.Model):
    """One occurrence of an obligation that falls due: the single one of a one-off duty, or
    one period of a recurring duty. ``due_on`` is null while its trigger has not happened."""

    obligation = models.ForeignKey(Obligation, on_delete=models.CASCADE, related_name="instances")
    period = models.CharField(_("period"), max_length=20, default="once")
    due_on = models.DateField(_("due on"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=DueStatus.choices, default=DueStatus.OPEN
    )
    evidence = models.TextField(_("evidence"), blank=True)
    reason = models.TextField(_("reason"), blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("due instance")
        verbose_name_plural = _("due instances")
        ordering = ["due_on", "obligation__order"]
        constraints = [
            models.UniqueConstraint(fields=["obligation", "period"], name="due_instance_unique")
        ]

    def __str__(self) -> str:
        return f"{self.obligation.key} [{self.period}]"


class DueEvent(models.Model):
    instance = models.ForeignKey(DueInstance, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_status = models.CharField(max_length=10)
    to_status = models.CharField(max_length=10)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.instance_id}: {self.from_status} → {self.to_status}"


class PlanState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    CERTIFIED = "certified", _("Certified by AEO")
    APPROVED = "approved", _("Approved by the Steering Working Group")
    REJECTED = "rejected", _("Rejected")


PLAN_TRANSITIONS: dict[str, set[str]] = {
    PlanState.DRAFT: {PlanState.SUBMITTED},
    PlanState.SUBMITTED: {PlanState.CERTIFIED, PlanState.REJECTED},
    PlanState.CERTIFIED: {PlanState.APPROVED, PlanState.REJECTED},
    PlanState.APPROVED: set(),
    PlanState.REJECTED: set(),
}


class SmarteningPlan(models.Model):
    """An agency's yearly proposal of services to make smart (Art. 6 note, 107(c) bylaw)."""

    agency = models.ForeignKey(
        "catalogue.Agency", on_delete=models.PROTECT, related_name="smartening_plans"
    )
    year = models.PositiveSmallIntegerField(_("Jalali year"))
    state = models.CharField(
        _("state"), max_length=10, choices=PlanState.choices, default=PlanState.DRAFT
    )
    services = models.ManyToManyField(
        "catalogue.Service", related_name="smartening_plans", blank=True
    )
    eligible_count = models.PositiveIntegerField(_("eligible services when submitted"), default=0)
    required_count = models.PositiveIntegerField(_("services required"), default=0)
    submitted_at = models.DateTimeField(null=True, blank=True)
    approval_due = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("smartening plan")
        verbose_name_plural = _("smartening plans")
        ordering = ["-year", "agency__name_fa"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "year"],
                condition=~models.Q(state="rejected"),
                name="one_live_plan_per_agency_year",
            )
        ]

    def __str__(self) -> str:
        return f"{self.agency} {self.year} ({self.state})"


class PlanEvent(models.Model):
    plan = models.ForeignKey(SmarteningPlan, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_state = models.CharField(max_length=10, choices=PlanState.choices)
    to_state = models.CharField(max_length=10, choices=PlanState.choices)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.plan_id}: {self.from_state} → {self.to_state}"


class MonthlyReport(models.Model):
    """An agency's monthly progress report to the Steering Working Group (Art. 9 note 1)."""

    agency = models.ForeignKey(
        "catalogue.Agency", on_delete=models.PROTECT, related_name="monthly_reports"
    )
    year = models.PositiveSmallIntegerField(_("Jalali year"))
    month = models.PositiveSmallIntegerField(_("Jalali month"))
    figures = models.JSONField(_("computed figures"), default=dict)
    actions = models.TextField(_("actions this month"))
    obstacles = models.TextField(_("obstacles"), blank=True)
    next_steps = models.TextField(_("plan for next month"), blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField()

    class Meta:
        verbose_name = _("monthly progress report")
        verbose_name_plural = _("monthly progress reports")
        ordering = ["-year", "-month"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "year", "month"], name="monthly_report_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.agency_id} {self.year}-{self.month:02d}"


class EvaluationRound(models.Model):
    """A six-monthly round in which an independent evaluator scores agencies."""

    label = models.CharField(_("label"), max_length=40, unique=True)
    year = models.PositiveSmallIntegerField(_("Jalali year"))
    half = models.PositiveSmallIntegerField(_("half of the year"), choices=[(1, "1"), (2, "2")])
    indicators = models.JSONField(_("indicators scored"), default=list)
    closed = models.BooleanField(default=False)

    class Meta:
        ordering = ["year", "half"]
        constraints = [models.UniqueConstraint(fields=["year", "half"], name="round_unique")]

    def __str__(self) -> str:
        return self.label


class Score(models.Model):
    round = models.ForeignKey(EvaluationRound, on_delete=models.CASCADE, related_name="scores")
    agency = models.ForeignKey("catalogue.Agency", on_delete=models.PROTECT, related_name="+")
    indicator = models.CharField(max_length=40)
    score = models.DecimalField(max_digits=5, decimal_places=2)
    evaluator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "agency", "indicator"], name="score_unique")
        ]

    def __str__(self) -> str:
        return f"{self.round_id} {self.agency_id} {self.indicator}: {self.score}"


class RankingConfig(models.Model):
    """Weights of the annual ranking per indicator; the document defines none, so they are data."""

    year = models.PositiveSmallIntegerField(_("Jalali year"), unique=True)
    weights = models.JSONField(_("weights"), default=dict)

    def __str__(self) -> str:
        return f"ranking {self.year}"


class ServiceTransactions(models.Model):
    """What an agency enters for one service and one Jalali month: the transactions made
    outside the national window (counters, post, phone) and the total cost of delivering the
    service. Digital take-up and cost per transaction are computed only where these exist."""

    service = models.ForeignKey("catalogue.Service", on_delete=models.PROTECT, related_name="+")
    agency = models.ForeignKey("catalogue.Agency", on_delete=models.PROTECT, related_name="+")
    month = models.CharField(_("Jalali month"), max_length=7, help_text="1404-03")
    offline_transactions = models.PositiveIntegerField(
        _("transactions outside the window"), null=True, blank=True
    )
    cost_rials = models.PositiveBigIntegerField(
        _("total cost of the service (rials)"), null=True, blank=True
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    entered_at = models.DateTimeField(_("entered at"), auto_now=True)

    class Meta:
        verbose_name = _("service transactions and costs")
        verbose_name_plural = _("service transactions and costs")
        constraints = [
            models.UniqueConstraint(fields=["service", "month"], name="oversight_service_month")
        ]
        ordering = ["month", "service_id"]

    def __str__(self) -> str:
        return f"{self.service_id} {self.month}"


class JourneyFact(models.Model):
    """Roll-up of the applications' journey log for one Jalali month, per service and day:
    applications started in the month (``started``), how many of them reached a final outcome
    on each day (``completed``), and ratings given on each day of the month (``rated``, with
    the favourable ones). Written by :func:`panjereh.oversight.servperf.rollup`; a ``run`` row
    records when, so a figure as of a moment before that reads the roll-up, not the log."""

    class Kind(models.TextChoices):
        RUN = "run", "run"
        STARTED = "started", "started"
        COMPLETED = "completed", "completed"
        RATED = "rated", "rated"

    month = models.CharField(max_length=7)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    service = models.ForeignKey(
        "catalogue.Service", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    day = models.DateField(null=True, blank=True)
    n = models.PositiveBigIntegerField(default=0)
    favourable = models.PositiveBigIntegerField(default=0)
    computed_at = models.DateTimeField(null=True, blank=True)
    # On the run row: the last journey event and application read (the log is append-only,
    # so what came later is read by primary key, not by scanning the log).
    last_event_id = models.BigIntegerField(null=True, blank=True)
    last_application_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["month", "kind"])]

    def __str__(self) -> str:
        return f"{self.month} {self.kind} {self.service_id} {self.day}"
