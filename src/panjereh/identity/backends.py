"""Password sign-in for staff (back office), refused while the username is locked at this
address, while the username is in its global back-off, or while the address is locked."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend

from panjereh.common import ratelimit


class RateLimitedModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username:
            here, everywhere = ratelimit.password_subjects(username, request)
            if ratelimit.is_locked(ratelimit.PASSWORD_FAILURES, here) or ratelimit.is_locked(
                ratelimit.PASSWORD_FAILURES_GLOBAL, everywhere
            ):
                return None
        if request is not None and ratelimit.is_locked(
            ratelimit.IP_ATTEMPTS, ratelimit.client_ip(request)
        ):
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
