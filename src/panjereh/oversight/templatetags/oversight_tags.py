"""Filters that show an indicator value with its unit, in the UI's digits."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

from panjereh.common.templatetags.persian import num, pct

register = template.Library()


@register.filter
def show(value, unit: str = "percent") -> str:
    """An indicator :class:`Value`: a percentage, a count, yes/no, or "no data"."""
    if getattr(value, "withheld", False):
        return _("not enough data")
    if value is None or not getattr(value, "available", True) or value.value is None:
        return _("no data")
    v = value.value
    if isinstance(v, bool):
        return _("yes") if v else _("no")
    if unit == "percent":
        return pct(v)
    if unit == "percent_change":
        return signed_pct(v)
    if unit in ("count", "calls_per_month", "rials"):
        return num(v)
    if unit == "days":
        return _("%(n)s days") % {"n": num(v)}
    return str(v)


@register.filter
def fraction(value) -> str:
    """``780 of 3,505``: the numerator and denominator behind a figure."""
    if value is None or value.denominator is None or value.numerator is None:
        return ""
    return _("%(n)s of %(d)s") % {"n": num(value.numerator), "d": num(value.denominator)}


@register.filter
def share(value) -> str:
    """A count's share of its denominator, as a percentage."""
    if value is None or not value.denominator:
        return ""
    return pct(round(100.0 * value.numerator / value.denominator, 1))


@register.filter
def get(mapping, key):
    return mapping.get(key) if mapping else None


@register.filter
def status_label(code: str) -> str:
    from panjereh.catalogue.vocab import ConnectionStatus

    try:
        return str(ConnectionStatus(code).label)
    except ValueError:
        return code


@register.filter
def quality_pct(value) -> str:
    """A 0–1 share as a percentage with one decimal."""
    if value is None:
        return "—"
    return pct(round(100.0 * float(value), 1))


@register.filter
def signed_pct(value) -> str:
    """A change in percent with its sign (``+۱۲٫۵٪``, ``−۳٫۰٪``); "—" for None."""
    if value is None:
        return "—"
    sign = "+" if value > 0 else "−" if value < 0 else ""
    return sign + pct(abs(value))


@register.filter
def satfig(fig, field: str) -> str:
    """One field of ``indicators.SatisfactionFigures``: ``share``, ``baseline_share``,
    ``change_pct`` or ``target_met``; "not enough data" where a period has 1-4 ratings."""
    from panjereh.oversight.indicators import min_ratings

    value = getattr(fig, field, None) if fig is not None else None
    if value is not None:
        if isinstance(value, bool):
            return _("yes") if value else _("no")
        return signed_pct(value) if field == "change_pct" else pct(value)
    if fig is None or not fig.source:
        return _("no data")
    counts = {
        "share": [fig.ratings],
        "baseline_share": [fig.baseline_ratings],
    }.get(field, [fig.ratings, fig.baseline_ratings])
    if any(n and n < min_ratings() for n in counts):
        return _("not enough data")
    return _("no data")
