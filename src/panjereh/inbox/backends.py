"""Email and SMS delivery through pluggable backends.

``PANJEREH_INBOX_EMAIL_BACKEND`` and ``PANJEREH_INBOX_SMS_BACKEND`` name a class with
``send(address, subject, body)``. The demo and the tests use :class:`FileBackend`, which
appends one JSON line per message to ``VAR_DIR/inbox/<channel>/<address>.jsonl``; production
names an operator's gateway. The file backend refuses to run in production.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.module_loading import import_string


class Backend(Protocol):
    def send(self, address: str, subject: str, body: str) -> None: ...


class FileBackend:
    channel = "file"

    def __init__(self, channel: str) -> None:
        if settings.MODE == "production":
            raise ImproperlyConfigured("the file backend is for the demo and tests only")
        self.directory = Path(settings.VAR_DIR) / "inbox" / channel

    def send(self, address: str, subject: str, body: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        line = json.dumps(
            {"at": timezone.now().isoformat(), "to": address, "subject": subject, "body": body},
            ensure_ascii=False,
        )
        safe = "".join(c for c in address if c.isalnum() or c in "@._-")
        fd = os.open(self.directory / f"{safe}.jsonl", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            os.write(fd, (line + "\n").encode())
        finally:
            os.close(fd)


class FileEmailBackend(FileBackend):
    def __init__(self) -> None:
        super().__init__("email")


class FileSmsBackend(FileBackend):
    def __init__(self) -> None:
        super().__init__("sms")


def get(channel: str) -> Backend:
    default = f"panjereh.inbox.backends.File{'Email' if channel == 'email' else 'Sms'}Backend"
    name = getattr(settings, f"PANJEREH_INBOX_{channel.upper()}_BACKEND", "") or os.environ.get(
        f"PANJEREH_INBOX_{channel.upper()}_BACKEND", default
    )
    return import_string(name)()


def sent_to(channel: str, address: str) -> list[dict]:
    """What the file backend wrote for ``address`` (for the demo and tests)."""
    path = Path(settings.VAR_DIR) / "inbox" / channel / f"{address}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
