"""The gateway's HTTP/1.1 client for providers: persistent connections, one per thread and origin.

Every call through the gateway is a call to a provider, so the client's own cost counts twice
(CPU and latency). httpx costs about 0.6 ms of CPU per request on this machine, the standard
library's ``http.client`` about 0.15 ms, and the small HTTP/1.1 client below less (it reads
the answer's headers without the ``email`` parser); all keep the connection alive. Each gateway thread
keeps one connection per provider origin (gunicorn's threads are long-lived), so no lock is
taken and no connection is shared between threads.

A kept connection may have been closed by the provider while idle (its keep-alive timeout, or a
restart): it is checked before reuse (an idle socket that is readable has been closed or holds
garbage) and replaced. Errors are those of ``socket``/``http.client``: :class:`Timeout` when the
provider does not answer in time, :class:`Unreachable` for every other transport failure.
"""

from __future__ import annotations

import json
import re
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


class Connection:
    """One kept HTTP/1.1 connection: the request is written in one ``sendall``, the answer read
    from a buffered file over the socket (status line, headers, then a ``Content-Length`` or
    chunked body). ``http.client`` parses every answer's headers with the ``email`` package,
    which cost a fifth of the gateway's provider call; this reads the same protocol directly."""

    __slots__ = ("sock", "file", "host_header")

    def __init__(self, sock: socket.socket, host_header: str) -> None:
        self.sock: socket.socket | None = sock
        self.file = sock.makefile("rb")
        self.host_header = host_header

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.file.close()
                self.sock.close()
            finally:
                self.sock = None

    def exchange(
        self, method: str, target: str, headers: dict[str, str], body: bytes | None
    ) -> tuple[Response, bool]:
        """Send one request, read its answer; (answer, whether the connection stays open)."""
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self.host_header}"]
        for name, value in headers.items():
            if _UNSAFE.search(name) or _UNSAFE.search(value):
                raise ValueError(f"invalid header {name!r}")
            lines.append(f"{name}: {value}")
        if body is not None or method not in ("GET", "HEAD"):
            lines.append(f"Content-Length: {len(body or b'')}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        assert self.sock is not None
        self.sock.sendall(head + body if body else head)
        status_line = self.file.readline(_MAX_LINE)
        if not status_line:
            raise Unreachable("the provider closed the connection without an answer")
        version, _sp, rest = status_line.decode("latin-1").partition(" ")
        if not version.startswith("HTTP/1."):
            raise Unreachable(f"not an HTTP/1.x answer: {status_line[:40]!r}")
        status = int(rest[:3])
        answer_headers: dict[str, str] = {}
        for _n in range(_MAX_HEADERS):
            line = self.file.readline(_MAX_LINE)
            if line in (b"\r\n", b"\n", b""):
                break
            name, _colon, value = line.decode("latin-1").partition(":")
            answer_headers[name.strip().lower()] = value.strip()
        else:
            raise Unreachable("too many headers in the provider's answer")
        connection = answer_headers.get("connection", "").lower()
        keep = version == "HTTP/1.1" and connection != "close" or connection == "keep-alive"
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            content = b""
        elif answer_headers.get("transfer-encoding", "").lower() == "chunked":
            content = self._chunked()
        elif "content-length" in answer_headers:
            length = int(answer_headers["content-length"])
            content = self.file.read(length)
            if len(content) != length:
                raise Unreachable("the provider's answer was cut short")
        else:
            content = self.file.read()  # delimited by the end of the connection
            keep = False
        return Response(status, answer_headers, content), keep

    def _chunked(self) -> bytes:
        parts = []
        while True:
            size_line = self.file.readline(_MAX_LINE)
            size = int(size_line.split(b";", 1)[0].strip() or b"x", 16)
            if size == 0:
                while self.file.readline(_MAX_LINE) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            parts.append(self.file.read(size))
            self.file.read(2)


_MAX_LINE = 65_536
_MAX_HEADERS = 100
_UNSAFE = re.compile(r"[\r\n\x00]")


def _connections() -> dict[tuple[str, str, int], Connection]:
    pool = getattr(_local, "connections", None)
    if pool is None:
        pool = _local.connections = {}
    return pool


def _stale(conn: Connection) -> bool:
    sock = conn.sock
    if sock is None:
        return True
    try:
        readable, _w, _x = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)  # an idle kept connection has nothing to read unless it was closed


def _connect(scheme: str, host: str, port: int, timeout: float) -> Connection:
    global _ssl_context
    sock = socket.create_connection((host, port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if scheme == "https":
        if _ssl_context is None:
            _ssl_context = ssl.create_default_context()
        sock = _ssl_context.wrap_socket(sock, server_hostname=host)
    default = 443 if scheme == "https" else 80
    host_header = host if port == default else f"{host}:{port}"
    if ":" in host and not host.startswith("["):
        host_header = f"[{host}]" if port == default else f"[{host}]:{port}"
    return Connection(sock, host_header)


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
        assert conn.sock is not None
        conn.sock.settimeout(timeout)
        result, keep = conn.exchange(method, target, headers, body)
    except TimeoutError as exc:
        if conn is not None:
            conn.close()
        raise Timeout(str(exc)) from exc
    except TransportError:
        if conn is not None:
            conn.close()
        raise
    except (OSError, ValueError) as exc:
        if conn is not None:
            conn.close()
        raise Unreachable(str(exc)) from exc
    if keep and conn.sock is not None:
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
