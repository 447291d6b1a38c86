"""Does a condition bring back a removed one, however reworded?

Each wording is reduced to a *key*: :func:`panjereh.common.persian.search_key` (Arabic Yeh and
Kaf, ZWNJ, diacritics, digit scripts and punctuation folded), the hamza dropped, plural
suffixes (ها/های, English -s) cut, small words and filler verbs («ارائه», «اخذ», "submit")
left out and synonyms folded to one word (``data/matching.json``). A removed condition is
known by several phrases; a condition matches when its key holds **every word** of one
phrase's key, in any order and among other words, or when the phrase, written without spaces,
appears in the condition written without spaces (words typed joined together).

What this catches and what it misses is written down in docs/permits.md (Matching).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from panjereh.common.persian import search_key

_DATA = json.loads((Path(__file__).parent / "data" / "matching.json").read_text(encoding="utf-8"))
_ALNUM = re.compile(r"\w")


def _prepare(word: str) -> str:
    return search_key(word).replace("ء", "")


STOP_WORDS = frozenset(_prepare(w) for w in _DATA["stop_words"])
SYNONYMS = {
    _prepare(variant): _prepare(canonical)
    for canonical, variants in _DATA["synonyms"].items()
    for variant in variants
}
_PLURALS = ("هایی", "های", "ها")


def _stem(word: str) -> str:
    for suffix in _PLURALS:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    if word.isascii() and len(word) > 3:
        if word.endswith("ies"):
            word = word[:-3] + "y"
        elif word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
    return SYNONYMS.get(word, word)


@lru_cache(maxsize=4096)
def key_words(text: str) -> frozenset[str]:
    """The words of ``text`` that matter for matching, folded (see the module's docstring)."""
    words = (_stem(w) for w in _prepare(text).split())
    return frozenset(w for w in words if w and w not in STOP_WORDS)


def joined(text: str) -> str:
    """The matter of ``text`` with no spaces (the small words left out), in order."""
    words = (_stem(w) for w in _prepare(text).split())
    return "".join(w for w in words if w and w not in STOP_WORDS)


@dataclass(frozen=True)
class Entry:
    """One removed condition as the matcher holds it."""

    pk: int
    key: str
    keys: tuple[tuple[frozenset[str], str], ...]  # (words, joined) per phrase


def entry(pk: int, key: str, phrases: Iterable[str]) -> Entry:
    keys = []
    for phrase in phrases:
        words = key_words(phrase)
        if words:
            keys.append((words, joined(phrase)))
    return Entry(pk=pk, key=key, keys=tuple(keys))


def matches(text: str, item: Entry) -> bool:
    """Whether ``text`` asks what ``item`` removed."""
    if not text or not _ALNUM.search(text):
        return False
    words, squashed = key_words(text), joined(text)
    for phrase_words, phrase_joined in item.keys:
        if phrase_words <= words:
            return True
        # Three letters or more, so a one-word phrase is not found inside any long word.
        if len(phrase_joined) >= 6 and phrase_joined in squashed:
            return True
    return False


def first_match(texts: Iterable[str], entries: Iterable[Entry]) -> Entry | None:
    """The first removed condition any of ``texts`` asks again, or ``None``."""
    entries = list(entries)
    for text in texts:
        for item in entries:
            if matches(text, item):
                return item
    return None
