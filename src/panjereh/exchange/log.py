"""The tamper-evident message log: chain at insert, seal in batches, verify.

The gateway inserts one small row per call, committed before the answer leaves, so a crash
after the answer loses nothing. Each insert numbers its row after the chain's end (``LogHead``,
locked for it) and stores ``hash = sha256(previous hash + canonical record)`` with it. The sealer
later signs the hash at the end of each range of records (a ``Seal``: first and last sequence
number, last hash) with the exchange's Ed25519 key. Because the sequence number is inside the
hashed content, changing, deleting or reordering a record breaks the chain at that record, and
re-computing the chain after it breaks the signature of the seal.

The signing key comes from ``PANJEREH_LOG_SIGNING_KEY`` (PEM, or base64 of the 32-byte raw
private key); outside production a key is generated once into ``VAR_DIR``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import logging
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import router, transaction
from django.utils import timezone

from panjereh.common import keyfiles

from . import conf
from .models import GENESIS, LogHead, LogRecord, Seal

logger = logging.getLogger(__name__)


# -- the per-call insert ----------------------------------------------------------------------
# The gateway writes one row per call before the answer leaves, chained as it is inserted, in
# one transaction: the head's row is locked (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's
# write transactions are serialised whole, ``transaction_mode`` IMMEDIATE), the row gets the
# next sequence number and its hash, and the head moves to it. All of it through the ORM.


def chain_link(previous: str, content: dict) -> str:
    """The chain's step: ``sha256(previous hash + canonical JSON of the record's content)``
    (the insert, verification and migration 0003 all hash through here)."""
    data = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(previous.encode() + data.encode()).hexdigest()


def _locked_head(using: str) -> LogHead:
    """The chain's end, locked until the caller's transaction ends (created if missing: by
    whichever writer comes first, the others find it)."""
    heads = LogHead.objects.using(using).select_for_update()
    head = heads.filter(pk=1).first()
    if head is None:
        LogHead.objects.using(using).bulk_create([LogHead(pk=1)], ignore_conflicts=True)
        head = heads.get(pk=1)
    return head


def insert_records(records: list[LogRecord]) -> None:
    """Number and hash ``records`` (unsaved, in order) after the chain's end and insert them,
    in one transaction (inside a caller's transaction, with it)."""
    using = router.db_for_write(LogRecord)
    with transaction.atomic(using=using):
        head = _locked_head(using)
        seq, previous = head.last_seq, head.last_hash
        for record in records:
            seq += 1
            record.seq = seq
            previous = record.hash = chain_hash(previous, record)
        LogRecord.objects.using(using).bulk_create(records)
        head.last_seq, head.last_hash = seq, previous
        head.save(using=using, update_fields=["last_seq", "last_hash"])


def insert_record(**values) -> None:
    """Insert one log record (field attnames → values; the rest take their defaults), chained
    and committed when this returns; inside a transaction, it commits or rolls back with it."""
    insert_records([LogRecord(**values)])


KEY_FILE = "exchange-log-signing-key.pem"


# -- keys -----------------------------------------------------------------------------------


def _load_key_text(text: str) -> Ed25519PrivateKey:
    text = text.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_private_key(text.encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ImproperlyConfigured("PANJEREH_LOG_SIGNING_KEY must be an Ed25519 key")
        return key
    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(text))


def _new_signing_key() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@lru_cache(maxsize=4)
def _signing_key_for(text: str) -> Ed25519PrivateKey:
    return _load_key_text(text)


def signing_key() -> Ed25519PrivateKey:
    """``PANJEREH_LOG_SIGNING_KEY`` (required in production), else the key file in VAR_DIR,
    created on first use (several gateway workers starting at once all end up with one key)."""
    text = keyfiles.load_or_create(
        "PANJEREH_LOG_SIGNING_KEY", Path(settings.VAR_DIR) / KEY_FILE, _new_signing_key
    )
    return _signing_key_for(text)


def public_key() -> Ed25519PublicKey:
    return signing_key().public_key()


def key_id(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


# -- chain ----------------------------------------------------------------------------------


def chain_hash(previous: str, record: LogRecord) -> str:
    return chain_link(previous, record.canonical())


def seal_payload(seal: Seal) -> bytes:
    return json.dumps(
        {
            "first_seq": seal.first_seq,
            "last_seq": seal.last_seq,
            "last_hash": seal.last_hash,
            "created_at": seal.created_at.astimezone(dt.UTC).isoformat(),
            "key_id": seal.key_id,
        },
        sort_keys=True,
        separators=(",", ":"),
    ).encode()


def _seal_batch(batch_size: int) -> int:
    """Seal the next ``batch_size`` chained records at most (one seal); how many it sealed.
    Nothing new to seal is found without any lock (each sealer looks every few seconds).
    Otherwise the head is locked while the seal is written, so only one sealer works at a time;
    the records themselves are not written. The seal is copied outside the database
    (``anchor.record``) once committed and after the lock is released: the gateway's inserts
    do not wait for the anchor file's fsync or the witness."""
    using = router.db_for_write(LogRecord)
    chained = LogHead.objects.filter(pk=1).values_list("last_seq", flat=True).first() or 0
    if chained <= last_sealed_seq():
        return 0
    inside = transaction.get_connection(using).in_atomic_block  # a caller's transaction (tests)
    with transaction.atomic(using=using):
        head_seq = _locked_head(using).last_seq
        sealed = last_sealed_seq()
        if head_seq <= sealed:
            return 0
        last_seq = min(head_seq, sealed + batch_size)
        last_id, last_hash = LogRecord.objects.filter(seq=last_seq).values_list("id", "hash").get()
        key = signing_key()
        seal = Seal(
            first_seq=sealed + 1,
            last_seq=last_seq,
            last_hash=last_hash,
            created_at=timezone.now().replace(microsecond=0),
            key_id=key_id(key.public_key()),
        )
        seal.signature = base64.b64encode(key.sign(seal_payload(seal))).decode()
        seal.save()
    # Never before the commit: an anchor naming a seal that was rolled back would read as a
    # deletion.
    from . import anchor

    if inside:
        transaction.on_commit(lambda: anchor.record(seal, last_id), robust=True)
    else:
        anchor.record(seal, last_id)
    return last_seq - sealed


def last_sealed_seq() -> int:
    return Seal.objects.order_by("-last_seq").values_list("last_seq", flat=True).first() or 0


def unsealed_count(cap: int | None = None) -> int:
    """Chained records no seal covers yet (at most ``cap`` counted)."""
    rows = LogRecord.objects.filter(seq__gt=last_sealed_seq()).order_by().values("id")
    return (rows[:cap] if cap is not None else rows).count()


def seal_pending(batch_size: int | None = None, max_batches: int | None = None) -> int:
    """Seal every chained record no seal covers yet, a batch per seal; how many were sealed."""
    batch_size = batch_size or int(conf.get("SEAL_BATCH"))
    total = 0
    batches = 0
    while max_batches is None or batches < max_batches:
        sealed = _seal_batch(batch_size)
        if not sealed:
            break
        total += sealed
        batches += 1
    return total


# -- verification ---------------------------------------------------------------------------


@dataclass
class Problem:
    kind: str  # changed | removed | reordered | seal
    seq: int | None
    record_id: int | None
    x_road_id: str
    detail: str

    def __str__(self) -> str:
        where = f"record seq {self.seq}" if self.seq is not None else "log"
        if self.record_id is not None:
            where += f" (id {self.record_id}, X-Road-Id {self.x_road_id})"
        return f"{self.kind}: {where}: {self.detail}"


@dataclass
class Verification:
    checked: int
    seals: int
    unsealed: int
    problem: Problem | None
    # What the check against the external anchor could not decide (no anchor file, an anchor
    # behind the database): reported, not a failure.
    warnings: list[str] = field(default_factory=list)
    anchor: dict | None = None  # the newest anchored seal it compared with

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify(chunk: int = 2000) -> Verification:
    """Walk the chain in sequence order and check every hash and seal; stop at the first problem.

    The chain is checked up to the head read at the start (read after the seals, so no seal
    read covers more): calls logged while it runs are left for the next check."""
    seals = {s.last_seq: s for s in Seal.objects.order_by("last_seq")}
    head_seq = LogHead.objects.filter(pk=1).values_list("last_seq", flat=True).first()
    public = public_key()
    expected_kid = key_id(public)
    previous = GENESIS
    expected_seq = 1
    checked = 0
    last_seen = 0
    pending_seal_start = 1
    previous_id: int | None = None
    while True:
        records = LogRecord.objects.filter(seq__gt=last_seen).order_by("seq")
        if head_seq is not None:
            records = records.filter(seq__lte=head_seq)
        records = list(records[:chunk])
        if not records:
            break
        for record in records:
            if record.seq != expected_seq:
                problem = Problem(
                    "removed",
                    expected_seq,
                    None,
                    "",
                    f"record {expected_seq} is missing; the chain jumps to {record.seq} "
                    f"(id {record.id})",
                )
                return Verification(checked, len(seals), unsealed_count(), problem)
            recomputed = chain_hash(previous, record)
            if recomputed != record.hash:
                kind = "changed"
                if _is_moved(record, previous_id):
                    kind = "reordered"
                problem = Problem(
                    kind,
                    record.seq,
                    record.id,
                    record.x_road_id,
                    "its hash does not match the chain",
                )
                return Verification(checked, len(seals), unsealed_count(), problem)
            previous = record.hash
            previous_id = record.id
            checked += 1
            seal = seals.get(record.seq)
            if seal is not None:
                problem = _check_seal(seal, pending_seal_start, previous, public, expected_kid)
                if problem:
                    return Verification(checked, len(seals), unsealed_count(), problem)
                pending_seal_start = record.seq + 1
            expected_seq += 1
            last_seen = record.seq
    # Seals past the last record mean sealed records at the end were removed.
    tail = [s for s in seals.values() if s.last_seq >= expected_seq]
    if tail:
        problem = Problem(
            "removed",
            expected_seq,
            None,
            "",
            f"seal {tail[0].first_seq}–{tail[0].last_seq} covers records that are missing",
        )
        return Verification(checked, len(seals), unsealed_count(), problem)
    if head_seq is not None and head_seq != checked:
        problem = Problem(
            "removed",
            checked + 1,
            None,
            "",
            f"the log head says {head_seq} records were chained",
        )
        return Verification(checked, len(seals), unsealed_count(), problem)
    # The chain is whole; whether its newest records were cut off together with their seals
    # shows only against the copy of the latest seal kept outside the database.
    from . import anchor

    anchored = anchor.check()
    return Verification(
        checked,
        len(seals),
        unsealed_count(),
        anchored.problem,
        warnings=anchored.warnings,
        anchor=anchored.entry,
    )


def _is_moved(record: LogRecord, previous_id: int | None) -> bool:
    """Records are numbered in insertion (id) order, so a record whose id is out of order
    with its neighbours in the chain was moved, not edited."""
    if previous_id is not None and record.id < previous_id:
        return True
    following = LogRecord.objects.filter(seq=record.seq + 1).values_list("id", flat=True).first()
    return following is not None and following < record.id


def _check_seal(
    seal: Seal, first_seq: int, last_hash: str, public: Ed25519PublicKey, expected_kid: str
) -> Problem | None:
    if seal.first_seq != first_seq or seal.last_hash != last_hash:
        return Problem(
            "seal", seal.last_seq, None, "", f"seal {seal.pk} does not match the chain it covers"
        )
    if seal.key_id != expected_kid:
        return Problem("seal", seal.last_seq, None, "", f"seal {seal.pk} is signed by another key")
    try:
        public.verify(base64.b64decode(seal.signature), seal_payload(seal))
    except (InvalidSignature, ValueError):
        return Problem("seal", seal.last_seq, None, "", f"seal {seal.pk} has a bad signature")
    return None
