"""The daily settlement file: the bank's list of what it paid out, matched against the window's.

Set-based, so that a file of a million lines is reconciled in seconds, not hours: the lines
are streamed from the provider into a temporary table (PostgreSQL: ``COPY`` through psycopg;
SQLite: batched inserts), then matched with a few joins:

* a payment line whose payment is captured, same amount: the payment becomes ``settled``. The
  move is one ``UPDATE`` through the ORM (``QuerySet.update`` of the captured payments with an
  ``EXISTS`` of their line in the file's table, :class:`~.models.StagedLine`), and it is
  its own record: the payment keeps the settlement file that settled it (``settlement``,
  beside ``settled_at``), which its history (``Payment.history``) shows as the move
  ``captured → settled`` (source ``settlement``, the file's day), one transaction with the
  move, so a state and its history never disagree. No event row and no foreign-key check per
  payment (a million a file: they were half the time). The update takes only the states the
  machine (``operations.MACHINE``) lets move to ``settled``; a payment moved by someone else
  meanwhile is left out by the ``WHERE`` (PostgreSQL re-reads a row it waited for), exactly as
  the machine would refuse it. No index of the payments table reads ``state``,
  ``settled_at`` or ``settlement`` and its pages are half filled (``models.Payment``,
  migrations 0005 and 0006), so each move is a HOT update: a new version of the row in its own
  page, no index entry written;
* a refund line matching a refund by token and the bank's refund reference, same amount:
  matched, and the refund marked as found in a file (``settled_at``); a refund line of a refund
  still asked whose reference the window never heard (the bank's answer was lost): the bank
  made it, so it is recorded as made through the refunds' machine (:meth:`_Matcher.
  adopt_refunds`), not reported; a refund line of a refund the window holds as failed: a
  ``state`` case;
* a line the window does not know (``extra``), another amount (``amount``), a payment the window
  holds as not paid (``state``), a payment captured but in no file (``missing``): one finance
  case each, inserted in bulk; the same difference is never queued twice (unique key), so
  reconciling a file again opens nothing new.

**The day boundary.** The bank's settlement day is its own: a payment captured a minute before
Tehran midnight is often in the next day's file. So a captured payment absent from the file of
its day ``D`` is a ``missing`` case only once it is absent from ``D + 1``'s file too (both
reconciled), or once :data:`LATE_GRACE` has passed since the end of ``D`` with no ``D + 1``
file reconciled. Refunds the window holds as made on ``D`` follow the same rule (by
``ended_at``; a refund found in any file has ``settled_at``).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import logging
import time
from collections.abc import Iterable, Iterator

from django.db import DatabaseError, connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from panjereh.catalogue import roles
from panjereh.common.jalali import TEHRAN

from . import conf, providers
from .models import (
    PAID_STATES,
    CaseKind,
    FinanceCase,
    Payment,
    PaymentState,
    Refund,
    RefundState,
    SettlementFile,
    StagedLine,
)

log = logging.getLogger(__name__)
S = PaymentState

# A payment captured on day D and in neither D's nor D + 1's file is missing; if D + 1's file
# never comes, it is missing this long after the end of D.
LATE_GRACE = dt.timedelta(days=2)
STAGE = StagedLine._meta.db_table  # the temporary table (one per database session)
BIGINT = 2**63 - 1
BATCH = 5000


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The instants a Tehran day spans: [start, end)."""
    start = dt.datetime.combine(day, dt.time.min, tzinfo=TEHRAN)
    return start, start + dt.timedelta(days=1)


def reconcile_settlement(day: dt.date, *, actor, provider: str | None = None) -> SettlementFile:
    """Fetch the provider's settlement file of ``day`` and match it (see the module's text).

    ITO (``roles.OPERATE``) or the window. Harmless to run again."""
    roles.require(actor, roles.OPERATE, message=_("Only the platform's operators reconcile."))
    backend = providers.get(provider)
    started = time.perf_counter()
    body, lines = backend.settlement(day)
    fetched = time.perf_counter()
    digest = hashlib.sha256(body).hexdigest()
    with transaction.atomic():
        record, _created = SettlementFile.objects.get_or_create(
            provider=backend.identifier, day=day, defaults={"digest": digest}
        )
        # The first write of the transaction: on SQLite it takes the database's write lock
        # now, so the rows read below cannot change before they are written.
        SettlementFile.objects.filter(pk=record.pk).update(digest=digest, fetched_at=timezone.now())
        matcher = _Matcher(record, backend.identifier)
        try:
            count = matcher.timed("stage", matcher.stage, lines, body, backend.settlement_csv(body))
            matcher.timed("adopt", matcher.adopt_refunds)
            matched = matcher.timed("cases", matcher.open_cases)
            matched += matcher.timed("settle", matcher.settle)
            matcher.timed("missing", matcher.missing)
            matcher.timed("missing_refunds", matcher.missing_refunds)
        finally:
            matcher.drop()
        SettlementFile.objects.filter(pk=record.pk).update(lines=count, matched=matched)
        commit = time.perf_counter()
    matcher.seconds["commit"] = time.perf_counter() - commit
    matcher.seconds["fetch"] = fetched - started
    record.refresh_from_db()
    record.seconds = matcher.seconds  # what each step took (the benchmark prints it)
    log.info(
        "settlement %s %s: %s lines, %s matched, %s cases; seconds %s",
        backend.identifier,
        day,
        count,
        matched,
        matcher.cases,
        {k: round(v, 2) for k, v in matcher.seconds.items()},
    )
    return record


def reconcile_recent_settlements() -> int:
    """The job: the last few days' settlement files (yesterday first), again harmlessly."""
    today = timezone.now().astimezone(TEHRAN).date()
    done = 0
    for back in range(1, conf.get("SETTLEMENT_DAYS") + 1):
        try:
            reconcile_settlement(today - dt.timedelta(days=back), actor=roles.SYSTEM)
            done += 1
        except providers.ProviderUnavailable as exc:
            log.warning("settlement of %s not fetched: %s", today - dt.timedelta(days=back), exc)
    return done


def _clean(text: str, size: int) -> str:
    return str(text or "").replace("\x00", "")[:size]


def _rows(lines: Iterable[providers.SettlementLine]) -> Iterator[tuple]:
    for line in lines:
        amount = line.amount if line.amount is not None and 0 <= line.amount <= BIGINT else None
        yield (
            line.number,
            _clean(line.kind, 20),
            _clean(line.token, 100),
            _clean(line.order_id, 40),
            _clean(line.ref, 40),
            amount,
        )


def settle_from(machine) -> list[str]:
    """The states the settlement's set-based move takes payments from: those the payments'
    machine lets move to ``settled`` (``captured``), read from its table, not written here."""
    sources = [state for state in machine.table if machine.can(state, S.SETTLED)]
    if not sources:
        raise RuntimeError("the payments' machine lets no state move to settled")
    return sources


def _still_without_ref(refund: Refund, changes: dict, event: dict) -> None:
    from . import operations

    if refund.provider_ref:
        raise operations.InvalidTransition(_("This refund is already finished."))


class _Matcher:
    """One file's lines in the temporary table, and the joins that match them."""

    def __init__(self, record: SettlementFile, provider: str) -> None:
        self.record, self.provider = record, provider
        self.prefix = f"{provider}:{record.day.isoformat()}"
        self.postgres = connection.vendor == "postgresql"
        self.cases = 0
        self.unmatched = 0  # payment lines :meth:`open_cases` found no paid payment for
        self.seconds: dict[str, float] = {}
        p, r = Payment._meta, Refund._meta
        self.t = {"stage": STAGE, "payment": p.db_table, "refund": r.db_table}

    def timed(self, step: str, run, *args):
        began = time.perf_counter()
        try:
            return run(*args)
        finally:
            self.seconds[step] = time.perf_counter() - began

    def sql(self, text: str) -> str:
        return text.format(**self.t)

    def case(self, kind: str, key: str, **fields) -> FinanceCase:
        """A finance case for this file's line ``key`` (queued by :meth:`_queue`)."""
        return FinanceCase(kind=kind, line_key=key[:200], settlement=self.record, **fields)

    # -- loading ------------------------------------------------------------------------------

    def stage(
        self,
        lines: Iterable[providers.SettlementLine],
        body: bytes = b"",
        csv_columns: dict[str, str] | None = None,
    ) -> int:
        columns = "number, kind, token, order_id, ref, amount"
        count = 0
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {STAGE} (number integer, kind varchar(20),"
                " token varchar(100), order_id varchar(40), ref varchar(40), amount bigint)"
            )
            whole = (
                self.copy_csv(cursor, body, csv_columns) if self.postgres and csv_columns else None
            )
            if whole is not None:
                count = whole
            elif self.postgres:
                with cursor.copy(f"COPY {STAGE} ({columns}) FROM STDIN") as copy:
                    for row in _rows(lines):
                        copy.write_row(row)
                        count += 1
            else:
                batch: list[tuple] = []
                values = "%s, %s, %s, %s, %s, %s"
                insert = f"INSERT INTO {STAGE} ({columns}) VALUES ({values})"  # noqa: S608
                for row in _rows(lines):
                    batch.append(row)
                    if len(batch) >= BATCH:
                        cursor.executemany(insert, batch)
                        count += len(batch)
                        batch = []
                if batch:
                    cursor.executemany(insert, batch)
                    count += len(batch)
            cursor.execute(f"CREATE INDEX {STAGE}_token ON {STAGE} (token)")
            cursor.execute(f"ANALYZE {STAGE}")
        return count

    def copy_csv(self, cursor, body: bytes, names: dict[str, str]) -> int | None:
        """Load a CSV file whole: ``COPY`` into a table of text columns, then one
        ``INSERT … SELECT`` that trims, shortens and reads the amounts (digits only, else
        NULL, as the line-by-line path does). The lines' numbers are the order ``COPY`` read
        them in (an identity column). ``None`` when the file cannot be read so (no such
        header, a NUL byte, a ragged line): the caller reads it line by line."""
        first = body.split(b"\n", 1)[0].decode("utf-8", "replace").strip("\r")
        header = next(csv.reader([first]), [])
        if not all(name in header for name in names.values()):
            return None
        at = {want: header.index(name) for want, name in names.items()}
        raw = f"{STAGE}_raw"
        texts = ", ".join(f"c{i} text" for i in range(len(header)))
        cursor.execute(f"DROP TABLE IF EXISTS {raw}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {raw} (number integer GENERATED ALWAYS AS IDENTITY, {texts})"
        )
        listed = ", ".join(f"c{i}" for i in range(len(header)))
        try:
            with transaction.atomic():  # a savepoint: a refused file leaves the rest as it was
                with cursor.copy(
                    f"COPY {raw} ({listed}) FROM STDIN WITH (FORMAT csv, HEADER true)"
                ) as copy:
                    view = memoryview(body)
                    for start in range(0, len(view), 1 << 20):
                        copy.write(view[start : start + (1 << 20)])
        except (DatabaseError, connection.Database.Error) as exc:  # psycopg's own, unwrapped
            log.warning("settlement file not loaded whole (%s); read line by line", exc)
            cursor.execute(f"DROP TABLE IF EXISTS {raw}")
            return None

        def text(want: str, size: int) -> str:
            return f"coalesce(left(btrim(c{at[want]}, E' \\t\\r'), {size}), '')"

        amount = f"btrim(c{at['amount']}, E' \\t\\r')"
        cursor.execute(
            f"INSERT INTO {STAGE} (number, kind, token, order_id, ref, amount)"  # noqa: S608
            f" SELECT number, {text('kind', 20)}, {text('token', 100)},"
            f" {text('order_id', 40)}, {text('ref', 40)},"
            f" CASE WHEN {amount} ~ '^[0-9]{{1,18}}$' THEN {amount}::bigint END FROM {raw}"
        )
        count = cursor.rowcount
        cursor.execute(f"DROP TABLE {raw}")
        return count

    def drop(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")

    # -- differences --------------------------------------------------------------------------

    def open_cases(self) -> int:
        """Queue every line that does not match; the number of lines that do (before settling:
        a captured or settled payment of the same amount, a refund of the same amount)."""
        paid = tuple(str(s) for s in PAID_STATES)
        cases: list[FinanceCase] = []
        with connection.cursor() as cursor:
            cursor.execute(
                self.sql(
                    "SELECT t.number, t.kind, t.token, t.order_id, t.ref, t.amount,"
                    " p.id, p.amount, p.state, p.agency_id"
                    " FROM {stage} t LEFT JOIN {payment} p"
                    " ON p.provider = %s AND p.provider_token = t.token"
                    " WHERE t.kind <> 'refund' AND (p.id IS NULL OR t.kind <> 'payment'"
                    " OR t.amount IS NULL OR t.amount <> p.amount OR p.state NOT IN (%s, %s))"
                ),
                [self.provider, *paid],
            )
            for (
                number,
                kind,
                token,
                order_id,
                ref,
                amount,
                pid,
                expected,
                state,
                agency,
            ) in cursor.fetchall():
                key = f"{self.prefix}:{number}:{kind}:{token}:{ref}"
                self.unmatched += kind == "payment"
                if pid is None or kind != "payment":
                    cases.append(
                        self.case(
                            CaseKind.EXTRA,
                            key,
                            reported_amount=amount,
                            detail={"kind": kind, "token": token, "order_id": order_id},
                        )
                    )
                elif amount is None or amount != expected:
                    cases.append(
                        self.case(
                            CaseKind.AMOUNT,
                            key,
                            agency_id=agency,
                            payment_id=pid,
                            expected_amount=expected,
                            reported_amount=amount,
                        )
                    )
                else:
                    cases.append(
                        self.case(
                            CaseKind.STATE,
                            key,
                            agency_id=agency,
                            payment_id=pid,
                            expected_amount=0,
                            reported_amount=amount,
                            detail={"window": state},
                        )
                    )
            # A refund line names its payment's token and the bank's refund reference.
            cursor.execute(
                self.sql(
                    "SELECT t.number, t.token, t.ref, t.amount, p.id, p.agency_id, r.id, r.amount,"
                    " r.state"
                    " FROM {stage} t LEFT JOIN {payment} p"
                    " ON p.provider = %s AND p.provider_token = t.token"
                    " LEFT JOIN {refund} r ON r.payment_id = p.id AND r.provider_ref = t.ref"
                    " AND t.ref <> ''"
                    " WHERE t.kind = 'refund'"
                    " AND (r.id IS NULL OR t.amount IS NULL OR t.amount <> r.amount"
                    " OR r.state <> %s)"
                ),
                [self.provider, RefundState.REFUNDED],
            )
            for number, token, ref, amount, pid, agency, rid, expected, rstate in cursor.fetchall():
                key = f"{self.prefix}:{number}:refund:{token}:{ref}"
                if rid is not None and amount is not None and amount == expected:
                    # The bank gave the money back; the window holds the refund as not made.
                    cases.append(
                        self.case(
                            CaseKind.STATE,
                            key,
                            agency_id=agency,
                            payment_id=pid,
                            refund_id=rid,
                            expected_amount=0,
                            reported_amount=amount,
                            detail={"kind": "refund", "window": rstate},
                        )
                    )
                elif rid is None:
                    cases.append(
                        self.case(
                            CaseKind.EXTRA,
                            key,
                            agency_id=agency,
                            payment_id=pid,
                            reported_amount=amount,
                            detail={"kind": "refund", "ref": ref},
                        )
                    )
                else:
                    cases.append(
                        self.case(
                            CaseKind.AMOUNT,
                            key,
                            agency_id=agency,
                            payment_id=pid,
                            refund_id=rid,
                            expected_amount=expected,
                            reported_amount=amount,
                        )
                    )
            cursor.execute(
                self.sql(
                    "SELECT COUNT(*) FROM {stage} t JOIN {refund} r ON r.provider_ref = t.ref"
                    " JOIN {payment} p ON p.id = r.payment_id AND p.provider = %s"
                    " AND p.provider_token = t.token"
                    " WHERE t.kind = 'refund' AND t.ref <> '' AND t.amount = r.amount"
                    " AND r.state = %s"
                ),
                [self.provider, RefundState.REFUNDED],
            )
            matched = cursor.fetchone()[0]
            # Each matching refund is marked as found in a file (its ``missing`` check).
            cursor.execute(
                self.sql(
                    "UPDATE {refund} AS r SET settled_at = %s FROM {stage} AS t, {payment} AS p"
                    " WHERE t.kind = 'refund' AND t.ref <> '' AND r.provider_ref = t.ref"
                    " AND t.amount = r.amount AND r.state = %s AND r.settled_at IS NULL"
                    " AND p.id = r.payment_id AND p.provider = %s AND p.provider_token = t.token"
                ),
                [
                    connection.ops.adapt_datetimefield_value(timezone.now()),
                    RefundState.REFUNDED,
                    self.provider,
                ],
            )
        self._queue(cases)
        return matched

    def settle(self) -> int:
        """Move every captured payment with a matching line to settled, recording the move
        on the payment (its :attr:`~.models.Payment.settlement`: this file); the number of
        payment lines that match a paid payment (settled now or before).

        One ``UPDATE`` through the ORM (``QuerySet.update`` with an ``EXISTS`` of the file's
        line): no event row and no foreign-key check per payment. The machine stays the rule:
        the update takes only payments in a state the machine lets move to ``settled``
        (:func:`settle_from`), and PostgreSQL re-reads a row it waited for, so a payment moved
        by someone else meanwhile is left out, exactly as the machine would refuse it."""
        from . import operations  # the machine (operations imports us)

        sources = settle_from(operations.MACHINE)
        # The payment lines that match a paid payment of the same amount: all of them but
        # those :meth:`open_cases` queued (its join, read once; a token names one payment).
        lines = StagedLine.objects.filter(kind="payment")
        matched = lines.count() - self.unmatched
        line = lines.filter(token=OuterRef("provider_token"), amount=OuterRef("amount"))
        Payment.objects.filter(provider=self.provider, state__in=sources).filter(
            Exists(line)
        ).update(state=S.SETTLED, settled_at=timezone.now(), settlement=self.record)
        return matched

    def _windows(self) -> tuple[list[tuple[dt.date, tuple[dt.datetime, dt.datetime]]], dict]:
        """The days whose payments and refunds are now due in a file, with their spans and
        their files (see the module's text on the day boundary)."""
        day = self.record.day
        before = day - dt.timedelta(days=1)
        reconciled = set(
            SettlementFile.objects.filter(
                provider=self.provider,
                day__in=(before, day + dt.timedelta(days=1)),
            ).values_list("day", flat=True)
        )
        reconciled.add(day)
        start, end = day_bounds(day)
        windows = []
        if before in reconciled:  # absent from its own day's file and from this one
            windows.append((before, day_bounds(before)))
        if day + dt.timedelta(days=1) in reconciled or timezone.now() >= end + LATE_GRACE:
            windows.append((day, (start, end)))
        files = {
            f.day: f
            for f in SettlementFile.objects.filter(
                provider=self.provider, day__in=[d for d, _ in windows]
            )
        }
        return windows, files

    def missing(self) -> None:
        """Captured payments of this day or the one before that are in no file (see the
        module's text on the day boundary)."""
        windows, files = self._windows()
        cases: list[FinanceCase] = []
        for captured_day, (low, high) in windows:
            with connection.cursor() as cursor:
                cursor.execute(
                    self.sql(
                        "SELECT p.id, p.reference, p.agency_id, p.amount FROM {payment} p"
                        " WHERE p.provider = %s AND p.state = %s"
                        " AND p.captured_at >= %s AND p.captured_at < %s"
                        " AND NOT EXISTS (SELECT 1 FROM {stage} t"
                        " WHERE t.token = p.provider_token AND t.kind = 'payment')"
                    ),
                    [
                        self.provider,
                        S.CAPTURED,
                        connection.ops.adapt_datetimefield_value(low),
                        connection.ops.adapt_datetimefield_value(high),
                    ],
                )
                rows = cursor.fetchall()
            # A payment already queued for another difference (its line had another amount)
            # is not reported missing as well.
            queued = set(
                FinanceCase.objects.filter(
                    payment_id__in=[row[0] for row in rows], kind=CaseKind.AMOUNT
                ).values_list("payment_id", flat=True)
            )
            prefix = f"{self.provider}:{captured_day.isoformat()}"
            cases += [
                FinanceCase(
                    kind=CaseKind.MISSING,
                    line_key=f"{prefix}:missing:{reference}"[:200],
                    settlement=files.get(captured_day, self.record),
                    agency_id=agency,
                    payment_id=pk,
                    expected_amount=amount,
                    reported_amount=0,
                )
                for pk, reference, agency, amount in rows
                if pk not in queued
            ]
        self._queue(cases)

    def missing_refunds(self) -> None:
        """Refunds the window holds as made (the bank answered them) on this day or the one
        before, whose line is in no file: the same day boundary as payments. A refund found in
        a file has ``settled_at``; one whose bank's day was the day before is already marked
        by that day's file."""
        windows, files = self._windows()
        cases: list[FinanceCase] = []
        for done_day, (low, high) in windows:
            with connection.cursor() as cursor:
                cursor.execute(
                    self.sql(
                        "SELECT r.id, r.provider_ref, r.amount, p.id, p.agency_id"
                        " FROM {refund} r JOIN {payment} p ON p.id = r.payment_id"
                        " WHERE p.provider = %s AND r.state = %s AND r.settled_at IS NULL"
                        " AND r.ended_at >= %s AND r.ended_at < %s"
                        " AND NOT EXISTS (SELECT 1 FROM {stage} t WHERE t.kind = 'refund'"
                        " AND t.token = p.provider_token AND t.ref = r.provider_ref)"
                    ),
                    [
                        self.provider,
                        RefundState.REFUNDED,
                        connection.ops.adapt_datetimefield_value(low),
                        connection.ops.adapt_datetimefield_value(high),
                    ],
                )
                rows = cursor.fetchall()
            prefix = f"{self.provider}:{done_day.isoformat()}"
            cases += [
                FinanceCase(
                    kind=CaseKind.MISSING,
                    line_key=f"{prefix}:missing-refund:{rid}"[:200],
                    settlement=files.get(done_day, self.record),
                    agency_id=agency,
                    payment_id=pid,
                    refund_id=rid,
                    expected_amount=amount,
                    reported_amount=0,
                    detail={"kind": "refund", "ref": ref},
                )
                for rid, ref, amount, pid, agency in rows
            ]
        self._queue(cases)

    def adopt_refunds(self) -> None:
        """A refund line the window cannot match by the bank's reference, of a payment with a
        refund still asked (the provider's answer was lost, or the process died before it was
        written) of the same amount: the bank made that refund. It is recorded as made, with
        the bank's reference, through the refunds' machine (the settlement file is the bank's
        signed word), instead of being reported as an unknown line. Refunds of one payment
        and one amount are paired in the order they were asked; each line once."""
        from . import operations  # the refunds' machine (operations imports us)

        with connection.cursor() as cursor:
            cursor.execute(
                self.sql(
                    "SELECT t.number, t.ref, t.amount, p.id FROM {stage} t JOIN {payment} p"
                    " ON p.provider = %s AND p.provider_token = t.token"
                    " WHERE t.kind = 'refund' AND t.ref <> '' AND t.amount IS NOT NULL"
                    " AND NOT EXISTS (SELECT 1 FROM {refund} k"
                    " WHERE k.payment_id = p.id AND k.provider_ref = t.ref)"
                    " AND EXISTS (SELECT 1 FROM {refund} r WHERE r.payment_id = p.id"
                    " AND r.state = %s AND r.provider_ref = '' AND r.amount = t.amount)"
                    " ORDER BY t.number"
                ),
                [self.provider, RefundState.REQUESTED],
            )
            lines = cursor.fetchall()
        if not lines:
            return
        waiting: dict[tuple[int, int], list[Refund]] = {}
        for refund in Refund.objects.filter(
            payment_id__in={pid for _n, _r, _a, pid in lines},
            state=RefundState.REQUESTED,
            provider_ref="",
        ).order_by("created_at", "id"):
            waiting.setdefault((refund.payment_id, refund.amount), []).append(refund)
        now = timezone.now()
        day = self.record.day.isoformat()
        for _number, ref, amount, pid in lines:
            candidates = waiting.get((pid, amount), [])
            while candidates:
                refund = candidates.pop(0)
                try:
                    operations.REFUND_MACHINE.move(
                        refund,
                        RefundState.REFUNDED,
                        by=roles.SYSTEM,
                        event={"note": "settlement", "data": {"settlement": day}},
                        check=_still_without_ref,
                        provider_ref=ref[:40],
                        ended_at=now,
                        settled_at=now,
                    )
                except operations.InvalidTransition:
                    continue  # moved meanwhile (the refunds job heard the bank): the next one
                log.info("refund %s: recorded as made from the settlement of %s", refund.pk, day)
                break

    def _queue(self, cases: list[FinanceCase]) -> None:
        for start in range(0, len(cases), BATCH):
            FinanceCase.objects.bulk_create(cases[start : start + BATCH], ignore_conflicts=True)
        self.cases += len(cases)
