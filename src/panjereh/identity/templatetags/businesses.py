"""``{% acting_company as acting %}``: the company the signed-in person acts for (re-checked
with the registry within the representation TTL), for the header's "acting as" bar."""

from __future__ import annotations

from django import template

from panjereh.identity import businesses

register = template.Library()


@register.simple_tag(takes_context=True)
def acting_company(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not getattr(user, "national_code", None):
        return None
    return businesses.acting_for(request)


@register.simple_tag(takes_context=True)
def has_companies(context) -> bool:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    return businesses.has_choices(user)
