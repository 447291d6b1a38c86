"""A proposal a moderator takes down after its week's list was published keeps its rank and
votes in the frozen list, but its text disappears from every public copy: the weekly page,
the participation home page, the JSON and the CSV."""

from __future__ import annotations

import csv
import io

import pytest
import time_machine

from panjereh.participation import operations, queries, weeks

from .conftest import SATURDAY, make_citizen, tehran

pytestmark = pytest.mark.django_db

IN_WEEK = tehran(2026, 11, 24, 10, 0)
NEXT_WEEK = tehran(2026, 11, 29, 10, 0)
TEXT = "صدور برخط پروانه ساختمان بدون مراجعه حضوری به شهرداری"


@pytest.fixture
def published(cards, moderator):
    """Week 1405-08-30 published: a citizen's proposal first (2 votes), a card second (1)."""
    proposal = operations.propose(make_citizen(), cards["agency"], "electronic", TEXT)
    proposal = operations.moderate(proposal, moderator, approve=True)
    card = operations.catalogue_suggestion(cards["offline"])
    with time_machine.travel(IN_WEEK, tick=False):
        for person in (make_citizen(), make_citizen()):
            operations.vote(person, proposal)
        operations.vote(make_citizen(), card)
    with time_machine.travel(NEXT_WEEK, tick=False):
        weekly = operations.publish_due()
    return {"weekly": weekly, "proposal": proposal, "card": card}


def _public_copies(client) -> tuple[str, str, dict, list[dict]]:
    label = weeks.label(SATURDAY)
    with time_machine.travel(NEXT_WEEK, tick=False):
        home = client.get("/en/participate/").content.decode()
        html = client.get(f"/en/participate/weekly/{label}/").content.decode()
        data = client.get(f"/en/participate/weekly/{label}.json").json()
        text = client.get(f"/en/participate/weekly/{label}.csv").content.decode()
    return home, html, data, list(csv.DictReader(io.StringIO(text)))


def test_a_withdrawn_proposal_loses_its_text_in_every_published_copy(client, published, moderator):
    home, html, data, rows = _public_copies(client)
    assert TEXT in home and TEXT in html
    assert data["items"][0]["title_fa"] == TEXT and data["items"][0]["status"] == "published"
    assert rows[0]["title_fa"] == TEXT

    operations.moderate(published["proposal"], moderator, approve=False, reason="تبلیغاتی است")

    home, html, data, rows = _public_copies(client)
    for body in (home, html, str(data), str(rows)):
        assert TEXT not in body
        assert "تبلیغاتی است" not in body  # the reason is for the author only
    assert "Withdrawn by moderation" in html and "Withdrawn by moderation" in home
    assert f'data-suggestion="{published["proposal"].pk}" data-status="withdrawn"' in html
    # The frozen ranks and votes stay; only the text is gone.
    first = data["items"][0]
    assert (first["rank"], first["votes"], first["status"]) == (1, 2, "withdrawn")
    assert (first["title_fa"], first["title_en"]) == ("", "")
    assert data["items"][1]["status"] == "published"
    assert data["items"][1]["title_en"] == "Business licence"
    assert (rows[0]["status"], rows[0]["title_fa"], rows[0]["votes"]) == ("withdrawn", "", "2")
    assert (rows[1]["status"], rows[1]["title_en"]) == ("published", "Business licence")
    # The snapshot itself is unchanged (history), it is only no longer shown.
    entry = published["weekly"].entries.get(rank=1)
    assert entry.title_fa == TEXT


def test_published_entries_read_the_status_in_one_query(published, django_assert_num_queries):
    with django_assert_num_queries(1):
        flags = [e.withdrawn for e in queries.published_entries(published["weekly"])]
    assert flags == [False, False]
