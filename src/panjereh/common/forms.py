"""Form helpers shared by every app's pages."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.utils.functional import lazy
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from . import jalali


def _digits_now(text: str) -> str:
    from .templatetags.persian import digits

    return digits(text)


_example_date = lazy(_digits_now, str)


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
        placeholder: str | None = None,
        first_year: int | None = 1300,
        **kwargs,
    ) -> None:
        kwargs.setdefault("max_length", 20)
        super().__init__(**kwargs)
        self.message = message or self.default_message
        self.first_year = first_year
        self.widget.attrs.update(
            {
                # The example in the digits of the language active when the form is rendered.
                "placeholder": placeholder or _example_date("1404/03/31"),
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


class StringListField(forms.Field):
    """A list of short texts (a JSON list field) edited one item per line, instead of as raw
    JSON: blank lines and surrounding spaces are dropped, the order is kept."""

    widget = forms.Textarea

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("help_text", _("One item per line."))
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("rows", 4)
        self.widget.attrs.setdefault("class", "string-list")

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return "\n".join(str(item) for item in value)
        return value or ""

    def to_python(self, value) -> list[str]:
        if isinstance(value, list | tuple):
            return [str(item).strip() for item in value if str(item).strip()]
        return [line.strip() for line in str(value or "").splitlines() if line.strip()]

    def validate(self, value) -> None:
        if self.required and not value:
            raise ValidationError(self.error_messages["required"], code="required")

    def has_changed(self, initial, data) -> bool:
        return self.to_python(initial or []) != self.to_python(data)


class StringListAdminMixin:
    """For a ModelAdmin: the JSON list fields named in ``string_list_fields`` are edited with
    :class:`StringListField` (one item per line)."""

    string_list_fields: tuple[str, ...] = ()

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name in self.string_list_fields:
            return StringListField(
                label=capfirst(db_field.verbose_name),
                required=not db_field.blank,
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)
