"""The transaction-credit check (سامانه اعتبارسنجی معاملات): a deal between two people, each
party's consent, and every read of a party's financial-conviction status (docs/credit.md).

Nothing here is written except through :mod:`.operations`."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CheckState(models.TextChoices):
    # Waiting for one or both consents.
    AWAITING = "awaiting", _("Waiting for consent")
    # Both parties consented: each may read the other's status while both consents last.
    CONSENTED = "consented", _("Both consented")
    # Final: a party withdrew, or a consent ran out. Nothing more is read; results are erased.
    WITHDRAWN = "withdrawn", _("Withdrawn")
    EXPIRED = "expired", _("Expired")


CLOSED_STATES = (CheckState.WITHDRAWN, CheckState.EXPIRED)


class CreditCheck(models.Model):
    """One deal: who started it, the other party (by national code until they sign in), what
    it is about, and where it stands."""

    reference = models.CharField(_("reference"), max_length=20, unique=True)
    initiator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    initiator_code = models.CharField(_("initiator's national code"), max_length=10)
    counterparty_code = models.CharField(_("other party's national code"), max_length=10)
    counterparty = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    description = models.CharField(_("the deal"), max_length=200)
    state = models.CharField(
        _("state"), max_length=12, choices=CheckState.choices, default=CheckState.AWAITING
    )
    created_at = models.DateTimeField(_("started at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("credit check")
        verbose_name_plural = _("credit checks")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["initiator_code", "created_at"]),
            models.Index(fields=["counterparty_code", "created_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(initiator_code=models.F("counterparty_code")),
                name="credit_check_two_people",
            )
        ]

    def __str__(self) -> str:
        return self.reference

    def party_codes(self) -> tuple[str, str]:
        return self.initiator_code, self.counterparty_code

    def other_code(self, national_code: str) -> str:
        return (
            self.counterparty_code if national_code == self.initiator_code else self.initiator_code
        )


class Consent(models.Model):
    """One party's consent to this deal: that the other party may read their status until
    ``expires_at``. Withdrawn consents stay (the history); a party has at most one."""

    credit_check = models.ForeignKey(CreditCheck, on_delete=models.CASCADE, related_name="consents")
    national_code = models.CharField(_("national code"), max_length=10)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    given_at = models.DateTimeField(_("given at"))
    expires_at = models.DateTimeField(_("expires at"))
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        constraints = [
            models.UniqueConstraint(
                fields=["credit_check", "national_code"], name="credit_one_consent_per_party"
            )
        ]

    def __str__(self) -> str:
        return f"{self.credit_check_id}:{self.national_code[-3:]}"

    def valid_at(self, moment) -> bool:
        return self.withdrawn_at is None and self.given_at <= moment < self.expires_at


class StatusRead(models.Model):
    """One read of a party's status through the exchange, by the other party. ``result`` is
    what the registry said (shown to the reader only, erased when the check closes);
    ``message_id`` is the exchange's record of the call (the subject's "who read my data")."""

    credit_check = models.ForeignKey(CreditCheck, on_delete=models.CASCADE, related_name="reads")
    reader = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reader_code = models.CharField(_("reader's national code"), max_length=10)
    subject_code = models.CharField(_("subject's national code"), max_length=10)
    read_at = models.DateTimeField(_("read at"))
    as_of = models.CharField(_("registry's time"), max_length=40, blank=True)
    message_id = models.CharField(_("exchange message"), max_length=64, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)

    class Meta:
        verbose_name = _("status read")
        verbose_name_plural = _("status reads")
        ordering = ["-read_at", "-id"]

    def __str__(self) -> str:
        return f"{self.credit_check_id}:{self.reader_code[-3:]}→{self.subject_code[-3:]}"


class CheckEvent(models.Model):
    """The history of a check: each state change and consent, by whom (never the content of a
    status)."""

    credit_check = models.ForeignKey(CreditCheck, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    kind = models.CharField(max_length=20)
    by_code = models.CharField(max_length=10, blank=True)
    from_state = models.CharField(max_length=12, blank=True)
    to_state = models.CharField(max_length=12, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.credit_check_id}:{self.kind}"
