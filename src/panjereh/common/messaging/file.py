"""The file SMS provider (demo and tests): one JSON line per message in
``VAR_DIR/sms/<mobile>.jsonl``, read back with :func:`sent_sms`."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from .base import SmsClient

log = logging.getLogger(__name__)


def _path(mobile: str) -> Path:
    safe = "".join(c for c in mobile if c.isalnum() or c in "+-_")
    return Path(settings.VAR_DIR) / "sms" / f"{safe}.jsonl"


class Client(SmsClient):
    name = "file"
    in_clear = True

    def send_sms(self, to: str, content: str, *, reference: str | None = None) -> None:
        path = _path(to)
        path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(
            {"at": timezone.now().isoformat(), "to": to, "text": content, "reference": reference},
            ensure_ascii=False,
        )
        # O_APPEND writes of one short line are atomic, so concurrent workers never interleave.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            os.write(fd, (line + "\n").encode())
        finally:
            os.close(fd)
        log.info("SMS to %s written to %s", to, path.parent)


def sent_sms(mobile: str) -> list[dict]:
    """The messages the file provider wrote for ``mobile``, oldest first (demo and tests):
    each ``{"at", "to", "text", "reference"}``."""
    path = _path(mobile)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
