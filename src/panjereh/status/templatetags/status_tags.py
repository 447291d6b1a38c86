"""Template filters of the status page: moments in Tehran time and spans of time, in the UI's
calendar and digits."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from panjereh.common import jalali
from panjereh.common.persian import to_persian_digits

register = template.Library()


def _persian_ui() -> bool:
    return (translation.get_language() or "fa").startswith("fa")


@register.filter
def jmoment(value: dt.datetime | None, seconds: str = "") -> str:
    """``۱ آذر ۱۴۰۵، ۱۴:۰۵`` (Persian UI) or ``22 Nov 2026, 14:05`` (English), Tehran time."""
    if not value:
        return ""
    local = timezone.localtime(value, jalali.TEHRAN)
    clock = local.strftime("%H:%M:%S" if seconds else "%H:%M")
    if _persian_ui():
        return f"{jalali.format_fa(local)}، {to_persian_digits(clock)}"
    return f"{local:%d %b %Y}, {clock}"


@register.filter
def span(value: dt.timedelta | None) -> str:
    """A duration in words, to the minute (under a minute: seconds): "2 hours 5 minutes"."""
    if value is None:
        return ""
    total = max(0, int(value.total_seconds()))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = []
    if days:
        parts.append(ngettext("%(n)d day", "%(n)d days", days) % {"n": days})
    if hours:
        parts.append(ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours})
    if minutes and not days:
        parts.append(ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes})
    if not parts:
        parts.append(ngettext("%(n)d second", "%(n)d seconds", seconds) % {"n": seconds})
    text = gettext(", ").join(parts)
    return to_persian_digits(text) if _persian_ui() else text


@register.filter
def iso(value: dt.datetime | None) -> str:
    """Machine-readable moment for ``<time datetime>`` and the API (UTC, ISO 8601)."""
    if not value:
        return ""
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
