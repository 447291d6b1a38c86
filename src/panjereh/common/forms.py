"""Form helpers shared by every app's pages."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from . import jalali


class AccessibleForm(forms.Form):
    """Ties each input to its hint and error messages (``aria-describedby``) and marks inputs
    in error (``aria-invalid``), so that screen readers announce them with the field."""

    def full_clean(self) -> None:
        super().full_clean()
        for name, field in self.fields.items():
            bound = self[name]
            described = []
            if field.help_text:
                described.append(f"{bound.auto_id}-hint")
            if name in self.errors:
                described.append(f"{bound.auto_id}-error")
                field.widget.attrs["aria-invalid"] = "true"
            if described:
                field.widget.attrs["aria-describedby"] = " ".join(described)


class JalaliDateField(forms.CharField):
    """A day of the solar calendar typed as year/month/day (``۱۴۰۴/۰۳/۳۱``, ``1404-3-31``),
    cleaned to a Gregorian date (None when left empty and not required). A year from 1700 on
    is a Gregorian date typed by mistake and is refused with the same message, which names the
    calendar. ``first_year`` refuses earlier years (None: no lower bound)."""

    default_message = _("Enter a solar-calendar date as year/month/day, for example 1404/03/31.")

    def __init__(
        self,
        *,
        message: str | None = None,
        placeholder: str = "۱۴۰۴/۰۳/۳۱",
        first_year: int | None = 1300,
        **kwargs,
    ) -> None:
        kwargs.setdefault("max_length", 20)
        super().__init__(**kwargs)
        self.message = message or self.default_message
        self.first_year = first_year
        self.widget.attrs.update(
            {
                "placeholder": placeholder,
                "dir": "ltr",
                "inputmode": "numeric",
                "autocomplete": "off",
            }
        )

    def prepare_value(self, value):
        if isinstance(value, dt.date):
            return jalali.iso(value).replace("-", "/")
        return value

    def clean(self, value) -> dt.date | None:
        value = super().clean(value)
        if not value:
            return None
        try:
            parsed = jalali.parse(value)
        except jalali.InvalidJalaliDate as exc:
            raise ValidationError(self.message, code="date") from exc
        if parsed.year >= 1700 or (self.first_year is not None and parsed.year < self.first_year):
            raise ValidationError(self.message, code="gregorian")
        return parsed.togregorian()
