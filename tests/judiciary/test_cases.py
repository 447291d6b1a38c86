"""Case progress: the courts' event feed read through the exchange (a real ``courts`` registry
process behind the real gateway of a live server), each event kept once, one official notice
per party and step, the filed-against SMS, per-case rights and a failing registry."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import urllib.request

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from django.utils import translation

from panjereh.catalogue import operations as catalogue_operations
from panjereh.catalogue.models import Agency
from panjereh.common import messaging
from panjereh.exchange import breaker, gateway, provision
from panjereh.exchange.queries import accesses_to
from panjereh.inbox import notify
from panjereh.inbox.models import Message
from panjereh.judiciary import cases, queries
from panjereh.judiciary.models import Case, CaseEvent, CaseParty, FeedCursor, SanaAccount
from panjereh.mailbox.models import Notice
from panjereh.registries.courts import CourtBook
from panjereh.registries.population import Population
from panjereh.registries.supervisor import Cluster
from tests.factories import UserFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PLATFORM = {
    "code": "ito",
    "name_fa": "سازمان فناوری اطلاعات ایران",
    "name_en": "Information Technology Organization of Iran",
    "kind": "organisation",
    "connection_status": "connected",
    "connection_form": "national_system",
    "member_class": "GOV",
    "member_code": "10103609470",
}
POPULATION = Population(seed=1404, size=10_000)
_people = itertools.count(3000, 7)  # each test its own people: the registry outlives tests


@pytest.fixture(autouse=True)
def _language_back():
    language = translation.get_language()
    yield
    translation.activate(language)


@pytest.fixture(scope="session")
def courts():
    cluster = Cluster("small", seed=1404, registries=("courts",)).start()
    yield cluster
    cluster.stop()


def control(courts, **data) -> dict:
    request = urllib.request.Request(  # noqa: S310 -- the test's own loopback process
        f"{courts.url('courts')}/_control",
        data=json.dumps(data).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310
        return json.loads(answer.read())


@pytest.fixture
def window(live_server, courts, settings, tmp_path):
    """The exchange knows the courts; the national window holds grants on their services and
    has read the feed to its end (events of earlier tests are not this test's)."""
    settings.VAR_DIR = tmp_path
    settings.PANJEREH_JUDICIARY_EXCHANGE_URL = live_server.url
    settings.PANJEREH_EXCHANGE_SEAL_INTERVAL = 0
    gateway.clear_caches()
    breaker.reset()
    cache.clear()
    provision.register_registries(courts.addresses())
    operator = catalogue_operations.save_agency(
        Agency(), dict(PLATFORM), author=catalogue_operations.SYSTEM
    )
    cases.provision(operator, resolution_number="1404/test")
    run_job()
    yield courts
    courts.control("courts", mode="normal")
    breaker.reset()


def run_job() -> int:
    """The periodic job's run. On SQLite the live server's thread and the test's share one
    in-memory database, which can answer "table is locked" to the gateway's log write: such a
    run counts a failure like any failed read, and the job is run again (at most 5 times)."""
    recorded = 0
    for _attempt in range(5):
        recorded += cases.read_feed(force=True)
        if FeedCursor.objects.get(name=cases.FEED).failures == 0:
            return recorded
        breaker.reset()
    raise AssertionError(FeedCursor.objects.get(name=cases.FEED).last_error)


def person(*, sana: bool = True, mobile: str = "") -> object:
    """A window user who is someone of the synthetic population (valid national code)."""
    i = next(_people)
    code = POPULATION.national_code(i)
    user = UserFactory(
        is_staff=False, national_code=code, mobile=mobile or f"0912{i:07d}", email=""
    )
    if sana:
        SanaAccount.objects.create(user=user, sana_id=f"S{i:09d}", mobile=user.mobile, assurance=2)
    return user


def file_case(courts, plaintiff, defendant, kind: str = "civil") -> str:
    roles = {"civil": ("plaintiff", "defendant"), "criminal": ("complainant", "accused")}[kind]
    answer = control(
        courts,
        file_case={
            "kind": kind,
            "subject": "مطالبه وجه",
            "subject_en": "Claim for a sum of money",
            "parties": [
                {"national_code": plaintiff.national_code, "role": roles[0]},
                {"national_code": defendant.national_code, "role": roles[1]},
            ],
        },
    )
    return answer["number"]


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_feed_read_twice_keeps_each_event_once(window):
    a, b = person(), person()
    number = file_case(window, a, b)
    control(window, advance=number, kind="stage")
    assert cases.read_feed() == 2
    case = Case.objects.get(number=number)
    assert case.stage == "referred" and case.subject == "مطالبه وجه"
    assert case.data["subject_en"] == "Claim for a sum of money"
    assert set(case.parties.values_list("national_code", "role")) == {
        (a.national_code, "plaintiff"),
        (b.national_code, "defendant"),
    }
    assert cases.read_feed() == 0  # nothing new after the cursor
    FeedCursor.objects.filter(name=cases.FEED).update(cursor="")  # read it all again
    assert cases.read_feed() == 0
    assert CaseEvent.objects.filter(case=case).count() == 2
    assert Notice.objects.filter(recipient__in=[a.national_code, b.national_code]).count() == 4


def test_each_party_gets_one_notice_per_stage_hearing_and_decision(window):
    a, b = person(), person()
    outsider = person(sana=False)  # a window user named in no case
    number = file_case(window, a, b)
    control(window, advance=number, kind="stage", stage="examination")
    control(
        window, advance=number, kind="hearing", hearing_at="2027-01-10T09:30:00+03:30", room="4"
    )
    control(window, advance=number, kind="decision", summary="خوانده به پرداخت محکوم شد.")
    cases.read_feed()
    for user in (a, b):
        notices = Notice.objects.filter(recipient=user.national_code).order_by("created_at", "pk")
        assert notices.count() == 4
        assert {n.agency.member_code for n in notices} == {cases.judiciary_agency().member_code}
        hearing = next(n for n in notices if "تعیین وقت رسیدگی" in n.subject)
        assert (
            "۲۰ دی ۱۴۰۵" in hearing.body and "۰۹:۳۰" in hearing.body and "اتاق: ۴" in hearing.body
        )
        decision = next(n for n in notices if "صدور رأی" in n.subject)
        assert "خوانده به پرداخت محکوم شد." in decision.body
    assert not Notice.objects.filter(recipient=outsider.national_code).exists()
    # Told again (another worker, a re-read, a re-run): nothing more is sent.
    for event in CaseEvent.objects.filter(case__number=number):
        parties = [
            {"national_code": p.national_code, "role": p.role} for p in event.case.parties.all()
        ]
        users = {u.national_code: u for u in (a, b)}
        assert cases.tell(event, parties, users) == 0
        assert event.notice_reference
        assert set(event.detail["notices"]) == {str(a.pk), str(b.pk)}
    assert Notice.objects.filter(recipient__in=[a.national_code, b.national_code]).count() == 8


def test_an_sms_without_the_content_when_a_case_is_filed_against_a_person(window):
    complainant = person(sana=False)
    accused = person(sana=False)
    accused_with_sana = person()
    number = file_case(window, complainant, accused, kind="criminal")
    other = file_case(window, complainant, accused_with_sana, kind="criminal")
    control(window, advance=number, kind="stage")
    cases.read_feed()
    alerts = Message.objects.filter(user=accused, dedupe_key__startswith="courts-filed:")
    assert alerts.count() == 1  # the filing only; no later step is alerted without SANA
    assert not Message.objects.filter(user=complainant).exists()  # not filed against them
    assert not Notice.objects.filter(recipient=accused.national_code).exists()
    # The one with SANA gets the official notice of the filing (and its alert), not both.
    assert Notice.objects.filter(recipient=accused_with_sana.national_code).count() == 1
    assert not Message.objects.filter(
        user=accused_with_sana, dedupe_key__startswith="courts-filed:"
    ).exists()
    assert notify.deliver_pending() >= 2
    texts = [sms["text"] for sms in messaging.sent_sms(accused.mobile)]
    assert len(texts) == 1
    assert "پرونده" in texts[0]
    for secret in ("مطالبه", number, other, "کیفری"):
        assert secret not in texts[0]
    FeedCursor.objects.filter(name=cases.FEED).update(cursor="")
    cases.read_feed()
    assert notify.deliver_pending() == 0  # read again: no second alert
    assert len(messaging.sent_sms(accused.mobile)) == 1


def test_only_the_parties_see_a_case(window):
    a, b = person(), person()
    stranger = person()
    unregistered = person(sana=False)
    number = file_case(window, a, b)
    control(window, advance=number, kind="hearing", hearing_at="2027-01-10T09:30:00+03:30")
    cases.read_feed()
    page = signed_in(a).get(f"/judiciary/cases/{number}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "خواهان" in html or "Plaintiff" in html
    assert "۲۰ دی ۱۴۰۵" in html and "۰۹:۳۰" in html
    listing = signed_in(a).get("/judiciary/cases/").content.decode()
    assert f"/judiciary/cases/{number}/" in listing
    assert signed_in(stranger).get(f"/judiciary/cases/{number}/").status_code == 404
    assert (
        f"/judiciary/cases/{number}/"
        not in signed_in(stranger).get("/judiciary/cases/").content.decode()
    )
    assert signed_in(stranger).get("/judiciary/cases/0000000/").status_code == 404
    answer = signed_in(unregistered).get(f"/judiciary/cases/{number}/")
    assert answer.status_code == 302 and answer["Location"].startswith("/judiciary/sana/")
    assert Client().get("/judiciary/cases/").status_code == 302  # sign in first
    assert queries.case_for(stranger, number) is None
    assert queries.case_for(a, number).number == number
    english = signed_in(b).get(f"/en/judiciary/cases/{number}/").content.decode()
    assert "Defendant" in english and "Hearing set" in english


def test_a_failing_registry_then_back_loses_nothing(window):
    a, b = person(), person()
    start = dt.datetime(2027, 1, 5, 8, 0, tzinfo=dt.UTC)
    window.control("courts", mode="fail", status=503)
    number = file_case(window, a, b)
    with time_machine.travel(start, tick=False):
        assert cases.read_feed() == 0
    row = FeedCursor.objects.get(name=cases.FEED)
    assert row.failures == 1 and row.last_error and row.checked_at == start
    assert queries.feed_state().failing
    watcher = person()  # another user: their reading of their own cases is not the feed's
    page = signed_in(watcher).get("/judiciary/cases/").content.decode()
    assert 'id="courts-unreachable"' in page  # the courts cannot be asked now: said so
    window.control("courts", mode="normal")
    breaker.reset()
    cache.clear()
    page = signed_in(watcher).get("/judiciary/cases/").content.decode()
    assert 'id="courts-feed-late"' in page  # the courts answer; the feed's news is late
    breaker.reset()
    with time_machine.travel(start + cases.retry_after(1) - dt.timedelta(seconds=1), tick=False):
        assert cases.read_feed() == 0  # still waiting its pause
    assert not Case.objects.filter(number=number).exists()
    with time_machine.travel(start + cases.retry_after(1), tick=False):
        assert cases.read_feed() == 1
        event = CaseEvent.objects.get(case__number=number)
        assert event.received_at == start + cases.retry_after(1)
    row.refresh_from_db()
    assert row.failures == 0 and row.last_error == ""
    assert Notice.objects.filter(recipient=a.national_code).count() == 1


def test_a_persons_earlier_cases_are_read_with_their_history_and_no_notice(window):
    book = CourtBook(POPULATION)
    i = next(i for i in range(100, 3000) if book.cases_of(POPULATION.national_code(i)))
    seeded = book.cases_of(POPULATION.national_code(i))
    user = UserFactory(is_staff=False, national_code=POPULATION.national_code(i), mobile="")
    SanaAccount.objects.create(user=user, sana_id="S-seeded", mobile="", assurance=2)
    assert cases.sync_person(user) == sum(len(c["events"]) for c in seeded)
    assert cases.sync_person(user) == 0  # read a minute ago: not asked again
    assert cases.sync_person(user, force=True) == 0  # asked again: nothing new
    mine = queries.cases_of(user)
    assert sorted(c.number for c in mine) == sorted(c["number"] for c in seeded)
    for case in mine:
        assert case.stage == next(c for c in seeded if c["number"] == case.number)["stage"]
        assert CaseParty.objects.filter(case=case, national_code=user.national_code).exists()
    assert not Notice.objects.filter(recipient=user.national_code).exists()
    assert accesses_to(user.national_code).filter(service__code="cases").exists()
    page = signed_in(user).get("/judiciary/cases/")
    assert page.status_code == 200
    assert all(f"/judiciary/cases/{c['number']}/" in page.content.decode() for c in seeded)


def test_the_celery_task_runs_the_job(window):
    from panjereh.judiciary import tasks

    a, b = person(), person()
    number = file_case(window, a, b)
    assert tasks.read_cases.apply().get() == 1
    assert Case.objects.filter(number=number).exists()


def test_a_bad_event_is_skipped_not_kept():
    with pytest.raises(cases.BadEvent):
        cases.record({"event_id": "x\x00", "case_number": "1"}, from_feed=True)
    with pytest.raises(cases.BadEvent):
        cases.record(
            {"event_id": "e-1", "case_number": "123456", "kind": "filed", "at": "yesterday"},
            from_feed=True,
        )
    assert not CaseEvent.objects.exists()
