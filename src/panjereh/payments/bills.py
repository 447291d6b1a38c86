"""Utility and government bills: the bill ID («شناسه قبض») and payment ID («شناسه پرداخت»).

The rule is the banks' coordinated scheme for electronic bill payment («طرح هماهنگ پرداخت
الکترونیکی قبوض», the Banks' Informatics Commission), as docs/payments.md sets out with its
sources:

* both numbers are 6 to 13 digits once leading zeros are dropped;
* a check digit is the weighted mod-11 digit: weights 2, 3, 4, 5, 6, 7, 2, 3, … from the
  rightmost digit leftwards; r = sum mod 11; the digit is 0 when r < 2, else 11 − r;
* the bill ID's last digit checks the digits before it; its second-to-last digit is the kind
  of bill (1 water … 9 traffic fines), the three before that the biller's company code, the
  rest the subscriber's file number;
* the payment ID ends in two check digits: the first checks the payment ID's digits before it,
  the second checks the bill ID followed by the payment ID without that last digit; before
  them come the period (two digits), the year (one digit, the last of the Jalali year) and
  the amount in thousands of rials.

Persian and Arabic-Indic digits are read as the same digits; spaces and dashes are ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from panjereh.common.persian import to_latin_digits

BILL_TYPES = {
    "1": _("Water"),
    "2": _("Electricity"),
    "3": _("Gas"),
    "4": _("Landline telephone"),
    "5": _("Mobile telephone"),
    "6": _("Municipal charges"),
    "7": _("Municipal charges"),
    "8": _("Tax"),
    "9": _("Traffic fines"),
}
_ALLOWED = re.compile(r"^[0-9\s\-]+$")


def mod11(digits: str) -> int:
    """The check digit of ``digits`` (ASCII) under the bills' weighted mod-11 rule."""
    total = sum(int(d) * (2 + i % 6) for i, d in enumerate(reversed(digits)))
    remainder = total % 11
    return 0 if remainder < 2 else 11 - remainder


def _refuse(field: str, message, code: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


def _clean(text: str, field: str, label) -> str:
    raw = to_latin_digits(str(text or "")).strip()
    if not raw or not _ALLOWED.match(raw):
        raise _refuse(field, _("Type the %(label)s in digits only.") % {"label": label}, "digits")
    digits = re.sub(r"\D", "", raw).lstrip("0")
    if not 6 <= len(digits) <= 13:
        raise _refuse(field, _("The %(label)s has 6 to 13 digits.") % {"label": label}, "length")
    return digits


@dataclass(frozen=True)
class Bill:
    bill_id: str
    payment_id: str
    amount: int  # rials
    type_code: str
    company_code: str
    year_digit: str
    period: str

    @property
    def type_label(self) -> str:
        return str(BILL_TYPES[self.type_code])

    @property
    def purpose_id(self) -> str:
        """What a payment of this bill pays for: the two numbers together (one bill, one period)."""
        return f"{self.bill_id}-{self.payment_id}"


def parse_bill_id(text: str) -> str:
    """The bill ID in ASCII digits; ValidationError (field ``bill_id``) if it does not check."""
    bill_id = _clean(text, "bill_id", _("bill ID"))
    if int(bill_id[-1]) != mod11(bill_id[:-1]):
        raise _refuse(
            "bill_id", _("This bill ID is not valid: check the number on the bill."), "check_digit"
        )
    if bill_id[-2] not in BILL_TYPES:
        raise _refuse("bill_id", _("This bill ID names no known kind of bill."), "bill_type")
    return bill_id


def parse(bill_id_text: str, payment_id_text: str) -> Bill:
    """Both numbers checked and read; ValidationError naming the field that is wrong."""
    bill_id = parse_bill_id(bill_id_text)
    payment_id = _clean(payment_id_text, "payment_id", _("payment ID"))
    wrong = _refuse(
        "payment_id",
        _("This payment ID is not valid for this bill: check both numbers."),
        "check_digit",
    )
    if int(payment_id[-2]) != mod11(payment_id[:-2]):
        raise wrong
    if int(payment_id[-1]) != mod11(bill_id + payment_id[:-1]):
        raise wrong
    thousands = payment_id[:-5]
    amount = int(thousands or "0") * 1000
    if amount <= 0:
        raise _refuse("payment_id", _("This payment ID asks for no amount."), "amount")
    return Bill(
        bill_id=bill_id,
        payment_id=payment_id,
        amount=amount,
        type_code=bill_id[-2],
        company_code=bill_id[-5:-2],
        year_digit=payment_id[-5],
        period=payment_id[-4:-2],
    )


def make_bill_id(body: str) -> str:
    """``body`` (file number + company code + type digit) with its check digit (tests, demo)."""
    return body + str(mod11(body))


def make_payment_id(bill_id: str, amount_thousands: int, year_digit: int, period: int) -> str:
    """A payment ID for ``bill_id`` asking ``amount_thousands`` × 1,000 rials (tests, demo)."""
    head = f"{amount_thousands}{year_digit % 10}{period:02d}"
    head += str(mod11(head))
    return head + str(mod11(bill_id + head))
