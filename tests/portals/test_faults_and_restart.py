"""A portal down or slow loses nothing: its faults are per portal (fail answers 503, slow waits,
drop closes the connection), a submission refused while it is down is taken after recovery, its
webhooks wait for it, and a restarted (even killed) process still answers for every
application, event and pending webhook it had."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from panjereh.portals.supervisor import Portals

from .conftest import SECRETS, START, call, everything, submit

pytestmark = pytest.mark.slow
DAY = 86400


def test_fail_answers_503_for_that_portal_only_and_recovery_takes_the_submission(portals):
    portals.control(portal="behinyab", mode="fail")
    refused = submit(portals)
    assert refused.status_code == 503 and refused.json()["error"] == "unavailable"
    assert submit(portals, "heritage", permit_type="ecolodge").status_code == 201
    assert portals.control()["applications"] == 1
    portals.control(portal="behinyab", mode="normal")
    assert submit(portals).status_code == 201


def test_slow_makes_calls_wait_and_a_short_timeout_gives_up_without_harm(portals):
    portals.control(portal="health", mode="slow", delay_ms=700)
    started = time.monotonic()
    answer = submit(portals, "health", permit_type="pharmacy")
    assert answer.status_code == 201 and time.monotonic() - started >= 0.7
    with pytest.raises(httpx.TimeoutException):
        call(portals, "health", "GET", "applications/W-0001", timeout=0.2)
    started = time.monotonic()
    assert submit(portals, "behinyab").status_code == 201  # another portal is not slowed
    assert time.monotonic() - started < 0.7


def test_a_submission_whose_answer_timed_out_was_kept_and_its_retry_is_not_a_second(portals):
    portals.control(portal="behinyab", mode="slow", delay_ms=600)
    with pytest.raises(httpx.TimeoutException):
        submit(portals, timeout=0.2)
    time.sleep(0.6)  # the portal finishes the call the window gave up on
    portals.control(portal="behinyab", mode="normal")
    retry = submit(portals)
    assert retry.status_code == 200 and retry.json()["repeated"] is True
    assert [e["type"] for e in everything(portals, "behinyab")] == ["received"]


def test_simultaneous_submissions_of_one_reference_make_one_application(portals):
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: submit(portals), range(8)))
    assert sorted(a.status_code for a in answers) == [200] * 7 + [201]
    assert [e["type"] for e in everything(portals, "behinyab")] == ["received"]


def test_drop_closes_the_connection_without_an_answer(portals):
    portals.control(portal="behinyab", mode="drop")
    with pytest.raises(httpx.RemoteProtocolError):
        submit(portals)
    assert portals.control()["applications"] == 0
    portals.control(portal="behinyab", mode="normal")
    assert submit(portals).status_code == 201


def test_a_bad_switch_is_refused(portals):
    for switch in (
        {"portal": "behinyab", "mode": "melt"},
        {"portal": "nowhere", "mode": "fail"},
        {"advance": -5},
        {"now": "2026-01-01T00:00:00"},
    ):
        answer = httpx.post(f"{portals.url}/_control", json=switch, trust_env=False)
        assert answer.status_code == 400 and answer.json()["error"] == "bad_control", switch
    submit(portals)
    back = httpx.post(
        f"{portals.url}/_control", json={"now": "2026-01-01T00:00:00+00:00"}, trust_env=False
    )
    assert back.status_code == 400 and "never goes back" in back.json()["detail"]


def test_webhooks_of_a_portal_that_is_down_wait_for_it(portals, receiver):
    submit(portals, callback_url=receiver.url)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not receiver.posts:
        time.sleep(0.05)
    portals.control(portal="behinyab", mode="fail")
    portals.control(advance=DAY)  # under review while the portal is down
    time.sleep(0.5)
    assert len(receiver.posts) == 1 and portals.control()["webhooks"]["pending"] == 1
    portals.control(portal="behinyab", mode="normal")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and portals.control()["webhooks"]["pending"]:
        time.sleep(0.05)
    assert len(receiver.posts) == 2


@pytest.mark.parametrize("kill", [False, True], ids=["stopped", "killed"])
def test_a_restarted_portal_process_keeps_every_application_and_event(tmp_path, receiver, kill):
    running = Portals(SECRETS, tmp_path, webhook_backoff=0.05).start()
    try:
        running.control(now=START)
        for n in range(3):
            assert submit(running, reference=f"W-{n}").status_code == 201
        running.control(advance=5 * DAY)
        before = everything(running, "behinyab")
        status = call(running, "behinyab", "GET", "applications/W-1").json()
        receiver.refuse = 10**6  # a webhook still owed when the process goes
        assert (
            submit(
                running, "heritage", permit_type="ecolodge", callback_url=receiver.url
            ).status_code
            == 201
        )
        port, now = running.port, running.control()["now"]
        running.restart(kill=kill)
        assert running.port == port
        assert everything(running, "behinyab") == before
        assert call(running, "behinyab", "GET", "applications/W-1").json() == status
        assert running.control()["now"] == now  # the simulated clock is kept too
        # Submitting again after the restart is still idempotent; the feed goes on from its cursor.
        assert submit(running, reference="W-1").json()["repeated"] is True
        running.control(advance=60 * DAY)
        after = everything(running, "behinyab")
        assert after[: len(before)] == before and len(after) > len(before)
        receiver.refuse, owed_from = 0, len(receiver.posts)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and running.control()["webhooks"]["pending"]:
            time.sleep(0.05)
        assert running.control()["webhooks"]["pending"] == 0
        assert running.control()["webhooks"]["abandoned"] == 0
        assert any(b'"heritage"' in p["body"] for p in receiver.posts[owed_from:])
    finally:
        running.stop()
