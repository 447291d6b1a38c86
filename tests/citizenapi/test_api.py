"""The citizen API's behaviour: applying with an Idempotency-Key, bad input refused with a
problem and nothing changed, the per-person budget, the notice's legal opening, language."""

from __future__ import annotations

import json
import uuid

import pytest

from panjereh.services.models import Application

from .conftest import body, call, holdings, make_person, token_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def me(app_client, civil):
    return holdings(make_person(assurance_level=3), app_client, civil)


def apply(client, token, data, key="k-1", **headers):
    extra = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    extra.update(headers)
    raw = data if isinstance(data, (bytes, str)) else json.dumps(data, ensure_ascii=False)
    return call(client, "post", "applications/", token, data=raw, headers=extra)


GOOD = {"service": "no-criminal-record", "inputs": {"purpose": "سفارت"}}


def test_the_same_key_and_body_makes_one_application(client, me, settings):
    settings.PANJEREH_TASKS = "inprocess"
    before = Application.objects.filter(user=me.user).count()
    first = apply(client, me.token, GOOD)
    assert first.status_code == 201, first.content[:300]
    again = apply(client, me.token, GOOD)
    assert again.status_code == 201
    assert body(again)["tracking_code"] == body(first)["tracking_code"]
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert first["Location"].endswith(f"/api/me/v1/applications/{body(first)['tracking_code']}/")
    assert Application.objects.filter(user=me.user).count() == before + 1


def test_the_same_key_with_another_body_is_refused(client, me):
    assert apply(client, me.token, GOOD).status_code == 201
    other = apply(client, me.token, {**GOOD, "inputs": {"purpose": "دانشگاه"}})
    assert other.status_code == 422
    assert body(other)["code"] == "idempotency_key_reused"
    assert other["Content-Type"] == "application/problem+json"


def test_a_new_key_with_the_same_body_asks_before_a_second(client, me):
    first = apply(client, me.token, GOOD, key="k-a")
    twin = apply(client, me.token, GOOD, key="k-b")
    assert twin.status_code == 409
    assert body(twin)["existing"] == body(first)["tracking_code"]
    confirmed = apply(client, me.token, {**GOOD, "confirm_duplicate": True}, key="k-b")
    assert confirmed.status_code == 201
    assert body(confirmed)["tracking_code"] != body(first)["tracking_code"]


@pytest.mark.parametrize("key", [None, "", "x" * 81, "کلید", "a\tb"])
def test_a_missing_or_bad_key_is_refused(client, me, key):
    response = apply(client, me.token, GOOD, key=key)
    assert response.status_code == 400
    assert body(response)["code"] == "missing_idempotency_key"


def test_a_level_too_low_is_told_not_applied(client, me, app_client, civil):
    low = make_person(assurance_level=2)
    token = token_for(low, app_client)
    response = apply(client, token, GOOD)
    assert response.status_code == 403
    assert body(response)["code"] == "assurance_level_too_low"
    assert body(response)["required_level"] == 3
    assert not Application.objects.filter(user=low).exists()


def test_an_unknown_service_is_404(client, me):
    response = apply(client, me.token, {"service": "no-such-service"})
    assert response.status_code == 404


@pytest.mark.parametrize(
    "data",
    [
        {"service": "no-criminal-record", "inputs": {"purpose": "a\u202eb"}},  # RTL override
        {"service": "no-criminal-record", "inputs": {"purpose": "x" * 1999}},
        {"service": "no-criminal-record", "inputs": {"purpose": "\ud800"}},  # lone surrogate
        {"service": "no-criminal-record", "inputs": {"purpose": ""}},
        {"service": "no-criminal-record", "inputs": ["not", "a", "map"]},
        {"service": 12, "inputs": {}},
        ["not an object"],
    ],
)
def test_bad_input_is_refused_and_nothing_is_made(client, me, data):
    before = Application.objects.count()
    raw = json.dumps(data)  # \ud800 stays an escape: a lone surrogate in the parsed text
    response = apply(client, me.token, raw, key=uuid.uuid4().hex)
    assert response.status_code in (400, 404), response.content[:300]
    assert response["Content-Type"] in ("application/problem+json", "application/json")
    assert Application.objects.count() == before


def test_a_nul_byte_is_refused_before_the_api(client, me):
    before = Application.objects.count()
    raw = '{"service": "no-criminal-record", "inputs": {"purpose": "a\\u0000b"}}'
    response = apply(client, me.token, raw)
    assert response.status_code == 400
    assert Application.objects.count() == before


def test_a_body_that_is_not_json_is_a_problem(client, me):
    response = apply(client, me.token, b"{not json")
    assert response.status_code == 400
    assert body(response)["code"] == "bad_json"


def test_a_huge_body_is_refused_unread(client, me):
    raw = json.dumps({**GOOD, "inputs": {"purpose": "x" * 70_000}})
    response = apply(client, me.token, raw)
    assert response.status_code == 413
    assert body(response)["code"] == "request_too_large"


def test_the_budget_a_minute_is_per_person(client, me, app_client, civil, settings):
    settings.PANJEREH_CITIZENAPI_PER_MINUTE = 5
    answers = [call(client, "get", "profile/", me.token).status_code for _ in range(6)]
    assert answers[:4] == [200] * 4 and answers[-1] == 429
    limited = call(client, "get", "profile/", me.token)
    assert limited["Retry-After"] == "60"
    assert body(limited)["code"] == "too_many_requests"
    # Another person is not slowed by it.
    other = token_for(make_person(), app_client)
    assert call(client, "get", "profile/", other).status_code == 200


def test_reading_a_notice_does_not_open_it_and_opening_records_the_receipt(client, me):
    from panjereh.mailbox.models import Notice, NoticeEvent

    read = body(call(client, "get", f"notices/{me.notice}/", me.token))
    assert read["text"] is None and read["opened_at"] is None
    assert Notice.objects.get(reference=me.notice).opened_at is None

    opened = call(client, "post", f"notices/{me.notice}/opened/", me.token)
    assert opened.status_code == 200
    notice = Notice.objects.get(reference=me.notice)
    # As the web page's opening: opened, then served by the opening, by the addressee.
    assert notice.opened_at is not None and notice.state == "served"
    assert notice.served_by == "opened"
    assert body(opened)["text"] == notice.body
    events = list(NoticeEvent.objects.filter(notice=notice).values_list("to_state", "by"))
    assert ("opened", me.user.pk) in events and ("served", me.user.pk) in events

    # Opening again changes nothing.
    first = notice.opened_at
    call(client, "post", f"notices/{me.notice}/opened/", me.token)
    assert Notice.objects.get(reference=me.notice).opened_at == first


def test_human_text_follows_accept_language_and_codes_do_not(client, me):
    fa = body(call(client, "get", "applications/", me.token))["results"][0]
    en = body(
        call(client, "get", "applications/", me.token, headers={"HTTP_ACCEPT_LANGUAGE": "en"})
    )["results"][0]
    assert fa["state"]["code"] == en["state"]["code"] == "issued"
    assert en["state"]["label"] == "Issued"
    assert fa["state"]["label"] != "Issued"
    assert en["title"] != fa["title"]
    problem = call(client, "get", "applications/none/", me.token)
    assert problem["Content-Language"] == "fa"
    assert body(problem)["title"] != "Not found"


def test_pages_are_validated(client, me):
    assert call(client, "get", "messages/?limit=0", me.token).status_code == 400
    assert call(client, "get", "messages/?limit=101", me.token).status_code == 400
    assert call(client, "get", "messages/?offset=-1", me.token).status_code == 400
    assert call(client, "get", f"messages/?limit={2**63}", me.token).status_code == 400
    page = body(call(client, "get", "messages/?limit=1", me.token))
    assert len(page["results"]) == 1 and page["count"] >= 1


def test_payments_due_lists_a_fee_to_pay(client, me):
    from panjereh.services.models import Application as App

    app = App.objects.get(tracking_code=me.application)
    App.objects.filter(pk=app.pk).update(state="awaiting_payment", fee_rials=250_000)
    due = body(call(client, "get", "payments-due/", me.token))["results"]
    assert [(d["reference"], d["amount_rials"]) for d in due] == [(me.application, 250_000)]


def test_a_certificate_downloads_as_the_web_pages_pdf(client, me):
    listed = body(call(client, "get", "documents/", me.token))["results"]
    certificate = next(d for d in listed if d["reference"] == me.document)
    assert certificate["pdf_url"].endswith(f"/api/me/v1/documents/{me.document}/pdf/")
    response = call(client, "get", f"documents/{me.document}/pdf/", me.token)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert (
        b"".join(response.streaming_content if response.streaming else [response.content])[:5]
        == b"%PDF-"
    )
    token = call(client, "get", f"documents/{me.document}/token/", me.token)
    assert token["Content-Type"] == "application/jose"
    assert token.content.count(b".") == 2
