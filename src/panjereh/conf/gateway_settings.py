"""Settings of the gateway process: the portal's settings with the programs' URL map and a
short middleware stack.

The exchange gateway (``/r1/``) and the OpenID Connect endpoints that agency windows' servers
call (token, revocation, introspection, userinfo, JWKS) use no session, cookie, CSRF token,
message or locale prefix: each call authenticates itself (a signed client assertion, client
credentials or a bearer token) and is answered in JSON. Their process runs Django's own
handler with only the transport rules every answer needs:

- ``SecurityMiddleware``: HTTPS redirect and HSTS as configured for the portal
  (``SECURE_SSL_REDIRECT``, ``SECURE_HSTS_SECONDS``; on in production), ``nosniff``, the
  referrer policy;
- ``CommonMiddleware``: ``Content-Length`` on every answer.
"""

from panjereh.conf.settings import *  # noqa: F403

ROOT_URLCONF = "panjereh.conf.gateway_urls"
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "panjereh.common.badinput.BadInputMiddleware",  # NUL and non-UTF-8 input: a clear 400
]
# The admin is the portal's (not in this process's URL map): its checks for the session,
# authentication and messages middleware do not apply here.
SILENCED_SYSTEM_CHECKS = [
    *globals().get("SILENCED_SYSTEM_CHECKS", []),
    "admin.E408",
    "admin.E409",
    "admin.E410",
]
