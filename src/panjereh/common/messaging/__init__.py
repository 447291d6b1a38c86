"""Messaging: one SMS client with a provider per module, and email through Django's backends.

SMS has the shape of GOV.UK Notify's clients: one abstraction (:class:`.base.SmsClient`, whose
``send_sms(to, content, reference)`` a provider implements) and one module per provider, each
defining ``Client``. ``PANJEREH_SMS_PROVIDER`` names the module: ``file`` or ``console`` (this
package's own), or the dotted path of any module, so that an operator's gateway is one new
module and one setting. Without the setting the demo uses ``console`` (the codes appear in the
terminal that runs it) and the tests ``file`` (``VAR_DIR/sms/<mobile>.jsonl``, read back with
:func:`sent_sms`); production has no default, and refuses ``file`` and ``console``, which would
put one-time codes in clear in a file or a log.

Email is Django's: :func:`send_email` sends through ``django.core.mail`` and so through
``EMAIL_BACKEND`` (``EMAIL_HOST``, ``EMAIL_PORT``, ``EMAIL_HOST_USER``,
``EMAIL_HOST_PASSWORD``, ``EMAIL_USE_TLS``, ``DEFAULT_FROM_EMAIL`` in production; the tests
read ``django.core.mail.outbox``).
"""

from __future__ import annotations

import importlib

from django.conf import settings
from django.core import mail
from django.core.exceptions import ImproperlyConfigured

from panjereh.common.conf import setting

from .base import SmsClient
from .file import sent_sms

__all__ = ["SmsClient", "provider_name", "send_email", "send_sms", "sent_sms", "sms_client"]

OWN = ("file", "console")


def provider_name() -> str:
    """The module of the SMS provider in use (``PANJEREH_SMS_PROVIDER`` or the mode's default)."""
    name = setting("PANJEREH_SMS_PROVIDER", "")
    if not name:
        mode = getattr(settings, "MODE", "demo")
        if mode == "production":
            raise ImproperlyConfigured(
                "PANJEREH_SMS_PROVIDER must name the operator's SMS provider module in production"
            )
        name = "console" if mode == "demo" else "file"
    return f"{__name__}.{name}" if name in OWN else name


def sms_client() -> SmsClient:
    """An instance of the configured provider's ``Client``."""
    module = importlib.import_module(provider_name())
    return module.Client()


def send_sms(mobile: str, text: str, *, reference: str | None = None) -> None:
    """Send ``text`` to ``mobile`` through the configured provider; raises if it fails.

    ``reference`` is the sender's own identifier of the message (an inbox delivery), kept by
    providers that report delivery back."""
    sms_client().send_sms(mobile, text, reference=reference)


def send_email(address: str, subject: str, body: str) -> None:
    """Send one plain-text email through Django's mail backends; raises if it fails."""
    mail.send_mail(
        " ".join(subject.split()),  # a header: no line breaks
        body,
        None,  # DEFAULT_FROM_EMAIL
        [address],
    )
