"""The credit check end to end: the real gateway of a live server in front of the Financial
Convictions Registry process. Nothing is read without both consents; each read is listed to
both people and lands in the subject's "who read my data" with the check's reference."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from panjereh.catalogue import roles
from panjereh.credit import operations, registry
from panjereh.credit.models import CheckState, CreditCheck, StatusRead
from panjereh.exchange.models import LogRecord
from panjereh.exchange.queries import accesses_to, my_data_reads
from panjereh.inbox.models import Delivery, Message
from panjereh.registries import convictions

from .conftest import make_person, signed_in

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def start(client, other_code: str, description: str = "اجاره آپارتمان خیابان آزادی", **extra):
    data = {"counterparty_code": other_code, "description": description, "consent": "on"}
    data.update(extra)
    return client.post("/credit/new/", data)


def act(client, reference: str, action: str):
    return client.post(f"/credit/{reference}/", {"action": action})


def no_exchange_call(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the registry was asked without both consents")

    monkeypatch.setattr(registry, "financial_status", refuse)


def test_one_consent_reads_nothing(window, people, monkeypatch):
    ali, sara = people
    before = LogRecord.objects.count()
    answer = start(signed_in(ali), sara.national_code)
    assert answer.status_code == 302
    check = CreditCheck.objects.get()
    assert check.state == CheckState.AWAITING and check.consents.count() == 1
    no_exchange_call(monkeypatch)
    refused = signed_in(ali).post(f"/en/credit/{check.reference}/", {"action": "read"})
    assert refused.status_code == 409
    assert "Both of you must consent" in refused.content.decode()
    with pytest.raises(operations.CheckRefused):
        operations.read_status(check, ali)
    # The other party, who has not consented, cannot read either.
    with pytest.raises(operations.CheckRefused):
        operations.read_status(check, sara)
    assert LogRecord.objects.count() == before
    assert not StatusRead.objects.exists()
    assert not accesses_to(sara.national_code).exists()
    # Sara was told, by inbox and SMS, without any status.
    message = Message.objects.get(user=sara)
    assert message.link_url == f"/credit/{check.reference}/"
    assert Delivery.objects.filter(message=message, channel="sms").exists()


def test_after_both_consents_each_sees_the_other_and_every_read_is_shown_to_both(
    window, people, population
):
    ali, sara = people
    ali_client, sara_client = signed_in(ali), signed_in(sara)
    start(ali_client, sara.national_code)
    check = CreditCheck.objects.get()
    # Sara finds it in her list, opens it and agrees.
    assert check.reference in sara_client.get("/credit/").content.decode()
    assert act(sara_client, check.reference, "consent").status_code == 302
    check.refresh_from_db()
    assert check.state == CheckState.CONSENTED and check.counterparty == sara

    assert act(ali_client, check.reference, "read").status_code == 302
    assert act(sara_client, check.reference, "read").status_code == 302

    expected = convictions.status(population, population.index_of(sara.national_code))
    ali_page = ali_client.get(f"/en/credit/{check.reference}/").content.decode()
    assert f"{expected['count']} open financial convictions" in ali_page
    assert f"{expected['total_rials']:,} rials" in ali_page
    assert 'id="risk-warning"' in ali_page
    sara_page = sara_client.get(f"/en/credit/{check.reference}/").content.decode()
    assert "has no open financial conviction" in sara_page
    # Both reads are listed to both people.
    for page in (ali_page, sara_page):
        assert "You read the other party's status" in page
        assert "The other party read your status" in page
    reads = StatusRead.objects.filter(credit_check=check)
    assert {(r.reader_code, r.subject_code) for r in reads} == {
        (ali.national_code, sara.national_code),
        (sara.national_code, ali.national_code),
    }
    # Each read is in the subject's "who read my data", under the check's reference, and in
    # the reader's as a read made for them: both people see both reads, one log record each.
    for person in (ali, sara):
        records = list(accesses_to(person.national_code))
        assert len(records) == 1 and records[0].issue == check.reference
        assert records[0].items == ["convictions.financial_status"]
        listed = list(my_data_reads(person.national_code))
        assert {r.x_road_id for r in listed} == {r.message_id for r in reads}
        assert {(r.subject, r.made_for) for r in listed} == {
            (ali.national_code, sara.national_code),
            (sara.national_code, ali.national_code),
        }
        mine = signed_in(person).get("/en/exchange/my-data/").content.decode()
        assert check.reference in mine and "Financial-conviction status" in mine
        assert mine.count("read for you</td>") == 1 and mine.count("<td>Yours</td>") == 1
    # A third person sees neither read.
    third = make_person(population.national_code(9_999), "09123333333")
    assert not my_data_reads(third.national_code).exists()
    assert check.reference not in signed_in(third).get("/en/exchange/my-data/").content.decode()
    # The reader's own data was not read by their own read.
    assert {r.x_road_id for r in LogRecord.objects.all()} == {r.message_id for r in reads}
    # Each was told their status was seen; no alert carries a status.
    assert Message.objects.filter(user=sara, dedupe_key__contains=":read:").count() == 1
    assert Message.objects.filter(user=ali, dedupe_key__contains=":consented:").count() == 1
    for message in Message.objects.all():
        text = message.subject_fa + message.body_fa + message.subject_en + message.body_en
        assert str(expected["total_rials"]) not in text and "rials" not in text


def test_an_expired_consent_reads_nothing(window, people, monkeypatch, settings):
    ali, sara = people
    check = operations.start_check(
        ali, counterparty_code=sara.national_code, description="فروش خودرو"
    )
    operations.give_consent(check, sara)
    before = LogRecord.objects.count()
    no_exchange_call(monkeypatch)
    days = operations.consent_days()
    with time_machine.travel(timezone.now() + dt.timedelta(days=days, minutes=1), tick=False):
        with pytest.raises(operations.CheckRefused):
            operations.read_status(check, ali)
        page = signed_in(sara).get(f"/en/credit/{check.reference}/")
        assert 'data-state="expired"' in page.content.decode()
        assert act(signed_in(sara), check.reference, "read").status_code == 409
    check.refresh_from_db()
    assert check.state == CheckState.EXPIRED and check.closed_at is not None
    assert LogRecord.objects.count() == before and not StatusRead.objects.exists()


def test_a_consent_given_late_still_expires_when_the_check_does(window, people, monkeypatch):
    ali, sara = people
    check = operations.start_check(ali, counterparty_code=sara.national_code, description="وام")
    days = operations.consent_days()
    with time_machine.travel(timezone.now() + dt.timedelta(days=days, seconds=5), tick=False):
        with pytest.raises(operations.CheckRefused):
            operations.give_consent(check, sara)
    check.refresh_from_db()
    assert check.state == CheckState.EXPIRED


def test_withdrawn_consent_reads_nothing_and_erases_what_was_shown(window, people, monkeypatch):
    ali, sara = people
    check = operations.start_check(
        ali, counterparty_code=sara.national_code, description="مشارکت در ساخت"
    )
    operations.give_consent(check, sara)
    operations.read_status(check, ali)
    assert StatusRead.objects.get().result["count"] >= 2
    assert act(signed_in(sara), check.reference, "withdraw").status_code == 302
    check.refresh_from_db()
    assert check.state == CheckState.WITHDRAWN
    assert StatusRead.objects.get().result == {}  # the read stays listed, its content erased
    before = LogRecord.objects.count()
    no_exchange_call(monkeypatch)
    for person in (ali, sara):
        with pytest.raises(operations.CheckRefused):
            operations.read_status(check, person)
    page = signed_in(ali).get(f"/en/credit/{check.reference}/").content.decode()
    assert 'id="result"' not in page and "You read the other party's status" in page
    assert LogRecord.objects.count() == before
    assert Message.objects.filter(user=ali, dedupe_key__endswith=":withdrawn").exists()
    with pytest.raises(operations.CheckRefused):
        operations.give_consent(check, ali)


def test_withdrawal_before_any_consent_of_the_other(window, people, monkeypatch):
    ali, sara = people
    check = operations.start_check(ali, counterparty_code=sara.national_code, description="رهن")
    operations.withdraw(check, sara)  # the asked party refuses outright
    check.refresh_from_db()
    assert check.state == CheckState.WITHDRAWN
    no_exchange_call(monkeypatch)
    with pytest.raises(operations.CheckRefused):
        operations.read_status(check, ali)


def test_a_third_person_gets_404(window, people):
    ali, sara = people
    check = operations.start_check(ali, counterparty_code=sara.national_code, description="اجاره")
    operations.give_consent(check, sara)
    third = make_person("0012345679", "09123333333")
    client = signed_in(third)
    assert client.get(f"/credit/{check.reference}/").status_code == 404
    for action in ("consent", "withdraw", "read"):
        assert act(client, check.reference, action).status_code == 404
    assert check.reference not in client.get("/credit/").content.decode()
    with pytest.raises(roles.NotPermitted):
        operations.read_status(check, third)
    assert not StatusRead.objects.exists() and not LogRecord.objects.exists()


def test_registry_down_says_so_and_records_no_read(window, people):
    ali, sara = people
    check = operations.start_check(ali, counterparty_code=sara.national_code, description="اجاره")
    operations.give_consent(check, sara)
    window.control(convictions.NAME, mode="fail", status=503)
    answer = signed_in(ali).post(f"/en/credit/{check.reference}/", {"action": "read"})
    assert answer.status_code == 503
    page = answer.content.decode()
    assert "cannot be reached now" in page and 'class="error-summary"' in page
    persian = act(signed_in(ali), check.reference, "read").content.decode()
    assert "سامانه ثبت محکومیت‌های مالی دسترسی نیست" in persian
    assert not StatusRead.objects.exists()
    assert not accesses_to(sara.national_code).exists()
    assert not Message.objects.filter(user=sara, dedupe_key__contains=":read:").exists()
    # Back up: the read goes through.
    window.control(convictions.NAME, mode="normal")
    from panjereh.exchange import breaker

    breaker.reset()
    assert act(signed_in(ali), check.reference, "read").status_code == 302
    assert StatusRead.objects.count() == 1
