"""Store a row under a freshly drawn code that must be unique: the one retry loop.

Tracking codes and document numbers are drawn at random and made unique by a database
constraint, not by asking first (asking races). :func:`insert_with_unique_code` draws a code,
runs the insert in a savepoint, and on an :class:`~django.db.IntegrityError` draws again. The
savepoint (``transaction.atomic()``) rolls back only the failed attempt, so a caller's own
transaction stays usable (PostgreSQL refuses every statement of a transaction after an error
until it rolls back to a savepoint).

Not every conflict is a taken code: another request may have stored the same thing first (the
same idempotency key, the same application's document). ``on_conflict`` looks for that after
the savepoint is rolled back; what it returns (not ``None``) is the answer, and no code is
drawn again.

SQLite only: the embedded demo's database has one writer at a time. Its busy timeout (the
``timeout`` database option, 20 s; transactions begin ``IMMEDIATE``) already waits for the
lock, but the demo's seeder, server and in-process worker can keep it longer than that, and a
citizen's application is worth one more wait rather than an error page: so "database is locked"
is waited out a few times, with a short doubling pause, within the same ``attempts``. Other
databases never take this path (PostgreSQL rows lock separately; an ``OperationalError`` there
is raised at once).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import DatabaseError, IntegrityError, OperationalError, connection, transaction

log = logging.getLogger(__name__)
T = TypeVar("T")

BUSY_PAUSE = 0.05  # seconds before the first SQLite retry; doubles at each attempt


class CodeNotStored(DatabaseError):
    """Every attempt failed: each drawn code was taken (or SQLite stayed busy)."""


def _sqlite_busy(exc: OperationalError) -> bool:
    return connection.vendor == "sqlite" and "locked" in str(exc).lower()


def insert_with_unique_code(
    make_code: Callable[[], str],
    insert: Callable[[str], T],
    *,
    attempts: int = 5,
    on_conflict: Callable[[IntegrityError], T | None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``insert(make_code())`` in a savepoint, with a new code after each conflict.

    ``on_conflict`` (optional) is asked after each :class:`~django.db.IntegrityError`, outside
    the rolled-back savepoint: a value other than ``None`` (the row another request stored
    first) is returned as it is. After ``attempts`` failed attempts :class:`CodeNotStored` is
    raised, from the last error.
    """
    last: DatabaseError | None = None
    for attempt in range(attempts):
        code = make_code()
        try:
            with transaction.atomic():
                return insert(code)
        except IntegrityError as exc:
            last = exc
            if on_conflict is not None:
                resolved = on_conflict(exc)
                if resolved is not None:
                    return resolved
            log.info("a drawn code was taken; drawing another (attempt %d)", attempt + 1)
        except OperationalError as exc:
            if not _sqlite_busy(exc):
                raise
            last = exc
            if attempt + 1 < attempts:
                sleep(BUSY_PAUSE * 2**attempt)
    raise CodeNotStored(f"no unique code could be stored in {attempts} attempts") from last
