"""Forms of the participation pages: accessible errors, Persian digits and letters accepted."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from panjereh.catalogue.models import Agency, Service
from panjereh.common import jalali
from panjereh.common.forms import AccessibleForm, JalaliDateField
from panjereh.common.persian import digits_only

from . import operations
from .models import ConsultationKind, Goal


def _clean_public_text(value: str, max_length: int) -> str:
    try:
        return operations.clean_text(value, max_length)
    except operations.InvalidText as exc:
        raise forms.ValidationError(exc.message, code="invalid_text") from exc


class ProposeForm(AccessibleForm):
    agency = forms.ModelChoiceField(
        label=_("Agency"),
        queryset=Agency.objects.filter(in_scope=True).order_by("name_fa"),
        empty_label=_("Choose the agency"),
    )
    goal = forms.ChoiceField(
        label=_("What should happen"), choices=Goal.choices, widget=forms.RadioSelect
    )
    text = forms.CharField(
        label=_("The service, and what you propose"),
        help_text=_(
            "Write no names, national codes, telephone numbers, postal codes or e-mail "
            "addresses: approved proposals are public."
        ),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=operations.MAX_SUGGESTION * 2,
    )

    def clean_text(self) -> str:
        return _clean_public_text(self.cleaned_data["text"], operations.MAX_SUGGESTION)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agency"].label_from_instance = lambda agency: agency.name_fa


class PickCardForm(AccessibleForm):
    service_id = forms.CharField(
        label=_("Service ID"),
        help_text=_("The ten-digit ID on the service's card, in Persian or Latin digits."),
        max_length=20,
    )

    def clean_service_id(self) -> Service:
        code = digits_only(self.cleaned_data["service_id"])
        service = Service.objects.filter(service_id=code).select_related("agency").first()
        if service is None:
            raise forms.ValidationError(_("No service card has this ID."), code="unknown")
        return service


class CommentForm(AccessibleForm):
    text = forms.CharField(
        label=_("Your comment"),
        help_text=_(
            "Comments are published after moderation, without your name. Write no national "
            "codes, telephone numbers, postal codes or e-mail addresses."
        ),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=operations.MAX_COMMENT * 2,
    )

    def clean_text(self) -> str:
        return _clean_public_text(self.cleaned_data["text"], operations.MAX_COMMENT)


class ConsultationForm(AccessibleForm):
    agency = forms.ModelChoiceField(label=_("Agency"), queryset=Agency.objects.none())
    kind = forms.ChoiceField(label=_("Kind"), choices=ConsultationKind.choices)
    title = forms.CharField(label=_("Title"), max_length=300)
    text = forms.CharField(
        label=_("The question or the draft"), widget=forms.Textarea(attrs={"rows": 10})
    )
    opens_on = JalaliDateField(
        label=_("Opens on"),
        help_text=_("Jalali date, e.g. 1404/08/15."),
        message=_("Enter a Jalali date such as 1404/08/15."),
    )
    closes_on = JalaliDateField(
        label=_("Closes at the end of"),
        help_text=_("Jalali date, e.g. 1404/08/30."),
        message=_("Enter a Jalali date such as 1404/08/15."),
    )

    def __init__(self, *args, agency_ids=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = Agency.objects.filter(pk__in=agency_ids)
        self.fields["agency"].label_from_instance = lambda agency: agency.name_fa

    def clean(self):
        data = super().clean()
        opens, closes = data.get("opens_on"), data.get("closes_on")
        if opens and closes and closes < opens:
            self.add_error("closes_on", _("The closing date must be after the opening date."))
        return data

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        opens = dt.datetime.combine(self.cleaned_data["opens_on"], dt.time.min, jalali.TEHRAN)
        closes = dt.datetime.combine(
            self.cleaned_data["closes_on"] + dt.timedelta(days=1), dt.time.min, jalali.TEHRAN
        )
        return opens, closes


class SummaryForm(AccessibleForm):
    summary = forms.CharField(
        label=_("What the agency changed after the consultation"),
        widget=forms.Textarea(attrs={"rows": 8}),
    )


class ModerationForm(AccessibleForm):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("approve", _("Approve")), ("reject", _("Reject"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Reason (required to reject)"), required=False, max_length=1000
    )
