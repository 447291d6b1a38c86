"""The judge's request form (the freeze form is built from the results on the page)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class InquiryForm(forms.Form):
    case_number = forms.CharField(
        label=_("Case number"),
        max_length=40,
        help_text=_("16 digits, starting with the year the case was opened."),
    )
    subject_code = forms.CharField(
        label=_("National code or company national ID"),
        max_length=40,
        help_text=_("The person's 10-digit national code or the company's 11-digit national ID."),
    )
    key = forms.CharField(widget=forms.HiddenInput, max_length=64)
