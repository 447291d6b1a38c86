"""Persian text handling: letters, digits, ZWNJ and search keys.

Input arrives in many shapes: Arabic Yeh and Kaf (ي ك) from Arabic keyboards, Persian (۰-۹)
or Arabic-Indic (٠-٩) digits, a zero-width non-joiner (ZWNJ) or a space or nothing between
the parts of a word, diacritics, and tatweel. Everything that is compared or searched is first
brought to one form by :func:`normalize`.
"""

from __future__ import annotations

import re
import unicodedata

ZWNJ = "\u200c"
PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"
ARABIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"
LATIN_DIGITS = "0123456789"

_TO_LATIN_DIGITS = str.maketrans(PERSIAN_DIGITS + ARABIC_DIGITS, LATIN_DIGITS * 2)
_TO_PERSIAN_DIGITS = str.maketrans(LATIN_DIGITS + ARABIC_DIGITS, PERSIAN_DIGITS * 2)

# Arabic letter forms that Persian writes otherwise. Alef variants fold to bare Alef only for
# search keys (see :func:`search_key`); stored text keeps its hamza.
_LETTERS = str.maketrans(
    {
        "ي": "ی",  # Arabic Yeh -> Farsi Yeh
        "ى": "ی",  # Alef Maksura
        "ئ": "ئ",
        "ك": "ک",  # Arabic Kaf -> Keheh
        "ە": "ه",
        "ۀ": "هٔ",
        "ة": "ه",
        "\u0640": "",  # tatweel
        "\u200d": "",  # zero-width joiner
        "\u00a0": " ",
    }
)
_SEARCH_LETTERS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ؤ": "و", "ئ": "ی"})
_DIACRITICS = re.compile("[\u064b-\u065f\u0670\u06d6-\u06ed]")
_SPACES = re.compile(r"\s+")


def to_latin_digits(text: str) -> str:
    """Persian and Arabic-Indic digits to ASCII digits."""
    return text.translate(_TO_LATIN_DIGITS)


def to_persian_digits(value: object) -> str:
    """Any digits in ``str(value)`` to Persian digits, for display."""
    return str(value).translate(_TO_PERSIAN_DIGITS)


def normalize(text: str | None) -> str:
    """One stored form: Persian letters, ASCII digits, single spaces, ZWNJ kept once."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", str(text)).translate(_LETTERS)
    text = to_latin_digits(text)
    text = _DIACRITICS.sub("", text)
    text = re.sub(f"\\s*{ZWNJ}+\\s*", ZWNJ, text)
    return _SPACES.sub(" ", text).strip()


def search_key(text: str | None) -> str:
    """A key for matching: normalized, lower-cased, alef variants folded, ZWNJ as a space."""
    text = normalize(text).translate(_SEARCH_LETTERS).replace(ZWNJ, " ").lower()
    text = re.sub(r"[^\w\s]", " ", text)
    return _SPACES.sub(" ", text).strip()


def squash(text: str) -> str:
    """A search key with no spaces at all, so 'می خواهم', 'می‌خواهم' and 'میخواهم' meet."""
    return search_key(text).replace(" ", "")


def digits_only(text: str | None) -> str:
    """Digits of ``text`` in ASCII with everything else (dashes, spaces) removed."""
    return re.sub(r"\D", "", to_latin_digits(text or ""))
