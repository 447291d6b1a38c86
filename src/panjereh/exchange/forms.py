"""Forms of the exchange's back office. Dates are Jalali; Persian and Arabic digits and letters
are accepted everywhere (``panjereh.common.persian``)."""

from __future__ import annotations

import datetime as dt
import re

import jdatetime
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from panjereh.catalogue.models import Agency, Service
from panjereh.common import jalali
from panjereh.common.forms import AccessibleForm, JalaliDateField
from panjereh.common.persian import normalize, to_latin_digits

from .models import DataService, Grant, item_label

_MONTH_RE = re.compile(r"^\s*(\d{4})\s*[/\-.]\s*(\d{1,2})\s*$")


def _language() -> str:
    return translation.get_language() or "fa"


def parse_month(text: str | None) -> str | None:
    """``1404-03``, ``۱۴۰۴/۳`` → ``1404-03``; None when it is not a month."""
    match = _MONTH_RE.match(to_latin_digits(text or ""))
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not (1300 <= year < 1700 and 1 <= month <= 12):
        return None
    return f"{year:04d}-{month:02d}"


def month_choices(today: dt.date | None = None, count: int = 24) -> list[tuple[str, str]]:
    """The last ``count`` Jalali months, newest first, labelled in the UI's language."""
    this = jalali.from_gregorian(today or timezone.localdate()).replace(day=1)
    choices = []
    for back in range(count):
        month = jalali.add_months(this, -back)
        key = f"{month.year:04d}-{month.month:02d}"
        if _language().startswith("fa"):
            label = jalali.format_fa(month).split(" ", 1)[1]  # "خرداد ۱۴۰۴"
        else:
            label = f"{jdatetime.date.j_months_en[month.month - 1]} {month.year}"
        choices.append((key, label))
    return choices


class MonthForm(forms.Form):
    month = forms.CharField(label=_("Month (solar calendar)"), max_length=10)

    def clean_month(self) -> str:
        month = parse_month(self.cleaned_data["month"])
        if month is None:
            raise ValidationError(_("Enter a solar-calendar month such as 1404/03."), code="month")
        return month


def _service_label(service: Service) -> str:
    title = service.title_fa
    if not _language().startswith("fa") and service.title_en:
        title = service.title_en
    return f"{service.service_id} — {title}"


class GrantRequestForm(AccessibleForm):
    """A consumer agency asks for named items of one data service, for one of its services."""

    agency = forms.TypedChoiceField(label=_("Requesting agency"), coerce=int)
    items = forms.MultipleChoiceField(
        label=_("Data items"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Ask only for the items the service needs."),
    )
    purpose = forms.CharField(
        label=_("Purpose: the service ID of your agency's service that needs the data"),
        max_length=20,
        widget=forms.Select,
    )
    justification = forms.CharField(
        label=_("Justification"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Why the service needs these items, and under which law."),
    )

    def __init__(self, *args, service: DataService, agencies: list[Agency], **kwargs):
        super().__init__(*args, **kwargs)
        self.service = service
        self.agencies = {agency.pk: agency for agency in agencies}
        language = _language()
        self.fields["agency"].choices = [
            (
                agency.pk,
                agency.name_fa if language.startswith("fa") else agency.name_en or agency.name_fa,
            )
            for agency in agencies
        ]
        if len(agencies) == 1:
            self.fields["agency"].initial = agencies[0].pk
            self.fields["agency"].widget = forms.HiddenInput()
        self.fields["items"].choices = [
            (code, f"{item_label(code, language)} ({code})") for code in service.item_codes
        ]
        purposes = Service.objects.filter(agency__in=agencies, service_id__isnull=False).order_by(
            "service_id"
        )
        self.purposes = {p.service_id: p for p in purposes}
        self.fields["purpose"].widget.choices = [("", _("Choose one of your services"))] + [
            (p.service_id, _service_label(p)) for p in purposes
        ]

    def clean_purpose(self) -> Service:
        code = to_latin_digits(self.cleaned_data["purpose"]).strip()
        purpose = self.purposes.get(code)
        if purpose is None:
            raise ValidationError(
                _("Choose a service of your agency that has a service ID."), code="purpose"
            )
        return purpose

    def clean_justification(self) -> str:
        return normalize(self.cleaned_data["justification"])

    def clean(self):
        cleaned = super().clean()
        agency_id, purpose = cleaned.get("agency"), cleaned.get("purpose")
        if agency_id is not None and agency_id not in self.agencies:
            self.add_error("agency", _("You do not work for this agency."))
        elif agency_id is not None and purpose is not None and purpose.agency_id != agency_id:
            self.add_error("purpose", _("The purpose must be a service of the requesting agency."))
        return cleaned


class ApproveForm(AccessibleForm):
    resolution_number = forms.CharField(label=_("Resolution number"), max_length=40)
    resolution_session = forms.CharField(label=_("Session"), max_length=40)
    resolution_date = JalaliDateField(label=_("Resolution date"))
    valid_until = JalaliDateField(label=_("Valid until"))
    implementation_deadline = JalaliDateField(
        label=_("Implementation deadline"),
        required=False,
        help_text=_("The consumer must make its first call by this day, or the grant is overdue."),
    )
    items = forms.MultipleChoiceField(
        label=_("Items granted"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Some or all of the items asked for."),
    )
    note = forms.CharField(
        label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, grant: Grant, **kwargs):
        super().__init__(*args, **kwargs)
        language = _language()
        self.fields["items"].choices = [
            (code, f"{item_label(code, language)} ({code})") for code in grant.requested_items
        ]
        self.fields["items"].initial = list(grant.requested_items)

    def clean_resolution_number(self) -> str:
        return normalize(self.cleaned_data["resolution_number"])

    def clean_resolution_session(self) -> str:
        return normalize(self.cleaned_data["resolution_session"])

    def clean_note(self) -> str:
        return normalize(self.cleaned_data["note"])

    def clean(self):
        cleaned = super().clean()
        today = timezone.localdate()
        decided = cleaned.get("resolution_date")
        until = cleaned.get("valid_until")
        deadline = cleaned.get("implementation_deadline")
        if decided and decided > today:
            self.add_error("resolution_date", _("The resolution date cannot be in the future."))
        if until and until < today:
            self.add_error("valid_until", _("The validity must not have ended already."))
        if decided and until and until < decided:
            self.add_error("valid_until", _("The grant must end after the resolution."))
        if deadline and decided and deadline < decided:
            self.add_error(
                "implementation_deadline", _("The deadline must be after the resolution.")
            )
        if deadline and until and deadline > until:
            self.add_error(
                "implementation_deadline", _("The deadline must fall within the validity.")
            )
        return cleaned


class RejectForm(AccessibleForm):
    resolution_number = forms.CharField(label=_("Resolution number"), max_length=40)
    reason = forms.CharField(
        label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def clean_resolution_number(self) -> str:
        return normalize(self.cleaned_data["resolution_number"])

    def clean_reason(self) -> str:
        return normalize(self.cleaned_data["reason"])


class RevokeForm(AccessibleForm):
    resolution_number = forms.CharField(label=_("Resolution number"), max_length=40, required=False)
    reason = forms.CharField(
        label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def clean_resolution_number(self) -> str:
        return normalize(self.cleaned_data["resolution_number"])

    def clean_reason(self) -> str:
        return normalize(self.cleaned_data["reason"])


class ToggleServiceForm(AccessibleForm):
    enabled = forms.TypedChoiceField(
        choices=[("1", "1"), ("0", "0")], coerce=lambda v: v == "1", widget=forms.HiddenInput
    )
    reason = forms.CharField(
        label=_("Reason (kept in the record)"),
        required=False,
        max_length=500,
        widget=forms.TextInput(),
    )

    def clean_reason(self) -> str:
        return normalize(self.cleaned_data["reason"])
