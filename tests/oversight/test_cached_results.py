"""A computed result is kept in the cache: its notes come back in the reader's language, and
without Django's per-string unpickling of lazy translations (seconds for a page of agencies)."""

from __future__ import annotations

import pickle

from django.utils import translation

from panjereh.oversight.indicators.core import Value
from panjereh.oversight.indicators.feedback import _TOO_FEW


def test_a_note_comes_back_in_the_language_of_the_reader():
    value = Value(None, available=False, note=_TOO_FEW, withheld=True)
    kept = pickle.loads(pickle.dumps(value))  # noqa: S301 (our own bytes, as the cache does)
    with translation.override("en"):
        english = str(kept.note)
    with translation.override("fa"):
        persian = str(kept.note)
    assert english.startswith("Not enough data")
    assert persian != english and persian.startswith("داده کافی نیست")
    assert kept.withheld is True and kept.available is False


def test_lazy_notes_are_kept_as_message_ids():
    data = pickle.dumps([Value(1, note=_TOO_FEW) for _ in range(50)])
    assert b"_lazy_proxy_unpickle" not in data


def test_plain_notes_are_kept_as_they_are():
    kept = pickle.loads(pickle.dumps(Value(3, note="low")))  # noqa: S301 (our own bytes)
    assert kept.note == "low" and kept.value == 3
