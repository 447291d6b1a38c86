"""Public texts must not carry national codes, mobile or landline numbers, postal codes or
e-mail addresses, in any digits."""

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
        # Landlines with their area code, in any digits and layout.
        ("تلفن ثابت 02188776655 اداره", {pii.LANDLINE}),
        ("تلفن 021-12345678", {pii.LANDLINE}),
        ("تلفن ۰۲۱-۱۲۳۴۵۶۷۸ منزل", {pii.LANDLINE}),
        ("تلفن ٠٢١١٢٣٤٥٦٧٨", {pii.LANDLINE}),
        ("تلفن (۰۳۱) ۳۲۲۲ ۴۴۵۵", {pii.LANDLINE}),
        ("call +98 21 8877 6655", {pii.LANDLINE}),
        # Postal codes written with a dash (ASCII, Persian or Arabic-Indic digits).
        ("کد پستی 13145-67890", {pii.POSTAL_CODE}),
        ("کد پستی ۱۳۱۴۵-۶۷۸۹۰", {pii.POSTAL_CODE}),
        ("کد پستی ١٣١٤٥-٦٧٨٩٠ است", {pii.POSTAL_CODE}),
        # E-mail addresses, Latin or Persian.
        ("به ali.rezaei+x@example.co.ir بنویسید", {pii.EMAIL}),
        ("نشانی Ali_R@Mail.IR", {pii.EMAIL}),
        ("رضا@ایمیل.ایران", {pii.EMAIL}),
        ("info@example.ir و ۰۹۱۲۱۲۳۴۵۶۷", {pii.EMAIL, pii.MOBILE}),
        # Ordinary text: years, dates, short numbers, handles, versions.
        ("از سال ۱۴۰۴ تا ۱۴۰۵", set()),
        ("مهلت ۱۴۰۴/۰۸/۳۰ تا 1404-09-06", set()),
        ("۲۰ تا ۳۰ نفر، صف ۱۲۳۴۵ و کد ۴۵۶", set()),
        ("۱۲۳۴-۵۶۷۸ یا 88776655 بدون پیش‌شماره", set()),
        ("پیگیری در @panjereh یا نسخه 1.2.3", set()),
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


@pytest.mark.parametrize(
    "text, phrase, code",
    [
        ("تلفن 021-12345678", "telephone number", "pii_landline"),
        ("کد پستی ۱۳۱۴۵-۶۷۸۹۰", "postal code", "pii_postal_code"),
        ("mail me at a@example.com", "e-mail address", "pii_email"),
        ("a@example.com 0012345679", "a national code, an e-mail address", "pii"),
    ],
)
def test_check_names_each_new_kind(text, phrase, code):
    from django.core.exceptions import ValidationError
    from django.utils import translation

    with translation.override("en"):
        with pytest.raises(ValidationError) as error:
            pii.check(text)
        assert phrase in error.value.messages[0]  # a lazy message: read in English
    assert error.value.code == code


def test_proposal_with_an_email_is_refused_and_nothing_stored(cards):
    from panjereh.participation import operations
    from panjereh.participation.models import Suggestion

    from .conftest import make_citizen

    with pytest.raises(operations.InvalidText):
        operations.propose(
            make_citizen(), cards["agency"], "smart", "پاسخ را به ali@example.ir بفرستید"
        )
    assert not Suggestion.objects.exists()
