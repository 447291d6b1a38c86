"""The message log: every call recorded, chained, sealed; tampering found at the record."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from panjereh.exchange import log
from panjereh.exchange.models import LogHead, LogRecord, Seal

pytestmark = pytest.mark.django_db


@pytest.fixture
def calls(exchange, population):
    """Eight calls (answered and refused), sealed in batches of three."""
    service = exchange.service("civil", "household")
    exchange.grant(service, ["civil.household"])
    for i in range(6):
        code = population.national_code(i)
        assert exchange.call(service, code, code).status_code == 200
    refused = exchange.service("judiciary", "criminal-record")
    for i in range(2):
        code = population.national_code(i)
        assert exchange.call(refused, code, code).status_code == 403
    assert log.unsealed_count() == 8
    assert list(LogRecord.objects.order_by("id").values_list("seq", flat=True)) == list(range(1, 9))
    assert log.seal_pending(batch_size=3) == 8
    return list(LogRecord.objects.order_by("seq"))


def _verify_fails_at(seq: int, kind: str) -> None:
    result = log.verify()
    assert not result.ok
    assert result.problem.kind == kind, str(result.problem)
    assert result.problem.seq == seq, str(result.problem)


def test_records_are_chained_and_sealed(calls):
    assert [r.seq for r in calls] == list(range(1, 9))
    assert Seal.objects.count() == 3  # 3 + 3 + 2
    assert LogHead.objects.get().last_seq == 8
    assert len({r.hash for r in calls}) == 8
    result = log.verify()
    assert result.ok and result.checked == 8 and result.seals == 3 and result.unsealed == 0


def test_sealing_continues_the_chain(calls, exchange, population):
    service = exchange.service("civil", "household")
    code = population.national_code(30)
    exchange.call(service, code, code)
    assert log.verify().unsealed == 1
    assert log.seal_pending() == 1
    result = log.verify()
    assert result.ok and result.checked == 9


def test_a_changed_record_is_named(calls):
    # Someone rewrites whose data was read in record 5.
    LogRecord.objects.filter(seq=5).update(subject="0000000000")
    _verify_fails_at(5, "changed")


def test_a_changed_outcome_is_named(calls):
    LogRecord.objects.filter(seq=7).update(outcome="ok", http_status=200)
    _verify_fails_at(7, "changed")


def test_a_removed_record_is_named(calls):
    LogRecord.objects.filter(seq=4).delete()
    _verify_fails_at(4, "removed")


def test_a_removed_last_record_is_named(calls):
    LogRecord.objects.filter(seq=8).delete()
    _verify_fails_at(8, "removed")


def test_reordered_records_are_named(calls):
    # Swap the places of records 2 and 3 in the chain (through a free number: seq is unique).
    LogRecord.objects.filter(seq=2).update(seq=-2)
    LogRecord.objects.filter(seq=3).update(seq=2)
    LogRecord.objects.filter(seq=-2).update(seq=3)
    _verify_fails_at(2, "reordered")


def test_a_rehashed_chain_is_caught_by_the_seal(calls):
    # A forger edits record 4 and recomputes every hash after it: the signed seals disagree.
    records = list(LogRecord.objects.order_by("seq"))
    records[3].subject = "0000000000"
    previous = records[2].hash
    for record in records[3:]:
        record.hash = log.chain_hash(previous, record)
        previous = record.hash
    LogRecord.objects.bulk_update(records[3:], ["subject", "hash"])
    result = log.verify()
    assert not result.ok and result.problem.kind == "seal"
    assert result.problem.seq == 6  # the seal of records 4–6


def test_verify_log_command(calls):
    out = io.StringIO()
    call_command("exchange", "verify-log", stdout=out)
    assert "log verified: 8 records, 3 seals" in out.getvalue()

    LogRecord.objects.filter(seq=6).update(items=["civil.photo"])
    with pytest.raises(CommandError) as error:
        call_command("exchange", "verify-log", stdout=io.StringIO(), stderr=io.StringIO())
    assert "record seq 6" in str(error.value) and error.value.returncode == 2


def test_seal_command(exchange, population):
    service = exchange.service("civil", "household")
    exchange.grant(service, ["civil.household"])
    code = population.national_code(1)
    exchange.call(service, code, code)
    out = io.StringIO()
    call_command("exchange", "seal", stdout=out)
    assert out.getvalue().strip() == "sealed 1 records"
    assert log.verify().ok
