"""The list of services not yet offered online, per agency, from the catalogue's cards."""

from __future__ import annotations

import pytest

from panjereh.participation import queries

pytestmark = pytest.mark.django_db


def test_not_online_services_per_agency(cards):
    mine = set(queries.not_online_services(cards["agency"]))
    assert mine == {cards["offline"], cards["not_smart"]}  # not the smart or the exempt card
    assert set(queries.not_online_services(cards["other"])) == {cards["other_offline"]}
    assert queries.goal_for(cards["offline"]) == "electronic"
    assert queries.goal_for(cards["not_smart"]) == "smart"
    assert queries.goal_for(cards["smart"]) is None
    assert queries.goal_for(cards["exempt"]) is None
    counts = {a.code: (a.not_connected, a.not_smart) for a in queries.agencies_with_not_online()}
    assert counts == {"ministry-a": (1, 1), "agency-b": (1, 0)}


def test_pages_list_agencies_and_their_cards(client, cards):
    listing = client.get("/en/participate/services/").content.decode()
    assert "Ministry A" in listing and "Agency B" in listing
    page = client.get("/en/participate/services/ministry-a/").content.decode()
    assert "Business licence" in page and "School certificate" in page
    assert "Clean record" not in page and "Exempt service" not in page
    assert "Digging permit" not in page
    persian = client.get("/participate/services/ministry-a/").content.decode()
    assert 'dir="rtl"' in persian and "پروانه کسب" in persian
    assert client.get("/en/participate/services/nope/").status_code == 404
