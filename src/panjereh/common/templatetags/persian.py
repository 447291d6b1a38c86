"""Template filters for the Persian UI: digits and Jalali dates follow the active language."""

from __future__ import annotations

from django import template
from django.utils import translation
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext

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


def _decimal(value: float, places: int = 1) -> str:
    """A number with at most ``places`` decimals (no trailing zeros), in the UI's digits."""
    text = f"{value:.{places}f}".rstrip("0").rstrip(".") if places else f"{value:.0f}"
    return to_persian_digits(text.replace(".", "٫")) if _persian_ui() else text


@register.filter
def size(value):
    """A file size in the UI's language: ``۱۱۴٫۴ کیلوبایت`` or ``114.4 KB`` (1 KB = 1024 bytes)."""
    if value is None or value == "":
        return ""
    n = int(value)
    if n < 1024:
        return ngettext("%(n)s byte", "%(n)s bytes", n) % {"n": digits(n)}
    if n < 1024 * 1024:
        return gettext("%(n)s KB") % {"n": _decimal(n / 1024)}
    return gettext("%(n)s MB") % {"n": _decimal(n / (1024 * 1024))}


@register.filter
def andlist(values):
    """Items joined with the UI's comma: «،» in Persian, «,» in English."""
    if not values:
        return ""
    separator = "، " if _persian_ui() else ", "
    return separator.join(str(v) for v in values)


@register.simple_tag
def comma() -> str:
    """The list separator of the UI's language, for lists written out in a template."""
    return "، " if _persian_ui() else ", "


@register.filter
def jmonth(value):
    """A Jalali month (a :class:`~panjereh.common.jalali.Month` or ``"1404-03"``) by its name in
    the UI's language: «خرداد ۱۴۰۴» or "Khordad 1404"; anything else is shown as it is."""
    if not value:
        return ""
    try:
        month = value if isinstance(value, jalali.Month) else jalali.Month.parse(str(value))
    except jalali.InvalidJalaliDate:
        return digits(str(value))
    return month.name_fa if _persian_ui() else month.name_en


@register.filter(is_safe=True)
def code(value):
    """An identifier (tracking code, document number) isolated left to right, its digits in the
    UI's digits, so that «MSRT-H-…» keeps its order inside Persian text."""
    if value is None or value == "":
        return ""
    return format_html('<bdi dir="ltr" class="code">{}</bdi>', digits(str(value)))


@register.simple_tag(takes_context=True)
def pick(context, fa, en):
    """The Persian or English field of a bilingual record, falling back to Persian. On a
    Persian page the text's digits are Persian (titles are stored with Latin digits)."""
    if _persian_ui():
        return digits(fa) if isinstance(fa, str) else fa
    return en if en else fa
