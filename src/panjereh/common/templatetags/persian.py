"""Template filters for the Persian UI: digits and Jalali dates follow the active language."""

from __future__ import annotations

from django import template
from django.utils import translation
from django.utils.formats import number_format

from panjereh.common import jalali
from panjereh.common.persian import to_persian_digits

register = template.Library()


def _persian_ui() -> bool:
    return (translation.get_language() or "fa").startswith("fa")


@register.filter
def digits(value):
    """Persian digits when the UI is Persian; unchanged otherwise."""
    if value is None:
        return ""
    return to_persian_digits(value) if _persian_ui() else str(value)


@register.filter
def num(value):
    """A number with thousands separators, in the UI's digits (Persian: ۴٬۷۱۵)."""
    if value is None or value == "":
        return ""
    if isinstance(value, int) or (isinstance(value, str) and value.lstrip("-").isdigit()):
        # Django's fa formats do not group digits; group explicitly for both languages.
        text = f"{int(value):,}"
    else:
        text = number_format(value, force_grouping=True)
    if _persian_ui():
        return to_persian_digits(text.replace(",", "٬"))
    return text


@register.filter
def pct(value, places=1):
    if value is None:
        return "—"
    text = f"{float(value):.{int(places)}f}"
    return (to_persian_digits(text.replace(".", "٫")) + "٪") if _persian_ui() else text + "%"


@register.filter
def jdate(value, style="long"):
    """Jalali date for Persian; ISO-like Gregorian for English."""
    if not value:
        return ""
    if _persian_ui():
        return jalali.format_fa(value, with_month_name=(style == "long"))
    if hasattr(value, "astimezone"):
        value = value.astimezone(jalali.TEHRAN)
    return value.strftime("%d %b %Y") if style == "long" else value.strftime("%Y-%m-%d")


@register.simple_tag(takes_context=True)
def pick(context, fa, en):
    """The Persian or English field of a bilingual record, falling back to Persian."""
    return en if (not _persian_ui() and en) else fa
