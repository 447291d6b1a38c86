"""Every data item a simulated registry or biller publishes on the exchange has a name in both
languages: the exchange's pages and "who read my data" never show an internal item code."""

from __future__ import annotations

import pytest

from panjereh.exchange.models import item_label
from panjereh.registries import billers
from panjereh.registries.catalogue import SERVICES


def _published_items() -> set[str]:
    codes = set()
    for services in [*SERVICES.values(), billers.SERVICES]:
        for service in services:
            codes.update(service["items"])
    return codes


@pytest.mark.parametrize("language", ["fa", "en"])
def test_every_published_item_has_a_name(language):
    items = _published_items()
    assert {"billers.bill", "billers.payment", "civil.identity"} <= items
    unnamed = sorted(code for code in items if item_label(code, language) == code)
    assert unnamed == []


def test_an_unknown_code_is_shown_as_it_is():
    assert item_label("nowhere.nothing") == "nowhere.nothing"
