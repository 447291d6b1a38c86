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
import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import close_old_connections, connections, router, transaction
from django.utils import timezone

from . import conf
from .guard import GroupCommit, HostLock
from .models import GENESIS, LogHead, LogRecord, Seal, canonical_content

logger = logging.getLogger(__name__)


# -- the per-call insert ----------------------------------------------------------------------
# The gateway writes one row per call before the answer leaves. Through the ORM that is most of
# the cost of the log (building and compiling an INSERT each time), so the statement is built
# once per database and the values are adapted by the model's own fields
# (``get_db_prep_save``): the same row as ``LogRecord.objects.create``.
#
# The row is chained as it is inserted, in the same transaction: the head's row is locked, the
# rows get the next sequence numbers and their hashes, and the head moves to the last of them.
# (Chaining later, in the sealer, meant writing every row twice: once inserted, once updated
# with its number and hash, which with two gateway processes cost more than the insert.)


@dataclass
class _Sql:
    insert: str
    head: str
    head_create: str
    head_move: str

    def qmark(self) -> _Sql:
        """The same statements in sqlite3's own parameter style."""
        return _Sql(*(text.replace("%s", "?") for text in vars(self).values()))


@dataclass
class _Statements:
    sql: _Sql  # for Django's cursors (``%s``)
    raw: _Sql  # for the DB-API connection itself (SQLite: ``?``)
    columns: list  # (field, attname, plain)
    seq_at: int
    hash_at: int


_statements: dict[str, _Statements] = {}


def _plain(model_field) -> bool:
    """Columns whose Python value (a str, an int or None) is already the database value."""
    from django.db import models

    if isinstance(model_field, models.ForeignKey):
        model_field = model_field.target_field
    return isinstance(model_field, models.CharField | models.IntegerField | models.AutoField)


def _statements_for(connection) -> _Statements:
    cached = _statements.get(connection.alias)
    if cached is None:
        fields = [f for f in LogRecord._meta.concrete_fields if not f.primary_key]
        quote = connection.ops.quote_name
        table = quote(LogRecord._meta.db_table)
        head = LogHead._meta
        head_table = quote(head.db_table)
        pk, last_seq, last_hash = (
            quote(head.pk.column),
            quote(head.get_field("last_seq").column),
            quote(head.get_field("last_hash").column),
        )
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        sql = _Sql(
            insert="INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 -- model names
                table,
                ", ".join(quote(f.column) for f in fields),
                ", ".join(["%s"] * len(fields)),
            ),
            head=f"SELECT {last_seq}, {last_hash} FROM {head_table} WHERE {pk} = 1{lock}",  # noqa: S608
            head_create=(
                f"INSERT INTO {head_table} ({pk}, {last_seq}, {last_hash}) "  # noqa: S608
                f"VALUES (1, 0, %s) ON CONFLICT ({pk}) DO NOTHING"
            ),
            head_move=f"UPDATE {head_table} SET {last_seq} = %s, {last_hash} = %s WHERE {pk} = 1",  # noqa: S608
        )
        attnames = [f.attname for f in fields]
        cached = _statements[connection.alias] = _Statements(
            sql=sql,
            raw=sql.qmark(),
            columns=[(f, f.attname, _plain(f)) for f in fields],
            seq_at=attnames.index("seq"),
            hash_at=attnames.index("hash"),
        )
    return cached


def _lock_head(db, sql: _Sql) -> tuple[int, str]:
    """The chain's end, locked until the transaction ends (created if missing). ``db`` is a
    cursor, or an sqlite3 connection (its ``execute`` returns a cursor)."""
    row = db.execute(sql.head).fetchone()
    if row is None:
        db.execute(sql.head_create, [GENESIS])
        row = db.execute(sql.head).fetchone()
    return int(row[0]), row[1]


def chain_link(previous: str, content: dict) -> str:
    """The chain's step: ``sha256(previous hash + canonical JSON of the record's content)``
    (the insert, verification and migration 0003 all hash through here)."""
    data = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(previous.encode() + data.encode()).hexdigest()


def _chain_values(seq: int, previous: str, statements: _Statements, rows: list) -> tuple[int, str]:
    """Give ``rows`` ((params, content) pairs) the numbers and hashes after the head (``seq``,
    ``previous``); the new head."""
    for params, content in rows:
        seq += 1
        content["seq"] = seq
        previous = chain_link(previous, content)
        params[statements.seq_at] = seq
        params[statements.hash_at] = previous
    return seq, previous


def _insert_chained(db, sql: _Sql, statements: _Statements, head: tuple, rows: list) -> tuple:
    """Number and hash ``rows`` ((params, content) pairs) after ``head`` and insert them; the
    new head."""
    seq, previous = _chain_values(*head, statements, rows)
    if len(rows) == 1:
        db.execute(sql.insert, rows[0][0])
    else:
        db.executemany(sql.insert, [params for params, _content in rows])
    return seq, previous


def _chain_rows(db, sql: _Sql, statements: _Statements, rows: list) -> None:
    """Number, hash and insert ``rows`` after the locked head, and move the head, inside the
    caller's transaction."""
    head = _insert_chained(db, sql, statements, _lock_head(db, sql), rows)
    db.execute(sql.head_move, list(head))


# Group commit. Under load every gateway thread inserting its own row in its own transaction
# queues for the database's write lock (and for the head); on SQLite a writer that finds it
# taken sleeps in the busy handler (1, 2, 5, 10 ms …) however short the holder's transaction,
# so half of a thread's time went to waiting there. Instead the threads of a process hand their
# rows to whichever of them writes next: it chains and inserts every row waiting at that moment
# in one transaction (one ``executemany``) and commits, and each thread returns only once the
# transaction holding its row has committed, so the log stays durable before the answer leaves.
# One process writes one transaction at a time, however many threads it runs.


_write_locks: dict[str, object] = {}


def write_lock(connection):
    """On a SQLite database file, the host lock its log writers (the gateway's inserts, the
    sealer) take around their transactions, so that they queue for each other in the kernel
    instead of sleeping in SQLite's busy handler (``guard.HostLock``); elsewhere (PostgreSQL
    has row locks and no such sleep, an in-memory database one process) nothing."""
    if connection.vendor != "sqlite":
        return contextlib.nullcontext()
    name = str(connection.settings_dict.get("NAME") or "")
    if not name or name == ":memory:" or name.startswith("file:") or "mode=memory" in name:
        return contextlib.nullcontext()
    lock = _write_locks.get(name)
    if lock is None:
        lock = _write_locks.setdefault(name, HostLock(f"{name}.log-write.lock"))
    return lock


def _write_batch(batch: list) -> None:
    """``GroupCommit``'s runner: the rows waiting in this process, in one transaction."""
    connection = connections[router.db_for_write(LogRecord)]
    statements = _statements_for(connection)
    with write_lock(connection):
        _write_rows(connection, statements, batch)


def _write_rows(connection, statements: _Statements, batch: list) -> None:
    rows = [job.args for job in batch]
    try:
        if connection.vendor == "sqlite":
            _write_sqlite(connection, statements, rows)
        elif connection.vendor == "postgresql":
            _write_postgresql(connection, statements, rows)
        else:
            with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
                _chain_rows(cursor, statements.sql, statements, rows)
    except Exception as exc:
        if len(batch) == 1:
            batch[0].error = exc
        else:  # one row's fault must not fail the others: each on its own
            for job in batch:
                _write_rows(connection, statements, [job])
        return
    for job in batch:
        job.finish()


def _write_sqlite(connection, statements: _Statements, rows: list) -> None:
    """One transaction on the sqlite3 connection itself. Django's cursor wrappers and
    ``atomic`` (a regular expression rewriting the parameters of every statement, the
    autocommit switches) cost about as much as SQLite's own work for these four statements,
    on every call through the gateway."""
    connection.ensure_connection()
    raw = connection.connection
    try:
        raw.execute("BEGIN IMMEDIATE")
        _chain_rows(raw, statements.raw, statements, rows)
        raw.execute("COMMIT")
    except BaseException:
        connection.errors_occurred = True  # Django checks the connection before reusing it
        if raw.in_transaction:
            raw.execute("ROLLBACK")
        raise


def _write_postgresql(connection, statements: _Statements, rows: list) -> None:
    """One transaction in three round trips on the psycopg connection itself: ``BEGIN`` with
    the head's ``SELECT … FOR UPDATE``, the insert, then the head's move with ``COMMIT`` (its
    values bound by ``compose_sql``, as a statement with parameters cannot share a round trip
    with another). Through Django it took five, each costing CPU on both sides of the socket,
    while the head's lock is held."""
    connection.ensure_connection()
    raw = connection.connection
    sql = statements.sql
    with raw.cursor() as cursor:
        try:
            cursor.execute(f"BEGIN; {sql.head}")
            cursor.nextset()
            row = cursor.fetchone()
            head = (int(row[0]), row[1]) if row is not None else _lock_head(cursor, sql)
            head = _insert_chained(cursor, sql, statements, head, rows)
            cursor.execute(connection.ops.compose_sql(sql.head_move, list(head)) + "; COMMIT")
        except BaseException:
            connection.errors_occurred = True
            if raw.info.transaction_status != 0:  # not idle: undo the open transaction
                raw.execute("ROLLBACK")
            raise


_group = GroupCommit(_write_batch)


def insert_record(**values) -> None:
    """Insert one log record (field attnames → values; the rest take their defaults), chained
    and committed when this returns (with the rows other threads of this process are inserting
    meanwhile); inside a transaction, it commits or rolls back with that transaction."""
    connection = connections[router.db_for_write(LogRecord)]
    statements = _statements_for(connection)
    params = []
    for f, attname, plain in statements.columns:
        value = values[attname] if attname in values else f.get_default()
        values[attname] = value
        if plain and (value is None or type(value) in (str, int)):
            params.append(value)
        else:
            params.append(f.get_db_prep_save(value, connection))
    row = (params, canonical_content(values))
    if connection.in_atomic_block:
        # Inside the caller's transaction the row commits (or rolls back) with it: nobody
        # else's row may join it.
        with connection.cursor() as cursor:
            _chain_rows(cursor, statements.sql, statements, [row])
        return
    _group.submit(row)


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


@lru_cache(maxsize=4)
def _signing_key_for(source: str) -> Ed25519PrivateKey:
    if source.startswith("env:"):
        return _load_key_text(source[4:])
    path = Path(source[5:])
    if not path.exists():
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written whole under a temporary name, then linked into place: a process that loses
        # the race to create the key (several gateway workers start at once) reads the
        # winner's complete file instead of failing or reading half of it.
        temporary = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    return _load_key_text(path.read_text())


def signing_key() -> Ed25519PrivateKey:
    text = os.environ.get("PANJEREH_LOG_SIGNING_KEY", "")
    if text:
        return _signing_key_for("env:" + text)
    if getattr(settings, "MODE", "") == "production":
        raise ImproperlyConfigured("PANJEREH_LOG_SIGNING_KEY must be set in production")
    return _signing_key_for("file:" + str(Path(settings.VAR_DIR) / KEY_FILE))


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
    connection = connections[router.db_for_write(LogRecord)]
    chained = LogHead.objects.filter(pk=1).values_list("last_seq", flat=True).first() or 0
    if chained <= last_sealed_seq():
        return 0
    inside = connection.in_atomic_block  # a caller's transaction (tests): no host lock
    statements = _statements_for(connection)
    with (
        contextlib.nullcontext() if inside else write_lock(connection),
        transaction.atomic(using=connection.alias),
    ):
        with connection.cursor() as cursor:
            head_seq, _head_hash = _lock_head(cursor, statements.sql)
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


# -- background sealing ---------------------------------------------------------------------

_sealer_lock = threading.Lock()
_sealer_started = False


def ensure_background_sealer() -> None:
    """Start, once per process, a daemon thread that seals every ``SEAL_INTERVAL`` seconds."""
    global _sealer_started
    if _sealer_started:  # every call asks: answered without reading the setting
        return
    interval = float(conf.get("SEAL_INTERVAL"))
    if interval <= 0:
        return
    with _sealer_lock:
        if _sealer_started:
            return
        _sealer_started = True
        threading.Thread(
            target=_sealer_loop, args=(interval,), daemon=True, name="nix-sealer"
        ).start()


def _sealer_loop(interval: float) -> None:
    from .grants import expire_due

    while True:
        time.sleep(interval)
        try:
            close_old_connections()
            seal_pending()
            expire_due()
            close_old_connections()
        except Exception:  # the next round retries; records stay unsealed, never lost
            logger.exception("sealing the exchange log failed")
