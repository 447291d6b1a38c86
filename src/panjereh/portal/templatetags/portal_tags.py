"""Template helpers of the portal."""

from __future__ import annotations

from django import template
from django.urls import translate_url

register = template.Library()


@register.simple_tag(takes_context=True)
def url_in_language(context, language: str) -> str:
    """The current page's address in ``language``.

    Worked out while the page's own language is active: ``set_language`` runs unprefixed
    (hence in Persian) and cannot resolve an ``/en/`` address itself, so the switcher sends
    the already translated address as ``next``.
    """
    request = context.get("request")
    if request is None:
        return "/"
    return translate_url(request.get_full_path(), language)


@register.filter
def percent_width(value: float | None) -> str:
    """A CSS width for a progress bar, clamped to 0-100 and in ASCII digits."""
    if value is None:
        return "0%"
    return f"{max(0.0, min(100.0, float(value))):.1f}%"
