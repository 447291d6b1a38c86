"""The appointments scheduler: an agency's bookable offices (a court's service office, a
hospital's specialty), their slots with a capacity, and people's bookings with their history.

No slot is ever over-booked: ``Slot.taken`` (held and booked seats) moves only by conditional
updates (``taken < capacity``) and a check constraint keeps it between 0 and the capacity, so
the database itself refuses a seat too many whatever the number of people booking at once.
One person holds at most one active booking (held or booked) per office and day: a partial
unique constraint on ``(person, office, day)`` where ``holds_day`` is set
(docs/appointments.md).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from panjereh.catalogue.models import Agency


class Office(models.Model):
    """A place or service one books: a judiciary service office, a hospital's specialty."""

    class Kind(models.TextChoices):
        SERVICE_OFFICE = "service_office", _("Service office")
        SPECIALTY = "specialty", _("Hospital specialty")

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    code = models.SlugField(_("code"), max_length=60, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    name_fa = models.CharField(_("name (Persian)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    # The hospital's specialty (or the office's service), shown and searched.
    specialty_fa = models.CharField(max_length=120, blank=True)
    specialty_en = models.CharField(max_length=120, blank=True)
    city_fa = models.CharField(max_length=80, blank=True)
    city_en = models.CharField(max_length=80, blank=True)
    address_fa = models.CharField(max_length=300, blank=True)
    address_en = models.CharField(max_length=300, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["agency_id", "name_fa"]

    def __str__(self) -> str:
        return self.name_fa


class Slot(models.Model):
    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="slots")
    day = models.DateField()  # the Tehran day of starts_at
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    capacity = models.PositiveSmallIntegerField(default=1)
    taken = models.PositiveSmallIntegerField(default=0)  # held + booked seats
    # Closed by the office's staff: no new holds (bookings already made stay).
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["starts_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["office", "starts_at"], name="appt_slot_once"),
            models.CheckConstraint(
                condition=Q(taken__gte=0) & Q(taken__lte=F("capacity")),
                name="appt_slot_not_overbooked",
            ),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="appt_slot_span"),
        ]
        indexes = [models.Index(fields=["office", "day"], name="appt_slot_day")]

    def __str__(self) -> str:
        return f"{self.office_id}@{self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.taken)


class State(models.TextChoices):
    HELD = "held", _("Held, not confirmed")
    BOOKED = "booked", _("Booked")
    ATTENDED = "attended", _("Attended")
    NO_SHOW = "no_show", _("Did not come")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Hold expired")


ACTIVE = (State.HELD, State.BOOKED)


class Booking(models.Model):
    reference = models.CharField(_("reference"), max_length=16, unique=True)
    slot = models.ForeignKey(Slot, on_delete=models.PROTECT, related_name="bookings")
    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="bookings")
    day = models.DateField()
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="appointments"
    )
    state = models.CharField(max_length=12, choices=State.choices, default=State.HELD)
    # Set while the booking is the person's active one for (office, day): the unique rule.
    # A rebooking's hold leaves it unset until it is confirmed (the old booking keeps it).
    holds_day = models.BooleanField(default=True)
    replaces = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    held_until = models.DateTimeField()
    booked_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    marked_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    told_rule_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["slot__starts_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "office", "day"],
                condition=Q(holds_day=True),
                name="appt_one_active_per_day",
            )
        ]
        indexes = [
            models.Index(fields=["state", "held_until"], name="appt_booking_due"),
            models.Index(fields=["person", "state"], name="appt_booking_person"),
            models.Index(fields=["office", "day", "state"], name="appt_booking_day"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def active(self) -> bool:
        return self.state in ACTIVE


class BookingEvent(models.Model):
    booking = models.ForeignKey(Booking, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    from_state = models.CharField(max_length=12, blank=True)
    to_state = models.CharField(max_length=12, choices=State.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    detail = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.booking_id}: {self.from_state} → {self.to_state}"


class WaitlistEntry(models.Model):
    """A person waiting for a place at an office on a full day. When a seat of that day is
    freed, the first waiting person is offered it (a hold made for them, told in the inbox
    with an SMS) exactly once (docs/appointments.md)."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        OFFERED = "offered", _("Offered a place")
        LEFT = "left", _("Left the waiting list")

    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    created_at = models.DateTimeField(default=timezone.now)
    offered = models.OneToOneField(
        Booking, on_delete=models.PROTECT, null=True, blank=True, related_name="offer"
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    detail = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["person", "office", "day"],
                condition=Q(status="waiting"),
                name="appt_wait_once",
            )
        ]
        indexes = [
            models.Index(fields=["office", "day", "status", "created_at"], name="appt_wait_queue")
        ]

    def __str__(self) -> str:
        return f"{self.person_id} waits {self.office_id}@{self.day}"
