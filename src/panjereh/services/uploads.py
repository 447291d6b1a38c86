"""Files an applicant gives with a human-path application: checked, stored, opened.

A file is accepted only when its content is a PDF, JPEG or PNG (its first bytes, not its name
or the browser's word) and it is at most ``PANJEREH_SERVICES_UPLOAD_MAX_BYTES``. Its SHA-256
is stored with it. The bytes go to Django storage: the storage alias named by
``PANJEREH_SERVICES_UPLOAD_STORAGE`` (an entry of ``STORAGES``, e.g. an object store), else a
private folder ``VAR_DIR/media/uploads`` that no URL serves. A file is opened only through
:func:`open_upload`, which lets in the applicant and the staff of the agency that handles the
application, and nobody else (not even a platform role: these are a person's papers).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.utils.translation import gettext as _

from panjereh.catalogue import roles
from panjereh.common.conf import setting

from .models import Application, Upload

MAGIC = [
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
]
EXTENSIONS = {content_type: extension for _magic, content_type, extension in MAGIC}
# What a multipart body may carry beyond the files themselves (the typed fields, framing).
FORM_MARGIN = 256 * 1024


def max_bytes() -> int:
    """The largest file accepted (default 5 MB)."""
    return int(setting("PANJEREH_SERVICES_UPLOAD_MAX_BYTES", 5 * 1024 * 1024))


def request_limit(definition) -> int:
    """The largest apply request read at all: every upload at its limit, plus the form."""
    return max_bytes() * max(1, len(definition.spec.get("uploads", []))) + FORM_MARGIN


def storage() -> Storage:
    alias = setting("PANJEREH_SERVICES_UPLOAD_STORAGE", "")
    if alias:
        return storages[alias]
    return FileSystemStorage(
        location=Path(settings.VAR_DIR) / "media" / "uploads",
        base_url=None,
        file_permissions_mode=0o600,
        directory_permissions_mode=0o700,
    )


def megabytes(size: int) -> float | int:
    mb = round(size / (1024 * 1024), 1)
    return int(mb) if mb == int(mb) else mb


def sniff(head: bytes) -> tuple[str, str] | None:
    """(content type, extension) from a file's first bytes; None for any other type."""
    for magic, content_type, extension in MAGIC:
        if head.startswith(magic):
            return content_type, extension
    return None


@dataclass(frozen=True)
class CheckedFile:
    code: str
    original_name: str
    content_type: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


class UploadRefused(ValueError):
    """A file was refused; ``message`` says why in the page's language."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def check(code: str, upload: Any) -> CheckedFile:
    """Read and check one uploaded file (Django's ``UploadedFile``); raise
    :class:`UploadRefused` when it is empty, too large or not a PDF, JPEG or PNG."""
    limit = max_bytes()
    if upload.size is not None and upload.size > limit:
        raise UploadRefused(
            _("The file is larger than %(mb)s MB. Send a smaller file.") % {"mb": megabytes(limit)}
        )
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise UploadRefused(
            _("The file is larger than %(mb)s MB. Send a smaller file.") % {"mb": megabytes(limit)}
        )
    if not data:
        raise UploadRefused(_("The file is empty."))
    found = sniff(data[:16])
    if found is None:
        raise UploadRefused(_("The file must be a PDF, JPEG or PNG file."))
    # The name is kept for the officer's eyes only (cut, no path, no control characters).
    name = Path(str(upload.name or "")).name
    name = "".join(ch for ch in name if ch.isprintable())[:200]
    return CheckedFile(code, name, found[0], data)


def store(application: Application, files: list[CheckedFile]) -> list[Upload]:
    """Write the files and their rows (the caller's transaction); on any failure the files
    already written are deleted and the error raised, so no file outlives its row."""
    where = storage()
    written: list[str] = []
    rows = []
    try:
        for item in files:
            extension = EXTENSIONS[item.content_type]
            name = f"{application.tracking_code}/{secrets.token_hex(16)}.{extension}"
            written.append(where.save(name, ContentFile(item.data)))
            rows.append(
                Upload.objects.create(
                    application=application,
                    code=item.code,
                    stored_name=written[-1],
                    original_name=item.original_name,
                    content_type=item.content_type,
                    size=len(item.data),
                    sha256=item.sha256,
                )
            )
    except BaseException:
        for name in written:
            where.delete(name)
        raise
    return rows


def discard(rows: list[Upload]) -> None:
    """Delete the stored bytes of rows whose transaction did not commit."""
    where = storage()
    for row in rows:
        where.delete(row.stored_name)


# -- who may open a file ----------------------------------------------------------------------


def may_open(user, application: Application) -> bool:
    """The applicant, or a member of the staff of the agency that handles the application."""
    if not getattr(user, "is_authenticated", False):
        return False
    if application.user_id == user.pk:
        return True
    return application.agency_id in roles.agencies_for(user, roles.READ)


def open_upload(upload: Upload, actor):
    """The file's bytes as an open file, for ``actor``; raises ``roles.NotPermitted``."""
    if not may_open(actor, upload.application):
        raise roles.NotPermitted(
            _("Only the applicant and the agency's staff can open the files of an application.")
        )
    return storage().open(upload.stored_name, "rb")


def download_name(upload: Upload) -> str:
    """The name a download gets: ours (tracking code, code), never the uploader's."""
    extension = EXTENSIONS.get(upload.content_type, "bin")
    return f"{upload.application.tracking_code}-{upload.code}.{extension}"
