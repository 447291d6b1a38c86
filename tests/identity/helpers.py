"""Helpers shared by the identity tests."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from panjereh.common import messaging
from panjereh.common.persian import to_latin_digits


def national_code(body9: str) -> str:
    """A valid national code for nine digits (the check digit is computed)."""
    total = sum(int(d) * (10 - i) for i, d in enumerate(body9))
    remainder = total % 11
    return body9 + str(remainder if remainder < 2 else 11 - remainder)


def last_code(mobile: str) -> str:
    """The one-time code in the latest SMS the file provider wrote for ``mobile``."""
    messages = messaging.sent_sms(mobile)
    assert messages, f"no SMS for {mobile}"
    match = re.search(r"\d{6}", to_latin_digits(messages[-1]["text"]))
    assert match
    return match.group(0)


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action") or "", "fields": {}})
        elif tag == "input" and self.forms and attrs.get("name"):
            if attrs.get("type") in ("submit", "button"):
                return
            self.forms[-1]["fields"][attrs["name"]] = attrs.get("value") or ""


def forms_of(html: str) -> list[dict]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def form_with(html: str, field: str) -> dict:
    for form in forms_of(html):
        if field in form["fields"]:
            return form
    raise AssertionError(f"no form with {field}")
