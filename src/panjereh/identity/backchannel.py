"""OpenID Connect Back-Channel Logout 1.0: telling every agency window used in a sign-on session
that the person has signed out, server to server, so that "sign out" means everywhere.

A window that is down or answers anything but 200 is not forgotten: the delivery is kept as a
:class:`~panjereh.identity.models.BackchannelDelivery` and retried by the worker
(:func:`retry_due`) after 10 s, 30 s, 90 s, … up to ``MAX_ATTEMPTS`` attempts, each with a
freshly signed logout token; the person's audit trail records each outcome.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from jwcrypto import jwt
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.utils import jwk_from_pem

from .models import BackchannelDelivery, SsoSession
from .oidc import client_profile, pairwise_subject

log = logging.getLogger(__name__)
EVENT = "http://schemas.openid.net/event/backchannel-logout"
MAX_ATTEMPTS = 6
FIRST_RETRY_SECONDS = 10.0


def logout_token(application, user, sid: str, issuer: str) -> str:
    """A signed logout token (RS256, ``typ: logout+jwt``) for one client."""
    key = jwk_from_pem(oauth2_settings.OIDC_RSA_PRIVATE_KEY)
    now = int(time.time())
    claims = {
        "iss": issuer,
        "aud": application.client_id,
        "iat": now,
        "exp": now + 120,
        "jti": str(uuid.uuid4()),
        "sub": pairwise_subject(user, application),
        "sid": sid,
        "events": {EVENT: {}},
    }
    header = {"alg": "RS256", "typ": "logout+jwt", "kid": key.thumbprint()}
    token = jwt.JWT(header=json.dumps(header), claims=json.dumps(claims))
    token.make_signed_token(key)
    return token.serialize()


def _post(uri: str, token: str) -> tuple[bool, str]:
    try:
        response = httpx.post(
            uri,
            data={"logout_token": token},
            timeout=settings.PANJEREH_BACKCHANNEL_TIMEOUT,
            headers={"Cache-Control": "no-store"},
        )
    except httpx.HTTPError as exc:
        return False, type(exc).__name__
    return response.status_code == 200, str(response.status_code)


def notify(session: SsoSession, issuer: str) -> list[dict]:
    """Send a logout token to each client used in ``session``; the outcome for each."""
    targets = []
    for application in session.clients.select_related("panjereh_profile"):
        profile = client_profile(application)
        if profile is None or not profile.backchannel_logout_uri:
            continue
        token = logout_token(application, session.user, session.sid, issuer)
        targets.append((application, profile.backchannel_logout_uri, token))
    if not targets:
        return []
    # Windows are told in parallel: one slow window must not delay the others.
    with ThreadPoolExecutor(max_workers=min(8, len(targets))) as pool:
        results = list(pool.map(lambda t: _post(t[1], t[2]), targets))
    outcome = []
    for (application, uri, _token), (ok, status) in zip(targets, results, strict=True):
        if not ok:
            log.warning("back-channel logout to %s failed: %s; will retry", uri, status)
            BackchannelDelivery.objects.create(
                sid=session.sid,
                user=session.user,
                application=application,
                issuer=issuer,
                last_status=status[:40],
                next_attempt_at=timezone.now() + dt.timedelta(seconds=FIRST_RETRY_SECONDS),
            )
        outcome.append({"client": application.name, "ok": ok, "status": status})
    return outcome


def _backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=FIRST_RETRY_SECONDS * 3 ** max(0, attempts - 1))


def retry_due(limit: int = 50) -> int:
    """Retry the deliveries that are due; how many were attempted. Safe to run from several
    workers: each delivery is claimed (its next attempt moved on) before it is sent."""
    from . import audit
    from .models import AuthEvent

    now = timezone.now()
    due = list(
        BackchannelDelivery.objects.filter(
            state=BackchannelDelivery.State.PENDING, next_attempt_at__lte=now
        )
        .select_related("application__panjereh_profile", "user")
        .order_by("next_attempt_at")[:limit]
    )
    attempted = 0
    for delivery in due:
        with transaction.atomic():
            claimed = BackchannelDelivery.objects.filter(
                pk=delivery.pk,
                state=BackchannelDelivery.State.PENDING,
                next_attempt_at=delivery.next_attempt_at,
            ).update(next_attempt_at=now + _backoff(delivery.attempts + 1))
        if not claimed:
            continue  # another worker has it
        attempted += 1
        profile = client_profile(delivery.application)
        uri = profile.backchannel_logout_uri if profile else ""
        if uri:
            token = logout_token(delivery.application, delivery.user, delivery.sid, delivery.issuer)
            ok, status = _post(uri, token)
        else:
            ok, status = False, "no back-channel URI"
        delivery.attempts += 1
        delivery.last_status = status[:40]
        delivery.updated_at = timezone.now()
        if ok:
            delivery.state = BackchannelDelivery.State.DELIVERED
        elif delivery.attempts >= MAX_ATTEMPTS or not uri:
            delivery.state = BackchannelDelivery.State.FAILED
        delivery.save(update_fields=["attempts", "last_status", "updated_at", "state"])
        if ok or delivery.state == BackchannelDelivery.State.FAILED:
            audit.record(
                AuthEvent.Kind.BACKCHANNEL_LOGOUT,
                None,
                user=delivery.user,
                client_name=delivery.application.name,
                ok=ok,
                status=status,
                attempts=delivery.attempts,
            )
    return attempted
