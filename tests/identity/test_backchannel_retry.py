"""A back-channel logout an agency window does not accept is kept and retried with backoff,
with a freshly signed logout token each time, until it is delivered or given up."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
import time_machine
from django.utils import timezone
from joserfc import jwt
from joserfc.jwk import KeySet

from panjereh.common import periodic
from panjereh.identity import backchannel
from panjereh.identity.clients import register_agency_client
from panjereh.identity.models import AuthEvent, BackchannelDelivery, SsoSession
from tests.factories import UserFactory


class Window:
    """A stand-in agency window's back-channel endpoint on loopback: answers ``status``."""

    def __init__(self) -> None:
        self.status = 503
        self.tokens: list[str] = []
        window = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                form = parse_qs(self.rfile.read(length).decode())
                window.tokens.append(form["logout_token"][0])
                self.send_response(window.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/backchannel-logout"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def window():
    w = Window()
    yield w
    w.close()


@pytest.fixture
def signed_out(db, window):
    application, _secret = register_agency_client(
        "Window C", ["https://c.example/cb"], backchannel_logout_uri=window.url
    )
    user = UserFactory()
    session = SsoSession.objects.create(sid="sid-retry-1", user=user)
    session.clients.add(application)
    outcome = backchannel.notify(session, "http://testserver/oidc")
    return application, user, outcome


def _claims(client, token: str) -> dict:
    keys = KeySet.import_key_set(client.get("/oidc/jwks/").json())
    return jwt.decode(token, keys).claims


def test_a_refused_logout_is_kept_and_delivered_on_retry(signed_out, window, client):
    application, user, outcome = signed_out
    assert outcome == [{"client": "Window C", "ok": False, "status": "503"}]
    delivery = BackchannelDelivery.objects.get()
    assert delivery.state == "pending" and delivery.attempts == 1
    assert backchannel.retry_due() == 0  # not due yet: 10 s backoff
    window.status = 200
    with time_machine.travel(timezone.now() + timezone.timedelta(seconds=11)):
        assert backchannel.retry_due() == 1
    delivery.refresh_from_db()
    assert delivery.state == "delivered" and delivery.attempts == 2
    first, second = (_claims(client, t) for t in window.tokens)
    assert first["sid"] == second["sid"] == "sid-retry-1"
    assert first["jti"] != second["jti"]  # a fresh token for the retry
    event = AuthEvent.objects.get(kind=AuthEvent.Kind.BACKCHANNEL_LOGOUT, user=user)
    assert event.detail["ok"] is True and event.detail["attempts"] == 2


def test_a_window_that_never_accepts_is_given_up_after_the_last_attempt(signed_out, window):
    _application, user, _outcome = signed_out
    now = timezone.now()
    for hours in range(1, backchannel.MAX_ATTEMPTS + 2):
        with time_machine.travel(now + timezone.timedelta(hours=hours)):
            backchannel.retry_due()
    delivery = BackchannelDelivery.objects.get()
    assert delivery.state == "failed" and delivery.attempts == backchannel.MAX_ATTEMPTS
    assert len(window.tokens) == backchannel.MAX_ATTEMPTS
    event = AuthEvent.objects.get(kind=AuthEvent.Kind.BACKCHANNEL_LOGOUT, user=user)
    assert event.detail["ok"] is False and event.detail["status"] == "503"


def _session(window, sid: str):
    application, _secret = register_agency_client(
        f"Window {sid}", ["https://d.example/cb"], backchannel_logout_uri=window.url
    )
    user = UserFactory()
    session = SsoSession.objects.create(sid=sid, user=user)
    session.clients.add(application)
    return session


def test_every_logout_is_written_down_before_anything_is_sent(db, window, monkeypatch):
    """A sign-out whose process dies while telling the windows is not lost: each logout was
    a delivery row first, and the retry job sends it."""
    session = _session(window, "sid-durable")
    real_post = backchannel._post

    def killed(uri, token):
        raise SystemExit("the worker was killed mid-send")

    monkeypatch.setattr(backchannel, "_post", killed)
    with pytest.raises(SystemExit):
        backchannel.notify(session, "http://testserver/oidc")
    delivery = BackchannelDelivery.objects.get(sid="sid-durable")
    assert delivery.state == "pending" and delivery.attempts == 0
    monkeypatch.setattr(backchannel, "_post", real_post)
    window.status = 200
    with time_machine.travel(timezone.now() + timezone.timedelta(seconds=11)):
        assert backchannel.retry_due() == 1
    delivery.refresh_from_db()
    assert delivery.state == "delivered" and len(window.tokens) == 1


def test_under_celery_the_logout_goes_through_the_job_queue_and_failures_are_recorded(
    db, window, settings, django_capture_on_commit_callbacks
):
    from panjereh.conf.celery import app

    session = _session(window, "sid-queued")
    settings.PANJEREH_TASKS = "celery"
    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True) as queued:
            assert backchannel.notify(session, "http://testserver/oidc") == []
            assert window.tokens == []  # nothing sent inside the sign-out itself
    finally:
        app.conf.task_always_eager = False
    assert len(queued) == 1 and "identity.deliver_backchannel" in app.tasks
    delivery = BackchannelDelivery.objects.get(sid="sid-queued")
    assert delivery.state == "pending" and delivery.attempts == 1
    assert delivery.last_status == "503" and len(window.tokens) == 1
    failed = AuthEvent.objects.get(kind=AuthEvent.Kind.BACKCHANNEL_LOGOUT, user=session.user)
    assert failed.detail["ok"] is False and failed.detail["status"] == "503"
    # The periodic retry job delivers it later.
    window.status = 200
    with time_machine.travel(timezone.now() + timezone.timedelta(seconds=11)):
        assert backchannel.retry_due() == 1
    delivery.refresh_from_db()
    assert delivery.state == "delivered" and delivery.attempts == 2
    assert "identity-backchannel-retry" in periodic.DEFAULT_JOBS
