"""The SMS client abstraction every provider module implements (as its ``Client``)."""

from __future__ import annotations

import abc

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class SmsClient(abc.ABC):
    """One SMS provider. ``send_sms`` raises on any failure, so the caller can try again."""

    name = "sms"
    #: Providers that write messages in clear (a file, a terminal) are refused in production.
    in_clear = False

    def __init__(self) -> None:
        if self.in_clear and settings.MODE == "production":
            raise ImproperlyConfigured(
                f"the {self.name} SMS provider writes one-time codes in clear; not in production"
            )

    @abc.abstractmethod
    def send_sms(self, to: str, content: str, *, reference: str | None = None) -> None: ...
