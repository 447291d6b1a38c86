"""The faults of issue 15, each counting the money in and out.

* the provider's callback never arrives: reconciliation asks the bank, captures, and the
  settlement file settles it;
* a duplicated callback, posted twice at once to the window's server: one capture;
* the provider is down when the payer asks to pay: a clear message, nothing charged;
* the web server is **killed** (SIGKILL of its process group) while it waits for the bank's
  answer to the verify call, after the bank's callback was recorded: after a restart the
  payment is verified, or reversed if the bank's deadline passed meanwhile; never left open,
  never captured twice.

The window's server is a real ``panjereh serve`` process on pytest-django's test database, so
those tests need PostgreSQL (an in-memory SQLite test database is not shared between
processes). "Money in" is what the bank holds (its inquiry for each payment, and its settlement
file); "money recorded" is the window's captured amounts; they must be equal.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest
from django.db import connection
from django.utils import timezone, translation

from panjereh.catalogue import roles
from panjereh.common.jalali import TEHRAN
from panjereh.payments import operations, providers
from panjereh.payments.models import FinanceCase, Payment, PaymentEvent, PaymentState
from tests.payments.conftest import SECRET, bank_page, new_payment, start

pytestmark = [pytest.mark.slow, pytest.mark.django_db]
S = PaymentState
SUCCESS, SILENT, TWICE = "6037990000000006", "6037990000000030", "6037990000000048"
needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the window runs as a separate server process on the test database: PostgreSQL only "
    "(SQLite's test database is in memory, one process's)",
)


def _today() -> dt.date:
    return timezone.now().astimezone(TEHRAN).date()


def books(*payments: Payment) -> tuple[int, int]:
    """(money the bank holds for these payments, money the window recorded as captured); and
    no payment captured twice, none left open."""
    at_bank = recorded = 0
    for payment in payments:
        payment.refresh_from_db()
        assert payment.state not in (S.CREATED, S.STARTED, S.AUTHORISED), payment.state
        captures = PaymentEvent.objects.filter(payment=payment, to_state=S.CAPTURED).count()
        assert captures == (1 if payment.captured_amount else 0), (payment.reference, captures)
        if payment.provider_token:
            said = providers.get().inquire(payment)
            if said.state == providers.VERIFIED:
                at_bank += said.amount
        recorded += payment.captured_amount
    return at_bank, recorded


def settled_in_file(day: dt.date) -> int:
    """Money the bank's settlement file of ``day`` says it collected (payments less refunds)."""
    _body, lines = providers.get().settlement(day)
    total = 0
    for line in lines:
        total += (line.amount or 0) * (1 if line.kind == "payment" else -1)
    return total


def _due(payment: Payment) -> None:
    """Time passes: the payment's next question to the bank is due now."""
    Payment.objects.filter(pk=payment.pk).update(next_check_at=timezone.now())


# -- in process, both databases ---------------------------------------------------------------------


def test_a_callback_that_never_arrives_is_settled_by_reconciliation(agency, citizen):
    payment = new_payment(agency, citizen, amount=2_500_000)
    result = bank_page(start(payment), SILENT)
    assert result.repeat == 0  # the bank's page never sends the payer back
    _due(payment)
    assert operations.reconcile_due() == 1
    payment.refresh_from_db()
    assert payment.state == S.CAPTURED
    record = operations.reconcile_settlement(_today(), actor=roles.SYSTEM)
    payment.refresh_from_db()
    assert payment.state == S.SETTLED and (record.lines, record.matched) == (1, 1)
    assert not FinanceCase.objects.exists()
    assert books(payment) == (2_500_000, 2_500_000)
    assert settled_in_file(_today()) == 2_500_000


def test_the_provider_down_at_creation_charges_nothing(agency, citizen, psp):
    psp.control(mode="down")
    payment = new_payment(agency, citizen, amount=900_000)
    with translation.override("fa"):
        with pytest.raises(operations.PaymentUnavailable) as refused:
            start(payment)
        said = str(refused.value.messages[0])
    assert "در دسترس نیست" in said and "هیچ مبلغی کسر نشد" in said
    psp.control(mode="normal")
    assert psp.control()["transactions"] == 0  # the bank never heard of it
    payment.refresh_from_db()
    assert (payment.state, payment.provider_token, payment.captured_amount) == (S.CREATED, None, 0)
    assert settled_in_file(_today()) == 0
    # Never sent to the bank: it expires, still with nothing charged.
    Payment.objects.filter(pk=payment.pk).update(
        created_at=timezone.now() - dt.timedelta(hours=2), next_check_at=timezone.now()
    )
    operations.reconcile_due()
    assert books(payment) == (0, 0)


# -- the window as a real server process (PostgreSQL) ---------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Window:
    """``panjereh serve`` in a process group of its own, on the test database."""

    def __init__(self, psp, tmp_path) -> None:
        from tests.celery_fixtures import process_env

        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = process_env(
            PANJEREH_VAR=str(tmp_path),
            PANJEREH_PAYMENTS_PSP_URL=psp.url,
            PANJEREH_PAYMENTS_PSP_SECRET=SECRET,
            # Long enough that the server is surely still waiting when it is killed.
            PANJEREH_PAYMENTS_PSP_TIMEOUT="60",
        )
        self.log = tmp_path / "window.log"
        self.process: subprocess.Popen | None = None

    @property
    def callback(self) -> str:
        return f"{self.url}/payments/callback/simulated/"

    def start(self) -> Window:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "panjereh", "serve", "--bind", f"127.0.0.1:{self.port}"]
                + ["--workers", "1"],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: the kill takes every worker
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            try:
                httpx.get(f"{self.url}/payments/", timeout=2, trust_env=False)
                return self
            except httpx.HTTPError:
                time.sleep(0.2)
        raise AssertionError("the window's server did not start")

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self.process = None

    def post_callback(self, fields: dict) -> int | str:
        try:
            answer = httpx.post(
                self.callback, data=fields, timeout=90, trust_env=False, follow_redirects=False
            )
        except httpx.HTTPError as exc:  # the server was killed under the request
            return type(exc).__name__
        return answer.status_code


@pytest.fixture
def window(psp, tmp_path):
    server = Window(psp, tmp_path).start()
    yield server
    server.stop()


def _in_background(call) -> tuple[threading.Thread, list]:
    out: list = []
    thread = threading.Thread(target=lambda: out.append(call()), daemon=True)
    thread.start()
    return thread, out


def _wait(predicate, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _started(window: Window, amount: int) -> tuple[Payment, dict]:
    from tests.factories import UserFactory

    payer = UserFactory(is_staff=False)
    payment = new_payment(window.agency, payer, amount=amount)
    redirect = operations.start_payment(payment, actor=roles.SYSTEM, callback_url=window.callback)
    return payment, bank_page(redirect, SUCCESS).fields


@needs_postgresql
@pytest.mark.django_db(transaction=True)
class TestTheWindowKilled:
    @pytest.fixture(autouse=True)
    def _agency(self, window, agency):
        window.agency = agency

    def _kill_while_verifying(self, window: Window, psp, then: str) -> tuple[Payment, dict]:
        payment, fields = _started(window, 1_700_000)
        psp.control(hang={"call": "verify", "seconds": 120, "then": then})
        thread, answer = _in_background(lambda: window.post_callback(fields))
        _wait(lambda: psp.control()["held"] >= 1, "the window's verify call to reach the bank")
        payment.refresh_from_db()
        # The callback was recorded; the verify call is under way.
        assert payment.state == S.AUTHORISED and payment.next_check_at is not None
        window.kill()
        thread.join(30)
        assert answer and not isinstance(answer[0], int), answer  # the payer got no answer
        psp.control(hang={})
        payment.refresh_from_db()
        assert payment.state == S.AUTHORISED  # nothing more happened in the dead process
        return payment, fields

    def _after_restart(self, window: Window, payment: Payment, fields: dict) -> Payment:
        window.start()
        _due(payment)
        operations.reconcile_due()  # the job, as beat runs it
        assert window.post_callback(fields) == 302  # the payer's browser tries again: harmless
        operations.reconcile_due()
        payment.refresh_from_db()
        return payment

    def test_verify_lost_on_its_way_then_restart_verifies_once(self, window, psp):
        payment, fields = self._kill_while_verifying(window, psp, then="drop")
        assert providers.get().inquire(payment).state == providers.PAID  # not verified yet
        payment = self._after_restart(window, payment, fields)
        assert payment.state == S.CAPTURED
        assert books(payment) == (1_700_000, 1_700_000)
        assert settled_in_file(_today()) == 1_700_000

    def test_verify_done_but_its_answer_lost_then_restart_captures_once(self, window, psp):
        payment, fields = self._kill_while_verifying(window, psp, then="answer")
        assert providers.get().inquire(payment).state == providers.VERIFIED  # the bank did it
        payment = self._after_restart(window, payment, fields)
        assert payment.state == S.CAPTURED
        assert books(payment) == (1_700_000, 1_700_000)
        operations.reconcile_settlement(_today(), actor=roles.SYSTEM)
        payment.refresh_from_db()
        assert payment.state == S.SETTLED and not FinanceCase.objects.exists()

    def test_down_past_the_banks_deadline_then_restart_finds_it_reversed(self, window, psp):
        payment, fields = self._kill_while_verifying(window, psp, then="drop")
        psp.control(clock_offset=1000)  # the window stayed down past the bank's 900 s
        payment = self._after_restart(window, payment, fields)
        assert payment.state == S.REVERSED
        assert providers.get().inquire(payment).state == providers.REVERSED
        assert books(payment) == (0, 0)

    def test_a_duplicated_callback_posted_twice_at_once_captures_once(self, window, psp):
        from tests.factories import UserFactory

        payment = new_payment(window.agency, UserFactory(is_staff=False), amount=3_300_000)
        redirect = operations.start_payment(
            payment, actor=roles.SYSTEM, callback_url=window.callback
        )
        result = bank_page(redirect, TWICE)
        assert result.repeat == 2
        barrier = threading.Barrier(2)

        def post():
            barrier.wait()
            return window.post_callback(result.fields)

        threads = [_in_background(post) for _ in range(result.repeat)]
        for thread, _out in threads:
            thread.join(60)
        assert [out[0] for _t, out in threads] == [302, 302]
        payment.refresh_from_db()
        assert payment.state == S.CAPTURED
        assert books(payment) == (3_300_000, 3_300_000)
