"""The gateway's HTTP/1.1 client for providers: persistent connections, one per thread and origin.

Every call through the gateway is a call to a provider, so the client's own cost counts twice
(CPU and latency). httpx costs about 0.6 ms of CPU per request on this machine, the standard
library's ``http.client`` about 0.15 ms; both keep the connection alive. Each gateway thread
keeps one connection per provider origin (gunicorn's threads are long-lived), so no lock is
taken and no connection is shared between threads.

A kept connection may have been closed by the provider while idle (its keep-alive timeout, or a
restart): it is checked before reuse (an idle socket that is readable has been closed or holds
garbage) and replaced. Errors are those of ``socket``/``http.client``: :class:`Timeout` when the
provider does not answer in time, :class:`Unreachable` for every other transport failure.
"""

from __future__ import annotations

import http.client
import json
import select
import socket
import ssl
import threading
from typing import Any
from urllib.parse import urlsplit

_local = threading.local()
_ssl_context: ssl.SSLContext | None = None


class TransportError(Exception):
    """The provider could not be asked or did not answer."""


class Timeout(TransportError):
    """The provider did not connect or answer in time."""


class Unreachable(TransportError):
    """Connection refused, reset or closed without an answer."""


class Response:
    """A provider's answer, read in full."""

    __slots__ = ("status_code", "headers", "content")

    def __init__(self, status_code: int, headers: dict[str, str], content: bytes) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content

    def json(self) -> Any:
        return json.loads(self.content)


def _connections() -> dict[tuple[str, str, int], http.client.HTTPConnection]:
    pool = getattr(_local, "connections", None)
    if pool is None:
        pool = _local.connections = {}
    return pool


def _stale(conn: http.client.HTTPConnection) -> bool:
    sock = conn.sock
    if sock is None:
        return True
    try:
        readable, _w, _x = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)  # an idle kept connection has nothing to read unless it was closed


def _connect(scheme: str, host: str, port: int, timeout: float) -> http.client.HTTPConnection:
    global _ssl_context
    if scheme == "https":
        if _ssl_context is None:
            _ssl_context = ssl.create_default_context()
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            host, port, timeout=timeout, context=_ssl_context
        )
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
    conn.connect()
    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return conn


def request(
    method: str,
    url: str,
    *,
    headers: dict[str, str],
    body: bytes | None,
    timeout: float,
    connect_timeout: float,
) -> Response:
    """Send one request over this thread's kept connection to the URL's origin."""
    parts = urlsplit(url)
    scheme = parts.scheme or "http"
    host = parts.hostname or ""
    port = parts.port or (443 if scheme == "https" else 80)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    key = (scheme, host, port)
    pool = _connections()
    conn = pool.pop(key, None)
    if conn is not None and _stale(conn):
        conn.close()
        conn = None
    try:
        if conn is None:
            conn = _connect(scheme, host, port, connect_timeout)
        conn.sock.settimeout(timeout)
        conn.request(method, target, body=body, headers=headers)
        answer = conn.getresponse()
        content = answer.read()
        result = Response(answer.status, dict(answer.getheaders()), content)
    except TimeoutError as exc:
        if conn is not None:
            conn.close()
        raise Timeout(str(exc)) from exc
    except (OSError, http.client.HTTPException, ValueError) as exc:
        if conn is not None:
            conn.close()
        raise Unreachable(str(exc)) from exc
    if conn.sock is not None and not answer.will_close:
        pool[key] = conn  # back to this thread's pool for the next call
    else:
        conn.close()
    return result


def close_all() -> None:
    """Close this thread's kept connections."""
    pool = _connections()
    for conn in pool.values():
        conn.close()
    pool.clear()
