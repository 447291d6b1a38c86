"""Facts of e-participation: suggestions and votes, weekly lists, consultations and comments.

Everything a citizen writes is private until a moderator approves it, and public pages show
no author at all: authors are kept (for rate limits, one vote per person, and abuse handling)
but never rendered or exported.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Moderation(models.TextChoices):
    PENDING = "pending", _("Waiting for moderation")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class Goal(models.TextChoices):
    ELECTRONIC = "electronic", _("Offer it online")
    SMART = "smart", _("Make it smart")


class Origin(models.TextChoices):
    CATALOGUE = "catalogue", _("A service card of the catalogue")
    CITIZEN = "citizen", _("Proposed by a citizen")


class Moderated(models.Model):
    """Fields shared by every public text that a moderator approves or rejects."""

    status = models.CharField(
        _("moderation"), max_length=10, choices=Moderation.choices, default=Moderation.PENDING
    )
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("moderator"),
    )
    moderated_at = models.DateTimeField(_("moderated at"), null=True, blank=True)
    moderation_reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        abstract = True


class Suggestion(Moderated):
    """Something citizens can vote for: a not-yet-online service card, or a citizen's proposal.

    A card of the catalogue is approved from the start (its text is the agency's own); a
    citizen's free text waits for a moderator.
    """

    origin = models.CharField(_("origin"), max_length=10, choices=Origin.choices)
    goal = models.CharField(_("goal"), max_length=10, choices=Goal.choices)
    agency = models.ForeignKey(
        "catalogue.Agency",
        on_delete=models.PROTECT,
        related_name="participation_suggestions",
        verbose_name=_("agency"),
    )
    service = models.OneToOneField(
        "catalogue.Service",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="participation_suggestion",
        verbose_name=_("service card"),
    )
    text = models.TextField(_("text"), blank=True)
    proposer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="participation_suggestions",
    )

    class Meta:
        verbose_name = _("suggestion")
        verbose_name_plural = _("suggestions")
        indexes = [models.Index(fields=["status", "created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(origin="catalogue", service__isnull=False))
                | (models.Q(origin="citizen") & ~models.Q(text="")),
                name="suggestion_card_or_text",
            )
        ]

    def __str__(self) -> str:
        return self.title_fa

    @property
    def title_fa(self) -> str:
        return self.service.title_fa if self.service_id else self.text

    @property
    def title_en(self) -> str:
        return (self.service.title_en or self.service.title_fa) if self.service_id else self.text


class Vote(models.Model):
    """One person's vote for one suggestion in one Jalali week (Saturday to Friday, Tehran)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="participation_votes"
    )
    suggestion = models.ForeignKey(Suggestion, on_delete=models.CASCADE, related_name="votes")
    jalali_week = models.DateField(_("week (its Saturday)"))
    cast_at = models.DateTimeField(_("cast at"), default=timezone.now)

    class Meta:
        verbose_name = _("vote")
        verbose_name_plural = _("votes")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "suggestion", "jalali_week"], name="vote_once_per_week"
            )
        ]
        # Counting a week's votes per suggestion reads only this index (an index-only scan on
        # PostgreSQL), never the table.
        indexes = [models.Index(fields=["jalali_week", "suggestion"], name="vote_week_item")]

    def __str__(self) -> str:
        return f"vote {self.pk} for {self.suggestion_id} in week {self.jalali_week}"


class WeeklyTally(models.Model):
    """Votes per (week, suggestion), incremented in the same transaction as each vote.

    A roll-up for fast live standings; :func:`queries.recount` recomputes it from the vote
    rows, which stay the source of truth.
    """

    jalali_week = models.DateField()
    suggestion = models.ForeignKey(Suggestion, on_delete=models.CASCADE, related_name="+")
    votes = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["jalali_week", "suggestion"], name="tally_unique")
        ]
        indexes = [models.Index(fields=["jalali_week", "-votes"], name="tally_week_votes")]

    def __str__(self) -> str:
        return f"{self.jalali_week} #{self.suggestion_id}: {self.votes}"


class WeeklyList(models.Model):
    """The published "services of the week" of a completed week: a frozen, citable snapshot."""

    jalali_week = models.DateField(_("week (its Saturday)"), unique=True)
    published_at = models.DateTimeField(_("published at"), default=timezone.now)
    total_votes = models.PositiveIntegerField(_("votes in the week"))
    voters = models.PositiveIntegerField(_("people who voted"))
    size = models.PositiveSmallIntegerField(_("list size"))

    class Meta:
        verbose_name = _("weekly list")
        verbose_name_plural = _("weekly lists")
        ordering = ["-jalali_week"]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        from .weeks import label

        return label(self.jalali_week)


class WeeklyListEntry(models.Model):
    weekly_list = models.ForeignKey(WeeklyList, on_delete=models.CASCADE, related_name="entries")
    rank = models.PositiveSmallIntegerField()
    suggestion = models.ForeignKey(Suggestion, on_delete=models.PROTECT, related_name="+")
    votes = models.PositiveIntegerField()
    # Snapshots, so that a later edit of a card or a takedown does not rewrite history.
    title_fa = models.TextField()
    title_en = models.TextField(blank=True)
    agency_code = models.CharField(max_length=60)
    agency_name_fa = models.CharField(max_length=200)
    agency_name_en = models.CharField(max_length=200, blank=True)
    service_id = models.CharField(max_length=10, blank=True)
    goal = models.CharField(max_length=10, choices=Goal.choices)

    class Meta:
        ordering = ["weekly_list", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["weekly_list", "rank"], name="entry_rank_unique")
        ]

    def __str__(self) -> str:
        return f"{self.weekly_list_id} #{self.rank}"

    @property
    def withdrawn(self) -> bool:
        """True when a moderator has since rejected (taken down) the item: its rank and votes
        stay part of the frozen list, its text is no longer shown anywhere public.

        Reads the ``suggestion_status`` annotation of :func:`queries.published_entries` (one
        query for the whole list), through which every page and file lists the entries.
        """
        return self.suggestion_status != Moderation.APPROVED


class ConsultationState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", _("Open for comments")
    CLOSED = "closed", _("Closed")
    SUMMARY = "summary", _("Summary published")


class ConsultationKind(models.TextChoices):
    QUESTION = "question", _("Question")
    DRAFT_TEXT = "draft_text", _("Draft text")


class Consultation(models.Model):
    """An agency's public consultation on a question or a draft."""

    agency = models.ForeignKey(
        "catalogue.Agency",
        on_delete=models.PROTECT,
        related_name="consultations",
        verbose_name=_("agency"),
    )
    kind = models.CharField(
        _("kind"), max_length=12, choices=ConsultationKind.choices, default="question"
    )
    title = models.CharField(_("title"), max_length=300)
    text = models.TextField(_("text"))
    opens_at = models.DateTimeField(_("opens at"))
    closes_at = models.DateTimeField(_("closes at"))
    state = models.CharField(
        _("state"),
        max_length=10,
        choices=ConsultationState.choices,
        default=ConsultationState.DRAFT,
    )
    summary = models.TextField(_("what we changed"), blank=True)
    summary_published_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("consultation")
        verbose_name_plural = _("consultations")
        ordering = ["-opens_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closes_at__gt=models.F("opens_at")),
                name="consultation_closes_after_opening",
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def accepting_comments(self) -> bool:
        now = timezone.now()
        return self.state == ConsultationState.OPEN and self.opens_at <= now < self.closes_at


class ConsultationEvent(models.Model):
    """One transition of a consultation's state machine."""

    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE, related_name="events")
    from_state = models.CharField(max_length=10)
    to_state = models.CharField(max_length=10)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.from_state} → {self.to_state}"


class Comment(Moderated):
    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="comments"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="participation_comments"
    )
    text = models.TextField(_("comment"))

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["consultation", "status"])]

    def __str__(self) -> str:
        return f"comment {self.pk} ({self.status})"
