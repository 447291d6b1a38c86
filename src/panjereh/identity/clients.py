"""Registering agency windows as OIDC clients (used by the back office's operator, the demo
command and the tests): confidential, authorization code only, exact redirect URIs, ID tokens
signed ES256 unless the window asks for RS256."""

from __future__ import annotations

import secrets

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
            "may_receive_national_code": may_receive_national_code,
            "id_token_alg": id_token_alg,
        },
    )
    return application, secret
