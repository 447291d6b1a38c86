"""Refusing personal data in public texts: national codes, mobile and landline numbers, postal
codes and e-mail addresses.

Texts that citizens write for the public (suggestions, consultation comments) must not carry
anyone's personal data. Digits are read in any script (Persian ۰-۹, Arabic-Indic ٠-٩, ASCII),
and a number split by spaces, dashes, dots, slashes or a ZWNJ (``۰۹۱۲ ۳۴۵ ۶۷۸۹``,
``001-234567-8``, ``(۰۲۱) ۸۸۷۷-۶۶۵۵``) is read whole. What is refused:

- an **e-mail address** (``name@example.ir``, also with Persian letters);
- a **mobile number**: ``09xxxxxxxxx``, ``+989xxxxxxxxx``, ``00989xxxxxxxxx``, ``989xxxxxxxxx``;
- an Iranian **landline number** with its area code: ``0`` + area code (first digit 1-8) +
  8-digit subscriber number, 11 digits (``021-12345678``, ``02112345678``), or the same after
  ``+98`` / ``0098``. An 8-digit number without area code is not refused (it cannot be told
  from other numbers);
- a **postal code** written as five digits, a dash, five digits (``12345-67890``);
- any other run of exactly **ten digits**, as a national code (a service ID is ten digits too:
  people pick the card instead of typing its ID).

Years (``۱۴۰۴``), dates (``۱۴۰۴/۰۸/۳۰``) and short numbers are not personal data. The text is
refused with a message that says what was found; it is never silently altered.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from panjereh.common.persian import to_latin_digits

_DASHES = "\\-\u2010\u2011\u2012\u2013\u2212"  # hyphen-minus, hyphens, en dash, minus sign
# Digits, possibly separated by one space, dash, dot, slash or ZWNJ between groups.
_NUMBER = re.compile(rf"\+?\d(?:[ {_DASHES}.\u200c\u00a0/]?\d)*")
# An area code in parentheses, "(021) 8877 6655": read as "021-8877 6655".
_AREA_CODE = re.compile(r"\((\+?\d{2,5})\)[ \u00a0]?(?=\d)")
_MOBILE = re.compile(r"^(?:0|\+98|0098|98)9\d{9}$")
_LANDLINE = re.compile(r"^(?:0|\+98|0098)[1-8]\d{9}$")
_POSTAL_CODE = re.compile(rf"^\d{{5}}[{_DASHES}]\d{{5}}$")
# Local part and domain of an address; \w includes Persian letters.
_EMAIL = re.compile(r"[\w.%+\-]+@[\w\-]+(?:\.[\w\-]+)*\.[^\W\d_]{2,}")

NATIONAL_CODE = "national_code"
MOBILE = "mobile"
LANDLINE = "landline"
POSTAL_CODE = "postal_code"
EMAIL = "email"

NAMES = {
    NATIONAL_CODE: _("a national code"),
    MOBILE: _("a mobile number"),
    LANDLINE: _("a telephone number"),
    POSTAL_CODE: _("a postal code"),
    EMAIL: _("an e-mail address"),
}
_ORDER = [NATIONAL_CODE, MOBILE, LANDLINE, POSTAL_CODE, EMAIL]


def find(text: str | None) -> set[str]:
    """The kinds of personal data found in ``text`` (empty when none)."""
    found: set[str] = set()
    text = to_latin_digits(text or "")
    if _EMAIL.search(text):
        found.add(EMAIL)
        text = _EMAIL.sub(" ", text)
    text = _AREA_CODE.sub(r"\1-", text)
    for match in _NUMBER.finditer(text):
        raw = match.group(0)
        digits = re.sub(r"\D", "", raw)
        plus = "+" if raw.startswith("+") else ""
        if _MOBILE.match(plus + digits):
            found.add(MOBILE)
        elif _LANDLINE.match(plus + digits):
            found.add(LANDLINE)
        elif _POSTAL_CODE.match(raw):
            found.add(POSTAL_CODE)
        elif len(digits) == 10:
            found.add(NATIONAL_CODE)
    return found


MESSAGES = {
    NATIONAL_CODE: _(
        "Please remove the ten-digit number: it looks like a national code, and public "
        "texts must not contain personal data."
    ),
    MOBILE: _("Please remove the mobile number: public texts must not contain personal data."),
    LANDLINE: _("Please remove the telephone number: public texts must not contain personal data."),
    POSTAL_CODE: _("Please remove the postal code: public texts must not contain personal data."),
    EMAIL: _("Please remove the e-mail address: public texts must not contain personal data."),
}


def check(text: str | None) -> None:
    """Raise a ValidationError naming what was found; nothing is changed."""
    found = find(text)
    if not found:
        return
    if found == {NATIONAL_CODE, MOBILE}:
        raise ValidationError(
            _(
                "Please remove the national code and the mobile number: public texts must not "
                "contain personal data."
            ),
            code="pii",
        )
    if len(found) > 1:
        kinds = [str(NAMES[kind]) for kind in _ORDER if kind in found]
        comma = "، " if (get_language() or "").startswith("fa") else ", "
        raise ValidationError(
            gettext(
                "Please remove the personal data (%(kinds)s): public texts must not contain "
                "personal data."
            )
            % {"kinds": comma.join(kinds)},
            code="pii",
        )
    (kind,) = found
    raise ValidationError(MESSAGES[kind], code=f"pii_{kind}")
