"""Outgoing HTTP: one pooled httpx client per process and purpose, and bounded reads.

The exchange gateway (to the providers) and the exchange's consumer client (to the gateway)
both keep a pool of kept-alive connections shared by the process's threads; a forked worker
makes its own, as sockets are not shared. Timeouts are given per call. Answers are read as they
arrive and refused once they pass a size cap or a deadline, whatever their framing says.
"""

from __future__ import annotations

import os
import threading
import time

import httpx

_lock = threading.Lock()
_pools: dict[str, tuple[int, httpx.Client]] = {}


class TooLarge(Exception):
    """The answer passed the size cap (declared, or as it arrived)."""


def pooled(name: str, *, limits: httpx.Limits | None = None) -> httpx.Client:
    """This process's client for ``name`` (e.g. "providers", "gateway"), made on first use."""
    held = _pools.get(name)
    pid = os.getpid()
    if held is not None and held[0] == pid:
        return held[1]
    with _lock:
        held = _pools.get(name)
        if held is None or held[0] != pid:
            client = httpx.Client(
                trust_env=False,
                follow_redirects=False,
                limits=limits or httpx.Limits(),
            )
            _pools[name] = held = (pid, client)
        return held[1]


def close(name: str) -> None:
    """Close this process's connections of ``name`` (tests, shutdown)."""
    with _lock:
        held = _pools.pop(name, None)
        if held is not None and held[0] == os.getpid():
            held[1].close()


def read_capped(response: httpx.Response, cap: int, deadline: float, *, raw: bool = False) -> bytes:
    """The body of a streamed ``response``: :class:`TooLarge` past ``cap`` bytes,
    ``httpx.ReadTimeout`` past ``deadline`` (``time.monotonic()``). ``raw`` reads the bytes as
    sent (no content decoding). The response is closed either way: back to the pool once read in
    full, closed if cut short."""
    try:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            raise TooLarge()
        chunks, size = [], 0
        for chunk in response.iter_raw() if raw else response.iter_bytes():
            size += len(chunk)
            if size > cap:
                raise TooLarge()
            if time.monotonic() > deadline:
                raise httpx.ReadTimeout("the answer took too long")
            chunks.append(chunk)
    finally:
        response.close()
    return b"".join(chunks)
