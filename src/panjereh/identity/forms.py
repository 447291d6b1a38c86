"""Forms of the national window's identity pages. Every field accepts Persian digits."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from panjereh.common.forms import AccessibleForm, JalaliDateField
from panjereh.common.persian import digits_only
from panjereh.common.templatetags import persian

from .models import DelegationScope
from .validators import clean_legal_national_id, clean_mobile, clean_national_code


class NationalCodeField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("National code"))
        kwargs.setdefault("max_length", 20)
        super().__init__(**kwargs)
        self.widget.attrs.update(
            {"inputmode": "numeric", "autocomplete": "off", "dir": "ltr", "spellcheck": "false"}
        )

    def clean(self, value):
        value = super().clean(value)
        return clean_national_code(value)


class BirthDateField(JalaliDateField):
    """A birth date: any past solar-calendar day (no lower bound), not in the future."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault(
            "message",
            _(
                "Enter the birth date as year/month/day in the solar calendar, for example "
                "1370/06/31."
            ),
        )
        # The example date in the digits of the page's language (rendered per request).
        kwargs.setdefault("placeholder", lazy(persian.digits, str)("1370/06/31"))
        super().__init__(first_year=None, **kwargs)

    def clean(self, value) -> dt.date:
        day = super().clean(value)
        if day is not None and day > timezone.localdate():
            raise ValidationError(_("The birth date cannot be in the future."), code="future")
        return day


class MobileField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Mobile number"))
        kwargs.setdefault("max_length", 20)
        super().__init__(**kwargs)
        self.widget.attrs.update({"inputmode": "tel", "dir": "ltr", "autocomplete": "tel"})

    def clean(self, value):
        return clean_mobile(super().clean(value))


class CodeField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 12)
        super().__init__(**kwargs)
        self.widget.attrs.update(
            {"inputmode": "numeric", "autocomplete": "one-time-code", "dir": "ltr"}
        )

    def clean(self, value):
        return digits_only(super().clean(value))


class RegisterForm(AccessibleForm):
    national_code = NationalCodeField()
    birth_date = BirthDateField(label=_("Birth date (solar calendar)"))
    mobile = MobileField(help_text=_("A mobile number registered in your own name."))


class CodeForm(AccessibleForm):
    code = CodeField(label=_("The code sent to your mobile"))


class LoginForm(AccessibleForm):
    national_code = NationalCodeField()


class TotpForm(AccessibleForm):
    code = CodeField(label=_("The 6-digit code in your authenticator app"))


class PhotoForm(AccessibleForm):
    # A phone offers its front camera; any device only JPEG and PNG pictures.
    photo = forms.FileField(
        label=_("Your photo"),
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/jpeg,image/png", "capture": "user"}
        ),
    )

    def clean_photo(self):
        upload = self.cleaned_data["photo"]
        if upload.size > 2 * 1024 * 1024:
            raise ValidationError(_("The photo must be smaller than 2 MB."), code="size")
        return upload.read()


class PasskeyNameForm(AccessibleForm):
    name = forms.CharField(
        label=_("Name of the passkey"),
        help_text=_("For example “my phone”: so that you know which one to remove if you lose it."),
        max_length=60,
    )


class DelegationForm(AccessibleForm):
    helper_national_code = NationalCodeField(label=_("Helper's national code"))
    purpose = forms.CharField(label=_("What the helper may do"), max_length=300)
    days = forms.IntegerField(label=_("For how many days"), min_value=1, max_value=90, initial=7)


class CompanyForm(AccessibleForm):
    national_id = forms.CharField(
        label=_("The company's national ID"),
        help_text=_("11 digits, as on the company's registration notice."),
        max_length=30,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["national_id"].widget.attrs.update(
            {"inputmode": "numeric", "autocomplete": "off", "dir": "ltr", "spellcheck": "false"}
        )

    def clean_national_id(self):
        return clean_legal_national_id(self.cleaned_data["national_id"])


class CompanyDelegationForm(AccessibleForm):
    delegate_national_code = NationalCodeField(
        label=_("National code of the person you authorise"),
        help_text=_("For example your accountant or lawyer."),
    )
    scopes = forms.MultipleChoiceField(
        label=_("What they may do for the company"),
        choices=DelegationScope.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one thing the person may do.")},
    )
    expires_on = JalaliDateField(
        label=_("Until (solar calendar)"),
        help_text=_("At most one year from today."),
    )
