"""The payments table's design for a settlement file of a million lines (docs/payments.md, "The
settlement file"): settling a payment writes no index entry (a HOT update on PostgreSQL), and
"live" read from ``ended_at`` is exactly "in a live state", which the database keeps so."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from panjereh.catalogue import roles
from panjereh.common.jalali import TEHRAN
from panjereh.payments import operations, settlement
from panjereh.payments.models import Payment, PaymentEvent, PaymentState
from tests.payments.conftest import bank_page, new_payment, start

pytestmark = pytest.mark.django_db
S = PaymentState
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="HOT updates and fillfactor are PostgreSQL's"
)


def _table_stats() -> tuple[int, int]:
    """This transaction's updates of the payments table, and how many of them were HOT."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relname = %s",
            [Payment._meta.db_table],
        )
        row = cursor.fetchone()
    return (row[0], row[1]) if row else (0, 0)


@postgres_only
def test_no_index_of_the_payments_table_reads_the_state_or_the_settlement():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s",
            [Payment._meta.db_table],
        )
        indexes = dict(cursor.fetchall())
        cursor.execute(
            "SELECT reloptions FROM pg_class WHERE relname = %s", [Payment._meta.db_table]
        )
        options = cursor.fetchone()[0] or []
    assert "one_live_payment_per_purpose" in indexes and "payment_check_due" in indexes
    reading = [name for name, text in indexes.items() if re.search(r"\b(state|settled_at)\b", text)]
    assert reading == []
    assert "fillfactor=50" in options


@postgres_only
@pytest.mark.slow
def test_settling_payments_is_a_hot_update_recorded_on_the_payment(agency, citizen):
    payments = []
    for _ in range(3):
        payment = new_payment(agency, citizen, amount=10_000)
        payments.append(
            operations.handle_callback(bank_page(start(payment), "6037990000000006").fields)
        )
    assert {p.state for p in payments} == {S.CAPTURED}
    events = PaymentEvent.objects.count()
    updates, hot = _table_stats()
    day = timezone.now().astimezone(TEHRAN).date()
    record = operations.reconcile_settlement(day, actor=roles.SYSTEM)
    assert record.matched == 3
    after = _table_stats()
    # Three payments moved to settled, no index touched: each new version in its own page.
    assert (after[0] - updates, after[1] - hot) == (3, 3)
    # No event row per payment: the payment keeps the file that settled it, and its history
    # shows the move from it.
    assert PaymentEvent.objects.count() == events
    for payment in payments:
        payment.refresh_from_db()
        assert payment.state == S.SETTLED and payment.settled_at is not None
        assert payment.settlement_id == record.pk
        last = payment.history()[-1]
        assert (last.from_state, last.to_state, last.source, last.actor_id, last.data) == (
            S.CAPTURED,
            S.SETTLED,
            "settlement",
            None,
            {"day": day.isoformat()},
        )
        assert last.at == payment.settled_at


@postgres_only
def test_the_settlement_has_no_foreign_key_constraint_to_check_per_payment():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'"
            " AND %s = ANY (SELECT attname FROM pg_attribute WHERE attrelid = conrelid"
            " AND attnum = ANY (conkey))",
            [Payment._meta.db_table, "settlement_id"],
        )
        assert cursor.fetchall() == []


def test_the_settlement_moves_only_from_the_states_the_machine_allows():
    """The set-based move reads its states from the payments' machine: captured only; a
    machine that let no state settle stops the settlement instead of moving anything."""
    from panjereh.common.statemachine import Machine

    assert settlement.settle_from(operations.MACHINE) == [S.CAPTURED]
    assert all(
        operations.MACHINE.can(state, S.SETTLED)
        for state in settlement.settle_from(operations.MACHINE)
    )
    with pytest.raises(RuntimeError):
        settlement.settle_from(Machine({S.CAPTURED: set(), S.SETTLED: set()}))


def test_only_an_ended_payment_has_an_end_and_the_purpose_can_then_be_paid_again(agency, citizen):
    payment = new_payment(agency, citizen, purpose_id="END-1")
    assert payment.ended_at is None
    # The database refuses a state and an end that disagree, whoever writes them.
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.filter(pk=payment.pk).update(state=S.FAILED)
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.filter(pk=payment.pk).update(ended_at=timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.filter(pk=payment.pk).update(
            state=S.CAPTURED, captured_amount=payment.amount, ended_at=timezone.now()
        )
    # Still live: asking again for the purpose answers the same payment.
    assert new_payment(agency, citizen, purpose_id="END-1").pk == payment.pk
    operations.cancel_payment(payment, actor=roles.SYSTEM)
    payment.refresh_from_db()
    assert payment.state == S.CANCELLED and payment.ended_at is not None
    again = new_payment(agency, citizen, purpose_id="END-1")
    assert again.pk != payment.pk and again.ended_at is None
    # Two live payments of one purpose stay impossible; a second ended one is allowed.
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.filter(pk=payment.pk).update(state=S.CREATED, ended_at=None)
    Payment.objects.filter(pk=again.pk).update(
        state=S.EXPIRED, ended_at=timezone.now() - dt.timedelta(minutes=1), next_check_at=None
    )
    assert Payment.objects.filter(purpose_id="END-1", ended_at__isnull=False).count() == 2
