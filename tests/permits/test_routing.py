"""Register first, then route: approval-based applications handed to the simulated specialised
portals (a real process over HTTP), every hand-off and every move of the portal back in the
trace, and a portal down, slow or killed loses nothing."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.utils import timezone

from panjereh.catalogue import roles
from panjereh.inbox.models import Message
from panjereh.permits import applying, labels, operations, routing
from panjereh.permits.models import (
    ApplicationState,
    IssuedPermit,
    IssuingAuthority,
    PermitApplication,
    PortalLink,
    TraceEvent,
)
from tests.factories import UserFactory, make_agency, make_agency_staff

from .conftest import condition

pytestmark = [pytest.mark.django_db, pytest.mark.slow]
S = ApplicationState
DAY = 86400


@pytest.fixture
def industry(db):
    agency = make_agency(name_fa="سازمان صنایع کوچک آزمایشی", name_en="Test ISIPO")
    return IssuingAuthority.objects.create(
        code="isipo-test",
        name_fa="سازمان صنایع کوچک آزمایشی",
        name_en="Test small industries",
        agency=agency,
        portal="behinyab",
    )


@pytest.fixture
def workshop(industry):
    """An approval-based agency permit decided at Behinyab (an operation licence)."""
    version = operations.create_permit_type(
        roles.SYSTEM,
        authority=industry,
        kind="agency",
        fields={
            "title_fa": "پروانه بهره‌برداری کارگاه تولیدی",
            "title_en": "Operating licence for a production workshop",
            "registration_based": False,
            "legal_days": 30,
        },
        conditions=[condition("طرح توجیهی کارگاه")],
    )
    operations.publish(roles.SYSTEM, version)
    permit = version.permit
    permit.portal_type = "operation"
    permit.save(update_fields=["portal_type"])
    permit.refresh_from_db()
    return permit


@pytest.fixture
def citizen(db):
    user = UserFactory(
        is_staff=False, national_code="0012345679", first_name="زهرا", last_name="احمدی"
    )
    user.save()
    return user


def apply(citizen, workshop, title="کارگاه قطعات پلاستیکی") -> PermitApplication:
    application = applying.apply(
        citizen,
        workshop,
        title=title,
        details={"province": "zanjan", "address": "شهرک صنعتی", "description": "خط تولید دوم"},
    )
    assert application.state == S.ROUTING and application.portal == "behinyab"
    return application


def fresh(application) -> PermitApplication:
    return PermitApplication.objects.get(pk=application.pk)


def kinds(application, source=None) -> list[str]:
    rows = TraceEvent.objects.filter(application=application)
    if source:
        rows = rows.filter(source=source)
    return list(rows.order_by("at", "id").values_list("kind", flat=True))


def portal_kinds(application) -> list[str]:
    return kinds(application, "portal")


def due_now(application) -> None:
    """The retry's time has come (the clock moved on)."""
    PermitApplication.objects.filter(pk=application.pk).update(
        next_try_at=timezone.now() - dt.timedelta(seconds=1)
    )


def at_portal(portals, reference, portal="behinyab"):
    status, answer = routing.call(portal, "GET", f"applications/{reference}")
    return status, answer


def test_an_application_goes_to_its_portal_and_every_move_comes_back_until_it_is_issued(
    portals, citizen, workshop
):
    application = apply(citizen, workshop)
    portals.control(
        portal="behinyab",
        decide={
            "reference": application.reference,
            "outcome": "approved",
            "ask_information": False,
        },
    )
    assert routing.send_due() == 1
    application = fresh(application)
    assert application.state == S.AT_PORTAL
    assert application.send_attempts == 1 and application.next_try_at is None
    sent = TraceEvent.objects.get(application=application, kind=routing.SENT)
    assert sent.detail["attempt"] == 1 and sent.detail["repeated"] is False
    assert routing.send_due() == 0  # sent once

    assert routing.read_portals() == 1
    assert portal_kinds(application) == ["received"]
    portals.control(advance=9 * 3600)
    routing.read_portals()
    assert fresh(application).state == S.UNDER_REVIEW
    portals.control(advance=60 * DAY)
    routing.read_portals()
    application = fresh(application)
    assert portal_kinds(application) == [
        "received",
        "under_review",
        "inspection_scheduled",
        "approved",
    ]
    assert application.state == S.ISSUED and application.portal_state == "approved"
    issued = IssuedPermit.objects.get(application=application)
    _status, answer = at_portal(portals, application.reference)
    assert issued.portal_number == answer["permit"]["number"]
    assert issued.valid_from.isoformat() == answer["permit"]["valid_from"]
    assert issued.valid_until.isoformat() == answer["permit"]["valid_until"]
    assert kinds(application)[-1] == routing.ISSUED
    inspection = TraceEvent.objects.get(application=application, kind="inspection_scheduled")
    assert inspection.detail["inspection"] and inspection.detail["inspection_at"]
    # The cursor is kept: nothing is read again, and the link is healthy.
    link = PortalLink.objects.get(portal="behinyab")
    assert link.cursor == "000000000004" and link.failures == 0 and link.last_ok_at
    assert routing.read_portals() == 0
    assert TraceEvent.objects.filter(application=application, source="portal").count() == 4


def test_a_rejection_comes_back_with_its_reason_and_the_applicant_is_told(
    portals, citizen, workshop
):
    application = apply(citizen, workshop)
    reason = "محل واحد در محدوده مجاز استقرار صنایع نیست."
    portals.control(
        portal="behinyab",
        decide={
            "reference": application.reference,
            "outcome": "rejected",
            "reason": reason,
            "ask_information": False,
        },
    )
    routing.send_due()
    portals.control(advance=60 * DAY)
    routing.read_portals()
    application = fresh(application)
    assert application.state == S.REJECTED and application.reason == reason
    assert application.decided_at is not None
    assert not IssuedPermit.objects.filter(application=application).exists()
    assert portal_kinds(application)[-1] == "rejected"
    told = Message.objects.get(user=citizen, kind="decision")
    assert reason in told.body_fa and application.reference in told.body_fa


def test_more_information_is_asked_answered_in_the_window_and_the_review_goes_on(
    portals, citizen, workshop
):
    application = apply(citizen, workshop)
    portals.control(
        portal="behinyab",
        decide={
            "reference": application.reference,
            "outcome": "approved",
            "ask_information": True,
            "inspection": False,
        },
    )
    routing.send_due()
    portals.control(advance=3 * DAY)
    routing.read_portals()
    application = fresh(application)
    assert application.state == S.INFORMATION_REQUESTED
    assert "اجاره‌نامه" in application.requested
    assert routing.can_answer(application)
    assert Message.objects.filter(user=citizen, kind="notice").exists()

    other = UserFactory(is_staff=False, national_code="0000000001")
    with pytest.raises(roles.NotPermitted):
        routing.answer_information(other, application, "سند")
    with pytest.raises(operations.PermitError):
        routing.answer_information(citizen, application, "   ")
    with pytest.raises(operations.PermitError):
        routing.answer_information(citizen, application, "سند\x00")
    assert not TraceEvent.objects.filter(kind=routing.ANSWERED).exists()

    answer = routing.answer_information(citizen, application, "تصویر اجاره‌نامه پیوست شد.")
    assert answer.detail["delivered"] is True and answer.by == citizen
    assert not routing.can_answer(fresh(application))
    with pytest.raises(operations.PermitError):  # one answer to one request
        routing.answer_information(citizen, application, "دوباره")
    routing.read_portals()
    application = fresh(application)
    assert application.state == S.UNDER_REVIEW and application.requested == ""
    back = TraceEvent.objects.filter(application=application, kind="under_review").last()
    assert back.detail["information_received"] is True
    portals.control(advance=30 * DAY)
    routing.read_portals()
    assert fresh(application).state == S.ISSUED


def test_an_answer_given_while_the_portal_is_down_is_delivered_after_it_recovers(
    portals, citizen, workshop
):
    application = apply(citizen, workshop)
    portals.control(
        portal="behinyab",
        decide={"reference": application.reference, "ask_information": True},
    )
    routing.send_due()
    portals.control(advance=3 * DAY)
    routing.read_portals()
    portals.control(portal="behinyab", mode="fail")
    answer = routing.answer_information(citizen, fresh(application), "نقشه استقرار پیوست شد.")
    assert answer.detail["delivered"] is False  # kept, not lost
    assert routing.deliver_answers() == 0
    portals.control(portal="behinyab", mode="normal")
    routing.send_due()
    answer.refresh_from_db()
    assert answer.detail["delivered"] is True
    routing.read_portals()
    assert fresh(application).state == S.UNDER_REVIEW


@pytest.mark.parametrize("mode", ["fail", "drop", "slow"])
def test_a_portal_down_or_slow_loses_nothing_the_trace_says_so_and_it_completes_after(
    portals, citizen, workshop, mode
):
    application = apply(citizen, workshop)
    portals.control(portal="behinyab", mode=mode, delay_ms=2500)
    assert routing.send_due() == 0
    application = fresh(application)
    assert application.state == S.ROUTING and application.send_attempts == 1
    assert application.next_try_at > timezone.now() + dt.timedelta(seconds=10)
    assert application.last_error
    failed = TraceEvent.objects.get(application=application, kind=routing.UNREACHABLE)
    expected = {"fail": "unavailable", "drop": "dropped", "slow": "timeout"}[mode]
    assert failed.detail["error"] == expected
    assert labels.step_text(failed.kind, failed.detail, failed.source) != failed.kind
    # Again and again: the tries go on (with a longer wait), the trace is not flooded.
    first_wait = application.next_try_at - timezone.now()
    for _ in range(2):
        due_now(application)
        routing.send_due()
    application = fresh(application)
    assert application.send_attempts == 3
    assert application.next_try_at - timezone.now() > first_wait * 2
    assert kinds(application).count(routing.UNREACHABLE) == 1
    health = routing.portal_health()[0]
    assert health.waiting == 1 and health.unreachable_since and health.failures >= 3
    assert health.oldest_unsent == application.submitted_at
    with pytest.raises(routing.PortalUnreachable):
        routing.read("behinyab")
    # The portal recovers: the next try hands it over.
    portals.control(portal="behinyab", mode="normal")
    if mode == "slow":
        time.sleep(1.2)  # the slow portal took the last try after the window gave up on it
    due_now(application)
    assert routing.send_due() == 1
    application = fresh(application)
    assert application.state == S.AT_PORTAL and application.send_attempts == 4
    sent = TraceEvent.objects.get(application=application, kind=routing.SENT)
    assert sent.detail["attempt"] == 4
    assert sent.detail["repeated"] is (mode == "slow")  # a lost answer: the same application
    routing.read_portals()
    assert portal_kinds(application) == ["received"]  # one application at the portal
    health = routing.portal_health()[0]
    assert health.unreachable_since is None and health.waiting == 0 and health.at_portal == 1


def test_a_submit_whose_answer_was_lost_is_not_made_twice(portals, citizen, workshop):
    application = apply(citizen, workshop)
    # The portal took it, but the window never heard (the same bytes it will send).
    status, _answer = routing.call(
        "behinyab", "POST", "applications", routing.submission(application)
    )
    assert status == 201
    assert routing.send_due() == 1
    sent = TraceEvent.objects.get(application=application, kind=routing.SENT)
    assert sent.detail["repeated"] is True
    routing.read_portals()
    assert portal_kinds(application) == ["received"]


def test_the_feed_can_run_ahead_of_a_lost_answer(portals, citizen, workshop):
    application = apply(citizen, workshop)
    routing.call("behinyab", "POST", "applications", routing.submission(application))
    portals.control(advance=9 * 3600)
    routing.read_portals()  # the feed says received, under review: the window follows
    application = fresh(application)
    assert application.state == S.UNDER_REVIEW and application.next_try_at is None
    assert routing.send_due() == 0


def test_the_portal_refusing_what_was_sent_holds_it_for_a_person(portals, citizen, workshop):
    application = apply(citizen, workshop)
    workshop.portal_type = "no_such_permit"
    workshop.save(update_fields=["portal_type"])
    routing.send_due()
    application = fresh(application)
    assert application.state == S.ROUTING and application.next_try_at is None
    refused = TraceEvent.objects.get(application=application, kind=routing.REFUSED)
    assert refused.detail["portal_error"] == "unknown_permit_type"
    assert "unknown_permit_type" in application.last_error
    assert list(routing.held()) == [application]
    assert routing.portal_health()[0].held == 1
    assert routing.send_due() == 0  # not tried again by itself
    with pytest.raises(roles.NotPermitted):
        routing.resend(citizen, application)
    staff = make_agency_staff(workshop.authority.agency, role="editor")
    workshop.portal_type = "operation"
    workshop.save(update_fields=["portal_type"])
    routing.resend(staff, application)
    assert routing.send_due() == 1
    assert fresh(application).state == S.AT_PORTAL


def test_a_portal_killed_and_started_again_loses_nothing(portals, citizen, workshop):
    first = apply(citizen, workshop, title="کارگاه یکم")
    second = apply(citizen, workshop, title="کارگاه دوم")
    routing.send_due()
    routing.read_portals()
    portals.restart(kill=True)  # SIGKILL, then the same port and state
    portals.control(advance=60 * DAY)
    routing.read_portals()
    for application in (first, second):
        application = fresh(application)
        assert application.state in (S.ISSUED, S.REJECTED)
        assert portal_kinds(application)[0] == "received"
        assert portal_kinds(application).count("received") == 1


def test_a_feed_event_read_twice_is_recorded_once_and_the_cursor_is_kept(
    portals, citizen, workshop
):
    application = apply(citizen, workshop)
    routing.send_due()
    portals.control(advance=60 * DAY)
    recorded = routing.read("behinyab", limit=2)
    assert recorded >= 3
    cursor = PortalLink.objects.get(portal="behinyab").cursor
    # The same page again (a reader that crashed before keeping its cursor): nothing new.
    PortalLink.objects.filter(portal="behinyab").update(cursor="")
    assert routing.read("behinyab") == 0
    assert PortalLink.objects.get(portal="behinyab").cursor == cursor
    assert TraceEvent.objects.filter(application=application, source="portal").count() == recorded
    assert IssuedPermit.objects.filter(application=application).count() <= 1
    # A single event offered twice.
    _s, page = routing.call("behinyab", "GET", "events?after=&limit=1")
    assert routing.record("behinyab", page["events"][0]) == 0


def test_an_overrun_of_the_legal_time_is_in_the_trace_and_the_overseers_figures(
    portals, citizen, workshop
):
    application = apply(citizen, workshop)
    routing.send_due()
    PermitApplication.objects.filter(pk=application.pk).update(
        due_by=timezone.now() - dt.timedelta(hours=1)
    )
    routing.read_portals()
    routing.read_portals()
    assert kinds(application).count(routing.OVERDUE) == 1
    assert routing.is_overdue(fresh(application))
    health = routing.portal_health()[0]
    assert health.overdue == 1 and health.at_portal == 1


def test_the_portals_page_shows_each_authoritys_portal_to_its_staff_and_the_overseers(
    portals, client, citizen, workshop
):
    from django.contrib.auth.models import Group
    from django.urls import reverse

    apply(citizen, workshop)
    portals.control(portal="behinyab", mode="fail")
    routing.send_due()
    url = reverse("permits:portals")
    client.force_login(citizen)
    assert client.get(url).status_code == 403
    supervisor = UserFactory(is_staff=True)
    supervisor.groups.add(Group.objects.get_or_create(name=roles.STEERING_WG)[0])
    client.force_login(supervisor)
    page = client.get(url)
    assert page.status_code == 200
    names = (workshop.authority.name_fa, workshop.authority.name_en)
    assert any(name in page.content.decode() for name in names)
    staff = make_agency_staff(workshop.authority.agency, role="viewer")
    client.force_login(staff)
    assert any(name in client.get(url).content.decode() for name in names)
    other = make_agency_staff(make_agency(), role="admin")
    client.force_login(other)
    assert client.get(url).status_code == 403


def test_a_cursor_the_portal_does_not_know_stops_the_reading_and_says_so(
    portals, citizen, workshop
):
    apply(citizen, workshop)
    routing.send_due()
    # (The simulated portal refuses a cursor not of its shape; a real one, any it never gave.)
    PortalLink.objects.filter(portal="behinyab").update(cursor="lost-cursor")
    assert routing.read_portals() == 0
    link = PortalLink.objects.get(portal="behinyab")
    assert link.cursor == "lost-cursor" and link.failures == 1
    assert link.last_error == routing.ERRORS["bad_cursor"]
    assert routing.portal_health()[0].unreachable_since is not None
