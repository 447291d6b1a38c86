"""Password sign-in for staff (back office), refused while the username or address is locked."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend

from . import ratelimit


class RateLimitedModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username and ratelimit.is_locked(ratelimit.PASSWORD_FAILURES, username.lower()):
            return None
        if request is not None and ratelimit.is_locked(
            ratelimit.IP_ATTEMPTS, ratelimit.client_ip(request)
        ):
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
