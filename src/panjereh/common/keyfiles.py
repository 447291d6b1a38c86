"""Key files: the one way Panjereh reads a private key that may live in a file under VAR_DIR.

A key is read from its setting (the Django setting or environment variable of its name, see
:mod:`panjereh.common.conf`) if that is set; production reads keys from there only. Outside
production the key is otherwise read from its file, and a missing file is created: the key is
written whole under a temporary name (``O_EXCL``, mode 0600) and linked into place, so a file
is never overwritten and, when several processes start at once, every one of them ends up
reading the one key that won. Production never creates a key: a key generated on one node
would differ on the next and from one deployment to the next.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from .conf import setting


def read(path: Path) -> str:
    """The text of the key file at ``path``, or "" when there is none (never creates one)."""
    try:
        return Path(path).read_text()
    except FileNotFoundError:
        return ""


def create(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` unless a file is already there; True if this call wrote it.

    Race-safe between processes: the bytes go to a fresh temporary file (``O_EXCL``, 0600)
    that is then hard-linked to ``path``; the link fails if another process got there first.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        return True
    finally:
        temporary.unlink(missing_ok=True)


def load_or_create(name: str, path: Path, generate: Callable[[], bytes]) -> str:
    """The key named ``name``: its setting if set; outside production, else the file at
    ``path``, else a new key from ``generate()`` written to ``path``.

    In production a key that is not set raises ``ImproperlyConfigured``.
    """
    from django.conf import settings

    value = str(setting(name, "") or "").strip()
    if value:
        return value + "\n"
    if getattr(settings, "MODE", "") == "production":
        raise ImproperlyConfigured(f"{name} must be set in production")
    text = read(path)
    if text:
        return text
    create(path, generate())
    return read(path)
