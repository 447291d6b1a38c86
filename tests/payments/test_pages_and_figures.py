"""The callback endpoint and the pages (Persian first), and the finance figures by day and by
Jalali month, counted from the rows."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from panjereh.catalogue import roles
from panjereh.common.jalali import TEHRAN, Month
from panjereh.payments import operations, queries
from panjereh.payments.models import FinanceCase, Payment, PaymentState
from tests.factories import UserFactory, make_agency, make_agency_staff
from tests.payments.conftest import bank_page, callback_path, new_payment, start

pytestmark = pytest.mark.django_db
SUCCESS = "6037990000000006"


@pytest.mark.slow
def test_the_bank_posts_back_through_the_browser_and_the_payer_lands_on_the_payment(
    client, agency, citizen
):
    payment = new_payment(agency, citizen, actor=citizen)
    client.force_login(citizen)
    page = client.get(f"/payments/{payment.reference}/")
    assert page.status_code == 200 and "۱٬۲۰۰٬۰۰۰" in page.content.decode()
    to_bank = client.post(f"/payments/{payment.reference}/", {"action": "pay"})
    assert to_bank.status_code == 302 and "/pay/" in to_bank["Location"]
    result = bank_page(to_bank["Location"], SUCCESS)
    assert callback_path(result) == "/payments/callback/simulated/"
    from django.test import Client

    # The bank's POST is cross-site: no session cookie (SameSite=Lax) and no CSRF token.
    back = Client(enforce_csrf_checks=True).post(callback_path(result), result.fields)
    assert back.status_code == 302 and back["Location"] == f"/payments/{payment.reference}/"
    shown = client.get(back["Location"]).content.decode()
    assert 'data-state="captured"' in shown
    assert Payment.objects.get(pk=payment.pk).state == PaymentState.CAPTURED


@pytest.mark.slow
def test_a_forged_callback_gets_a_localised_refusal_page(client, agency, citizen):
    payment = new_payment(agency, citizen)
    result = bank_page(start(payment), SUCCESS)
    answer = client.post(callback_path(result), {**result.fields, "amount": "1"})
    assert answer.status_code == 400
    assert 'class="error-summary"' in answer.content.decode()
    assert Payment.objects.get(pk=payment.pk).state == PaymentState.STARTED


@pytest.mark.slow
def test_the_payments_page_shows_its_history_with_the_settlement(client, agency, citizen):
    """Settled by the bank's file (recorded on the payment, not as an event row): the page's
    history still ends with the move to «paid and settled», in Persian, with a Jalali date."""
    payment = new_payment(agency, citizen, actor=citizen)
    operations.handle_callback(bank_page(start(payment), SUCCESS).fields)
    day = timezone.now().astimezone(TEHRAN).date()
    operations.reconcile_settlement(day, actor=roles.SYSTEM)
    payment.refresh_from_db()
    assert payment.state == PaymentState.SETTLED and payment.settlement is not None
    client.force_login(citizen)
    shown = client.get(f"/payments/{payment.reference}/").content.decode()
    history = shown[shown.index('<ol id="history">') :]
    history = history[: history.index("</ol>")]
    states = [part.split('"', 1)[0] for part in history.split('data-state="')[1:]]
    assert states == ["created", "started", "authorised", "captured", "settled"]
    assert "تسویه" in history.rsplit("<li", 1)[1]  # «پرداخت و تسویه‌شده»


def test_the_callback_takes_only_post_and_an_unknown_provider_is_not_found(client):
    assert client.get("/payments/callback/simulated/").status_code == 405
    assert client.post("/payments/callback/nobody/", {}).status_code == 404


def test_a_payment_page_is_only_the_payers(client, agency, citizen):
    payment = new_payment(agency, citizen)
    stranger = UserFactory(is_staff=False, national_code="0000000019")
    stranger.save()
    client.force_login(stranger)
    assert client.get(f"/payments/{payment.reference}/").status_code == 404
    assert client.post(f"/payments/{payment.reference}/", {"action": "cancel"}).status_code == 404
    assert Payment.objects.get(pk=payment.pk).state == PaymentState.CREATED


def test_the_pay_button_needs_the_csrf_token(agency, citizen):
    from django.test import Client

    payment = new_payment(agency, citizen)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(citizen)
    assert strict.post(f"/payments/{payment.reference}/", {"action": "cancel"}).status_code == 403


@pytest.mark.slow
def test_the_bank_down_shows_a_clear_message_and_charges_nothing(client, agency, citizen, psp):
    payment = new_payment(agency, citizen)
    client.force_login(citizen)
    psp.control(mode="down")
    answer = client.post(f"/payments/{payment.reference}/", {"action": "pay"})
    assert answer.status_code == 503
    assert "error-summary" in answer.content.decode()
    assert Payment.objects.get(pk=payment.pk).state == PaymentState.CREATED


def test_my_payments_lists_only_mine(client, agency, citizen):
    mine = new_payment(agency, citizen)
    other = UserFactory(is_staff=False, national_code="0000000027")
    other.save()
    theirs = new_payment(agency, other)
    client.force_login(citizen)
    text = client.get("/payments/").content.decode()
    assert f"/payments/{mine.reference}/" in text and theirs.reference not in text
    assert list(queries.history(citizen)) == [mine]


def test_the_finance_page_is_for_staff_of_the_agency_and_supervisors(client, agency, citizen):
    client.force_login(citizen)
    assert client.get("/payments/finance/").status_code == 403
    viewer = make_agency_staff(agency, "viewer")
    client.force_login(viewer)
    page = client.get("/payments/finance/")
    assert page.status_code == 200 and 'id="figures"' in page.content.decode()
    assert client.get("/payments/finance/?by=month").status_code == 200


def _paid_at(agency, citizen, amount, when):
    payment = new_payment(agency, citizen, amount=amount)
    Payment.objects.filter(pk=payment.pk).update(
        state=PaymentState.CAPTURED, captured_amount=amount, captured_at=when
    )
    return payment


def test_figures_by_day_and_by_jalali_month_add_up_from_the_rows(agency, citizen, monkeypatch):
    other = make_agency()
    operations.save_treasury_account(
        other,
        shaba="IR"
        + f"{98 - int('0170999999999999999999' + '182700') % 97:02d}"
        + "0170999999999999999999",
        treasury_id="x",
        title="x",
        actor=roles.SYSTEM,
    )
    # 1404-09-30 and 1404-10-01 (Tehran): two days, two Jalali months.
    last_of_azar = dt.datetime(2025, 12, 21, 12, tzinfo=TEHRAN)
    first_of_dey = dt.datetime(2025, 12, 22, 0, 30, tzinfo=TEHRAN)
    _paid_at(agency, citizen, 100_000, last_of_azar)
    refunded = _paid_at(agency, citizen, 300_000, first_of_dey)
    _paid_at(other, citizen, 7_000, first_of_dey)
    monkeypatch.setattr(operations, "submit_refund", lambda refund: refund)
    refund = operations.request_refund(refunded, amount=50_000, reason="r", actor=roles.SYSTEM)
    refund.__class__.objects.filter(pk=refund.pk).update(state="refunded", ended_at=first_of_dey)
    pending = new_payment(agency, citizen, amount=9_000)
    Payment.objects.filter(pk=pending.pk).update(created_at=first_of_dey)
    case = FinanceCase.objects.create(
        kind="amount", line_key="k", agency=agency, expected_amount=10, reported_amount=4
    )
    FinanceCase.objects.filter(pk=case.pk).update(opened_at=first_of_dey)

    days = queries.figures(
        start=dt.date(2025, 12, 21), end=dt.date(2025, 12, 22), agency_ids=[agency.pk]
    )
    assert [(r.period, r.collected, r.refunded, r.pending, r.mismatch) for r in days.rows] == [
        (dt.date(2025, 12, 21), 100_000, 0, 0, 0),
        (dt.date(2025, 12, 22), 300_000, 50_000, 9_000, 6),
    ]
    months = queries.figures(
        start=dt.date(2025, 12, 21), end=dt.date(2025, 12, 22), agency_ids=[agency.pk], by="month"
    )
    assert [(r.period, r.collected, r.net) for r in months.rows] == [
        (Month(1404, 9), 100_000, 100_000),
        (Month(1404, 10), 300_000, 250_000),
    ]
    everyone = queries.figures(start=dt.date(2025, 12, 21), end=dt.date(2025, 12, 22))
    assert everyone.total("collected") == 407_000
    assert timezone.now()  # figures never depend on the clock


# -- the finance page: who sees what, resolving cases, the CSV; the payer's history ------------


def _supervisor(role=roles.AEO):
    from django.contrib.auth.models import Group

    user = UserFactory(is_staff=True)
    user.save()
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


@pytest.fixture
def two_agencies(agency, citizen):
    other = make_agency(code="other-finance")
    operations.save_treasury_account(
        other, shaba=conftest_shaba(), treasury_id="x", title="x", actor=roles.SYSTEM
    )
    now = timezone.now()
    mine = _paid_at(agency, citizen, 120_000, now)
    theirs = _paid_at(other, citizen, 77_000, now)
    ours = FinanceCase.objects.create(
        kind="amount", line_key="ours", agency=agency, payment=mine,
        expected_amount=120_000, reported_amount=100_000,
    )  # fmt: skip
    others = FinanceCase.objects.create(
        kind="missing", line_key="theirs", agency=other, payment=theirs, expected_amount=77_000
    )
    return other, ours, others


def conftest_shaba():
    from tests.payments.conftest import shaba

    return shaba()


def test_agency_staff_see_only_their_agency_and_supervisors_all(client, agency, two_agencies):
    other, ours, others = two_agencies
    viewer = make_agency_staff(agency, "viewer")
    client.force_login(viewer)
    text = client.get("/payments/finance/").content.decode()
    assert f'id="case-{ours.pk}"' in text and f'id="case-{others.pk}"' not in text
    assert 'data-figure="collected">۱۲۰٬۰۰۰' in text  # theirs (77,000) not added
    assert "agency-filter" not in text  # one agency: nothing to choose
    assert client.get(f"/payments/finance/?agency={other.code}").status_code == 404

    supervisor = _supervisor()
    client.force_login(supervisor)
    text = client.get("/payments/finance/").content.decode()
    assert f'id="case-{ours.pk}"' in text and f'id="case-{others.pk}"' in text
    assert 'data-figure="collected">۱۹۷٬۰۰۰' in text and "agency-filter" in text
    one = client.get(f"/payments/finance/?agency={other.code}").content.decode()
    assert 'data-figure="collected">۷۷٬۰۰۰' in one and f'id="case-{ours.pk}"' not in one
    assert client.get("/payments/finance/?agency=nobody").status_code == 404
    # A supervisor reads; resolving is for the agency's deciders and the operators.
    assert "pay-resolve" not in text
    answer = client.post("/payments/finance/", {"case": ours.pk, "resolution": "x"})
    assert answer.status_code == 403
    assert FinanceCase.objects.get(pk=ours.pk).state == "open"


def test_a_citizen_or_a_stranger_gets_nothing(client, citizen, two_agencies):
    _other, ours, _others = two_agencies
    client.force_login(citizen)
    assert client.get("/payments/finance/").status_code == 403
    assert (
        client.post("/payments/finance/", {"case": ours.pk, "resolution": "x"}).status_code == 403
    )
    from django.test import Client

    anonymous = Client().get("/payments/finance/")
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]


def test_the_agencys_decider_resolves_its_case_only(client, agency, two_agencies):
    _other, ours, others = two_agencies
    viewer = make_agency_staff(agency, "viewer")
    client.force_login(viewer)
    assert "pay-resolve" not in client.get("/payments/finance/").content.decode()
    assert (
        client.post("/payments/finance/", {"case": ours.pk, "resolution": "x"}).status_code == 403
    )

    editor = make_agency_staff(agency, "editor")
    client.force_login(editor)
    assert "pay-resolve" in client.get("/payments/finance/").content.decode()
    # Another agency's case is not found; a case that is not a number neither.
    assert (
        client.post("/payments/finance/", {"case": others.pk, "resolution": "x"}).status_code == 404
    )
    assert (
        client.post("/payments/finance/", {"case": "x\u202e", "resolution": "x"}).status_code == 404
    )
    empty = client.post("/payments/finance/", {"case": ours.pk, "resolution": "  "})
    assert empty.status_code == 400
    text = empty.content.decode()
    assert 'class="error-summary"' in text and f'href="#resolution-{ours.pk}"' in text
    assert FinanceCase.objects.get(pk=ours.pk).state == "open"
    done = client.post(
        "/payments/finance/?by=month", {"case": ours.pk, "resolution": "بانک اصلاح کرد"}
    )
    assert done.status_code == 302 and done["Location"] == "/payments/finance/?by=month"
    case = FinanceCase.objects.get(pk=ours.pk)
    assert (case.state, case.resolved_by, case.resolution) == ("resolved", editor, "بانک اصلاح کرد")
    assert FinanceCase.objects.get(pk=others.pk).state == "open"
    again = client.post("/payments/finance/", {"case": ours.pk, "resolution": "x"})
    assert again.status_code == 404  # no longer open


def test_resolving_needs_the_csrf_token(agency, two_agencies):
    from django.test import Client

    _other, ours, _others = two_agencies
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(make_agency_staff(agency, "editor"))
    assert (
        strict.post("/payments/finance/", {"case": ours.pk, "resolution": "x"}).status_code == 403
    )
    assert FinanceCase.objects.get(pk=ours.pk).state == "open"


def test_the_csv_adds_up_to_the_rows(client, agency, citizen, two_agencies):
    import csv
    import io

    client.force_login(_supervisor(roles.ITO))
    answer = client.get("/payments/finance/?format=csv")
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/csv")
    assert "attachment" in answer["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert len(rows) == 30
    # Independently: every captured payment today.
    paid = Payment.objects.filter(state=PaymentState.CAPTURED)
    assert sum(int(r["collected_rials"]) for r in rows) == sum(p.captured_amount for p in paid)
    assert sum(int(r["collected_payments"]) for r in rows) == paid.count() == 2
    assert sum(int(r["mismatch_cases"]) for r in rows) == 2
    assert sum(int(r["mismatch_rials"]) for r in rows) == 20_000 + 77_000
    months = client.get("/payments/finance/?by=month&format=csv").content.decode("utf-8-sig")
    lines = list(csv.DictReader(io.StringIO(months)))
    assert len(lines) == 12 and lines[-1]["month"] == str(Month.of(timezone.now()))
    assert sum(int(r["collected_rials"]) for r in lines) == 197_000


def test_english_pages_have_latin_digits_and_gregorian_dates(client, agency, two_agencies):
    client.force_login(make_agency_staff(agency, "viewer"))
    text = client.get("/en/payments/finance/?by=month").content.decode()
    assert 'data-figure="collected">120,000 rials' in text
    assert "Observed by the window" in text


def test_my_payments_shows_what_it_paid_for_and_the_refunds(client, agency, citizen, monkeypatch):
    from panjereh.payments import purposes

    monkeypatch.setitem(
        purposes._PURPOSES,
        "application",
        purposes.Purpose(paid=lambda p: None, page=lambda p: f"/services/a/{p.purpose_id}/"),
    )
    monkeypatch.setattr(operations, "submit_refund", lambda refund: refund)
    paid = _paid_at(agency, citizen, 50_000, timezone.now())
    operations.request_refund(paid, amount=20_000, reason="rejected", actor=roles.SYSTEM)
    client.force_login(citizen)
    text = client.get("/payments/").content.decode()
    assert f'href="/services/a/{paid.purpose_id}/"' in text
    assert "۲۰٬۰۰۰" in text and 'class="refund" data-state="requested"' in text
    page = client.get(f"/payments/{paid.reference}/").content.decode()
    assert 'id="paid-for"' in page and f"/services/a/{paid.purpose_id}/" in page
    assert 'id="refunds"' in page


def test_the_menu_links_my_payments_and_finance(client, agency, citizen):
    client.force_login(citizen)
    text = client.get("/payments/").content.decode()
    assert 'href="/payments/"' in text and 'href="/payments/finance/"' not in text
    client.force_login(make_agency_staff(agency, "viewer"))
    assert 'href="/payments/finance/"' in client.get("/payments/finance/").content.decode()
