"""Every Persian message is translated, none is fuzzy, and the compiled catalogue matches."""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

import pytest

import panjereh

LOCALE = Path(panjereh.__file__).parent / "locale"
FA_PO = LOCALE / "fa" / "LC_MESSAGES" / "django.po"
FA_MO = LOCALE / "fa" / "LC_MESSAGES" / "django.mo"
_LINE = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(".*")$')


def read_po(path: Path) -> list[dict]:
    """Entries of a .po file as dicts: flags, msgctxt, msgid, msgid_plural, msgstr list."""
    entries: list[dict] = []
    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")):
        entry: dict = {"flags": set(), "msgstr": [], "obsolete": False}
        key = None
        for line in block.splitlines():
            if line.startswith("#~"):
                entry["obsolete"] = True
            elif line.startswith("#,"):
                entry["flags"].update(f.strip() for f in line[2:].split(","))
            elif match := _LINE.match(line):
                key, value = match.group(1), ast.literal_eval(match.group(2))
                if key.startswith("msgstr"):
                    entry["msgstr"].append(value)
                else:
                    entry[key] = value
            elif line.startswith('"') and key:
                value = ast.literal_eval(line)
                if key.startswith("msgstr"):
                    entry["msgstr"][-1] += value
                else:
                    entry[key] += value
        if "msgid" in entry and not entry["obsolete"]:
            entries.append(entry)
    return entries


def messages() -> list[dict]:
    return [e for e in read_po(FA_PO) if e["msgid"]]


def test_the_persian_catalogue_is_not_empty():
    # Guards the other tests against passing on a file that lost its entries.
    assert len(messages()) > 200


def test_every_persian_message_is_translated_and_not_fuzzy():
    untranslated = [e["msgid"] for e in messages() if not all(s.strip() for s in e["msgstr"])]
    fuzzy = [e["msgid"] for e in read_po(FA_PO) if "fuzzy" in e["flags"]]
    assert untranslated == [], f"untranslated: {untranslated[:20]}"
    assert fuzzy == [], f"fuzzy: {fuzzy[:20]}"


def test_persian_translations_keep_their_placeholders():
    placeholder = re.compile(r"%\(\w+\)[sd]")
    # In a formatted message a lone "%" breaks the substitution; Persian text uses "٪".
    stray_percent = re.compile(r"%(?!\(\w+\)[sd]|%)")
    for entry in messages():
        expected = set(placeholder.findall(entry["msgid"]))
        formatted = "python-format" in entry["flags"]
        for text in entry["msgstr"]:
            assert set(placeholder.findall(text)) == expected, entry["msgid"]
            if formatted:
                assert not stray_percent.search(text), entry["msgid"]


def test_compiled_catalogue_matches_the_po_file():
    with FA_MO.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for entry in messages():
        if "msgid_plural" in entry:
            got = compiled.ngettext(entry["msgid"], entry["msgid_plural"], 2)
            assert got == entry["msgstr"][1], entry["msgid"]
        elif "msgctxt" in entry:
            got = compiled.pgettext(entry["msgctxt"], entry["msgid"])
            assert got == entry["msgstr"][0], entry["msgid"]
        else:
            assert compiled.gettext(entry["msgid"]) == entry["msgstr"][0], entry["msgid"]


@pytest.mark.parametrize("code", ["fa", "en"])
def test_po_header_names_the_language(code):
    header = LOCALE / code / "LC_MESSAGES" / "django.po"
    assert f'"Language: {code}\\n"' in header.read_text(encoding="utf-8")
