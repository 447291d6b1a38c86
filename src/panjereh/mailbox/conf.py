"""The official mailbox's settings (``PANJEREH_MAILBOX_*``), read through the one reader."""

from __future__ import annotations

from typing import Any

from panjereh.common.conf import Section

DEFAULTS: dict[str, Any] = {
    # A notice not opened is deemed served this many days after it was made available (0: only
    # opening serves). A policy of the operator: the seeds name judicial e-notification but
    # state no rule (docs/mailbox.md, The served rule).
    "DEEMED_DAYS": 10,
    # A notice kept for a person who has not signed up (``held``) waits this many days; then
    # it closes as not reachable electronically and the sender is told (status and callback)
    # to serve it by other means, on paper (0: keep without end). An operator's policy: the
    # seeds state no rule (docs/mailbox.md, "A person not signed up yet").
    "HELD_DAYS": 30,
    # Notices (single or bulk requests) one agency may post per minute, all its systems
    # together; beyond it the API answers 429.
    "AGENCY_PER_MINUTE": 600,
    # One attachment's size once decoded, and a whole request's body (bytes).
    "MAX_ATTACHMENT_BYTES": 1_000_000,
    "MAX_REQUEST_BYTES": 2_400_000,
    "MAX_ATTACHMENTS": 5,
    # A bulk send's whole body (bytes): its items, attachments included (each within the limits
    # above). Read by the mailbox's API itself, above Django's DATA_UPLOAD_MAX_MEMORY_SIZE.
    "MAX_BATCH_BYTES": 40_000_000,
    # Bulk sends: items in one batch, items made available per run of the job (the rate).
    "BULK_MAX_ITEMS": 100_000,
    "BULK_CHUNK": 200,
    # Callbacks: first retry after this many seconds, doubling up to the maximum; never given up.
    "CALLBACK_RETRY": 30,
    "CALLBACK_RETRY_MAX": 3600,
    "CALLBACK_TIMEOUT": 5.0,
    # The agency (catalogue code) whose key signs proofs of service and callbacks: the window's
    # operator, which witnesses when a notice was made available and opened.
    "WITNESS_AGENCY": "ito",
}

SECTION = Section("PANJEREH_MAILBOX_", DEFAULTS)


def get(name: str) -> Any:
    return SECTION.get(name)
