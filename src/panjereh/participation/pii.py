"""Refusing personal data in public texts: national codes and Iranian mobile numbers.

Texts that citizens write for the public (suggestions, consultation comments) must not carry
anyone's national code or mobile number. Digits are read in any script (Persian ۰-۹,
Arabic-Indic ٠-٩, ASCII), and a number split by spaces, dashes, dots or a ZWNJ
(``۰۹۱۲ ۳۴۵ ۶۷۸۹``, ``001-234567-8``) is read whole. Any run of exactly ten digits is treated
as a national code (a service ID is ten digits too: people pick the card instead of typing its
ID), and ``09xxxxxxxxx``, ``+989xxxxxxxxx``, ``00989xxxxxxxxx`` or ``989xxxxxxxxx`` as a mobile
number. The text is refused with a message that says which; it is never silently altered.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from panjereh.common.persian import to_latin_digits

# Digits, possibly separated by one space, dash, dot, slash or ZWNJ between groups.
_NUMBER = re.compile(r"\+?\d(?:[ \-.\u200c\u00a0/]?\d)*")
_MOBILE = re.compile(r"^(?:0|\+98|0098|98)9\d{9}$")

NATIONAL_CODE = "national_code"
MOBILE = "mobile"


def find(text: str | None) -> set[str]:
    """The kinds of personal data found in ``text`` (empty when none)."""
    found: set[str] = set()
    for match in _NUMBER.finditer(to_latin_digits(text or "")):
        raw = match.group(0)
        digits = re.sub(r"\D", "", raw)
        plus = "+" if raw.startswith("+") else ""
        if _MOBILE.match(plus + digits):
            found.add(MOBILE)
        elif len(digits) == 10:
            found.add(NATIONAL_CODE)
    return found


def check(text: str | None) -> None:
    """Raise a ValidationError naming what was found; nothing is changed."""
    found = find(text)
    if NATIONAL_CODE in found and MOBILE in found:
        raise ValidationError(
            _(
                "Please remove the national code and the mobile number: public texts must not "
                "contain personal data."
            ),
            code="pii",
        )
    if NATIONAL_CODE in found:
        raise ValidationError(
            _(
                "Please remove the ten-digit number: it looks like a national code, and public "
                "texts must not contain personal data."
            ),
            code="pii_national_code",
        )
    if MOBILE in found:
        raise ValidationError(
            _("Please remove the mobile number: public texts must not contain personal data."),
            code="pii_mobile",
        )
