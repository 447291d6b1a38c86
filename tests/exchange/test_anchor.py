"""The external anchor: each committed seal copied to an append-only file (and a witness), so
that cutting off the newest records together with their seals is found."""

from __future__ import annotations

import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import CommandError, call_command

from panjereh.exchange import anchor, log
from panjereh.exchange.models import LogHead, LogRecord, Seal

pytestmark = pytest.mark.django_db


@pytest.fixture
def anchor_file(settings, tmp_path):
    path = tmp_path / "anchor" / "exchange-anchor.jsonl"
    settings.PANJEREH_EXCHANGE_ANCHOR_PATH = str(path)
    return path


def _seal(capture, **options) -> int:
    # The sealer anchors after its transaction commits; the test's transaction never does, so
    # run the on-commit callbacks as a commit would.
    with capture(execute=True):
        return log.seal_pending(**options)


@pytest.fixture
def sealed(exchange, population, anchor_file, django_capture_on_commit_callbacks):
    """Eight calls sealed in batches of three (seals 1–3, 4–6, 7–8), each seal anchored."""
    service = exchange.service("civil", "household")
    exchange.grant(service, ["civil.household"])
    for i in range(8):
        code = population.national_code(i)
        assert exchange.call(service, code, code).status_code == 200
    assert _seal(django_capture_on_commit_callbacks, batch_size=3) == 8
    return anchor_file


def _cut_off_after(seq: int) -> None:
    """What a careful intruder does: delete the newest records and their seals and rewind the
    head, leaving a shorter chain that is valid in itself."""
    seals = list(Seal.objects.filter(last_seq__gt=seq).values_list("pk", flat=True))
    LogRecord.objects.filter(seq__gt=seq).delete()
    Seal.objects.filter(pk__in=seals).delete()
    last = LogRecord.objects.get(seq=seq)
    LogHead.objects.filter(pk=1).update(last_seq=seq, last_hash=last.hash)


def test_each_seal_is_appended_to_the_anchor_file(sealed):
    lines = [json.loads(line) for line in sealed.read_text().splitlines()]
    seals = list(Seal.objects.order_by("last_seq"))
    assert [(e["first_seq"], e["last_seq"]) for e in lines] == [(1, 3), (4, 6), (7, 8)]
    assert [e["seal"] for e in lines] == [s.pk for s in seals]
    assert lines[-1]["last_hash"] == seals[-1].last_hash == LogRecord.objects.get(seq=8).hash
    assert lines[-1]["last_record"] == LogRecord.objects.get(seq=8).pk
    assert lines[-1]["signature"] == seals[-1].signature


def test_a_clean_log_verifies_against_its_anchor(sealed):
    result = log.verify()
    assert result.ok and result.checked == 8 and result.warnings == []
    assert result.anchor["last_seq"] == 8


def test_newest_records_deleted_with_their_seals_are_found(sealed):
    _cut_off_after(6)
    result = log.verify()
    assert not result.ok
    assert result.problem.kind == "removed" and result.problem.seq == 7
    assert "records after 6 were deleted together with their seals" in str(result.problem)

    with pytest.raises(CommandError) as error:
        call_command("exchange", "verify-log", stdout=io.StringIO(), stderr=io.StringIO())
    assert error.value.returncode == 2 and "records after 6" in str(error.value)
    with pytest.raises(CommandError):
        call_command("exchange", "check-anchor", stdout=io.StringIO(), stderr=io.StringIO())


def test_everything_deleted_is_found(sealed):
    LogRecord.objects.all().delete()
    Seal.objects.all().delete()
    LogHead.objects.all().delete()
    result = log.verify()
    assert not result.ok and "records after 0 were deleted" in str(result.problem)


def test_without_the_anchor_the_cut_goes_unseen_and_is_warned_about(sealed):
    # The known limit the anchor closes: the chain alone cannot see the cut.
    sealed.unlink()
    _cut_off_after(6)
    result = log.verify()
    assert result.ok and result.checked == 6
    assert len(result.warnings) == 1 and "no anchor file" in result.warnings[0]
    err = io.StringIO()
    out = io.StringIO()
    call_command("exchange", "verify-log", stdout=out, stderr=err)
    assert "log verified: 6 records" in out.getvalue()
    assert "warning: no anchor file" in err.getvalue()


def test_a_missing_anchor_on_a_clean_log_is_a_warning(exchange, population, anchor_file):
    service = exchange.service("civil", "household")
    exchange.grant(service, ["civil.household"])
    code = population.national_code(3)
    exchange.call(service, code, code)
    log.seal_pending()  # never committed here: nothing is anchored
    assert not anchor_file.exists()
    result = log.verify()
    assert result.ok and "no anchor file" in result.warnings[0]


def test_an_anchor_behind_the_database_is_a_warning(
    sealed, exchange, population, django_capture_on_commit_callbacks
):
    service = exchange.service("civil", "household")
    code = population.national_code(20)
    exchange.call(service, code, code)
    log.seal_pending()  # sealed, but (as after a crash before the append) not anchored
    result = log.verify()
    assert result.ok and result.checked == 9
    assert "behind the database by 1 seal" in result.warnings[0]
    exchange.call(service, code, code)
    _seal(django_capture_on_commit_callbacks)
    result = log.verify()
    assert result.ok and result.warnings == [] and result.anchor["last_seq"] == 10


def test_a_seal_that_differs_from_its_anchor_is_named(sealed):
    Seal.objects.filter(last_seq=8).update(signature="AAAA")
    checked = anchor.check()
    assert not checked.ok and checked.problem.kind == "seal"
    assert "differs from its copy in the anchor file" in str(checked.problem)


def test_forged_anchor_lines_are_ignored_with_a_warning(sealed):
    lines = sealed.read_text().splitlines()
    forged = json.loads(lines[-1])
    forged.update(first_seq=9, last_seq=50)  # a false alarm: "records after 8 were deleted"
    with sealed.open("a") as handle:
        handle.write(json.dumps(forged) + "\n")
        handle.write("not json\n")
    result = log.verify()
    assert result.ok
    assert any("not signed by the log's key" in w for w in result.warnings)
    assert any("unreadable" in w for w in result.warnings)


def test_check_anchor_command(sealed):
    out = io.StringIO()
    call_command("exchange", "check-anchor", stdout=out, stderr=io.StringIO())
    assert "anchor matches: seal 7–8" in out.getvalue()


class _Witness(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802 -- the stdlib's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_seals_are_sent_to_a_witness(
    exchange, population, anchor_file, settings, django_capture_on_commit_callbacks
):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Witness)
    _Witness.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        settings.PANJEREH_EXCHANGE_ANCHOR_WITNESS_URL = (
            f"http://127.0.0.1:{server.server_address[1]}/anchors"
        )
        service = exchange.service("civil", "household")
        exchange.grant(service, ["civil.household"])
        for i in range(2):
            code = population.national_code(i)
            exchange.call(service, code, code)
        _seal(django_capture_on_commit_callbacks)
    finally:
        server.shutdown()
        server.server_close()
    seal = Seal.objects.get()
    assert [(e["seal"], e["last_seq"], e["last_hash"]) for e in _Witness.received] == [
        (seal.pk, 2, seal.last_hash)
    ]
    assert json.loads(anchor_file.read_text())["seal"] == seal.pk


def test_an_unreachable_witness_does_not_stop_sealing(
    exchange, population, anchor_file, settings, django_capture_on_commit_callbacks
):
    settings.PANJEREH_EXCHANGE_ANCHOR_WITNESS_URL = "http://127.0.0.1:9/anchors"
    service = exchange.service("civil", "household")
    exchange.grant(service, ["civil.household"])
    code = population.national_code(1)
    exchange.call(service, code, code)
    assert _seal(django_capture_on_commit_callbacks) == 1
    assert anchor_file.exists() and log.verify().ok
