"""What the appointments scheduler tells other apps and its pages: offices, free days and
slots, a person's appointments, an office's day list and the no-show figures."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils import timezone

from panjereh.common.persian import search_key

from .models import ACTIVE, Booking, Office, Slot, State, WaitlistEntry


def offices(text: str = "", kind: str = "") -> QuerySet[Office]:
    rows = Office.objects.filter(active=True).select_related("agency")
    if kind in Office.Kind.values:
        rows = rows.filter(kind=kind)
    wanted = search_key(text or "").split()
    if not wanted:
        return rows
    # A few hundred offices at most: matched in Python on the same keys search uses.
    found = []
    for office in rows:
        haystack = search_key(
            " ".join(
                [
                    office.name_fa,
                    office.name_en,
                    office.specialty_fa,
                    office.specialty_en,
                    office.city_fa,
                    office.city_en,
                    office.agency.name_fa,
                    office.agency.name_en,
                ]
            )
        )
        if all(word in haystack for word in wanted):
            found.append(office.pk)
    return rows.filter(pk__in=found)


def free_days(office: Office, *, now: dt.datetime | None = None, days: int = 60) -> list[dict]:
    """The coming days with their free seats (days with slots only)."""
    now = now or timezone.now()
    rows = (
        Slot.objects.filter(
            office=office,
            starts_at__gt=now,
            starts_at__lte=now + dt.timedelta(days=days),
            closed_at__isnull=True,
        )
        .values("day")
        .annotate(free=Sum(F("capacity") - F("taken")), slots=Count("pk"))
        .order_by("day")
    )
    return list(rows)


def free_slots(office: Office, day: dt.date, *, now: dt.datetime | None = None) -> QuerySet[Slot]:
    now = now or timezone.now()
    return Slot.objects.filter(
        office=office, day=day, starts_at__gt=now, closed_at__isnull=True
    ).order_by("starts_at")


def appointments_of(person) -> QuerySet[Booking]:
    return Booking.objects.filter(person=person).select_related("slot", "office__agency")


def upcoming_of(person, now: dt.datetime | None = None) -> QuerySet[Booking]:
    now = now or timezone.now()
    return appointments_of(person).filter(state__in=ACTIVE, slot__ends_at__gt=now)


def day_list(office: Office, day: dt.date) -> QuerySet[Booking]:
    """An office's bookings of one day, in order (the staff's page)."""
    return (
        Booking.objects.filter(office=office, day=day)
        .exclude(state__in=[State.EXPIRED])
        .select_related("slot", "person")
        .order_by("slot__starts_at", "pk")
    )


def no_shows_by_office(agency_ids=None) -> QuerySet:
    """Per office: bookings that ended attended, no-show, and their count."""
    rows = Booking.objects.all()
    if agency_ids is not None:
        rows = rows.filter(office__agency_id__in=agency_ids)
    return (
        rows.values("office_id", "office__name_fa", "office__name_en")
        .annotate(
            attended=Count("pk", filter=Q(state=State.ATTENDED)),
            no_shows=Count("pk", filter=Q(state=State.NO_SHOW)),
        )
        .order_by("office__name_fa")
    )


def no_shows_of(person, since: dt.datetime | None = None) -> int:
    rows = Booking.objects.filter(person=person, state=State.NO_SHOW)
    if since is not None:
        rows = rows.filter(slot__ends_at__gte=since)
    return rows.count()


def office_days(office: Office, *, since: dt.date, days: int = 60) -> list[dict]:
    """The staff's view of an office's days from ``since``: times, seats, taken, closed."""
    return list(
        Slot.objects.filter(office=office, day__gte=since, day__lt=since + dt.timedelta(days=days))
        .values("day")
        .annotate(
            slots=Count("pk"),
            capacity=Sum("capacity"),
            taken=Sum("taken"),
            closed=Count("pk", filter=Q(closed_at__isnull=False)),
        )
        .order_by("day")
    )


def office_slots(office: Office, day: dt.date) -> QuerySet[Slot]:
    """Every time of an office on one day, closed ones too (the staff's page)."""
    return Slot.objects.filter(office=office, day=day).order_by("starts_at")


def waiting_of(person) -> QuerySet[WaitlistEntry]:
    """The person's places on waiting lists (waiting or offered), newest day first."""
    return (
        WaitlistEntry.objects.filter(person=person)
        .exclude(status=WaitlistEntry.Status.LEFT)
        .select_related("office", "offered__slot")
        .order_by("day", "created_at")
    )


def waiting_count(office: Office, day: dt.date) -> int:
    return WaitlistEntry.objects.filter(
        office=office, day=day, status=WaitlistEntry.Status.WAITING
    ).count()
