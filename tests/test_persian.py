import pytest

from panjereh.common import jalali
from panjereh.common.persian import normalize, search_key, squash, to_latin_digits


def test_arabic_letters_fold_to_persian():
    assert normalize("گواهي ولادت") == normalize("گواهی ولادت")
    assert normalize("كارت") == "کارت"


def test_digits_fold_to_ascii():
    assert to_latin_digits("۱۲۳٤٥٦") == "123456"
    assert search_key("فرم ۱۰") == search_key("فرم 10") == search_key("فرم ١٠")


def test_zwnj_space_and_none_meet_when_squashed():
    assert squash("می‌خواهم") == squash("می خواهم") == squash("میخواهم")


def test_diacritics_and_tatweel_removed():
    assert search_key("مُحَمَّد") == search_key("محمد")
    assert search_key("مـــحمد") == "محمد"


def test_jalali_month_arithmetic_from_the_bylaw():
    assert jalali.add_months(jalali.parse("1403/10/08"), 1) == jalali.parse("1403/11/08")
    assert jalali.iso(jalali.add_months(jalali.parse("1403/06/31"), 1)) == "1403-07-30"


@pytest.mark.parametrize("bad", ["1404/13/01", "1404-02-32", "abc", "", "1404/12/31"])
def test_bad_jalali_dates_refused(bad):
    # 1404 is not a leap year, so Esfand has 29 days.
    with pytest.raises(jalali.InvalidJalaliDate):
        jalali.parse(bad)


def test_jalali_accepts_persian_digits():
    assert jalali.iso(jalali.parse("۱۴۰۴/۰۳/۳۱")) == "1404-03-31"
