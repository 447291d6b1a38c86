"""Ratings of finished applications: who may rate what, the edit window, the agency's reply
in the citizen's inbox, overdue replies and escalation."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from panjereh.common.persian import to_persian_digits
from panjereh.feedback import operations, queries
from panjereh.feedback.models import EscalationState, Rating
from panjereh.inbox.models import Message
from panjereh.services import notices
from panjereh.services.models import Application, JourneyEvent, State

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _post(client, application, ease="4", satisfaction="5", comment=""):
    return client.post(
        reverse("feedback:rate", args=[application.tracking_code]),
        {"ease": ease, "satisfaction": satisfaction, "comment": comment},
    )


def test_citizen_rates_own_finished_application(world):
    app = world.finished()
    response = _post(
        _client(world.citizen), app, "4", "۵", "خيلي خوب بود"
    )  # Persian digit, Arabic ي
    assert response.status_code == 302
    rating = Rating.objects.get(application=app)
    assert (rating.ease, rating.satisfaction) == (4, 5)
    assert rating.comment == "خیلی خوب بود"
    assert (rating.agency_id, rating.service_id) == (world.agency.pk, world.definition.service_id)
    assert rating.edit_until - rating.created_at == dt.timedelta(days=7)
    assert rating.reply_due_at - rating.created_at == dt.timedelta(days=5)
    app.refresh_from_db()
    assert app.rating == 5  # oversight's service performance reads this copy
    events = JourneyEvent.objects.filter(application=app, kind=JourneyEvent.Kind.RATED)
    assert [e.data["score"] for e in events] == [5]


def test_rejected_application_can_be_rated_too(world):
    app = world.finished(state=State.REJECTED)
    rating, created = operations.rate(app, world.citizen, ease=1, satisfaction=1)
    assert created and rating.unhappy


@pytest.mark.parametrize("state", [State.SUBMITTED, State.HUMAN_REVIEW, State.WAITING])
def test_unfinished_application_is_refused_and_nothing_changes(world, state):
    app = world.finished(state=state)
    response = _post(_client(world.citizen), app)
    assert response.status_code == 400
    assert "پس از پایان آن می‌توانید ارزیابی کنید" in response.content.decode()
    assert not Rating.objects.exists()
    app.refresh_from_db()
    assert app.rating is None
    assert not JourneyEvent.objects.filter(application=app, kind="rated").exists()
    with pytest.raises(operations.FeedbackError) as err:
        operations.rate(app, world.citizen, ease=3, satisfaction=3)
    assert err.value.code == "not_finished"


NO_SUCH_APPLICATION = "There is no finished application of yours with this number."
NO_SUCH_APPLICATION_FA = "درخواست پایان‌یافته‌ای از شما با این شماره وجود ندارد."


def test_someone_elses_application_is_404_and_nothing_changes(world):
    app = world.finished()
    response = _post(_client(world.stranger), app)
    assert response.status_code == 404
    # A localised page with a clear message, the same as for a number that does not exist.
    assert response.context["message"] == NO_SUCH_APPLICATION_FA
    assert NO_SUCH_APPLICATION_FA in response.content.decode()
    page = _client(world.stranger).get(reverse("feedback:rate", args=[app.tracking_code]))
    assert page.status_code == 404
    assert 'id="feedback-message"' in page.content.decode()
    assert app.definition.title_fa not in page.content.decode()  # nothing about it shows
    missing = _client(world.stranger).get(reverse("feedback:rate", args=["000000-99999999"]))
    assert missing.status_code == 404 and missing.context["message"] == NO_SUCH_APPLICATION_FA
    english = _client(world.stranger).get(
        "/en" + reverse("feedback:rate", args=[app.tracking_code])
    )
    assert english.status_code == 404 and NO_SUCH_APPLICATION in english.content.decode()
    assert not Rating.objects.exists()
    assert not JourneyEvent.objects.filter(application=app).exists()
    app.refresh_from_db()
    assert app.rating is None
    with pytest.raises(operations.FeedbackError) as err:
        operations.rate(app, world.stranger, ease=3, satisfaction=3)
    assert err.value.code == "not_yours"
    assert not Rating.objects.exists()


@pytest.mark.parametrize("ease,satisfaction", [("0", "3"), ("3", "6"), ("x", "3"), ("", "")])
def test_bad_scores_are_refused(world, ease, satisfaction):
    app = world.finished()
    response = _post(_client(world.citizen), app, ease, satisfaction)
    assert response.status_code == 400
    assert not Rating.objects.exists()


def test_too_long_comment_is_refused(world):
    app = world.finished()
    response = _post(_client(world.citizen), app, "3", "3", "x" * 2001)
    assert response.status_code == 400
    assert not Rating.objects.exists()


def test_one_rating_per_application_editable_inside_the_window(world):
    app = world.finished()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert "saved=1" in _post(_client(world.citizen), app, "2", "2", "slow")["Location"]
    with time_machine.travel(start + dt.timedelta(days=6, hours=23), tick=False):
        response = _post(_client(world.citizen), app, "5", "4", "fixed now")
        assert "saved=1" in response["Location"]
    assert Rating.objects.filter(application=app).count() == 1
    rating = Rating.objects.get(application=app)
    assert (rating.ease, rating.satisfaction, rating.comment) == (5, 4, "fixed now")
    app.refresh_from_db()
    assert app.rating == 4
    # After the window: refused with a clear error, nothing changes.
    with time_machine.travel(start + dt.timedelta(days=7, minutes=1), tick=False):
        client = _client(world.citizen)
        response = _post(client, app, "1", "1", "changed my mind")
        assert response.status_code == 400
        assert response.context["error"]
        page = client.get(reverse("feedback:rate", args=[app.tracking_code]))
        assert b'id="rating-form"' not in page.content
        assert b'id="edit-closed"' in page.content
    rating.refresh_from_db()
    assert (rating.ease, rating.satisfaction, rating.comment) == (5, 4, "fixed now")
    app.refresh_from_db()
    assert app.rating == 4
    assert Rating.objects.filter(application=app).count() == 1


def test_reply_reaches_the_citizens_inbox_once(world):
    app = world.finished()
    rating, _ = operations.rate(app, world.citizen, ease=2, satisfaction=2, comment="Too slow")
    staff = _client(world.officer)
    page = staff.get(reverse("feedback:agency_rating", args=[rating.pk]))
    assert page.status_code == 200 and "Too slow" in page.content.decode()
    response = staff.post(
        reverse("feedback:agency_rating", args=[rating.pk]), {"reply": "ببخشید، درست شد"}
    )
    assert response.status_code == 302
    rating.refresh_from_db()
    assert rating.reply == "ببخشید، درست شد" and rating.replied_by == world.officer
    message = Message.objects.get(user=world.citizen, dedupe_key=f"feedback:reply:{rating.pk}")
    assert (
        message.body_fa == "ببخشید، درست شد" and message.link_url == notices.link(app)["link_url"]
    )
    # A second reply is refused and sends nothing.
    again = staff.post(reverse("feedback:agency_rating", args=[rating.pk]), {"reply": "again"})
    assert again.status_code == 400
    assert Message.objects.filter(user=world.citizen).count() == 1
    rating.refresh_from_db()
    assert rating.reply == "ببخشید، درست شد"
    # The citizen sees it on the rating page and in the inbox.
    citizen = _client(world.citizen)
    assert (
        "ببخشید، درست شد"
        in citizen.get(reverse("feedback:rate", args=[app.tracking_code])).content.decode()
    )
    # The inbox shows stored text in the page's digits.
    inbox = citizen.get(reverse("inbox:inbox")).content.decode()
    assert to_persian_digits(message.subject_fa) in inbox


def test_empty_reply_is_refused(world):
    rating, _ = operations.rate(world.finished(), world.citizen, ease=3, satisfaction=3)
    response = _client(world.officer).post(
        reverse("feedback:agency_rating", args=[rating.pk]), {"reply": "   "}
    )
    assert response.status_code == 400
    rating.refresh_from_db()
    assert rating.replied_at is None
    assert not Message.objects.exists()


def test_staff_see_and_answer_only_their_agencys_ratings(world):
    mine, _ = operations.rate(world.finished(), world.citizen, ease=3, satisfaction=3)
    theirs, _ = operations.rate(
        world.finished(definition=world.other_definition), world.citizen, ease=4, satisfaction=4
    )
    page = _client(world.officer).get(reverse("feedback:agency_queue"))
    assert page.status_code == 200
    listed = [r.pk for r in page.context["queue"]]
    assert listed == [mine.pk]
    other = _client(world.officer)
    assert other.get(reverse("feedback:agency_rating", args=[theirs.pk])).status_code == 404
    assert (
        other.post(reverse("feedback:agency_rating", args=[theirs.pk]), {"reply": "x"}).status_code
        == 404
    )
    theirs.refresh_from_db()
    assert theirs.replied_at is None
    with pytest.raises(operations.FeedbackError):
        operations.reply(theirs, world.officer, "not mine")
    # A citizen is not agency staff.
    assert _client(world.citizen).get(reverse("feedback:agency_queue")).status_code == 403


def test_overdue_replies_come_first_and_show_to_oversight(world):
    from panjereh.catalogue import roles

    start = timezone.now()
    with time_machine.travel(start, tick=False):
        old, _ = operations.rate(world.finished(), world.citizen, ease=2, satisfaction=1)
    with time_machine.travel(start + dt.timedelta(days=3), tick=False):
        new, _ = operations.rate(world.finished(), world.citizen, ease=4, satisfaction=4)
    with time_machine.travel(start + dt.timedelta(days=5, hours=1), tick=False):
        assert old.reply_overdue and not new.reply_overdue
        assert [r.pk for r in queries.awaiting_reply([world.agency.pk])] == [old.pk, new.pk]
        assert [r.pk for r in queries.overdue()] == [old.pk]
        page = _client(world.officer).get(reverse("feedback:agency_queue"))
        assert b'class="overdue"' in page.content
        roles.ensure_groups()
        from django.contrib.auth.models import Group

        world.ministry_officer.groups.add(Group.objects.get(name=roles.STEERING_WG))
        oversight = _client(world.ministry_officer).get(reverse("feedback:oversight"))
        assert [r.pk for r in oversight.context["overdue"]] == [old.pk]
        # A reply, even late, takes it off the overdue list but stays late.
        operations.reply(old, world.officer, "late answer")
        old.refresh_from_db()
        assert old.reply_overdue and not queries.overdue().exists()


def test_escalation_after_an_unsatisfying_reply(world):
    app = world.finished()
    rating, _ = operations.rate(app, world.citizen, ease=1, satisfaction=2)
    client = _client(world.citizen)
    url = reverse("feedback:escalate", args=[rating.pk])
    reason = {"reason": "The reply does not answer my problem."}
    # Before the agency replied (and in time) there is nothing to escalate yet: the rating
    # page again, with the localised message (not a bare text response).
    refused = client.post(url, reason)
    assert refused.status_code == 400
    assert refused["Content-Type"].startswith("text/html")
    assert "پس از پاسخ دستگاه یا پس از گذشتن مهلت پاسخ" in refused.content.decode()  # Persian
    assert b'id="form-error"' in refused.content and b'id="my-rating"' in refused.content
    rating.refresh_from_db()
    assert rating.escalated_at is None
    operations.reply(rating, world.officer, "It was the rules.")
    # Someone else cannot escalate it: 404 with a message, nothing written.
    other = _client(world.stranger).post(url, reason)
    assert other.status_code == 404 and b'id="feedback-message"' in other.content
    rating.refresh_from_db()
    assert rating.escalated_at is None
    # A reason is needed: the field is marked invalid and tied to its error.
    empty = client.post(url, {"reason": "  "})
    assert empty.status_code == 400
    html = empty.content.decode()
    assert 'aria-invalid="true"' in html and 'id="id_reason-error"' in html
    assert 'aria-describedby="id_reason-hint id_reason-error"' in html
    rating.refresh_from_db()
    assert rating.escalated_at is None
    response = client.post(url, reason)
    assert response.status_code == 302 and "escalated=1" in response["Location"]
    rating.refresh_from_db()
    assert rating.escalated_at is not None and not rating.editable
    assert rating.escalated_by == world.citizen
    assert rating.escalation_reason == "The reply does not answer my problem."
    assert rating.escalated_to == world.ministry  # the complaints' routing
    assert rating.escalation_state == EscalationState.ESCALATED
    assert [r.pk for r in queries.escalated()] == [rating.pk]
    # The agency's staff (and the supervising body's) are told in their inboxes.
    key = f"feedback:escalated:{rating.pk}"
    told = set(Message.objects.filter(dedupe_key=key).values_list("user_id", flat=True))
    assert told == {world.officer.pk, world.ministry_officer.pk}
    assert Message.objects.get(user=world.officer, dedupe_key=key).body_fa == (
        "The reply does not answer my problem."
    )
    # The citizen follows it on the rating page.
    page = client.get(reverse("feedback:rate", args=[app.tracking_code]))
    assert b'id="escalation" data-state="escalated"' in page.content
    assert "The reply does not answer my problem." in page.content.decode()
    # Escalating twice is refused and changes nothing.
    assert client.post(url, {"reason": "again"}).status_code == 400
    rating.refresh_from_db()
    assert rating.escalation_reason == "The reply does not answer my problem."
    # An escalated rating is frozen.
    with pytest.raises(operations.FeedbackError):
        operations.rate(app, world.citizen, ease=5, satisfaction=5)


def test_escalation_is_handled_by_the_supervising_body_and_the_citizen_sees_the_outcome(world):
    app = world.finished()
    rating, _ = operations.rate(app, world.citizen, ease=1, satisfaction=1)
    operations.reply(rating, world.officer, "Nothing to do.")
    operations.escalate(rating, world.citizen, "Not good enough")
    url = reverse("feedback:escalation", args=[rating.pk])
    # Only its handlers: not the agency itself, not the citizen, not another agency.
    for user in (world.officer, world.citizen, world.other_officer):
        assert _client(user).get(url).status_code == 404
        assert _client(user).post(url, {"outcome": "x"}).status_code == 404
    with pytest.raises(operations.FeedbackError):
        operations.handle_escalation(rating, world.officer, "Fine as it is.")
    handler = _client(world.ministry_officer)
    oversight = handler.get(reverse("feedback:oversight"))
    assert oversight.status_code == 200
    assert [r.pk for r in oversight.context["escalated"]] == [rating.pk]
    assert url in oversight.content.decode()
    # An outcome is required.
    empty = handler.post(url, {"outcome": " "})
    assert empty.status_code == 400 and 'aria-invalid="true"' in empty.content.decode()
    rating.refresh_from_db()
    assert rating.escalation_handled_at is None
    response = handler.post(url, {"outcome": "The agency must call you this week."})
    assert response.status_code == 302
    rating.refresh_from_db()
    assert rating.escalation_state == EscalationState.HANDLED
    assert rating.escalation_handled_by == world.ministry_officer
    assert rating.escalation_outcome == "The agency must call you this week."
    key = f"feedback:escalation:{rating.pk}:handled"
    message = Message.objects.get(user=world.citizen, dedupe_key=key)
    assert message.body_fa == "The agency must call you this week."
    assert message.link_url == notices.link(app)["link_url"]
    assert Message.objects.filter(user=world.officer, dedupe_key=key).exists()
    # Handled once only.
    assert handler.post(url, {"outcome": "again"}).status_code == 400
    assert Message.objects.filter(user=world.citizen, dedupe_key=key).count() == 1
    # The citizen sees the state and the outcome on the rating page (both languages), and on
    # "my ratings".
    citizen = _client(world.citizen)
    page = citizen.get(reverse("feedback:rate", args=[app.tracking_code]))
    assert b'data-state="handled"' in page.content
    assert "The agency must call you this week." in page.content.decode()
    english = citizen.get("/en" + reverse("feedback:rate", args=[app.tracking_code]))
    assert "Handled by the supervising body" in english.content.decode()
    assert b'data-escalation="handled"' in citizen.get(reverse("feedback:mine")).content
    # The agency sees it too.
    agency_page = _client(world.officer).get(reverse("feedback:agency_rating", args=[rating.pk]))
    assert "The agency must call you this week." in agency_page.content.decode()


def test_escalation_about_an_agency_without_a_parent_goes_to_the_steering_wg(world):
    from django.contrib.auth.models import Group

    from panjereh.catalogue import roles

    rating, _ = operations.rate(
        world.finished(definition=world.other_definition), world.citizen, ease=2, satisfaction=2
    )
    operations.reply(rating, world.other_officer, "No.")
    operations.escalate(rating, world.citizen, "Why not?")
    rating.refresh_from_db()
    assert rating.escalated_to is None
    assert Message.objects.filter(
        user=world.other_officer, dedupe_key=f"feedback:escalated:{rating.pk}"
    ).exists()
    assert not operations.can_handle_escalation(world.ministry_officer, rating)
    roles.ensure_groups()
    steering = world.stranger
    steering.groups.add(Group.objects.get(name=roles.STEERING_WG))
    assert operations.can_handle_escalation(steering, rating)
    page = _client(steering).get(reverse("feedback:oversight"))
    assert page.status_code == 200 and rating in page.context["escalated"]
    operations.handle_escalation(rating, steering, "The agency will redo it.")
    rating.refresh_from_db()
    assert rating.escalation_state == EscalationState.HANDLED


def test_escalation_when_the_reply_is_overdue_and_not_for_happy_ratings(world):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        unhappy, _ = operations.rate(world.finished(), world.citizen, ease=3, satisfaction=1)
        happy, _ = operations.rate(world.finished(), world.citizen, ease=5, satisfaction=4)
    with time_machine.travel(start + dt.timedelta(days=6), tick=False):
        assert unhappy.can_escalate
        operations.escalate(unhappy, world.citizen, "No reply at all")
        with pytest.raises(operations.FeedbackError):
            operations.escalate(happy, world.citizen, "I want to")
    happy.refresh_from_db()
    assert happy.escalated_at is None
    unhappy.refresh_from_db()
    assert unhappy.escalated_to == world.ministry


def test_concurrent_duplicate_is_refused_cleanly(world):
    app = world.finished()
    operations.rate(app, world.citizen, ease=3, satisfaction=3)
    # A stale second "first" rating (same application) only updates inside the window.
    rating, created = operations.rate(app, world.citizen, ease=4, satisfaction=4)
    assert not created and Rating.objects.count() == 1


def test_rate_limit_refuses_and_changes_nothing(world, settings):
    from panjereh.feedback import views

    app = world.finished()
    client = _client(world.citizen)
    for _ in range(views.RATING_POSTS.limit - 1):
        _post(client, app, "3", "3")
    response = _post(client, app, "1", "1")
    assert response.status_code == 429
    assert Rating.objects.get(application=app).satisfaction == 3


def test_csrf_is_enforced(world):
    app = world.finished()
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.citizen)
    response = client.post(
        reverse("feedback:rate", args=[app.tracking_code]), {"ease": "3", "satisfaction": "3"}
    )
    assert response.status_code == 403
    assert not Rating.objects.exists()


def test_old_services_route_and_application_page_lead_to_feedback(world):
    app = world.finished()
    client = _client(world.citizen)
    response = client.post(reverse("services:rate", args=[app.tracking_code]), {"rating": "5"})
    assert response.status_code == 302
    assert response["Location"] == reverse("feedback:rate", args=[app.tracking_code])
    assert not Rating.objects.exists()
    assert Application.objects.get(pk=app.pk).rating is None
    page = client.get(reverse("services:detail", args=[app.tracking_code]))
    assert reverse("feedback:rate", args=[app.tracking_code]) in page.content.decode()
    assert (
        _client(world.stranger).get(reverse("services:rate", args=[app.tracking_code])).status_code
        == 404
    )


def test_rating_pages_render_in_both_languages(world):
    app = world.finished()
    operations.rate(app, world.citizen, ease=2, satisfaction=2, comment="hmm")
    client = _client(world.citizen)
    for prefix in ("", "/en"):
        page = client.get(f"{prefix}/feedback/rate/{app.tracking_code}/")
        assert page.status_code == 200
        assert client.get(f"{prefix}/feedback/").status_code == 200
    page = client.get(f"/en/feedback/rate/{app.tracking_code}/")
    text = page.content.decode()
    assert "The agency must reply by" in text and 'id="rating-form"' in text
