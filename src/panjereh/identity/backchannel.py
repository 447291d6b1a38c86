"""OpenID Connect Back-Channel Logout 1.0: telling every agency window used in a sign-on session
that the person has signed out, server to server, so that "sign out" means everywhere.

Every logout to every window is first written down as a
:class:`~panjereh.identity.models.BackchannelDelivery` (in the sign-out's transaction), then
handed to the job queue: under Celery the task ``identity.deliver_backchannel`` sends it at
commit; with the embedded worker it is sent at once. Nothing is fire-and-forget: a window
that is down, slow or answers anything but 200 (or a process that dies before sending) leaves
the delivery pending, and the worker's periodic job (:func:`retry_due`) tries again after
10 s, 30 s, 90 s, … up to ``MAX_ATTEMPTS`` attempts, each with a freshly signed logout token,
then records it as failed; the person's audit trail records each outcome.
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
    """Tell each client used in ``session`` that it ended: a delivery row per client, sent
    through the job queue. The outcome of each attempt made now (none under Celery: the task
    sends them at commit and records the outcomes)."""
    from . import tasks

    deliveries = []
    for application in session.clients.select_related("panjereh_profile"):
        profile = client_profile(application)
        if profile is None or not profile.backchannel_logout_uri:
            continue
        deliveries.append(
            BackchannelDelivery.objects.create(
                sid=session.sid,
                user=session.user,
                application=application,
                issuer=issuer,
                attempts=0,
                # The retry job takes it only if the first attempt has not happened by then.
                next_attempt_at=timezone.now() + dt.timedelta(seconds=FIRST_RETRY_SECONDS),
            )
        )
    if not deliveries:
        return []
    if tasks.use_celery():
        ids = [d.pk for d in deliveries]
        transaction.on_commit(lambda: tasks.deliver_backchannel.delay(ids))
        return []
    return _send(deliveries)


def deliver(ids: list[int]) -> list[dict]:
    """The first attempt of the deliveries ``ids`` (the job queue's task); the outcomes, each
    also in the person's audit trail."""
    from . import audit
    from .models import AuthEvent

    deliveries = list(
        BackchannelDelivery.objects.filter(
            pk__in=ids, state=BackchannelDelivery.State.PENDING, attempts=0
        ).select_related("application__panjereh_profile", "user")
    )
    outcome = _send(deliveries)
    for delivery, result in zip(deliveries, outcome, strict=True):
        audit.record(
            AuthEvent.Kind.BACKCHANNEL_LOGOUT,
            None,
            user=delivery.user,
            client_name=result["client"],
            ok=result["ok"],
            status=result["status"],
            attempts=delivery.attempts,
        )
    return outcome


def _send(deliveries: list[BackchannelDelivery]) -> list[dict]:
    """One attempt of each delivery, in parallel (one slow window must not delay the others);
    each row records the outcome and, when it failed, when to try again."""
    targets = []
    for delivery in deliveries:
        # Claimed first: a retry job running meanwhile does not send it a second time.
        BackchannelDelivery.objects.filter(pk=delivery.pk).update(
            next_attempt_at=timezone.now() + _backoff(delivery.attempts + 1)
        )
        profile = client_profile(delivery.application)
        uri = profile.backchannel_logout_uri if profile else ""
        token = logout_token(delivery.application, delivery.user, delivery.sid, delivery.issuer)
        targets.append((uri, token))
    with ThreadPoolExecutor(max_workers=min(8, len(targets) or 1)) as pool:
        results = list(
            pool.map(lambda t: _post(*t) if t[0] else (False, "no back-channel URI"), targets)
        )
    outcome = []
    for delivery, (uri, _token), (ok, status) in zip(deliveries, targets, results, strict=True):
        delivery.attempts += 1
        delivery.last_status = status[:40]
        delivery.updated_at = timezone.now()
        if ok:
            delivery.state = BackchannelDelivery.State.DELIVERED
        else:
            log.warning("back-channel logout to %s failed: %s; will retry", uri, status)
            if not uri:
                delivery.state = BackchannelDelivery.State.FAILED
        delivery.save(update_fields=["attempts", "last_status", "updated_at", "state"])
        outcome.append({"client": delivery.application.name, "ok": ok, "status": status})
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
