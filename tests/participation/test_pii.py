"""Public texts must not carry national codes or mobile numbers, in any digits."""

from __future__ import annotations

import pytest

from panjereh.participation import pii


@pytest.mark.parametrize(
    "text, found",
    [
        ("کد ملی من 0012345679 است", {pii.NATIONAL_CODE}),
        ("کد ملی من ۰۰۱۲۳۴۵۶۷۹ است", {pii.NATIONAL_CODE}),
        ("کد ملی ٠٠١٢٣٤٥٦٧٩", {pii.NATIONAL_CODE}),
        ("کد ۰۰۱-۲۳۴۵۶۷-۹ را ببینید", {pii.NATIONAL_CODE}),
        ("شماره 09121234567 را بگیرید", {pii.MOBILE}),
        ("شماره ۰۹۱۲۱۲۳۴۵۶۷", {pii.MOBILE}),
        ("شماره ۰۹۱۲ ۱۲۳ ۴۵۶۷", {pii.MOBILE}),
        ("call +989121234567", {pii.MOBILE}),
        ("call 00989121234567", {pii.MOBILE}),
        ("من ۰۹۱۲۱۲۳۴۵۶۷ و 0012345679", {pii.MOBILE, pii.NATIONAL_CODE}),
        ("در سال ۱۴۰۴ و ۱۲ ماه، ۳۰۰ هزار نفر", set()),
        ("تلفن ثابت 02188776655 اداره", set()),  # 11 digits, not a mobile: a public number
        ("عدد 123456789 نه رقمی", set()),
        ("", set()),
    ],
)
def test_find(text, found):
    assert pii.find(text) == found


def test_check_refuses_with_a_clear_message():
    from django.core.exceptions import ValidationError
    from django.utils import translation

    with translation.override("en"):
        with pytest.raises(ValidationError) as error:
            pii.check("my mobile is 09121234567")
        assert "mobile number" in error.value.messages[0]
    pii.check("هیچ داده شخصی")  # passes
