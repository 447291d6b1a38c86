"""A citizen's own page: their consultation comments and proposals with the moderation state
and a rejection's reason; nobody else's texts, and only when signed in."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client

from panjereh.participation import operations

from .conftest import make_citizen, tehran

pytestmark = pytest.mark.django_db

NOW = tehran(2026, 11, 22, 10, 0)
MINE = "لطفاً امکان پرداخت برخط هزینه‌ها را هم فراهم کنید"
THEIRS = "متن نظر شهروند دیگر درباره همین پیش‌نویس آیین‌نامه"
PROPOSAL = "صدور برخط گواهی پایان کار بدون مراجعه حضوری"


@pytest.fixture
def consultation(cards, staff):
    item = operations.create_consultation(
        staff["a"],
        cards["agency"],
        "پیش‌نویس شیوه‌نامه",
        "متن نظرخواهی",
        NOW,
        NOW + dt.timedelta(days=7),
    )
    with time_machine.travel(NOW, tick=False):
        return operations.open_consultation(staff["a"], item)


def test_the_author_sees_their_comments_states_and_the_rejection_reason(
    cards, consultation, moderator
):
    author, other = make_citizen(), make_citizen()
    with time_machine.travel(NOW, tick=False):
        rejected = operations.comment(author, consultation, MINE)
        pending = operations.comment(author, consultation, MINE + " و پیامک")
        theirs = operations.comment(other, consultation, THEIRS)
    operations.moderate(rejected, moderator, approve=False, reason="خارج از موضوع نظرخواهی")
    operations.moderate(theirs, moderator, approve=False, reason="دلیل مخصوص دیگری")
    proposal = operations.propose(author, cards["agency"], "smart", PROPOSAL)
    operations.moderate(proposal, moderator, approve=False, reason="تکراری است")

    client = Client()
    client.force_login(author)
    with time_machine.travel(NOW, tick=False):
        page = client.get(f"/en/participate/consultations/{consultation.pk}/").content.decode()
        assert 'href="/en/participate/mine/"' in page
        response = client.get("/en/participate/mine/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="comment-{rejected.pk}" data-status="rejected"' in html
    assert f'id="comment-{pending.pk}" data-status="pending"' in html
    assert "خارج از موضوع نظرخواهی" in html
    assert f'id="suggestion-{proposal.pk}" data-status="rejected"' in html
    assert "تکراری است" in html
    # Object-level: another citizen's comment and its reason are never on this page.
    assert THEIRS not in html and "دلیل مخصوص دیگری" not in html
    assert f"comment-{theirs.pk}" not in html

    client.force_login(other)
    html = client.get("/en/participate/mine/").content.decode()
    assert "دلیل مخصوص دیگری" in html
    assert MINE not in html and "خارج از موضوع نظرخواهی" not in html and PROPOSAL not in html


def test_the_page_needs_a_sign_in(client):
    response = client.get("/en/participate/mine/")
    assert response.status_code == 302
    assert "next=/en/participate/mine/" in response["Location"]


def test_anonymous_consultation_page_has_no_link_to_it(client, consultation):
    with time_machine.travel(NOW, tick=False):
        page = client.get(f"/en/participate/consultations/{consultation.pk}/").content.decode()
    assert "/participate/mine/" not in page
