"""The appointments pages: find an office, pick a day and a time, hold → confirm, my
appointments (cancel, change the time), and the office's day list for its staff. Thin: every
write is an operation, which checks the rights."""

from __future__ import annotations

import datetime as dt

import jdatetime
from django import forms
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from panjereh.catalogue import roles
from panjereh.common import jalali
from panjereh.common.forms import JalaliDateField
from panjereh.common.persian import to_latin_digits

from . import operations, queries
from .models import ACTIVE, Booking, Office, Slot, State, WaitlistEntry

WEEKDAYS_FA = operations.WEEKDAYS_FA


def day_label(day: dt.date) -> str:
    """«دوشنبه ۱۷ آذر ۱۴۰۵» on Persian pages, "Mon 08 Dec 2026" on English ones."""
    if (translation.get_language() or "fa").startswith("fa"):
        weekday = WEEKDAYS_FA[jdatetime.date.fromgregorian(date=day).weekday()]
        return f"{weekday} {jalali.format_fa(day)}"
    return day.strftime("%a %d %b %Y")


def _parse_day(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat((text or "")[:10])
    except ValueError:
        return None


class SearchForm(forms.Form):
    q = forms.CharField(
        label=gettext_lazy("Office, hospital or specialty"), required=False, max_length=100
    )


class SlotForm(forms.Form):
    slot = forms.TypedChoiceField(
        label=gettext_lazy("Time"),
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Choose a time.")},
    )
    rebook = forms.CharField(required=False, max_length=16, widget=forms.HiddenInput)

    def __init__(self, *args, slots=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slot"].choices = [(s.pk, s.pk) for s in slots]
        self.fields["slot"].error_messages["invalid_choice"] = _(
            "That time is not offered on this day. Choose a time from the list."
        )


def index(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET or None)
    text = form.cleaned_data["q"] if form.is_valid() else ""
    rows = queries.offices(text) if not form.errors else queries.offices("").none()
    staff = request.user.is_authenticated and (
        request.user.is_superuser or bool(roles.agencies_for(request.user, roles.READ))
    )
    return render(
        request,
        "appointments/index.html",
        {
            "form": form,
            "offices": list(rows[:200]),
            "searched": bool(text),
            "staff": staff,
        },
        status=400 if form.errors else 200,
    )


def _slot_rows(office: Office, day: dt.date) -> list:
    return list(queries.free_slots(office, day))


@require_http_methods(["GET", "POST"])
def office(request: HttpRequest, code: str) -> HttpResponse:
    place = get_object_or_404(Office.objects.select_related("agency"), code=code[:60], active=True)
    data = request.POST if request.method == "POST" else request.GET
    days = queries.free_days(place)
    for row in days:
        row["label"] = day_label(row["day"])
    day = _parse_day(data.get("day"))
    if day is None or day not in {row["day"] for row in days}:
        day = next((row["day"] for row in days if row["free"] > 0), None)
    rebook_ref = (data.get("rebook") or "")[:16]
    rebooking = None
    if rebook_ref and request.user.is_authenticated:
        rebooking = Booking.objects.filter(
            reference=rebook_ref, person=request.user, state=State.BOOKED
        ).first()
    slots = _slot_rows(place, day) if day else []
    error = ""
    if request.method == "POST" and request.POST.get("action") == "wait" and day:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        try:
            operations.join_waitlist(request.user, place, day)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            return redirect(f"{reverse('appointments:mine')}?done=waiting")
        form = SlotForm(slots=slots)
    elif request.method == "POST":
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        form = SlotForm(request.POST, slots=slots)
        if form.is_valid():
            slot = next(s for s in slots if s.pk == form.cleaned_data["slot"])
            try:
                booking = operations.hold(request.user, slot, replaces=rebooking)
            except ValidationError as exc:
                error = " ".join(exc.messages)
                slots = _slot_rows(place, day)
            else:
                return redirect("appointments:booking", booking.reference)
    else:
        form = SlotForm(initial={"rebook": rebooking.reference if rebooking else ""}, slots=slots)
    return render(
        request,
        "appointments/office.html",
        {
            "office": place,
            "days": days,
            "day": day,
            "day_label": day_label(day) if day else "",
            "slots": slots,
            "form": form,
            "error": error,
            "rebooking": rebooking,
            "full": bool(day) and operations.day_is_full(place, day),
            "waiting": bool(day)
            and request.user.is_authenticated
            and queries.waiting_of(request.user)
            .filter(office=place, day=day, status="waiting")
            .exists(),
        },
        status=400 if request.method == "POST" or "\x00" in data.get("day", "") else 200,
    )


def _own(request: HttpRequest, reference: str) -> Booking:
    booking = (
        Booking.objects.select_related("slot", "office__agency", "replaces__slot")
        .filter(reference=reference[:16], person=request.user)
        .first()
    )
    if booking is None:
        raise Http404  # another person's booking: the same answer as none
    return booking


def _booking_page(request, booking: Booking, error: str = "", status: int = 200) -> HttpResponse:
    now = timezone.now()
    return render(
        request,
        "appointments/booking.html",
        {
            "booking": booking,
            "day_label": day_label(booking.day),
            "held": booking.state == State.HELD and booking.held_until > now,
            "upcoming": booking.state == State.BOOKED and booking.slot.starts_at > now,
            "events": booking.events.all(),
            "error": error,
        },
        status=status,
    )


@login_required
def booking(request: HttpRequest, reference: str) -> HttpResponse:
    return _booking_page(request, _own(request, reference))


@login_required
@require_POST
def confirm(request: HttpRequest, reference: str) -> HttpResponse:
    item = _own(request, reference)
    try:
        operations.confirm(request.user, item)
    except ValidationError as exc:
        item.refresh_from_db()
        return _booking_page(request, item, " ".join(exc.messages), status=400)
    return redirect(f"{reverse('appointments:booking', args=[item.reference])}?done=booked")


@login_required
@require_POST
def cancel(request: HttpRequest, reference: str) -> HttpResponse:
    item = _own(request, reference)
    try:
        operations.cancel(request.user, item)
    except ValidationError as exc:
        item.refresh_from_db()
        return _booking_page(request, item, " ".join(exc.messages), status=400)
    return redirect(f"{reverse('appointments:mine')}?done=cancelled")


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    today = operations.tehran_day(now)
    rows = list(queries.appointments_of(request.user).order_by("-slot__starts_at")[:200])
    upcoming = [b for b in rows if b.state in ACTIVE and b.slot.ends_at > now]
    upcoming.sort(key=lambda b: b.slot.starts_at)
    for b in rows:
        b.day_label = day_label(b.day)
    past = [b for b in rows if b not in upcoming and b.state != State.EXPIRED]
    return render(
        request,
        "appointments/mine.html",
        {
            "upcoming": upcoming,
            "past": past,
            "now": now,
            "done": request.GET.get("done", "")[:20],
            "paused_until": operations.pause_until(request.user, now),
            "no_shows": queries.no_shows_of(request.user),
            "waiting": [
                _labelled(entry) for entry in queries.waiting_of(request.user) if entry.day >= today
            ],
        },
    )


def _labelled(entry):
    entry.day_label = day_label(entry.day)
    return entry


@login_required
@require_POST
def leave_wait(request: HttpRequest, pk: int) -> HttpResponse:
    entry = WaitlistEntry.objects.filter(pk=pk, person=request.user).first()
    if entry is None:
        raise Http404  # another person's entry: the same answer as none
    try:
        operations.leave_waitlist(request.user, entry)
    except ValidationError:
        pass  # offered or left meanwhile: the list shows what it is now
    return redirect(f"{reverse('appointments:mine')}?done=left")


# -- the office's staff -----------------------------------------------------------------------


class DayForm(forms.Form):
    office = forms.ChoiceField(label=gettext_lazy("Office"))
    day = JalaliDateField(
        label=gettext_lazy("Day"), help_text=gettext_lazy("A Jalali date, for example 1405/09/17.")
    )

    def __init__(self, *args, offices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["office"].choices = [(o.code, o.name_fa) for o in offices]


def _staff_offices(user):
    """Offices whose day lists and times the user may see: their agencies' (staff of any
    role)."""
    rows = Office.objects.select_related("agency").order_by("name_fa")
    if user.is_superuser:
        return list(rows)
    return list(rows.filter(agency_id__in=roles.agencies_for(user, roles.READ)))


@login_required
def staff(request: HttpRequest) -> HttpResponse:
    offices = _staff_offices(request.user)
    if not offices:
        raise roles.NotPermitted()
    today = operations.tehran_day(timezone.now())
    initial = {"office": offices[0].code, "day": jalali.iso(today).replace("-", "/")}
    form = DayForm(request.GET if "day" in request.GET else None, initial=initial, offices=offices)
    place, day = offices[0], today
    if form.is_bound and form.is_valid():
        place = next(o for o in offices if o.code == form.cleaned_data["office"])
        day = form.cleaned_data["day"]
    for o in offices:
        o.label = o.name_fa if translation.get_language() == "fa" else (o.name_en or o.name_fa)
    form.fields["office"].choices = [(o.code, o.label) for o in offices]
    rows = list(queries.day_list(place, day)) if not form.errors else []
    return render(
        request,
        "appointments/staff.html",
        {
            "form": form,
            "office": place,
            "day": day,
            "day_label": day_label(day),
            "rows": rows,
            "can_mark": roles.can(request.user, roles.APPOINTMENTS, place.agency_id),
            "markable": day <= today,
            "figures": queries.no_shows_by_office({o.agency_id for o in offices}),
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def mark(request: HttpRequest, reference: str) -> HttpResponse:
    item = get_object_or_404(Booking.objects.select_related("office"), reference=reference[:16])
    if not roles.can(request.user, roles.READ, item.office.agency_id):
        raise Http404
    attended = request.POST.get("attended")
    if attended not in {"1", "0"}:
        return HttpResponse(_("Say whether the person came."), status=400)
    try:
        operations.mark(request.user, item, attended=attended == "1")
    except ValidationError as exc:
        return HttpResponse(" ".join(exc.messages), status=400)
    query = f"?office={item.office.code}&day={jalali.iso(item.day).replace('-', '/')}"
    return redirect(reverse("appointments:staff") + query + f"#row-{item.reference}")


# -- the office's times (staff) -----------------------------------------------------------------


class HourField(forms.TimeField):
    """``08:00`` in Latin, Persian or Arabic-Indic digits."""

    def to_python(self, value):
        return super().to_python(to_latin_digits(value) if isinstance(value, str) else value)


class AddSlotsForm(forms.Form):
    day = JalaliDateField(
        label=gettext_lazy("Day"), help_text=gettext_lazy("A Jalali date, for example 1405/09/17.")
    )
    start = HourField(
        label=gettext_lazy("First time begins"),
        input_formats=["%H:%M"],
        help_text=gettext_lazy("Hours and minutes, for example 08:00."),
    )
    end = HourField(
        label=gettext_lazy("Last time ends"),
        input_formats=["%H:%M"],
        help_text=gettext_lazy("Hours and minutes, for example 12:00."),
    )
    minutes = forms.IntegerField(label=gettext_lazy("Minutes each"), min_value=5, max_value=480)
    capacity = forms.IntegerField(
        label=gettext_lazy("Places in each time"), min_value=1, max_value=operations.MAX_CAPACITY
    )


@login_required
@require_http_methods(["GET", "POST"])
def slots(request: HttpRequest) -> HttpResponse:
    """An office's days and times: add times with their places, change a time's places, close
    or reopen a time. Writes are the operations' (``roles.APPOINTMENTS`` of the office's
    agency); viewers see the page without its forms."""
    offices = _staff_offices(request.user)
    if not offices:
        raise roles.NotPermitted()
    data = request.POST if request.method == "POST" else request.GET
    code = (data.get("office") or offices[0].code)[:60]
    place = next((o for o in offices if o.code == code), None)
    if place is None:
        raise Http404
    today = operations.tehran_day(timezone.now())
    try:
        day = jalali.to_gregorian(data.get("day") or "") if data.get("day") else today
    except jalali.InvalidJalaliDate:
        day = today
    can_write = roles.can(request.user, roles.APPOINTMENTS, place.agency_id)
    add_form = AddSlotsForm(
        initial={
            "day": jalali.iso(day).replace("-", "/"),
            "start": "08:00",
            "end": "12:00",
            "minutes": 20,
            "capacity": 1,
        }
    )
    error, done, status = "", request.GET.get("done", "")[:20], 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "add":
                add_form = AddSlotsForm(request.POST)
                if add_form.is_valid():
                    cleaned = add_form.cleaned_data
                    added = operations.add_slots(
                        request.user,
                        place,
                        cleaned["day"],
                        start=cleaned["start"],
                        end=cleaned["end"],
                        minutes=cleaned["minutes"],
                        capacity=cleaned["capacity"],
                    )
                    return _back(place, cleaned["day"], f"added-{added}")
                status = 400
            elif action in {"close", "reopen", "capacity"}:
                slot = get_object_or_404(Slot, pk=_int(request.POST.get("slot")), office=place)
                if action == "close":
                    operations.close_slot(request.user, slot)
                elif action == "reopen":
                    operations.reopen_slot(request.user, slot)
                else:
                    capacity = _int(request.POST.get("capacity"))
                    if capacity is None:
                        raise operations.Refused(_("Enter the number of places, 1 to 500."))
                    operations.set_capacity(request.user, slot, capacity)
                return _back(place, slot.day, action)
            else:
                return HttpResponse(_("Choose what to do."), status=400)
        except operations.Refused as exc:
            error, status = " ".join(exc.messages), 400
    for o in offices:
        o.label = o.name_fa if translation.get_language() == "fa" else (o.name_en or o.name_fa)
    days = queries.office_days(place, since=today)
    for row in days:
        row["label"] = day_label(row["day"])
        row["param"] = jalali.iso(row["day"]).replace("-", "/")
    return render(
        request,
        "appointments/slots.html",
        {
            "offices": offices,
            "office": place,
            "day": day,
            "day_label": day_label(day),
            "days": days,
            "slots": list(queries.office_slots(place, day)),
            "waiting": queries.waiting_count(place, day),
            "can_write": can_write,
            "add_form": add_form,
            "error": error,
            "done": done,
        },
        status=status,
    )


def _int(value) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) < 7 else None


def _back(place: Office, day: dt.date, done: str) -> HttpResponse:
    query = f"?office={place.code}&day={jalali.iso(day).replace('-', '/')}&done={done}"
    return redirect(reverse("appointments:slots") + query)
