"""Rewordings of a removed condition are caught; a different requirement is not."""

from __future__ import annotations

import pytest

from panjereh.permits import matching

NO_RECORD = matching.entry(
    1,
    "no-criminal-record",
    [
        "گواهی عدم سوءپیشینه",
        "certificate of no criminal record",
        "گواهی سوء پیشینه",
        "criminal record certificate",
    ],
)
NATIONAL_CARD = matching.entry(
    2, "national-card-copy", ["تصویر کارت ملی", "copy of the national ID card"]
)


@pytest.mark.parametrize(
    "text",
    [
        "گواهی عدم سوءپیشینه",  # as removed
        "ارائه برگه عدم سوء پیشینه",  # synonym (برگه) and filler (ارائه), hamza split off
        "سوءپیشینه: عدم؛ گواهی",  # word order and punctuation
        "گواهي عدم سوءپيشينه",  # Arabic Yeh
        "گواهی\u200cعدم\u200cسوءپیشینه کیفری",  # ZWNJ between words, an extra word
        "گواهیعدمسوءپیشینه",  # typed with no spaces
        "گواهی عدم سوء\u064eپیشینه",  # a diacritic
        "Certificate: no criminal records",  # English, plural, capitals
        "criminal-record certificate (police)",
    ],
)
def test_rewordings_of_a_removed_condition_match(text):
    assert matching.matches(text, NO_RECORD)


@pytest.mark.parametrize(
    "text",
    [
        "گواهی عدم اعتیاد",  # shares two words, not the third
        "مشخصات محل کسب",
        "certificate of competence",
        "",
        "؟؟؟",
    ],
)
def test_other_requirements_do_not_match(text):
    assert not matching.matches(text, NO_RECORD)


def test_synonyms_fold_copy_and_image():
    assert matching.matches("کپی کارت ملی", NATIONAL_CARD)
    assert matching.matches("فتوکپی كارت ملي", NATIONAL_CARD)  # Arabic Kaf and Yeh
    assert matching.matches("photocopy of national ID cards", NATIONAL_CARD)
    assert not matching.matches("کارت بازرگانی", NATIONAL_CARD)


def test_plural_suffixes_are_cut():
    assert matching.key_words("مدرکها") == matching.key_words("مدرک")
    assert matching.key_words("کارت‌های ملی") == matching.key_words("کارت ملی")


def test_first_match_names_the_entry():
    found = matching.first_match(["مشخصات محل", "کپی کارت ملی"], [NO_RECORD, NATIONAL_CARD])
    assert found is NATIONAL_CARD
    assert matching.first_match(["مشخصات محل"], [NO_RECORD, NATIONAL_CARD]) is None
