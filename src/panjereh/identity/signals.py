"""Sign-on sessions follow Django's own login and logout, whichever view caused them (the
citizen sign-in, the back-office login, RP-initiated logout), so nothing can bypass them."""

from __future__ import annotations

import secrets

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_refresh_token_model
from oauth2_provider.settings import oauth2_settings

from panjereh.common import ratelimit

from . import audit, backchannel
from .models import AuthEvent, SsoSession
from .oidc import SID_SESSION_KEY


@receiver(user_logged_in, dispatch_uid="panjereh-identity-login")
def start_sso_session(sender, request, user, **kwargs) -> None:
    if request is None or not hasattr(request, "session"):
        return
    current = request.session.get(SID_SESSION_KEY)
    live = (
        SsoSession.objects.filter(sid=current, ended_at__isnull=True).first() if current else None
    )
    if live is not None and live.user_id == user.pk:
        # Signing in again in the same browser (prompt=login, step-up) keeps the session, so
        # that a later sign-out still reaches every window used under it.
        request.session[SID_SESSION_KEY] = live.sid
    else:
        # (Django empties the session before this when another person signs in on the browser;
        # the sign-in views sign the previous person out first, see operations._switch_person.)
        sid = secrets.token_urlsafe(24)
        SsoSession.objects.create(sid=sid, user=user)
        request.session[SID_SESSION_KEY] = sid
    audit.record(
        AuthEvent.Kind.LOGIN,
        request,
        user=user,
        method=getattr(request, "panjereh_auth_method", "password"),
    )
    if request.session.get(audit.ACTING_COMPANY_SESSION_KEY):
        # Signing in again (step-up) with a company chosen: the registry is asked afresh.
        from . import businesses

        businesses.acting_for(request, fresh=True)


@receiver(user_logged_out, dispatch_uid="panjereh-identity-logout")
def end_sso_session(sender, request, user, **kwargs) -> None:
    if request is None or user is None or not hasattr(request, "session"):
        return
    sid = request.session.get(SID_SESSION_KEY)
    session = SsoSession.objects.filter(sid=sid, ended_at__isnull=True).first() if sid else None
    audit.record(AuthEvent.Kind.LOGOUT, request, user=user)
    if session is not None:
        _end(session, request)


def _end(session: SsoSession, request) -> None:
    """End ``session``: revoke its windows' tokens and tell each window over the back channel."""
    user = session.user
    session.ended_at = timezone.now()
    session.save(update_fields=["ended_at"])
    applications = list(session.clients.all())
    # Tokens the agency windows of this session hold stop working at once.
    now = timezone.now()
    get_refresh_token_model().objects.filter(
        user=user, application__in=applications, revoked__isnull=True
    ).update(revoked=now)
    get_access_token_model().objects.filter(user=user, application__in=applications).delete()
    issuer = oauth2_settings.oidc_issuer(request)
    for result in backchannel.notify(session, issuer):
        audit.record(
            AuthEvent.Kind.BACKCHANNEL_LOGOUT,
            request,
            user=user,
            client_name=result["client"],
            ok=result["ok"],
            status=result["status"],
        )


@receiver(user_login_failed, dispatch_uid="panjereh-identity-login-failed")
def count_password_failure(sender, credentials, request=None, **kwargs) -> None:
    username = (credentials or {}).get("username", "")
    if username:
        here, everywhere = ratelimit.password_subjects(username, request)
        ratelimit.hit(ratelimit.PASSWORD_FAILURES, here)
        ratelimit.hit(ratelimit.PASSWORD_FAILURES_GLOBAL, everywhere)
    if request is not None:
        ratelimit.hit(ratelimit.IP_ATTEMPTS, ratelimit.client_ip(request))
    audit.record(AuthEvent.Kind.LOGIN_FAILED, request, method="password")
