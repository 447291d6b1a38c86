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


# -- one formatting layer per language (issue 12, item 27) ---------------------------------


def _render(source: str, language: str, **context) -> str:
    from django.template import Context, Template
    from django.utils import translation

    with translation.override(language):
        return Template(source).render(Context(context)).strip()


@pytest.mark.parametrize(
    ("size", "fa", "en"),
    [
        (512, "۵۱۲ بایت", "512 bytes"),
        (117_146, "۱۱۴٫۴ کیلوبایت", "114.4 KB"),
        (5 * 1024 * 1024, "۵ مگابایت", "5 MB"),
        (int(2.5 * 1024 * 1024), "۲٫۵ مگابایت", "2.5 MB"),
    ],
)
def test_file_sizes_are_written_in_the_pages_language(size, fa, en):
    assert _render("{{ n|size }}", "fa", n=size) == fa
    assert _render("{{ n|size }}", "en", n=size) == en


def test_lists_use_the_arabic_comma_only_in_persian():
    items = ["نام", "نام خانوادگی", "تاریخ تولد"]
    assert _render("{{ items|andlist }}", "fa", items=items) == "نام، نام خانوادگی، تاریخ تولد"
    english = ["Name", "Surname"]
    assert _render("{{ items|andlist }}", "en", items=english) == "Name, Surname"
    assert _render("{{ items|andlist }}", "en", items=[]) == ""
    assert _render("a{% comma %}b", "fa") == "a، b"
    assert _render("a{% comma %}b", "en") == "a, b"


def test_codes_are_isolated_left_to_right_in_the_pages_digits():
    fa = _render("{{ c|code }}", "fa", c="MSRT-H-20261206-0042")
    assert fa == '<bdi dir="ltr" class="code">MSRT-H-۲۰۲۶۱۲۰۶-۰۰۴۲</bdi>'
    en = _render("{{ c|code }}", "en", c="MSRT-H-20261206-0042")
    assert en == '<bdi dir="ltr" class="code">MSRT-H-20261206-0042</bdi>'
    assert _render("{{ c|code }}", "fa", c="<x>") == '<bdi dir="ltr" class="code">&lt;x&gt;</bdi>'
    assert _render("{{ c|code }}", "fa", c="") == ""


def test_english_dates_and_numbers_carry_no_persian_digits():
    import datetime as dt

    day = dt.date(2026, 12, 6)
    assert _render("{{ d|jdate }}", "en", d=day) == "06 Dec 2026"
    assert _render("{{ d|jdate }}", "fa", d=day) == "۱۵ آذر ۱۴۰۵"
    assert _render("{{ n|num }}", "en", n=4715) == "4,715"
    assert _render("{{ n|num }}", "fa", n=4715) == "۴٬۷۱۵"


def test_jalali_months_are_named_in_the_pages_language():
    assert _render("{{ m|jmonth }}", "fa", m="1404-03") == "خرداد ۱۴۰۴"
    assert _render("{{ m|jmonth }}", "en", m=jalali.Month(1404, 3)) == "Khordad 1404"
    assert _render("{{ m|jmonth }}", "fa", m="not a month") == "not a month"
    assert _render("{{ m|jmonth }}", "en", m="") == ""
