"""National code (کد ملی) and legal-person national ID (شناسه ملی) validation.

Both numbers carry a check digit. Input is accepted in Persian, Arabic-Indic or ASCII digits,
with dashes or spaces between groups, because that is how people copy them from cards and
letters; what is stored is always the bare ASCII digits.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from panjereh.common.persian import digits_only

_LEGAL_WEIGHTS = (29, 27, 23, 19, 17)


def clean_national_code(value: str | None) -> str:
    """The national code as 10 ASCII digits, or a ValidationError with a clear message."""
    code = digits_only(value)
    if len(code) != 10:
        raise ValidationError(_("A national code has exactly 10 digits."), code="length")
    if not is_valid_national_code(code):
        raise ValidationError(_("This national code is not valid."), code="check_digit")
    return code


def is_valid_national_code(value: str | None) -> bool:
    """The check-digit algorithm of the National Organization for Civil Registration."""
    code = digits_only(value)
    if len(code) != 10 or len(set(code)) == 1:
        # A code of one repeated digit passes the checksum but is never issued.
        return False
    check = int(code[9])
    total = sum(int(code[i]) * (10 - i) for i in range(9))
    remainder = total % 11
    return check == remainder if remainder < 2 else check == 11 - remainder


def clean_legal_national_id(value: str | None) -> str:
    """The legal person's national ID as 11 ASCII digits, or a ValidationError."""
    code = digits_only(value)
    if len(code) != 11:
        raise ValidationError(
            _("A legal person's national ID has exactly 11 digits."), code="length"
        )
    if not is_valid_legal_national_id(code):
        raise ValidationError(_("This national ID is not valid."), code="check_digit")
    return code


def is_valid_legal_national_id(value: str | None) -> bool:
    """The check-digit algorithm of the Registration Organization's legal-person IDs."""
    code = digits_only(value)
    if len(code) != 11 or int(code) == 0 or int(code[3:9]) == 0:
        # Digits 4-9 are the serial within the registry office: all zero is never issued.
        return False
    check = int(code[10])
    tens_plus_two = int(code[9]) + 2
    total = sum((tens_plus_two + int(code[i])) * _LEGAL_WEIGHTS[i % 5] for i in range(10))
    remainder = total % 11
    if remainder == 10:
        remainder = 0
    return check == remainder


def validate_national_code(value: str) -> None:
    """A model-field validator: the stored value must already be clean."""
    if value != digits_only(value) or not is_valid_national_code(value):
        raise ValidationError(_("This national code is not valid."), code="check_digit")


def validate_legal_national_id(value: str) -> None:
    if value != digits_only(value) or not is_valid_legal_national_id(value):
        raise ValidationError(_("This national ID is not valid."), code="check_digit")


def clean_mobile(value: str | None) -> str:
    """An Iranian mobile number as ``09xxxxxxxxx``; accepts +98, 0098 and 9xxxxxxxxx forms."""
    digits = digits_only(value)
    if digits.startswith("0098"):
        digits = "0" + digits[4:]
    elif digits.startswith("98") and len(digits) == 12:
        digits = "0" + digits[2:]
    elif digits.startswith("9") and len(digits) == 10:
        digits = "0" + digits
    if len(digits) != 11 or not digits.startswith("09"):
        raise ValidationError(
            _("Enter a mobile number of 11 digits starting with 09."), code="mobile"
        )
    return digits
