"""``level_label``: what an assurance level needs, from ``identity.assurance`` (one definition)."""

from django import template

from panjereh.identity import assurance

register = template.Library()


@register.filter
def level_label(level) -> str:
    return assurance.level_label(level)
