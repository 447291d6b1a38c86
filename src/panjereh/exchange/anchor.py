"""The external anchor of the message log: a copy of every seal kept outside the database.

The chain and the signed seals catch a record that was changed, removed or moved, but not the
removal of the newest records *together with* their seals and a rewound ``LogHead``: what is
left is a shorter, perfectly valid chain. X-Road answers this with a time-stamping authority;
here each seal, once committed, is appended to an append-only JSON-lines file outside the
database (``PANJEREH_EXCHANGE_ANCHOR_PATH``, default ``VAR_DIR/exchange-anchor.jsonl``,
fsynced) and, when ``PANJEREH_EXCHANGE_ANCHOR_WITNESS_URL`` is set, POSTed to a witness that
keeps its own copy. :func:`check` compares the newest anchored seal with the database: a seal
the anchor names that the database no longer has means the records after the database's
newest seal were deleted together with their seals.

Settings (``exchange.conf``: Django settings, or the environment):
``PANJEREH_EXCHANGE_ANCHOR_PATH``, ``PANJEREH_EXCHANGE_ANCHOR_WITNESS_URL`` (off when empty),
``PANJEREH_EXCHANGE_ANCHOR_WITNESS_TIMEOUT`` (seconds, 3).
"""

from __future__ import annotations

import atexit
import base64
import datetime as dt
import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from django.conf import settings
from django.utils import timezone

from . import conf
from .models import LogRecord, Seal

logger = logging.getLogger(__name__)

FILE_NAME = "exchange-anchor.jsonl"
# How much of the file's end is read to find the newest anchored seal. Seals are appended in
# commit order, which can differ from seal order by a little when several processes seal; a
# line is about 450 bytes, so this holds several hundred of the newest seals.
TAIL_BYTES = 256 * 1024

_test_default: Path | None = None


def anchor_path() -> Path:
    configured = conf.get("ANCHOR_PATH")
    if configured:
        return Path(configured)
    if getattr(settings, "MODE", "") == "test":
        # Tests must never append to the anchor of the developer's demo log in ./var (its
        # database is another one): one throw-away file per test process unless a test sets
        # its own.
        global _test_default
        if _test_default is None:
            _test_default = (
                Path(tempfile.gettempdir()) / f"panjereh-test-anchor-{os.getpid()}.jsonl"
            )
            atexit.register(_test_default.unlink, missing_ok=True)
        return _test_default
    return Path(settings.VAR_DIR) / FILE_NAME


def entry_for(seal: Seal, last_record_id: int | None) -> dict[str, Any]:
    return {
        "seal": seal.pk,
        "first_seq": seal.first_seq,
        "last_seq": seal.last_seq,
        "last_record": last_record_id,
        "last_hash": seal.last_hash,
        "created_at": seal.created_at.astimezone(dt.UTC).isoformat(),
        "key_id": seal.key_id,
        "signature": seal.signature,
        "anchored_at": timezone.now().astimezone(dt.UTC).isoformat(),
    }


def append(entry: dict[str, Any], path: Path | None = None) -> None:
    """Append one line and make it durable (the file, and the folder when the file is new)."""
    path = path or anchor_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(entry, sort_keys=True, separators=(",", ":")) + "\n").encode()
    created = not path.exists()
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(descriptor, line)  # one write with O_APPEND: lines never interleave
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    if created:
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def send_to_witness(entry: dict[str, Any]) -> bool:
    """POST the entry to the configured witness; False (and a log line) when it fails."""
    url = conf.get("ANCHOR_WITNESS_URL")
    if not url:
        return False
    import httpx

    timeout = float(conf.get("ANCHOR_WITNESS_TIMEOUT"))
    try:
        response = httpx.post(url, json=entry, timeout=timeout, trust_env=False)
        response.raise_for_status()
    except httpx.HTTPError:
        logger.warning("the exchange log's witness at %s did not take seal %s", url, entry["seal"])
        return False
    return True


def record(seal: Seal, last_record_id: int | None) -> None:
    """Anchor a committed seal (called by the sealer after its transaction commits).

    A failure is logged, never raised: the seal is already committed, and :func:`check` then
    reports the anchor as behind the database rather than the sealer stopping."""
    entry = entry_for(seal, last_record_id)
    try:
        append(entry)
    except OSError:
        logger.exception("could not append seal %s to the exchange log's anchor", seal.pk)
    send_to_witness(entry)


def read_tail(path: Path, size: int = TAIL_BYTES) -> tuple[list[dict[str, Any]], int]:
    """The whole lines at the end of the file, parsed; and how many lines were unreadable."""
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        end = handle.tell()
        start = max(0, end - size)
        handle.seek(start)
        data = handle.read()
    lines = data.split(b"\n")
    if start > 0:
        lines = lines[1:]  # the first line is cut
    entries, bad = [], 0
    for line in lines:
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            int(entry["last_seq"])
        except (ValueError, KeyError, TypeError):
            bad += 1
            continue
        entries.append(entry)
    return entries, bad


def _signed_by(entry: dict[str, Any], public) -> bool:
    from .log import seal_payload

    try:
        seal = Seal(
            first_seq=int(entry["first_seq"]),
            last_seq=int(entry["last_seq"]),
            last_hash=str(entry["last_hash"]),
            created_at=dt.datetime.fromisoformat(entry["created_at"]),
            key_id=str(entry["key_id"]),
        )
        public.verify(base64.b64decode(entry["signature"]), seal_payload(seal))
    except (InvalidSignature, ValueError, KeyError, TypeError):
        return False
    return True


@dataclass
class AnchorCheck:
    path: Path
    entry: dict[str, Any] | None = None  # the newest anchored seal of this log's key
    problem: Any = None  # a log.Problem
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.problem is None


def check() -> AnchorCheck:
    """Compare the newest anchored seal with the database's seals and records."""
    from .log import Problem, key_id, public_key

    path = anchor_path()
    result = AnchorCheck(path)
    if not path.exists():
        result.warnings.append(
            f"no anchor file at {path}: the newest records cannot be checked against a copy "
            "of the latest seal kept outside the database"
        )
        return result
    public = public_key()
    kid = key_id(public)
    entries, bad = read_tail(path)
    unsigned = 0
    ours = []
    for entry in entries:
        if entry.get("key_id") != kid:
            continue  # another log's (or a retired key's) anchors
        if not _signed_by(entry, public):
            unsigned += 1
            continue
        ours.append(entry)
    if bad:
        result.warnings.append(f"{bad} unreadable line(s) at the end of the anchor file {path}")
    if unsigned:
        result.warnings.append(
            f"{unsigned} line(s) of the anchor file {path} are not signed by the log's key "
            "and were ignored"
        )
    if not ours:
        result.warnings.append(f"the anchor file {path} holds no seal of this log's key")
        return result
    newest = max(ours, key=lambda e: int(e["last_seq"]))
    result.entry = newest
    last_seq = int(newest["last_seq"])
    seal = Seal.objects.filter(last_seq=last_seq).first()
    db_newest = Seal.objects.order_by("-last_seq").values_list("last_seq", flat=True).first()
    kept = db_newest or 0
    if seal is None:
        result.problem = Problem(
            "removed",
            kept + 1,
            None,
            "",
            f"records after {kept} were deleted together with their seals: the anchor file "
            f"holds seal {newest['first_seq']}–{last_seq} (seal id {newest.get('seal')}, last "
            f"record id {newest.get('last_record')}, anchored {newest.get('anchored_at')}), "
            "which the database no longer has",
        )
        return result
    if (
        seal.first_seq != int(newest["first_seq"])
        or seal.last_hash != newest["last_hash"]
        or seal.signature != newest["signature"]
    ):
        result.problem = Problem(
            "seal",
            last_seq,
            None,
            "",
            f"seal {seal.pk} ({seal.first_seq}–{seal.last_seq}) differs from its copy in the "
            "anchor file",
        )
        return result
    last = LogRecord.objects.filter(seq=last_seq).values_list("id", "hash").first()
    if last is None or (newest.get("last_record") is not None and last[0] != newest["last_record"]):
        result.problem = Problem(
            "removed",
            last_seq,
            newest.get("last_record"),
            "",
            f"record {newest.get('last_record')}, the last of anchored seal "
            f"{newest['first_seq']}–{last_seq}, is not in its place",
        )
        return result
    if kept > last_seq:
        newer = Seal.objects.filter(last_seq__gt=last_seq).count()
        result.warnings.append(
            f"the anchor file is behind the database by {newer} seal(s) (anchored up to record "
            f"{last_seq}, sealed up to {kept}): records after {last_seq} are checked only "
            "by the chain"
        )
    return result


def status() -> dict[str, Any]:
    """For the operator's page: the newest anchored seal (of any key) and where the file is."""
    path = anchor_path()
    if not path.exists():
        return {"path": str(path), "exists": False, "entry": None}
    try:
        entries, _bad = read_tail(path, 64 * 1024)
    except OSError:
        entries = []
    newest = max(entries, key=lambda e: int(e["last_seq"])) if entries else None
    anchored_at = None
    if newest and newest.get("anchored_at"):
        try:
            anchored_at = dt.datetime.fromisoformat(newest["anchored_at"])
        except ValueError:
            anchored_at = None
    return {"path": str(path), "exists": True, "entry": newest, "anchored_at": anchored_at}
