"""Bad input (NUL bytes, text that is not UTF-8, lone surrogates, bodies over the limits) gets a
clear, localised 400 or 413 everywhere (JSON for APIs, a page for people), is logged, and
changes nothing; odd but valid Unicode (RTL overrides, overlong text) is still served."""

from __future__ import annotations

import json

import pytest

from panjereh.identity.models import User
from panjereh.participation.models import Suggestion
from tests.factories import make_agency, make_service

pytestmark = pytest.mark.django_db


@pytest.fixture
def cards():
    agency = make_agency(code="nocr", name_fa="سازمان ثبت احوال کشور")
    return {"agency": agency, "service": make_service(agency, title_fa="گواهی ولادت")}


def _json_refusal(response, where: str = "query"):
    assert response.status_code == 400, response.content[:200]
    body = response.json()
    assert body["error"] == "invalid_characters" and body["where"] == where
    assert "null character" in body["detail"] or "نویسه" in body["detail"]
    return body


@pytest.mark.parametrize(
    "url",
    [
        "/api/catalogue/services/?q=a%00b",
        "/api/catalogue/services/?agency=%00",
        "/api/catalogue/services/?life_event=x%00",
        "/api/catalogue/services/?q=%FF%FE",  # not UTF-8
        "/api/catalogue/services/?q=%ED%A0%80",  # a lone surrogate, UTF-8-encoded
        "/api/catalogue/agencies/?limit=1&offset=%00",
        "/api/catalogue/stats/?as_of=1404-01-01%00",
    ],
)
def test_catalogue_api_filters_with_bad_characters_answer_a_json_400(client, cards, url):
    _json_refusal(client.get(url))


def test_catalogue_api_detail_with_a_nul_in_the_path_answers_a_json_400(client, cards):
    _json_refusal(client.get("/api/catalogue/agencies/no%00cr/"), where="path")
    _json_refusal(client.get("/api/catalogue/services/1%002/"), where="path")


def test_a_page_with_a_nul_answers_a_persian_page_and_is_logged(client, cards, caplog):
    with caplog.at_level("WARNING", logger="panjereh.badinput"):
        response = client.get("/services/verify/", {"t": "abc\x00def"})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert 'lang="fa"' in page and 'dir="rtl"' in page and "نویسه" in page
    assert "null character" not in page
    assert any("refused bad input in query" in r.getMessage() for r in caplog.records)


def test_an_english_page_with_a_nul_answers_in_english(client, cards):
    response = client.post("/en/services/verify/", {"token": "abc\x00def"})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'dir="ltr"' in page and "null character" in page


def test_application_pages_with_a_nul_answer_400(client, cards):
    assert client.get("/services/a/ABC%00DEF/").status_code == 400
    assert client.get("/en/services/a/ABC%00DEF/status.json").status_code == 400


def test_the_token_endpoint_refuses_a_code_with_a_nul(client):
    response = client.post(
        "/oidc/token/",
        {"grant_type": "authorization_code", "code": "abc\x00", "redirect_uri": "https://x/"},
    )
    _json_refusal(response, where="form")


def test_a_json_body_with_an_escaped_nul_or_lone_surrogate_is_refused(client):
    for text in ['{"q": "a\\u0000"}', '{"q": "\\ud800"}', '{"\\u0000": 1}']:
        response = client.post(
            "/api/catalogue/services/", text.encode(), content_type="application/json"
        )
        _json_refusal(response, where="json")


def test_a_form_post_with_a_nul_changes_nothing(client, cards):
    citizen = User.objects.create(username="c1", national_code="0000000001", assurance_level=2)
    client.force_login(citizen)
    data = {"p-agency": cards["agency"].pk, "p-goal": "electronic"}
    text = "صدور پروانه ساختمان به‌صورت کاملا برخط و بدون مراجعه"
    response = client.post("/en/participate/propose/", {**data, "p-text": text + "\x00"})
    assert response.status_code == 400
    assert not Suggestion.objects.exists()
    # The same form without the NUL is accepted: the refusal was the NUL's.
    response = client.post("/en/participate/propose/", {**data, "p-text": text})
    assert response.status_code == 302 and Suggestion.objects.count() == 1


def test_a_multipart_form_with_a_nul_is_refused_when_read(client, cards):
    from django.core.files.uploadedfile import SimpleUploadedFile

    citizen = User.objects.create(username="c3", national_code="0000000003", assurance_level=2)
    client.force_login(citizen)
    data = {
        "p-agency": cards["agency"].pk,
        "p-goal": "electronic",
        "p-text": "صدور پروانه ساختمان به‌صورت کاملا برخط\x00",
        "attachment": SimpleUploadedFile("a.txt", b"x"),  # makes the body multipart
    }
    response = client.post("/en/participate/propose/", data)
    assert response.status_code == 400 and "null character" in response.content.decode()
    assert not Suggestion.objects.exists()


def test_a_form_post_over_the_size_limit_answers_413_and_changes_nothing(client, cards, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    citizen = User.objects.create(username="c2", national_code="0000000002", assurance_level=2)
    client.force_login(citizen)
    data = {"p-agency": cards["agency"].pk, "p-goal": "electronic", "p-text": "پ" * 5000}
    response = client.post("/en/participate/propose/", data)
    assert response.status_code == 413
    assert "at most 2 KB" in response.content.decode()
    assert not Suggestion.objects.exists()


def test_a_form_with_too_many_fields_answers_400(client, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    response = client.post("/en/services/verify/", {f"f{i}": "x" for i in range(20)})
    assert response.status_code == 400
    assert "too many fields" in response.content.decode()


def test_odd_but_valid_unicode_is_served(client, cards):
    rtl_override = "\u202e" + "ولادت" + "x" * 10000
    response = client.get("/api/catalogue/services/", {"q": rtl_override})
    assert response.status_code == 200
    assert client.get("/services/verify/", {"t": rtl_override}).status_code == 200


def test_the_exchange_gateway_answers_its_own_refusals(client):
    response = client.get("/r1/IR/GOV/1/sub/svc/a%00b")
    assert response.status_code == 400
    body = json.loads(response.content)
    assert "error" not in body or body.get("error") != "invalid_characters"
    assert body.get("fault") == "consumer"


def test_the_gateway_process_refuses_a_token_code_with_a_nul(client, settings):
    """In production the token endpoint runs in the gateway process, under its own short
    middleware stack (conf/gateway_settings.py): the guard is in it too."""
    from panjereh.conf import gateway_settings

    settings.ROOT_URLCONF = gateway_settings.ROOT_URLCONF
    settings.MIDDLEWARE = gateway_settings.MIDDLEWARE
    response = client.post(
        "/oidc/token/",
        {"grant_type": "authorization_code", "code": "abc\x00", "redirect_uri": "https://x/"},
    )
    _json_refusal(response, where="form")
