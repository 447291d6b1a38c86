"""The WSGI application: the portal with its full middleware stack, and the exchange gateway
(``/r1/...``) through a lean handler.

The gateway is called by programs, not browsers: it uses no session, cookie, CSRF token,
message or locale prefix, and answers JSON with its own security headers. Sending its calls
through the portal's middleware (sessions, locale, CSRF, authentication, messages, static
files) costs CPU on every exchange call for nothing, so they go to a second Django handler with
no middleware; URL resolution, the request signals (database connections are closed and
recycled as usual) and error handling stay Django's own.
"""

import os

from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "panjereh.conf.settings")

GATEWAY_PREFIX = "/r1/"


class GatewayHandler(WSGIHandler):
    """Django's WSGI handler without middleware (for the exchange gateway only)."""

    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async)
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        self._middleware_chain = convert_exception_to_response(self._get_response)


portal_application = get_wsgi_application()
gateway_application = GatewayHandler()


def application(environ, start_response):
    if environ.get("PATH_INFO", "").startswith(GATEWAY_PREFIX):
        return gateway_application(environ, start_response)
    return portal_application(environ, start_response)
