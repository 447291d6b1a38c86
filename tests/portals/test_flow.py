"""An application's way through a portal on the simulated clock: the stages come when the clock
reaches them, the feed pages without losing or repeating an event, the decision set for a
reference is the one taken, and every event is posted to the window's webhook until it is
acknowledged."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from urllib.parse import urlsplit

import pytest

from panjereh.portals.server import canonical

from .conftest import SECRETS, call, everything, feed, submit

pytestmark = pytest.mark.slow
DAY = 86400


def status(portals, reference="W-0001", portal="behinyab"):
    answer = call(portals, portal, "GET", f"applications/{reference}")
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_nothing_moves_until_the_clock_does_and_then_every_stage_comes_in_order(portals):
    portals.control(portal="behinyab", decide={"reference": "W-0001", "outcome": "approved"})
    submit(portals)
    assert status(portals)["state"] == "received"
    time.sleep(0.3)  # the wall clock moving does not move a fixed clock
    assert status(portals)["state"] == "received"
    portals.control(advance=9 * 3600)  # review starts 2-8 hours after receipt
    assert status(portals)["state"] == "under_review"
    portals.control(advance=60 * DAY)
    final = status(portals)
    assert final["state"] == "approved" and final["final"] is True
    assert [h["type"] for h in final["history"]] == [
        "received",
        "under_review",
        "inspection_scheduled",  # an operation licence needs an expert's visit
        "approved",
    ]
    moments = [h["at"] for h in final["history"]]
    assert moments == sorted(moments)
    permit = final["permit"]
    assert permit["number"].startswith("BY-") and permit["valid_until"] > permit["valid_from"]
    assert permit["valid_until_jalali"].startswith("141")  # five years on from 1405
    assert final["inspection_at"] < final["history"][-1]["at"]


def test_the_same_reference_under_the_same_seed_goes_the_same_way(portals):
    submit(portals)
    portals.control(advance=60 * DAY)
    first = everything(portals, "behinyab")
    portals.control(reset=True, now="2026-03-21T05:30:00+00:00")
    submit(portals)
    portals.control(advance=60 * DAY)
    assert everything(portals, "behinyab") == first


def test_a_rejection_carries_its_reason(portals):
    reason = "محل واحد در محدوده مجاز استقرار صنایع نیست."
    portals.control(
        portal="behinyab", decide={"reference": "W-0001", "outcome": "rejected", "reason": reason}
    )
    submit(portals, permit_type="establishment")
    portals.control(advance=30 * DAY)
    final = status(portals)
    assert final["state"] == "rejected" and final["reason"] == reason
    assert "permit" not in final
    assert [e["type"] for e in everything(portals, "behinyab")] == [
        "received",
        "under_review",
        "rejected",
    ]


def test_a_request_for_information_waits_for_the_answer_then_review_goes_on(portals):
    portals.control(
        portal="behinyab",
        decide={"reference": "W-0001", "outcome": "approved", "ask_information": True},
    )
    submit(portals, permit_type="establishment")
    portals.control(advance=3 * DAY)
    asked = status(portals)
    assert asked["state"] == "more_information_requested" and asked["requested"]
    portals.control(advance=5 * DAY)  # nothing more happens while the portal waits
    assert status(portals)["history"] == asked["history"]
    answer = {"answer_id": "A-1", "text": "سند اجاره پیوست شد."}
    first = call(portals, "behinyab", "POST", "applications/W-0001/information", answer)
    assert first.status_code == 200 and first.json()["state"] == "under_review"
    assert "requested" not in first.json()
    again = call(portals, "behinyab", "POST", "applications/W-0001/information", answer)
    assert again.status_code == 200 and again.json()["repeated"] is True
    other = {"answer_id": "A-1", "text": "متن دیگر"}
    clash = call(portals, "behinyab", "POST", "applications/W-0001/information", other)
    assert clash.status_code == 409 and clash.json()["error"] == "answer_id_reused"
    late = {"answer_id": "A-2", "text": "دوباره"}
    refused = call(portals, "behinyab", "POST", "applications/W-0001/information", late)
    assert refused.status_code == 409 and refused.json()["error"] == "not_waiting_for_information"
    portals.control(advance=10 * DAY)
    assert status(portals)["state"] == "approved"


def test_an_unanswered_request_for_information_ends_in_a_rejection(portals):
    portals.control(
        portal="heritage",
        decide={"reference": "W-0001", "ask_information": True, "outcome": "approved"},
    )
    submit(portals, "heritage", permit_type="handicraft_workshop")
    portals.control(advance=40 * DAY)
    final = status(portals, portal="heritage")
    assert final["state"] == "rejected" and "۱۵" in final["reason"]


def test_an_authority_that_overruns_its_time_limit_shows_it(portals):
    portals.control(
        portal="heritage",
        decide={"reference": "W-0001", "ask_information": True, "outcome": "approved"},
    )
    submit(portals, "heritage", permit_type="handicraft_workshop")  # ten days by law
    assert status(portals, portal="heritage")["overdue"] is False
    portals.control(advance=11 * DAY)
    late = status(portals, portal="heritage")
    assert late["final"] is False and late["overdue"] is True


def test_the_feed_pages_without_losing_or_repeating_an_event(portals):
    for n in range(12):
        submit(portals, reference=f"W-{n:04d}")
        portals.control(advance=3 * 3600)
    seen: list[str] = []
    cursor = ""
    for _ in range(40):  # read while the clock moves, as a window polling would
        page = feed(portals, "behinyab", cursor, limit=3)
        seen += [e["id"] for e in page["events"]]
        assert page["next"] == (page["events"][-1]["cursor"] if page["events"] else cursor)
        cursor = page["next"]
        portals.control(advance=DAY)
    seen += [e["id"] for e in everything(portals, "behinyab") if e["cursor"] > cursor]
    assert len(seen) == len(set(seen))
    assert seen == [e["id"] for e in everything(portals, "behinyab", limit=500)]
    finals = {
        e["reference"]
        for e in everything(portals, "behinyab")
        if e["type"] in ("approved", "rejected")
    }
    assert len(finals) == 12


def test_every_event_is_posted_to_the_webhook_signed_and_retried_until_acknowledged(
    portals, receiver
):
    receiver.refuse = 2  # the window is down for the first two posts
    portals.control(portal="behinyab", decide={"reference": "W-0001", "outcome": "approved"})
    submit(portals, permit_type="establishment", callback_url=receiver.url)
    portals.control(advance=30 * DAY)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and portals.control()["webhooks"]["pending"]:
        time.sleep(0.05)
    assert portals.control()["webhooks"] == {
        "pending": 0,
        "delivered": 3,
        "abandoned": 0,
        "backoff": 0.05,
        "max_attempts": 10,
    }
    posts = receiver.posts
    events = [json.loads(p["body"]) for p in posts]
    # The first event three times (two refusals, then acknowledged), each other once, in order.
    assert [e["type"] for e in events] == [
        "received",
        "received",
        "received",
        "under_review",
        "approved",
    ]
    assert [p["headers"]["X-Portal-Attempt"] for p in posts[:3]] == ["1", "2", "3"]
    assert events[-1] == everything(portals, "behinyab")[-1]
    for post in posts:
        headers, target = post["headers"], post["path"]
        assert target == urlsplit(receiver.url).path + "?" + urlsplit(receiver.url).query
        text = canonical(
            headers["X-Portal-Timestamp"], headers["X-Portal-Nonce"], "POST", target, post["body"]
        )
        expected = hmac.new(SECRETS["behinyab"].encode(), text, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["X-Portal-Signature"], expected)
        assert headers["X-Portal-Name"] == "behinyab"
    assert len({p["headers"]["X-Portal-Nonce"] for p in posts}) == len(posts)


def test_a_webhook_never_acknowledged_is_given_up_and_the_feed_still_has_it(portals, receiver):
    receiver.refuse = 10**6
    portals.control(webhook_max_attempts=3)
    submit(portals, callback_url=receiver.url)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not portals.control()["webhooks"]["abandoned"]:
        time.sleep(0.05)
    assert portals.control()["webhooks"]["abandoned"] == 1
    assert len(receiver.posts) == 3
    assert [e["type"] for e in everything(portals, "behinyab")] == ["received"]
