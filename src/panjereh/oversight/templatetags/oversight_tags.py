"""Filters that show an indicator value with its unit, in the UI's digits."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

from panjereh.common.templatetags.persian import num, pct

register = template.Library()


@register.filter
def show(value, unit: str = "percent") -> str:
    """An indicator :class:`Value`: a percentage, a count, yes/no, or "no data"."""
    if value is None or not getattr(value, "available", True) or value.value is None:
        return _("no data")
    v = value.value
    if isinstance(v, bool):
        return _("yes") if v else _("no")
    if unit == "percent":
        return pct(v)
    if unit in ("count", "calls_per_month", "rials"):
        return num(v)
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
