"""Two gateway processes (``panjereh serve --app gateway``) sharing Redis, as two hosts of the
exchange would (the PostgreSQL leg of ``make test``): an assertion used at one is refused at
the other, and a system's calls count against one rate limit whichever process answers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from panjereh.exchange.client import make_assertion
from tests.celery_fixtures import needs_redis_and_postgresql, process_env, wait_until

from .conftest import AUDIENCE

pytestmark = [
    needs_redis_and_postgresql,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _up(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1, trust_env=False).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture
def two_gateways(tmp_path):
    processes, urls = [], []
    try:
        for n in range(2):
            port = _free_port()
            log = open(tmp_path / f"gateway-{n}.log", "ab")  # noqa: SIM115 -- closed below
            processes.append(
                (
                    subprocess.Popen(
                        [sys.executable, "-m", "panjereh", "serve", "--app", "gateway"]
                        + ["--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "2"],
                        env=process_env(PANJEREH_VAR=str(tmp_path)),
                        stdin=subprocess.DEVNULL,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    ),
                    log,
                )
            )
            urls.append(f"http://127.0.0.1:{port}")
        for url in urls:
            wait_until(lambda url=url: _up(f"{url}/oidc/jwks/"), 60, f"the gateway at {url}")
        yield urls
    finally:
        for process, log in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=10)
            log.close()


def test_a_replay_and_the_rate_limit_hold_across_two_gateway_processes(
    exchange, population, two_gateways
):
    first, second = two_gateways
    service = exchange.service("education", "school-record")
    exchange.grant(service, ["education.school_record"])
    exchange.system.rate_per_minute = 3
    exchange.system.save()
    code = population.national_code(2)
    path = (
        f"/r1/IR/{service.provider.member_class}/{service.provider.member_code}/"
        f"{service.subsystem}/{service.code}/{code}"
    )
    if time.time() % 60 > 45:  # the four calls in one minute (one rate-limit window)
        time.sleep(61 - time.time() % 60)

    def call(base: str, token: str | None = None) -> httpx.Response:
        token = token or make_assertion(exchange.key, exchange.client_id, AUDIENCE)
        return httpx.get(
            base + path, headers=exchange.headers(code, token=token), timeout=30, trust_env=False
        )

    token = make_assertion(exchange.key, exchange.client_id, AUDIENCE)
    assert call(first, token).status_code == 200
    replay = call(second, token)
    assert replay.status_code == 401 and replay.json()["code"] == "replayed_assertion"
    assert call(second).status_code == 200
    assert call(first).status_code == 200  # the third call of the minute, at either process
    limited = call(second)
    assert limited.status_code == 429 and limited.json()["code"] == "rate_limited"
