"""Payments: what the window asked to be paid, what the provider said, and what the bank settled.

Amounts are whole rials (integers). Every change of a payment's or a refund's state goes
through its machine (``operations``) and leaves an event row in the same transaction.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from panjereh.catalogue.models import Agency
from panjereh.common.persian import to_latin_digits

_SHABA = re.compile(r"^IR[0-9]{24}$")


def normalize_shaba(text: str) -> str:
    """``IR06 0170 …`` (any digits, spaces, dashes, lower case) → ``IR060170…``."""
    return re.sub(r"[\s\-]", "", to_latin_digits(str(text or ""))).upper()


def validate_shaba(value: str) -> None:
    """An Iranian IBAN («شبا»): IR and 24 digits whose ISO 13616 check digits hold (mod 97)."""
    value = normalize_shaba(value)
    if not _SHABA.match(value):
        raise ValidationError(_("A Sheba number is IR followed by 24 digits."), code="shaba_format")
    rearranged = value[4:] + "1827" + value[2:4]  # I = 18, R = 27
    if int(rearranged) % 97 != 1:
        raise ValidationError(
            _("This Sheba number is not valid: its check digits do not match."),
            code="shaba_check",
        )


class TreasuryAccount(models.Model):
    """The treasury account («حساب خزانه») an agency's fees are collected into."""

    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="treasury_accounts", verbose_name=_("agency")
    )
    shaba = models.CharField(
        _("Sheba number"), max_length=26, unique=True, validators=[validate_shaba]
    )
    treasury_id = models.CharField(
        _("treasury account ID"), max_length=40, help_text=_("The treasury's own account ID.")
    )
    title = models.CharField(_("title"), max_length=200)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("treasury account")
        verbose_name_plural = _("treasury accounts")
        constraints = [
            models.UniqueConstraint(
                fields=["agency"], condition=Q(active=True), name="one_active_account_per_agency"
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.shaba})"


class Purpose(models.TextChoices):
    APPLICATION = "application", _("Application fee")
    PERMIT = "permit", _("Permit fee")
    BILL = "bill", _("Bill")


class PaymentState(models.TextChoices):
    CREATED = "created", _("Created")
    STARTED = "started", _("At the bank")
    AUTHORISED = "authorised", _("Paid, being confirmed")
    CAPTURED = "captured", _("Paid")
    SETTLED = "settled", _("Paid and settled")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")
    REVERSED = "reversed", _("Returned to the payer")


# A purpose has at most one payment in these states at a time: paying again is possible only
# once the earlier attempt ended without money (failed, cancelled, expired, reversed).
LIVE_STATES = (
    PaymentState.CREATED,
    PaymentState.STARTED,
    PaymentState.AUTHORISED,
    PaymentState.CAPTURED,
    PaymentState.SETTLED,
)
PAID_STATES = (PaymentState.CAPTURED, PaymentState.SETTLED)
OPEN_STATES = (PaymentState.CREATED, PaymentState.STARTED, PaymentState.AUTHORISED)
# The endings without money: a payment in one of these has ``ended_at`` and no other has (a
# check constraint), so "live" is also "not ended", which is what the database's rules read.
ENDED_STATES = (
    PaymentState.FAILED,
    PaymentState.CANCELLED,
    PaymentState.EXPIRED,
    PaymentState.REVERSED,
)
LIVE = Q(ended_at__isnull=True)  # the same payments as ``state__in=LIVE_STATES``


class Payment(models.Model):
    reference = models.CharField(_("reference"), max_length=20, unique=True)
    idempotency_key = models.CharField(max_length=100, unique=True)
    purpose_kind = models.CharField(_("pays for"), max_length=20, choices=Purpose.choices)
    purpose_id = models.CharField(max_length=64)
    description = models.CharField(_("description"), max_length=300)
    amount = models.PositiveBigIntegerField(_("amount (rials)"))
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey(TreasuryAccount, on_delete=models.PROTECT, related_name="payments")
    payer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="payments",
    )
    return_url = models.CharField(max_length=500, blank=True)
    state = models.CharField(
        max_length=12, choices=PaymentState.choices, default=PaymentState.CREATED
    )
    provider = models.CharField(max_length=40)
    provider_token = models.CharField(max_length=100, null=True, blank=True, unique=True)
    provider_ref = models.CharField(max_length=40, blank=True)
    card_mask = models.CharField(max_length=20, blank=True)
    failure_code = models.CharField(max_length=40, blank=True)
    captured_amount = models.PositiveBigIntegerField(default=0)
    refunded_amount = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    authorised_at = models.DateTimeField(null=True, blank=True)
    captured_at = models.DateTimeField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    verify_by = models.DateTimeField(null=True, blank=True)
    # Reconciliation: when to ask the provider next, and how often it was asked (backoff).
    next_check_at = models.DateTimeField(null=True, blank=True)
    checks = models.PositiveIntegerField(default=0)
    # When what it pays for was told it is paid (``purposes``: an outbox, retried by a job).
    purpose_told_at = models.DateTimeField(null=True, blank=True)
    # The settlement file that settled it (captured → settled): the settlement's record of the
    # move, instead of an event row each (a million a file; ``history`` shows it as one). No
    # index and no foreign-key constraint in the database: setting it stays a HOT update with
    # no check per row at commit; a settlement file is never deleted (``PROTECT`` here, and no
    # operation deletes one). Settled before migration 0006: ``None``, and an event row.
    settlement = models.ForeignKey(
        "SettlementFile",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="settled_payments",
        db_index=False,
        db_constraint=False,
    )

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-created_at", "-id"]
        # No index and no index predicate reads ``state`` (nor ``settled_at``): settling a
        # payment (captured → settled, a million in one settlement file) is then a HOT update,
        # a new version of the row in the same page with no index touched; ``fillfactor`` 50
        # (migration 0005, PostgreSQL) leaves each page the room for it. "Live" is read from
        # ``ended_at``, which only an ending sets (``payment_ended_with_its_state``).
        constraints = [
            models.UniqueConstraint(
                fields=["purpose_kind", "purpose_id"],
                condition=LIVE,
                name="one_live_payment_per_purpose",
            ),
            models.CheckConstraint(
                condition=Q(state__in=ENDED_STATES, ended_at__isnull=False)
                | (~Q(state__in=ENDED_STATES) & Q(ended_at__isnull=True)),
                name="payment_ended_with_its_state",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            # Captured once, in full, or not at all; refunds never past the capture.
            models.CheckConstraint(
                condition=Q(captured_amount=0) | Q(captured_amount=F("amount")),
                name="payment_captured_in_full",
            ),
            models.CheckConstraint(
                condition=Q(refunded_amount__lte=F("captured_amount")),
                name="payment_refunds_within_capture",
            ),
        ]
        indexes = [
            # The reconciliation job's queue: only open payments have a next check.
            models.Index(
                fields=["next_check_at"],
                condition=Q(next_check_at__isnull=False),
                name="payment_check_due",
            ),
            models.Index(fields=["agency", "captured_at"]),
            models.Index(
                fields=["captured_at"],
                condition=Q(purpose_told_at__isnull=True, captured_amount__gt=0),
                name="payment_purpose_untold",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def refundable(self) -> int:
        return self.captured_amount - self.refunded_amount

    @property
    def finished(self) -> bool:
        return self.state not in OPEN_STATES

    def history(self) -> list[PaymentEvent]:
        """Every move of this payment, oldest first: its event rows, and its settlement (the
        file that settled it, :attr:`settlement`) as the event ``captured → settled`` it
        stands for (source ``settlement``, the file's day in ``data``; not saved)."""
        events = list(self.events.all())
        if self.settlement_id is not None and self.settled_at is not None:
            file = self.settlement
            events.append(
                PaymentEvent(
                    payment=self,
                    from_state=PaymentState.CAPTURED,
                    to_state=PaymentState.SETTLED,
                    at=self.settled_at,
                    source="settlement",
                    data={"day": file.day.isoformat()},
                )
            )
            events.sort(key=lambda e: (e.at, e.pk is None, e.pk or 0))
        return events


class PaymentEvent(models.Model):
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="events")
    from_state = models.CharField(max_length=12, blank=True)
    to_state = models.CharField(max_length=12)
    at = models.DateTimeField(default=timezone.now)
    # Indexed only where there is a person (``payment_event_actor``): the bank's callbacks, the
    # jobs and the settlement (a million rows a file) have none, and write no index entry.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    source = models.CharField(max_length=20, blank=True)  # payer, callback, reconciliation, …
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["payment_id", "at", "id"]
        indexes = [
            models.Index(
                fields=["actor"], condition=Q(actor__isnull=False), name="payment_event_actor"
            )
        ]

    def __str__(self) -> str:
        return f"{self.payment_id}: {self.from_state or '∅'} → {self.to_state}"

    @property
    def to_label(self) -> str:
        return PaymentState(self.to_state).label


class RefundState(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    REFUNDED = "refunded", _("Refunded")
    FAILED = "failed", _("Failed")


class Refund(models.Model):
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    idempotency_key = models.CharField(max_length=100, unique=True)
    amount = models.PositiveBigIntegerField(_("amount (rials)"))
    reason = models.TextField(_("reason"))
    state = models.CharField(
        max_length=12, choices=RefundState.choices, default=RefundState.REQUESTED
    )
    provider_ref = models.CharField(max_length=40, blank=True)
    failure_code = models.CharField(max_length=40, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    # When its line was found in the bank's settlement file (``settlement``): a refund made
    # but in no file is a finance case, as a payment is.
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive")
        ]

    def __str__(self) -> str:
        return f"{self.payment_id}: {self.amount} ({self.state})"


class RefundEvent(models.Model):
    refund = models.ForeignKey(Refund, on_delete=models.PROTECT, related_name="events")
    from_state = models.CharField(max_length=12, blank=True)
    to_state = models.CharField(max_length=12)
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["refund_id", "at", "id"]

    def __str__(self) -> str:
        return f"{self.refund_id}: {self.from_state or '∅'} → {self.to_state}"


class SettlementFile(models.Model):
    """One day's settlement file of one provider, as fetched and reconciled."""

    provider = models.CharField(max_length=40)
    day = models.DateField()
    digest = models.CharField(max_length=64)
    lines = models.PositiveIntegerField(default=0)
    matched = models.PositiveIntegerField(default=0)
    fetched_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "day"], name="one_settlement_per_day")
        ]
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"{self.provider} {self.day}"


class StagedLine(models.Model):
    """A line of the settlement file being reconciled, in the temporary table ``settlement``
    loads it into (one per database session, dropped after; ``managed = False``: no migration
    makes it). Read by the ORM's set-based statements (``settlement._Matcher.settle``). Not
    ``providers.SettlementLine``, the provider's parsed line it is loaded from."""

    number = models.IntegerField(primary_key=True)  # the line's place in the file
    kind = models.CharField(max_length=20)
    token = models.CharField(max_length=100)
    order_id = models.CharField(max_length=40)
    ref = models.CharField(max_length=40)
    amount = models.BigIntegerField(null=True)

    class Meta:
        managed = False
        db_table = "payments_settlement_stage"

    def __str__(self) -> str:
        return f"{self.number}: {self.kind} {self.token} {self.amount}"


class CaseKind(models.TextChoices):
    MISSING = "missing", _("Paid here, not in the bank's settlement")
    EXTRA = "extra", _("In the bank's settlement, unknown here")
    AMOUNT = "amount", _("Amounts differ")
    STATE = "state", _("The bank and the window disagree on the state")


class CaseState(models.TextChoices):
    OPEN = "open", _("Open")
    RESOLVED = "resolved", _("Resolved")


class FinanceCase(models.Model):
    """A difference between the window's records and the bank's: the finance queue."""

    kind = models.CharField(max_length=10, choices=CaseKind.choices)
    state = models.CharField(max_length=10, choices=CaseState.choices, default=CaseState.OPEN)
    agency = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    refund = models.ForeignKey(
        Refund, null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    settlement = models.ForeignKey(
        SettlementFile, null=True, blank=True, on_delete=models.PROTECT, related_name="cases"
    )
    # What the bank and the window each say (the bank's line, the window's row), rials.
    line_key = models.CharField(max_length=200)
    expected_amount = models.BigIntegerField(null=True, blank=True)
    reported_amount = models.BigIntegerField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    opened_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolution = models.TextField(blank=True)

    class Meta:
        verbose_name = _("finance case")
        verbose_name_plural = _("finance cases")
        ordering = ["-opened_at", "-id"]
        constraints = [
            # Reconciling the same file twice opens no second case for the same line.
            models.UniqueConstraint(fields=["kind", "line_key"], name="one_case_per_difference")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.line_key} ({self.state})"

    @property
    def difference(self) -> int:
        return (self.reported_amount or 0) - (self.expected_amount or 0)


class BillConfirmation(models.Model):
    """The biller's word that a bill paid at the window is recorded as paid (``billing``).

    One per payment: the biller answers the same confirmation to the same payment reference,
    so telling it again (the purposes outbox) never makes a second row."""

    payment = models.OneToOneField(
        Payment, on_delete=models.PROTECT, related_name="bill_confirmation"
    )
    bill_id = models.CharField(_("bill ID"), max_length=13)
    # The bill's payment ID («شناسه پرداخت»; ``payment_id`` is the foreign key's column).
    bill_payment_id = models.CharField(_("payment ID"), max_length=13)
    biller_ref = models.CharField(_("biller's confirmation"), max_length=40)
    confirmed_at = models.DateTimeField(_("confirmed by the biller at"))
    recorded_at = models.DateTimeField(default=timezone.now)
    # The exchange's transaction id (X-Road-Id) of the notice the biller answered.
    message_id = models.CharField(max_length=100, blank=True)

    class Meta:
        verbose_name = _("biller's confirmation")
        verbose_name_plural = _("billers' confirmations")
        ordering = ["-recorded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.bill_id}/{self.bill_payment_id}: {self.biller_ref}"
