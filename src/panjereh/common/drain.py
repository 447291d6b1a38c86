"""Refused request bodies read off the connection, so it can carry the client's next request.

A server that answers before the application has read the body leaves that body on the
connection; Granian and gunicorn then close it, often while announcing keep-alive, and the
client's next request on it goes unanswered. Whoever refuses a body unread (the portal's 413,
the exchange gateway's 413) reads and drops it first, up to :data:`DRAIN_FACTOR` times the limit
it enforces; a larger body is not worth reading and the answer asks to close the connection.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

DRAIN_FACTOR = 8
_CHUNK = 65_536


def drain(request: HttpRequest, limit: int) -> bool:
    """Read and drop the unread body of ``request`` if it is at most ``DRAIN_FACTOR * limit``
    bytes long; False when it is larger (or the client stopped sending): close the connection."""
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if not declared.isdigit():
        return False
    left = int(declared)
    if left > DRAIN_FACTOR * limit:
        return False
    while left > 0:
        chunk = request.read(min(left, _CHUNK))
        if not chunk:
            return False
        left -= len(chunk)
    return True


def may_close(request: HttpRequest) -> bool:
    """Whether the server lets the application ask for the connection to close: the standard
    library's server (runserver, live-server tests) refuses hop-by-hop headers from the
    application and closes such a connection itself."""
    return not request.META.get("SERVER_SOFTWARE", "").startswith("WSGIServer")


def refuse_unread(request: HttpRequest, response: HttpResponse, limit: int) -> HttpResponse:
    """``response`` to a request whose body was refused unread: drained, or marked to close."""
    if not drain(request, limit) and may_close(request):
        response["Connection"] = "close"
    return response
