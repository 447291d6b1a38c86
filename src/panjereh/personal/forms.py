from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Lifetime


class ShareForm(forms.Form):
    lifetime = forms.ChoiceField(
        label=_("How long the link works"),
        choices=Lifetime.choices,
        initial=Lifetime.DAY,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose how long the link works."),
            "invalid_choice": _("Choose how long the link works."),
        },
    )
