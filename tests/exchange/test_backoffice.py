"""The exchange's back office: providers switch their services, consumers request data, the
Interoperability Working Group decides, the operator reads the month's statistics. Every page
checks who asks; the gateway (real registry processes) obeys what was decided at once."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from panjereh.catalogue import roles
from panjereh.common import jalali
from panjereh.common.persian import to_persian_digits
from panjereh.exchange import grants, log, stats
from panjereh.exchange.models import DataService, Grant, GrantEvent, GrantState
from tests.factories import UserFactory, make_agency, make_agency_staff, make_service

pytestmark = pytest.mark.django_db


def _browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _role(name: str):
    user = UserFactory()
    user.groups.add(Group.objects.get_or_create(name=name)[0])
    return user


def _jalali(day: dt.date, persian: bool = False) -> str:
    text = jalali.iso(day).replace("-", "/")
    return to_persian_digits(text) if persian else text


@pytest.fixture
def people(exchange):
    civil = exchange.service("civil", "identity")
    return {
        "consumer": make_agency_staff(exchange.consumer, role="editor"),
        "viewer": make_agency_staff(exchange.consumer, role="viewer"),
        "provider": make_agency_staff(civil.provider, role="admin"),
        "outsider": make_agency_staff(make_agency(), role="admin"),
        "wg": _role(roles.INTEROP_WG),
        "operator": _role(roles.ITO),
        "nobody": UserFactory(),
    }


def _request(exchange, people, items, *, purpose=None, service=None):
    service = service or exchange.service("civil", "identity")
    return _browser(people["consumer"]).post(
        f"/en/exchange/grants/request/{service.pk}/",
        {
            "agency": exchange.consumer.pk,
            "items": items,
            # Typed in Persian digits, as a Persian keyboard sends them.
            "purpose": purpose or to_persian_digits(exchange.purpose.service_id),
            "justification": "Unemployment insurance checks the applicant's identity.",
        },
    )


def _approval(**changes) -> dict:
    today = timezone.localdate()
    data = {
        "approve-resolution_number": "۱۴۰۴/۱۲",
        "approve-resolution_session": "۷",
        "approve-resolution_date": _jalali(today - dt.timedelta(days=2), persian=True),
        "approve-valid_until": _jalali(today + dt.timedelta(days=365), persian=True),
        "approve-implementation_deadline": _jalali(today + dt.timedelta(days=60)),
        "approve-items": ["civil.identity"],
    }
    data.update(changes)
    return data


def test_pages_by_role(exchange, people):
    anonymous = Client().get("/en/exchange/")
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]
    assert _browser(people["nobody"]).get("/en/exchange/").status_code == 403

    consumer = _browser(people["consumer"])
    page = consumer.get("/en/exchange/").content.decode()
    assert "/en/exchange/grants/" in page and "/en/exchange/review/" not in page
    assert "/en/exchange/statistics/" not in page
    assert consumer.get("/en/exchange/review/").status_code == 403
    assert consumer.get("/en/exchange/statistics/").status_code == 403

    wg = _browser(people["wg"]).get("/en/exchange/").content.decode()
    assert "/en/exchange/review/" in wg and "/en/exchange/statistics/" not in wg
    operator = _browser(people["operator"]).get("/en/exchange/").content.decode()
    assert "/en/exchange/statistics/" in operator
    provider = _browser(people["provider"]).get("/en/exchange/").content.decode()
    assert "/en/exchange/services/" in provider
    # Persian first: the same page at / is right-to-left.
    persian = _browser(people["consumer"]).get("/exchange/")
    assert persian.status_code == 200 and 'dir="rtl"' in persian.content.decode()


def test_request_then_approve_some_items_and_the_gateway_obeys(exchange, people, population):
    service = exchange.service("civil", "identity")
    response = _request(exchange, people, ["civil.identity", "civil.birth_date"])
    assert response.status_code == 302
    grant = Grant.objects.get(consumer=exchange.consumer)
    assert response["Location"] == f"/en/exchange/grants/{grant.pk}/"
    assert grant.state == GrantState.REQUESTED and grant.requested_by == people["consumer"]
    assert grant.requested_items == ["civil.birth_date", "civil.identity"]
    assert grant.purpose == exchange.purpose

    code = population.national_code(12)
    assert exchange.call(service, code, code).json()["code"] == "grant_not_approved"

    mine = _browser(people["consumer"]).get("/en/exchange/grants/").content.decode()
    assert 'data-state="requested"' in mine
    queue = _browser(people["wg"]).get("/en/exchange/review/").content.decode()
    assert f'data-grant="{grant.pk}"' in queue

    response = _browser(people["wg"]).post(f"/en/exchange/review/{grant.pk}/approve/", _approval())
    assert response.status_code == 302, response.content.decode()
    grant.refresh_from_db()
    today = timezone.localdate()
    assert grant.state == GrantState.APPROVED and grant.items == ["civil.identity"]
    assert grant.resolution_number == "1404/12" and grant.resolution_session == "7"
    assert grant.resolution_date == today - dt.timedelta(days=2)
    assert grant.valid_until == today + dt.timedelta(days=365)
    assert grant.implementation_deadline == today + dt.timedelta(days=60)
    event = grant.events.get(to_state=GrantState.APPROVED)
    assert event.actor == people["wg"] and event.from_state == GrantState.REQUESTED

    ok = exchange.call(service, code, code, items=["civil.identity"])
    assert ok.status_code == 200 and "first_name" in ok.json()
    refused = exchange.call(service, code, code, items=["civil.birth_date"])
    assert refused.status_code == 403 and refused.json()["code"] == "item_not_granted"

    mine = _browser(people["consumer"]).get("/en/exchange/grants/").content.decode()
    assert 'data-state="implemented"' in mine  # the first successful call
    detail = _browser(people["consumer"]).get(f"/en/exchange/grants/{grant.pk}/").content.decode()
    assert "1404/12" in detail and "approve-form" not in detail


def test_reject_and_no_second_decision(exchange, people):
    _request(exchange, people, ["civil.identity"])
    grant = Grant.objects.get()
    wg = _browser(people["wg"])
    response = wg.post(
        f"/en/exchange/review/{grant.pk}/reject/",
        {"reject-resolution_number": "۱۴۰۴/۱۳", "reject-reason": "No legal basis for this use."},
    )
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.state == GrantState.REJECTED and grant.resolution_number == "1404/13"
    assert grant.events.get(to_state=GrantState.REJECTED).note == "No legal basis for this use."
    page = _browser(people["consumer"]).get("/en/exchange/grants/").content.decode()
    assert 'data-state="rejected"' in page and "1404/13" in page.replace("١", "1")

    again = wg.post(f"/en/exchange/review/{grant.pk}/approve/", _approval())
    assert again.status_code == 409 and "cannot be changed" in again.content.decode()
    revoke = wg.post(f"/en/exchange/review/{grant.pk}/revoke/", {"revoke-reason": "x"})
    assert revoke.status_code == 409
    grant.refresh_from_db()
    assert grant.state == GrantState.REJECTED and grant.events.count() == 2


def test_revocation_takes_effect_on_the_next_call(exchange, people, population):
    service = exchange.service("civil", "identity")
    grant = exchange.grant(service, ["civil.identity"])
    code = population.national_code(21)
    assert exchange.call(service, code, code).status_code == 200
    response = _browser(people["wg"]).post(
        f"/en/exchange/review/{grant.pk}/revoke/",
        {"revoke-resolution_number": "1404/40", "revoke-reason": "Misuse reported."},
    )
    assert response.status_code == 302
    refused = exchange.call(service, code, code)
    assert refused.status_code == 403 and refused.json()["code"] == "grant_revoked"
    grant.refresh_from_db()
    event = grant.events.get(to_state=GrantState.REVOKED)
    assert event.actor == people["wg"] and event.data == {"resolution_number": "1404/40"}
    assert grant.resolution_number == "1404/12"  # the approving resolution stays


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"approve-resolution_date": "1404/13/40"}, "resolution_date", "solar-calendar date"),
        ({"approve-resolution_date": "2025/03/01"}, "resolution_date", "solar-calendar date"),
        ({"approve-resolution_number": "  "}, "resolution_number", "required"),
        ({"approve-items": []}, "items", "required"),
        ({"approve-items": ["civil.photo"]}, "items", "valid choice"),
        ({"approve-valid_until": "1390/01/01"}, "valid_until", "must not have ended"),
        (
            {"approve-implementation_deadline": "1499/01/01"},
            "implementation_deadline",
            "within the validity",
        ),
    ],
)
def test_bad_approval_changes_nothing(exchange, people, changes, field, message):
    _request(exchange, people, ["civil.identity", "civil.birth_date"])
    grant = Grant.objects.get()
    response = _browser(people["wg"]).post(
        f"/en/exchange/review/{grant.pk}/approve/", _approval(**changes)
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    # The error is tied to its field for screen readers.
    assert f'id="id_approve-{field}-error"' in page
    assert re.search(rf'aria-describedby="[^"]*id_approve-{field}-error', page)
    grant.refresh_from_db()
    assert grant.state == GrantState.REQUESTED and grant.items == []
    assert grant.events.count() == 1


def test_bad_requests_create_nothing(exchange, people):
    other = make_service(title_en="Another agency's service")
    assert (
        _request(exchange, people, ["civil.identity"], purpose=other.service_id).status_code == 400
    )
    response = _request(exchange, people, ["judiciary.criminal_record"])
    assert response.status_code == 400 and "valid choice" in response.content.decode()
    response = _request(exchange, people, [])
    assert response.status_code == 400 and "id_items-error" in response.content.decode()
    assert not Grant.objects.exists()
    # A viewer of the agency reads but does not ask.
    viewer = _browser(people["viewer"])
    service = exchange.service("civil", "identity")
    assert viewer.get(f"/en/exchange/grants/request/{service.pk}/").status_code == 403


def test_another_agency_sees_nothing(exchange, people):
    _request(exchange, people, ["civil.identity"])
    grant = Grant.objects.get()
    outsider = _browser(people["outsider"])
    assert outsider.get(f"/en/exchange/grants/{grant.pk}/").status_code == 404
    assert f'data-grant="{grant.pk}"' not in outsider.get("/en/exchange/grants/").content.decode()
    service = exchange.service("civil", "identity")
    assert outsider.get(f"/en/exchange/services/{service.pk}/").status_code == 404
    assert (
        outsider.post(f"/en/exchange/services/{service.pk}/", {"enabled": "0"}).status_code == 404
    )
    # Staff who are not in the working group cannot decide, even their own request.
    consumer = _browser(people["consumer"])
    assert consumer.post(f"/en/exchange/review/{grant.pk}/approve/", _approval()).status_code == 403
    # The provider's staff see requests for their services, but do not decide them either.
    provider = _browser(people["provider"])
    assert provider.get(f"/en/exchange/grants/{grant.pk}/").status_code == 200
    assert provider.post(f"/en/exchange/review/{grant.pk}/reject/", {}).status_code == 403
    grant.refresh_from_db()
    assert grant.state == GrantState.REQUESTED


def test_provider_disables_and_enables_a_service(exchange, people, population):
    service = exchange.service("civil", "identity")
    exchange.grant(service, ["civil.identity"])
    code = population.national_code(33)
    provider = _browser(people["provider"])
    listing = provider.get("/en/exchange/services/").content.decode()
    assert f'data-service="{service.pk}"' in listing
    other = DataService.objects.exclude(provider=service.provider).first()
    assert f'data-service="{other.pk}"' not in listing
    detail = provider.get(f"/en/exchange/services/{service.pk}/").content.decode()
    assert "civil.birth_date" in detail and service.legal_basis[:30] in detail

    response = provider.post(
        f"/en/exchange/services/{service.pk}/", {"enabled": "0", "reason": "maintenance"}
    )
    assert response.status_code == 302
    service.refresh_from_db()
    assert not service.enabled
    entry = LogEntry.objects.get(object_id=str(service.pk))
    assert entry.user == people["provider"] and "disabled" in entry.change_message
    assert "maintenance" in entry.change_message
    refused = exchange.call(service, code, code)
    assert refused.status_code == 503 and refused.json()["code"] == "service_disabled"

    provider.post(f"/en/exchange/services/{service.pk}/", {"enabled": "1"})
    assert exchange.call(service, code, code).status_code == 200
    assert LogEntry.objects.filter(object_id=str(service.pk)).count() == 2
    # A viewer of the provider reads but does not switch.
    viewer = _browser(make_agency_staff(service.provider, role="viewer"))
    assert viewer.post(f"/en/exchange/services/{service.pk}/", {"enabled": "0"}).status_code == 403


def test_statistics_page(
    exchange, people, population, registries, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.PANJEREH_EXCHANGE_ANCHOR_PATH = str(tmp_path / "anchor.jsonl")
    service = exchange.service("education", "school-record")
    exchange.grant(service, ["education.school_record"])
    for i in range(3):
        code = population.national_code(i)
        assert exchange.call(service, code, code).status_code == 200
    registries.control("education", mode="fail", status=500)
    code = population.national_code(7)
    assert exchange.call(service, code, code).status_code == 502
    idle = make_agency(code="idle-agency", name_en="Idle Agency")  # in scope, not connected
    with django_capture_on_commit_callbacks(execute=True):
        log.seal_pending()
    month = stats.month_key(timezone.now())
    stats.rollup(month)

    operator = _browser(people["operator"])
    year, number = month.split("-")
    # The month typed with Persian digits and a slash.
    response = operator.get(
        "/en/exchange/statistics/", {"month": to_persian_digits(f"{year}/{number}")}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-calls="4"' in page and 'data-failures="1"' in page
    assert "75.00%" in page  # quality = 1 − 1/4
    per_provider = page[page.index('id="per-provider"') : page.index('id="per-consumer"')]
    assert service.provider.name_en in per_provider
    per_consumer = page[page.index('id="per-consumer"') : page.index('id="per-service"')]
    assert exchange.consumer.name_en in per_consumer
    flagged = page[page.index('id="flagged"') :]
    assert 'data-agency="idle-agency" data-reason="not-connected"' in flagged
    assert f'data-agency="{exchange.consumer.code}" data-reason="low"' in flagged
    assert idle.name_en in flagged
    status = page[page.index('id="seal-status"') :]
    assert 'data-matches="1"' in status and "records 1–4" in status
    # A copy with the right numbers but not signed by the log's key no longer passes for a match.
    anchor_file = tmp_path / "anchor.jsonl"
    entry = json.loads(anchor_file.read_text().splitlines()[-1])
    entry["signature"] = entry["signature"][::-1]
    anchor_file.write_text(json.dumps(entry) + "\n")
    forged = operator.get("/en/exchange/statistics/").content.decode()
    assert 'data-matches="0"' in forged[forged.index('id="seal-status"') :]

    bad = operator.get("/en/exchange/statistics/", {"month": "1404/13"})
    assert bad.status_code == 400 and "solar-calendar month" in bad.content.decode()
    empty = operator.get("/en/exchange/statistics/", {"month": "1390-01"})
    assert empty.status_code == 200 and 'data-calls="0"' in empty.content.decode()
    superuser = _browser(UserFactory(is_superuser=True))
    assert superuser.get("/en/exchange/statistics/").status_code == 200
    assert _browser(people["wg"]).get("/en/exchange/statistics/").status_code == 403


def test_a_grant_decided_meanwhile_is_refused(exchange, people):
    """Two members open the same request; the second decision meets the state machine."""
    _request(exchange, people, ["civil.identity"])
    grant = Grant.objects.get()
    grants.reject(grant, resolution_number="1404/1", actor=people["wg"], note="first")
    response = _browser(_role(roles.INTEROP_WG)).post(
        f"/en/exchange/review/{grant.pk}/approve/", _approval()
    )
    assert response.status_code == 409
    assert GrantEvent.objects.filter(grant=grant).count() == 2


def test_the_grant_history_names_people_in_the_pages_digits(exchange, people):
    """Issue 12 item 27: the history shows a person's name, or the username as a left-to-right
    code in the page's digits; no Arabic comma on the English page."""
    assert _request(exchange, people, ["civil.identity"]).status_code == 302
    grant = Grant.objects.get(consumer=exchange.consumer)
    wg = people["wg"]
    wg.first_name, wg.last_name, wg.username = "مریم", "احمدی", "wg7"
    wg.save()
    assert (
        _browser(wg).post(f"/en/exchange/review/{grant.pk}/approve/", _approval()).status_code
        == 302
    )
    consumer = _browser(people["consumer"])
    persian = consumer.get(f"/exchange/grants/{grant.pk}/").content.decode()
    events = persian.split('id="grant-events"', 1)[1].split("</ol>", 1)[0].split("</ul>", 1)[0]
    assert "(مریم احمدی)" in events and "wg7" not in events
    wg.first_name = wg.last_name = ""
    wg.save()
    persian = consumer.get(f"/exchange/grants/{grant.pk}/").content.decode()
    assert '(<bdi dir="ltr" class="code">wg۷</bdi>)' in persian
    english = consumer.get(f"/en/exchange/grants/{grant.pk}/").content.decode()
    assert '(<bdi dir="ltr" class="code">wg7</bdi>)' in english
    assert "،" not in english.split("<main", 1)[1]
