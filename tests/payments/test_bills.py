"""Bill ID and payment ID: the banks' mod-11 check digits, the amount and the kind of bill."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from panjereh.payments import bills

# Published examples (docs/payments.md, Sources): each pair checks, with its amount and kind.
EXAMPLES = [
    ("7748317800142", "1770160", 17_000, "4"),
    ("1117753200140", "12070160", 120_000, "4"),
    ("9985235404124", "0000880000568", 8_800_000, "2"),
]


@pytest.mark.parametrize(("bill_id", "payment_id", "amount", "kind"), EXAMPLES)
def test_published_examples_check_and_read(bill_id, payment_id, amount, kind):
    bill = bills.parse(bill_id, payment_id)
    assert (bill.amount, bill.type_code) == (amount, kind)
    assert bill.bill_id == bill_id.lstrip("0")
    assert bill.payment_id == payment_id.lstrip("0")


def test_the_parts_of_the_numbers():
    bill = bills.parse("9985235404124", "0000880000568")
    assert bill.company_code == "041"
    assert bill.year_digit == "0" and bill.period == "05"
    assert str(bill.type_label) == "برق"  # Persian first
    assert bill.purpose_id == "9985235404124-880000568"


def test_mod11_weights_run_from_the_right_and_remainders_below_two_give_zero():
    # 1 * 2 = 2 → 11 - 2 = 9; "10": 0*2 + 1*3 = 3 → 8; a remainder of 0 or 1 gives 0.
    assert bills.mod11("1") == 9
    assert bills.mod11("10") == 8
    assert bills.mod11("0") == 0
    assert bills.mod11("1111111") == 11 - (2 + 3 + 4 + 5 + 6 + 7 + 2) % 11


@pytest.mark.parametrize(
    ("bill_id", "payment_id"),
    [
        ("۷۷۴۸۳۱۷۸۰۰۱۴۲", "۱۷۷۰۱۶۰"),  # Persian digits
        ("٧٧٤٨٣١٧٨٠٠١٤٢", "١٧٧٠١٦٠"),  # Arabic-Indic digits
        ("7748 3178 0014 2", "177-0160"),  # spaces and dashes as printed
    ],
)
def test_persian_and_arabic_digits_and_separators_read_as_the_same_numbers(bill_id, payment_id):
    assert bills.parse(bill_id, payment_id).amount == 17_000


@pytest.mark.parametrize(
    ("bill_id", "payment_id", "field", "code"),
    [
        ("7748317800143", "1770160", "bill_id", "check_digit"),  # bill's check digit wrong
        ("7748317800152", "1770160", "bill_id", "check_digit"),  # a digit of the body changed
        ("7748317800142", "1770170", "payment_id", "check_digit"),  # first check digit wrong
        ("7748317800142", "1770161", "payment_id", "check_digit"),  # second check digit wrong
        ("1117753200140", "1770160", "payment_id", "check_digit"),  # another bill's payment ID
        ("7748317800142", "2770160", "payment_id", "check_digit"),  # amount changed
        ("77483", "1770160", "bill_id", "length"),
        ("7748317800142", "17701", "payment_id", "length"),
        ("77483178001420", "1770160", "bill_id", "length"),
        ("7748317800142", "", "payment_id", "digits"),
        ("77483l7800142", "1770160", "bill_id", "digits"),  # a letter l for a one
        ("7748317800142\x00", "1770160", "bill_id", "digits"),
    ],
)
def test_wrong_numbers_are_refused_naming_the_field(bill_id, payment_id, field, code):
    with pytest.raises(ValidationError) as refused:
        bills.parse(bill_id, payment_id)
    assert list(refused.value.message_dict) == [field]
    assert refused.value.error_dict[field][0].code == code


def test_an_unknown_kind_of_bill_is_refused():
    bill_id = bills.make_bill_id("123450")  # second-to-last digit 0: no kind of bill
    with pytest.raises(ValidationError) as refused:
        bills.parse_bill_id(bill_id)
    assert refused.value.error_dict["bill_id"][0].code == "bill_type"


def test_the_refusal_is_in_persian(settings):
    from django.utils import translation

    with translation.override("fa"), pytest.raises(ValidationError) as refused:
        bills.parse("7748317800143", "1770160")
    assert "شناسه قبض" in refused.value.message_dict["bill_id"][0]


def test_made_numbers_check_and_give_their_amount():
    bill_id = bills.make_bill_id("12345678" + "041" + "2")
    payment_id = bills.make_payment_id(bill_id, 35_250, 4, 9)
    bill = bills.parse(bill_id, payment_id)
    assert (bill.amount, bill.type_code, bill.year_digit, bill.period) == (
        35_250_000,
        "2",
        "4",
        "09",
    )
