import pytest
from django.core.exceptions import ValidationError

from panjereh.identity.validators import (
    clean_legal_national_id,
    clean_mobile,
    clean_national_code,
    is_valid_legal_national_id,
    is_valid_national_code,
)


@pytest.mark.parametrize(
    "value",
    ["0499370899", "۰۴۹۹۳۷۰۸۹۹", "٠٤٩٩٣٧٠٨٩٩", "049-937089-9", " 049 937 0899 ", "0012345679"],
)
def test_valid_national_codes(value):
    assert is_valid_national_code(value)
    assert clean_national_code(value) in ("0499370899", "0012345679")


def test_clean_national_code_gives_ascii_digits():
    assert clean_national_code("۰۴۹۹-۳۷۰۸۹۹") == "0499370899"


@pytest.mark.parametrize(
    "value", ["0499370898", "0499370890", "1234567890", "4444444444", "0000000000"]
)
def test_invalid_check_digit_or_repeated(value):
    assert not is_valid_national_code(value)
    with pytest.raises(ValidationError) as info:
        clean_national_code(value)
    assert info.value.code == "check_digit"


@pytest.mark.parametrize("value", ["", "049937089", "04993708999", "abc", None])
def test_wrong_length(value):
    assert not is_valid_national_code(value)
    with pytest.raises(ValidationError) as info:
        clean_national_code(value)
    assert info.value.code == "length"


def test_check_digit_remainders_below_two():
    # With a remainder of 0 or 1 the check digit is the remainder itself, not 11 - remainder.
    assert is_valid_national_code("1000000011")  # 10 + 2 = 12, remainder 1
    assert not is_valid_national_code("1000000010")
    assert is_valid_national_code("2000000010")  # 20 + 2 = 22, remainder 0
    assert not is_valid_national_code("2000000011")


@pytest.mark.parametrize("value", ["10380284790", "14007650912", "۱۰۳۸۰۲۸۴۷۹۰", "10380-284790"])
def test_valid_legal_ids(value):
    assert is_valid_legal_national_id(value)
    assert clean_legal_national_id(value) in ("10380284790", "14007650912")


@pytest.mark.parametrize(
    "value", ["10380284791", "14007650913", "00000000000", "10300000000", "1038028479", ""]
)
def test_invalid_legal_ids(value):
    assert not is_valid_legal_national_id(value)
    with pytest.raises(ValidationError):
        clean_legal_national_id(value)


@pytest.mark.parametrize(
    "value", ["09121234567", "۰۹۱۲۱۲۳۴۵۶۷", "+989121234567", "00989121234567", "9121234567"]
)
def test_mobile_forms(value):
    assert clean_mobile(value) == "09121234567"


@pytest.mark.parametrize("value", ["0912123456", "08121234567", "", "۰۹۱۲"])
def test_bad_mobiles(value):
    with pytest.raises(ValidationError):
        clean_mobile(value)
