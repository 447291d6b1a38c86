"""Registering agency windows as OIDC clients (used by the back office's operator, the demo
command and the tests): confidential, authorization code only, exact redirect URIs, ID tokens
signed ES256 unless the window asks for RS256."""

from __future__ import annotations

import secrets
from urllib.parse import urlencode, urlsplit

from django.db import transaction
from oauth2_provider.models import get_application_model

from .models import ClientProfile

Application = get_application_model()


@transaction.atomic
def register_agency_client(
    name: str,
    redirect_uris: list[str],
    *,
    client_id: str | None = None,
    post_logout_redirect_uris: list[str] | None = None,
    backchannel_logout_uri: str = "",
    initiate_login_uri: str = "",
    agency=None,
    may_receive_national_code: bool = False,
    id_token_alg: str = "ES256",  # noqa: S107 (an algorithm name, not a secret)
) -> tuple[Application, str]:
    """Create or update the client; returns it with a new secret (shown once, stored hashed)."""
    secret = secrets.token_urlsafe(32)
    client_id = client_id or secrets.token_urlsafe(16)
    application = Application.objects.filter(client_id=client_id).first() or Application(
        client_id=client_id
    )
    application.name = name
    application.client_type = Application.CLIENT_CONFIDENTIAL
    application.authorization_grant_type = Application.GRANT_AUTHORIZATION_CODE
    application.redirect_uris = " ".join(redirect_uris)
    application.post_logout_redirect_uris = " ".join(post_logout_redirect_uris or [])
    application.algorithm = Application.RS256_ALGORITHM
    application.skip_authorization = False
    application.client_secret = secret
    application.full_clean(exclude=["user"])
    application.save()
    ClientProfile.objects.update_or_create(
        application=application,
        defaults={
            "agency": agency,
            "backchannel_logout_uri": backchannel_logout_uri,
            "initiate_login_uri": initiate_login_uri,
            "may_receive_national_code": may_receive_national_code,
            "id_token_alg": id_token_alg,
        },
    )
    return application, secret


# -- handing a signed-in person over to an agency window (OIDC Core §4) ------------------------


def _origin(url: str) -> str:
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    return f"{parts.scheme}://{parts.netloc}".lower()


def window_for(agency_id: int, url: str) -> Application | None:
    """The agency's registered window that serves ``url``: a client of that agency with an
    initiate-login URI on the same origin as ``url``. None when the agency has no such window
    (the address is then an ordinary link out, or none)."""
    origin = _origin(url)
    if not origin or agency_id is None:
        return None
    profiles = ClientProfile.objects.filter(agency_id=agency_id).exclude(initiate_login_uri="")
    for profile in profiles.select_related("application").order_by("pk"):
        if _origin(profile.initiate_login_uri) == origin:
            return profile.application
    return None


def initiate_login_url(application: Application, user, target_link_uri: str, issuer: str) -> str:
    """Where to send ``user`` so that ``application``'s window signs them in and opens
    ``target_link_uri``: its initiate-login URI with ``iss``, ``login_hint`` (the person's
    pairwise subject at that window, never the national code) and ``target_link_uri``.
    Raises ``ValueError`` when the target is not on the window's own origin."""
    from .oidc import pairwise_subject

    profile = ClientProfile.objects.get(application=application)
    if not profile.initiate_login_uri:
        raise ValueError("the window has no initiate-login URI")
    if _origin(target_link_uri) != _origin(profile.initiate_login_uri):
        raise ValueError("the target is not on the window's origin")
    query = urlencode(
        {
            "iss": issuer,
            "login_hint": pairwise_subject(user, application),
            "target_link_uri": target_link_uri,
        }
    )
    separator = "&" if "?" in profile.initiate_login_uri else "?"
    return f"{profile.initiate_login_uri}{separator}{query}"
