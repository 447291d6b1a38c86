"""Sending SMS through a pluggable backend.

The demo and the tests use :class:`FileSmsBackend`, which appends each message to
``VAR_DIR/sms/<mobile>.jsonl`` (and logs it), so that a person trying the demo, or a test, can
read the code that "arrived". Production plugs in an operator's gateway by naming its class in
``PANJEREH_SMS_BACKEND``; the file and console backends refuse to run in production so that a
misconfiguration cannot leak one-time codes into a log.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.module_loading import import_string

log = logging.getLogger(__name__)


class SmsBackend(Protocol):
    def send(self, mobile: str, text: str) -> None: ...


def _refuse_in_production(name: str) -> None:
    if settings.MODE == "production":
        raise ImproperlyConfigured(f"{name} writes one-time codes in clear; not in production")


class FileSmsBackend:
    """Appends messages to one JSON-lines file per mobile number under ``VAR_DIR/sms``."""

    def __init__(self) -> None:
        _refuse_in_production("FileSmsBackend")
        self.directory = Path(settings.VAR_DIR) / "sms"

    def send(self, mobile: str, text: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"at": timezone.now().isoformat(), "to": mobile, "text": text})
        # O_APPEND writes of one short line are atomic, so concurrent workers never interleave.
        fd = os.open(self.directory / f"{mobile}.jsonl", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            os.write(fd, (line + "\n").encode())
        finally:
            os.close(fd)
        log.info("SMS to %s written to %s", mobile, self.directory)


class ConsoleSmsBackend:
    """Prints messages on standard error (for running the server by hand)."""

    def __init__(self) -> None:
        _refuse_in_production("ConsoleSmsBackend")

    def send(self, mobile: str, text: str) -> None:
        import sys

        print(f"[SMS to {mobile}] {text}", file=sys.stderr, flush=True)


def get_backend() -> SmsBackend:
    return import_string(settings.PANJEREH_SMS_BACKEND)()


def send_sms(mobile: str, text: str) -> None:
    get_backend().send(mobile, text)


def messages_for(mobile: str) -> list[dict]:
    """Messages the file backend wrote for ``mobile``, oldest first (demo and tests)."""
    path = Path(settings.VAR_DIR) / "sms" / f"{mobile}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
