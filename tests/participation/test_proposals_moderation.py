"""Proposals wait for moderation; moderators approve or reject with a reason; nothing
public shows who wrote a text; personal data is refused."""

from __future__ import annotations

import pytest
from django.test import Client

from panjereh.participation import operations, queries, weeks
from panjereh.participation.models import Moderation, Suggestion

from .conftest import make_citizen, make_moderator

pytestmark = pytest.mark.django_db

TEXT = "صدور پروانه ساختمان به‌صورت کاملا برخط و بدون مراجعه"


def _propose(client, cards, text=TEXT, **extra):
    data = {"p-agency": cards["agency"].pk, "p-goal": "electronic", "p-text": text, **extra}
    return client.post("/en/participate/propose/", data)


def test_proposal_is_pending_until_a_moderator_approves_it(client, cards):
    author = make_citizen()
    client.force_login(author)
    response = _propose(client, cards, text=TEXT.replace("ی", "ي"))  # Arabic Yeh accepted
    assert response.status_code == 302
    proposal = Suggestion.objects.get()
    assert proposal.status == Moderation.PENDING and proposal.text == TEXT
    assert proposal.proposer == author
    # Not public, not votable.
    client = Client()  # signed out
    assert TEXT not in client.get("/en/participate/proposals/").content.decode()
    assert TEXT not in client.get("/en/participate/services/ministry-a/").content.decode()
    with pytest.raises(operations.NotAllowed):
        operations.vote(make_citizen(), proposal)

    moderator = make_moderator()
    client.force_login(moderator)
    queue = client.get("/en/participate/moderation/").content.decode()
    assert TEXT in queue and author.last_name not in queue and author.national_code not in queue
    client.post(f"/en/participate/moderation/suggestion/{proposal.pk}/", {"decision": "approve"})
    proposal.refresh_from_db()
    assert proposal.status == Moderation.APPROVED and proposal.moderated_by == moderator

    client = Client()  # signed out
    public = client.get("/en/participate/proposals/").content.decode()
    assert TEXT in public and author.last_name not in public and author.username not in public
    operations.vote(make_citizen(), proposal)
    assert [s.suggestion for s in queries.standings(weeks.current_week())] == [proposal]


def test_rejection_needs_a_reason_and_the_author_sees_it(client, cards, moderator):
    author = make_citizen()
    proposal = operations.propose(author, cards["agency"], "smart", TEXT)
    with pytest.raises(operations.InvalidText):
        operations.moderate(proposal, moderator, approve=False, reason="  ")
    proposal.refresh_from_db()
    assert proposal.status == Moderation.PENDING
    operations.moderate(proposal, moderator, approve=False, reason="تکراری است")
    with pytest.raises(operations.WrongState):
        operations.moderate(proposal, moderator, approve=True)
    client.force_login(author)
    mine = client.get("/en/participate/propose/").content.decode()
    assert "تکراری است" in mine and 'data-status="rejected"' in mine


def test_only_moderators_moderate(client, cards):
    proposal = operations.propose(make_citizen(), cards["agency"], "smart", TEXT)
    someone = make_citizen()
    with pytest.raises(operations.NotAllowed):
        operations.moderate(proposal, someone, approve=True)
    client.force_login(someone)
    assert client.get("/en/participate/moderation/").status_code == 404
    response = client.post(
        f"/en/participate/moderation/suggestion/{proposal.pk}/", {"decision": "approve"}
    )
    assert response.status_code == 404
    proposal.refresh_from_db()
    assert proposal.status == Moderation.PENDING


@pytest.mark.parametrize(
    "text, message",
    [
        (TEXT + " کد ملی من ۰۰۱۲۳۴۵۶۷۹", "looks like a national code"),
        (TEXT + " با من تماس بگیرید 09121234567", "remove the mobile number"),
        ("کوتاه", "at least 10 characters"),
    ],
)
def test_bad_proposals_are_refused_with_a_clear_error_and_change_nothing(
    client, cards, text, message
):
    client.force_login(make_citizen())
    response = _propose(client, cards, text=text)
    body = response.content.decode()
    assert response.status_code == 200
    assert message in body
    assert (
        'aria-invalid="true"' in body
        and 'aria-describedby="id_p-text-hint id_p-text-error"' in body
    )
    assert not Suggestion.objects.exists()


def test_picking_a_card_leads_to_its_vote_button(client, cards):
    client.force_login(make_citizen())
    sid = cards["offline"].service_id.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    response = client.post("/en/participate/propose/", {"pick": "1", "c-service_id": sid})
    assert response.status_code == 302
    assert response["Location"].endswith(
        f"/participate/services/ministry-a/#service-{cards['offline'].pk}"
    )
    assert Suggestion.objects.get().service == cards["offline"]
    smart = client.post(
        "/en/participate/propose/", {"pick": "1", "c-service_id": cards["smart"].service_id}
    )
    assert "already offered online as a smart service" in smart.content.decode()
    unknown = client.post("/en/participate/propose/", {"pick": "1", "c-service_id": "1"})
    assert "No service card has this ID." in unknown.content.decode()


def test_staff_without_a_national_code_cannot_propose(client, cards, staff):
    client.force_login(staff["a"])
    assert client.get("/en/participate/propose/").status_code == 404
