"""The back office (Django's admin) in the window's conventions: dates in the solar calendar
with Persian digits when the staff member reads Persian, as on every other page of the window.

Django's admin draws a date or time of a list or a read-only field through
``display_for_field``; the two modules that call it get a version that writes Jalali dates
first and leaves every other value to Django.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.admin import helpers, utils
from django.contrib.admin.templatetags import admin_list
from django.utils import timezone, translation

from panjereh.common import jalali
from panjereh.common.persian import to_persian_digits

_django_display_for_field = utils.display_for_field


def jalali_display(value) -> str | None:
    """A date or moment written in the Persian UI's way, or None for anything else (and in
    English)."""
    if not (translation.get_language() or "fa").startswith("fa"):
        return None
    if isinstance(value, dt.datetime):
        local = timezone.localtime(value, jalali.TEHRAN) if timezone.is_aware(value) else value
        return f"{jalali.format_fa(local)}، {to_persian_digits(local.strftime('%H:%M'))}"
    if isinstance(value, dt.date):
        return jalali.format_fa(value)
    return None


def display_for_field(value, field, empty_value_display, *args, **kwargs):
    shown = jalali_display(value) if value is not None else None
    if shown is not None:
        return shown
    return _django_display_for_field(value, field, empty_value_display, *args, **kwargs)


def install() -> None:
    admin_list.display_for_field = display_for_field
    helpers.display_for_field = display_for_field
