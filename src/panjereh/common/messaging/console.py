"""The console SMS provider (the demo's terminal): prints each message on standard error."""

from __future__ import annotations

import sys

from .base import SmsClient


class Client(SmsClient):
    name = "console"
    in_clear = True

    def send_sms(self, to: str, content: str, *, reference: str | None = None) -> None:
        print(f"[SMS to {to}] {content}", file=sys.stderr, flush=True)
