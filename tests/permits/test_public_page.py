"""The public permit page reached by the QR code: particulars, status, history, ratings; bad
and unknown IDs; Persian digits; few queries; cache headers; the document check."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from panjereh.common.persian import to_persian_digits
from panjereh.permits import holding, issuing, ratings
from panjereh.permits.models import HolderRating, PermitEvent

from .issued_support import citizen

pytestmark = pytest.mark.django_db

pytest_plugins = ["tests.permits.issued_support"]


def _url(number: str, lang: str = "fa") -> str:
    return ("/en" if lang == "en" else "") + f"/permits/p/{number}/"


def test_public_page_shows_the_holder_in_persian(issued):
    response = Client().get(_url(issued.number))
    assert response.status_code == 200
    html = response.content.decode()
    assert "مریم احمدی" in html and "نانوایی سنگک برکت" in html and "تهران" in html
    assert "اتاق اصناف آزمایشی" in html  # the authority
    assert to_persian_digits(issued.number) in html
    from panjereh.common import jalali

    assert jalali.format_fa(issued.valid_until) in html
    assert 'data-status="valid"' in html
    assert "public" in response["Cache-Control"] and "max-age=30" in response["Cache-Control"]
    assert "Cookie" in response["Vary"]


def test_public_page_in_english(issued):
    html = Client().get(_url(issued.number, "en")).content.decode()
    assert "This permit is valid." in html and issued.number in html


def test_a_revoked_permit_says_so_and_takes_no_rating(issued, admin_staff, customer):
    holding.revoke(admin_staff, issued, "حکم قطعی")
    client = Client()
    html = client.get(_url(issued.number, "en")).content.decode()
    assert 'data-status="revoked"' in html
    assert "This permit has been revoked by the issuing authority." in html
    assert "حکم قطعی" in html  # the reason, in the history
    client.force_login(customer)
    response = client.post(_url(issued.number, "en"), {"stars": "5"})
    assert response.status_code == 400
    assert "error-summary" in response.content.decode()
    assert not HolderRating.objects.exists()


def test_wrong_check_digit_and_unknown_id_are_localised_404s(issued):
    wrong = issued.number[:-1] + str((int(issued.number[-1]) + 1) % 10)
    response = Client().get(_url(wrong))
    assert response.status_code == 404
    assert "این شناسه مجوز معتبر نیست" in response.content.decode()
    response = Client().get(_url(wrong, "en"))
    assert (
        response.status_code == 404 and "This is not a valid permit ID" in response.content.decode()
    )
    body = "10000000000"
    unknown = body + issuing.check_digit(body)
    response = Client().get(_url(unknown, "en"))
    assert response.status_code == 404 and "No permit with this ID" in response.content.decode()
    for junk in ["abc", "1" * 40, "%00", "۱۲"]:
        assert Client().get(_url(junk, "en")).status_code in (400, 404)


def test_persian_digits_in_the_address_lead_to_the_page(issued):
    response = Client().get(_url(to_persian_digits(issued.number)))
    assert response.status_code == 302 and response["Location"].endswith(_url(issued.number))


def test_few_queries_for_an_anonymous_visitor(issued):
    for i in range(6):
        ratings.rate(citizen(), issued, stars=(i % 5) + 1)
    client = Client()
    client.get(_url(issued.number))
    with CaptureQueriesContext(connection) as queries:
        response = client.get(_url(issued.number))
    assert response.status_code == 200
    assert len(queries) <= 3, [q["sql"] for q in queries]


def test_rate_from_the_page_then_a_second_time_is_refused(issued, customer):
    client = Client()
    client.force_login(customer)
    response = client.post(_url(issued.number, "en"), {"stars": "4", "comment": "خوب"})
    assert response.status_code == 302
    html = client.get(response["Location"]).content.decode()
    assert "Thank you. Your rating is saved." in html
    assert "You rated this holder 4 of 5 stars this season." in html
    response = client.post(_url(issued.number, "en"), {"stars": "1"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "error-summary" in html and "already rated this permit holder" in html
    assert HolderRating.objects.get().stars == 4


def test_rating_form_errors_keep_the_form(issued, customer):
    client = Client()
    client.force_login(customer)
    response = client.post(_url(issued.number, "en"), {"stars": "", "comment": "نظر من"})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'href="#id_stars"' in html and "نظر من" in html
    assert not HolderRating.objects.exists()


def test_anonymous_post_goes_to_sign_in(issued):
    response = Client().post(_url(issued.number), {"stars": "5"})
    assert response.status_code == 302 and "login" in response["Location"]
    assert not HolderRating.objects.exists()


def test_small_numbers_withheld_on_the_page(issued):
    for _ in range(3):
        ratings.rate(citizen(), issued, stars=5)
    html = Client().get(_url(issued.number, "en")).content.decode()
    assert "not enough ratings yet" in html and "Average" not in html


def test_holder_answers_from_the_page(issued, holder, customer):
    rating = ratings.rate(customer, issued, stars=3, comment="صف طولانی")
    client = Client()
    client.force_login(holder)
    response = client.post(
        f"/en/permits/p/{issued.number}/ratings/{rating.pk}/answer/", {"answer": "نانوای دوم آمد"}
    )
    assert response.status_code == 302
    html = Client().get(_url(issued.number, "en")).content.decode()
    assert "نانوای دوم آمد" in html
    stranger = Client()
    stranger.force_login(customer)
    response = stranger.post(
        f"/en/permits/p/{issued.number}/ratings/{rating.pk}/answer/", {"answer": "جعلی"}
    )
    assert response.status_code == 403
    rating.refresh_from_db()
    assert rating.answer == "نانوای دوم آمد"


def test_history_is_shown(issued, staff):
    holding.suspend(staff, issued, "بازرسی بهداشت")
    html = Client().get(_url(issued.number, "en")).content.decode()
    assert "Suspended" in html and "بازرسی بهداشت" in html
    assert PermitEvent.objects.filter(issued=issued).count() == 2


def test_verify_page_checks_the_token_and_the_pdf(issued, admin_staff):
    client = Client()
    response = client.post("/en/permits/verify/", {"token": issued.token})
    assert 'data-status="valid"' in response.content.decode()
    holding.revoke(admin_staff, issued, "تخلف")
    response = client.post("/en/permits/verify/", {"token": issued.token})
    assert 'data-status="revoked"' in response.content.decode()
    response = client.post("/en/permits/verify/", {"token": "a.b.c"})
    assert 'data-status="invalid"' in response.content.decode()
    response = client.post("/en/permits/verify/", {"token": ""})
    assert response.status_code == 400 and "error-summary" in response.content.decode()


def test_pdf_only_for_the_holder_and_the_authority(issued, holder, customer, staff):
    url = f"/permits/p/{issued.number}/pdf/"
    client = Client()
    client.force_login(customer)
    assert client.get(url).status_code == 404
    client.force_login(holder)
    response = client.get(url)
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    client.force_login(staff)
    assert client.get(url).status_code == 200


def test_mine_lists_my_licences_with_renew_and_cancel(issued, holder, customer):
    client = Client()
    client.force_login(holder)
    html = client.get("/en/permits/mine/").content.decode()
    assert f"licence-{issued.number}" in html and "Cancel this permit" in html
    assert "Renew" not in html  # not near its end
    response = client.post(f"/en/permits/p/{issued.number}/cancel/")
    assert response.status_code == 302
    issued.refresh_from_db()
    assert issued.status == "cancelled"
    other = Client()
    other.force_login(customer)
    assert f"licence-{issued.number}" not in other.get("/en/permits/mine/").content.decode()


def test_manage_page_for_the_authority_staff_only(issued, staff, other_staff, holder):
    client = Client()
    client.force_login(other_staff)
    assert client.get(f"/en/permits/p/{issued.number}/manage/").status_code == 404
    client.force_login(holder)
    assert client.get(f"/en/permits/p/{issued.number}/manage/").status_code == 404
    client.force_login(staff)
    assert client.get(f"/en/permits/p/{issued.number}/manage/").status_code == 200
    response = client.post(
        f"/en/permits/p/{issued.number}/manage/", {"action": "suspend", "reason": ""}
    )
    assert response.status_code == 400 and "error-summary" in response.content.decode()
    response = client.post(
        f"/en/permits/p/{issued.number}/manage/", {"action": "suspend", "reason": "بازرسی"}
    )
    assert response.status_code == 302
    issued.refresh_from_db()
    assert issued.status == "suspended"
    response = client.post(
        f"/en/permits/p/{issued.number}/manage/", {"action": "revoke", "reason": "تخلف"}
    )
    assert response.status_code == 403  # an editor does not revoke
    issued.refresh_from_db()
    assert issued.status == "suspended"
