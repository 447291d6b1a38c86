"""The window's own mobile app as a client of the window's OpenID provider.

A **public** client (RFC 6749 2.1: an app on a phone cannot keep a secret): the authorization
code grant with PKCE (S256, required for every client by ``identity.oidc.PanjerehServer``), no
client secret, ``token_endpoint_auth_method`` ``none``. Its redirect URI is the app's
private-use URI scheme, the reverse of the window's domain (RFC 8252 7.1); the provider matches
redirect URIs exactly, so a loopback address with any port (RFC 8252 7.3, which the library
would accept) is not registered. The window's own app asks no consent (``skip_authorization``):
it is the window. Only this client may ask for the ``citizen`` scope (``identity.oidc``).

The row is made by migration ``citizenapi.0001`` and again by :func:`ensure_app_client` (the
tests, whose database is emptied between some of them, and ``panjereh`` commands).
"""

from __future__ import annotations

from oauth2_provider.models import Application

from panjereh.identity.oidc import CITIZEN_SCOPE, FIRST_PARTY_CLIENT_ID

APP_CLIENT_ID = FIRST_PARTY_CLIENT_ID
APP_NAME = "پنجره ملی (برنامه همراه)"
APP_REDIRECT_URI = "ir.gov.panjereh.app:/oauth/callback"
APP_SCOPES = f"openid profile {CITIZEN_SCOPE}"
FIELDS = {
    "name": APP_NAME,
    "client_type": Application.CLIENT_PUBLIC,
    "authorization_grant_type": Application.GRANT_AUTHORIZATION_CODE,
    "redirect_uris": APP_REDIRECT_URI,
    "post_logout_redirect_uris": APP_REDIRECT_URI,
    "algorithm": Application.RS256_ALGORITHM,
    "skip_authorization": True,
    "client_secret": "",
    "hash_client_secret": False,
}


def ensure_app_client() -> Application:
    """The app's client, created (or put back to these settings) if needed."""
    application = Application.objects.filter(client_id=APP_CLIENT_ID).first()
    if application is None:
        application = Application(client_id=APP_CLIENT_ID)
    changed = application.pk is None
    for name, value in FIELDS.items():
        if getattr(application, name) != value:
            setattr(application, name, value)
            changed = True
    if changed:
        application.save()
    return application
