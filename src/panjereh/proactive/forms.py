from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from panjereh.common.forms import AccessibleForm


class ConsentForm(AccessibleForm):
    decision = forms.ChoiceField(
        label=_("Should the window start services for you when a life event happens?"),
        choices=[
            ("give", _("Yes, start them for me and tell me in my inbox")),
            ("withdraw", _("No, I will apply myself")),
        ],
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose yes or no."),
            "invalid_choice": _("Choose yes or no."),
        },
    )
