"""The WSGI application: the portal with its full middleware stack, and the endpoints that only
programs call through a lean handler.

The exchange gateway (``/r1/...``) and the OpenID Connect back-channel endpoints that agency
windows' servers call (token, revocation, introspection, userinfo, JWKS) use no session,
cookie, CSRF token, message or locale prefix: they authenticate each call themselves (a signed
client assertion, client credentials or a bearer token) and answer JSON. Sending them through
the portal's middleware (sessions, locale, CSRF, authentication, messages, static files) costs
CPU on every call for nothing, so they go to a second Django handler with no middleware; URL
resolution, the request signals (database connections are closed and recycled as usual) and
error handling stay Django's own, and every answer gets ``X-Content-Type-Options: nosniff``.
The gateway (``/r1/``), which answers every error itself, is called without Django's handler at
all (``gateway_call``). The browser-facing OIDC endpoints (authorize, logout, discovery) keep
the full stack.
"""

import os

from django.core import signals
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler, WSGIRequest
from django.core.wsgi import get_wsgi_application
from django.http import HttpResponse

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "panjereh.conf.settings")

GATEWAY_PREFIX = "/r1/"  # the exchange gateway (conf/urls.py: r1/ + <path:path>)
MACHINE_PREFIXES = (
    "/oidc/token/",
    "/oidc/revoke/",
    "/oidc/introspect/",
    "/oidc/userinfo/",
    "/oidc/jwks/",
)


class GatewayHandler(WSGIHandler):
    """Django's WSGI handler without middleware (for the endpoints only programs call)."""

    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async)
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        self._middleware_chain = convert_exception_to_response(self._get_response)

    def get_response(self, request):
        return _machine_headers(super().get_response(request))


def _machine_headers(response):
    """What every answer to a program carries without the portal's middleware: ``nosniff``,
    and ``Content-Length`` (without it the server sends the answer chunked: more to write and
    for the client to parse on every call; the portal's CommonMiddleware sets it too)."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if not response.streaming and "Content-Length" not in response.headers:
        response.headers["Content-Length"] = str(len(response.content))
    return response


portal_application = get_wsgi_application()
gateway_application = GatewayHandler()

from panjereh.exchange.gateway import gateway  # noqa: E402 -- needs the apps set up above


def machine_application(environ, start_response):
    """The lean handler, answering a finished (not streaming) response as a one-item list:
    the server then writes it at once (Granian sends a list's bytes in one write; an iterable
    it drains chunk by chunk, which cost about a fifth of a gateway worker's time under load).
    The response is closed here (Django's ``request_finished``: database connections recycled),
    as the server would have closed it after the last chunk."""
    response = gateway_application(environ, start_response)
    if not isinstance(response, HttpResponse):
        return response  # streaming or file responses: the server iterates them
    try:
        body = response.content
    finally:
        response.close()
    return [body]


def _gateway_view(request):
    return gateway(request, request.path_info[len(GATEWAY_PREFIX) :])


# An exception the view lets through becomes Django's 500 answer, logged and signalled as its
# handler would (the view answers its own errors as JSON; this is the last resort).
_gateway_response = convert_exception_to_response(_gateway_view)


def gateway_call(environ, start_response):
    """``/r1/``: the exchange gateway's view called directly. It has one URL pattern, answers
    every error itself as JSON and uses no middleware, so Django's handler (URL resolution,
    the middleware chain, the response's wrapping) only added CPU to every call. Django's
    request signals are sent as its handler sends them (database connections are checked
    before and after, and replaced if broken or expired)."""
    signals.request_started.send(sender=GatewayHandler, environ=environ)
    try:
        response = _machine_headers(_gateway_response(WSGIRequest(environ)))
        body = response.content
    finally:
        signals.request_finished.send(sender=GatewayHandler)
    start_response(f"{response.status_code} {response.reason_phrase}", list(response.items()))
    return [body]


def application(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path.startswith(GATEWAY_PREFIX):
        return gateway_call(environ, start_response)
    if path.startswith(MACHINE_PREFIXES):
        return machine_application(environ, start_response)
    return portal_application(environ, start_response)
