"""Template filters of the payments app (the menu's Finance link)."""

from __future__ import annotations

from django import template

from panjereh.payments import queries

register = template.Library()


@register.filter
def sees_finance(user) -> bool:
    """Whether the finance page would show ``user`` anything (agency staff, supervisors)."""
    if not getattr(user, "is_authenticated", False):
        return False
    visible = queries.agencies_visible_to(user)
    return visible is None or bool(visible)
