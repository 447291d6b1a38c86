"""Forward ``/r1/<rest>`` to ``BARE_UPSTREAM/<rest>`` with no check and no log.

The provider call is the gateway's: one httpx client per process with the same pool limits,
streamed and read in full before answering (``exchange.gateway`` reads a provider's answer the
same way, with its size cap and deadline). No assertion, grant, rate limit, item filter or log.
"""

from __future__ import annotations

import os
import threading

import httpx
from django.http import HttpResponse

UPSTREAM = os.environ["BARE_UPSTREAM"].rstrip("/")
_lock = threading.Lock()
_client: tuple[int, httpx.Client] | None = None


def _http() -> httpx.Client:
    global _client
    held = _client
    if held is not None and held[0] == os.getpid():
        return held[1]
    with _lock:
        if _client is None or _client[0] != os.getpid():
            _client = (
                os.getpid(),
                httpx.Client(
                    trust_env=False,
                    follow_redirects=False,
                    limits=httpx.Limits(
                        max_connections=200, max_keepalive_connections=64, keepalive_expiry=30.0
                    ),
                ),
            )
        return _client[1]


def forward(request, rest: str) -> HttpResponse:
    timeout = httpx.Timeout(10.0, connect=2.0, pool=2.0)
    outgoing = _http().build_request("GET", f"{UPSTREAM}/{rest}", timeout=timeout)
    response = _http().send(outgoing, stream=True)
    try:
        body = b"".join(response.iter_raw())
    finally:
        response.close()
    return HttpResponse(
        body,
        status=response.status_code,
        content_type=response.headers.get("content-type", "application/json"),
    )
