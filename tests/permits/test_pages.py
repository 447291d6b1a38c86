"""The public pages: catalogue with search and filters, a permit's page, the removed register."""

from __future__ import annotations

import pytest
from django.test import Client

from panjereh.catalogue import roles
from panjereh.common.persian import to_persian_digits
from panjereh.permits import operations
from panjereh.permits.search import search_permits

from .conftest import FIELDS, condition

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(authority, other_authority, published):
    """Three published permits of two authorities, one registration-based."""
    home = operations.create_permit_type(
        roles.SYSTEM,
        authority=other_authority,
        kind="home_business",
        fields={
            **FIELDS,
            "title_fa": "مجوز کسب‌وکار خانگی: تولید خانگی ترشی",
            "title_en": "Home-business permit: home production of pickles",
            "registration_based": True,
            "legal_days": 0,
        },
        conditions=[condition("معرفی فضای کار در منزل")],
    )
    operations.publish(roles.SYSTEM, home)
    pharmacy = operations.create_permit_type(
        roles.SYSTEM,
        authority=other_authority,
        kind="agency",
        fields={
            **FIELDS,
            "title_fa": "مجوز تأسیس داروخانه",
            "title_en": "Permit to establish a pharmacy",
        },
        conditions=[condition("طرح توجیهی فعالیت")],
    )
    operations.publish(roles.SYSTEM, pharmacy)
    return {"bread": published, "home": home.permit, "pharmacy": pharmacy.permit}


@pytest.mark.parametrize(
    "query",
    ["داروخانه", "داروخانه تاسیس", "داروخانة", "مجوز تأسیس داروخانه", "pharmacy", "داروخانع"],
)
def test_search_finds_a_permit_however_it_is_typed(catalogue, query):
    found = search_permits(query).service_pks
    assert found and found[0] == catalogue["pharmacy"].pk


def test_search_by_permit_id_in_persian_digits(catalogue):
    public_id = catalogue["home"].public_id
    assert search_permits(to_persian_digits(public_id)).service_pks == [catalogue["home"].pk]


def test_search_filters(catalogue, other_authority):
    assert search_permits("", registration_based=True).service_pks == [catalogue["home"].pk]
    assert search_permits("", kind="guild").service_pks == [catalogue["bread"].pk]
    assert set(search_permits("", authority_pk=other_authority.pk).service_pks) == {
        catalogue["home"].pk,
        catalogue["pharmacy"].pk,
    }
    assert search_permits("ترشی", kind="agency").service_pks == []
    assert search_permits("ترشی", kind="home_business").service_pks == [catalogue["home"].pk]


def test_a_draft_is_not_in_the_catalogue(catalogue, authority):
    operations.create_permit_type(
        roles.SYSTEM,
        authority=authority,
        kind="guild",
        fields={**FIELDS, "title_fa": "پروانه کسب فروش قهوه"},
        conditions=[condition("نقشه محل")],
    )
    assert search_permits("قهوه").service_pks == []


def test_publishing_shows_a_new_title_at_once(catalogue):
    draft = operations.start_version(roles.SYSTEM, catalogue["bread"])
    operations.update_draft(
        roles.SYSTEM,
        draft,
        fields={**FIELDS, "title_fa": "پروانه کسب نانوایی سنگکی"},
        conditions=[condition("نقشه محل")],
    )
    assert search_permits("سنگکی").service_pks == []
    operations.publish(roles.SYSTEM, draft)
    assert search_permits("سنگکی").service_pks == [catalogue["bread"].pk]


def test_catalogue_page_persian(catalogue):
    response = Client().get("/permits/", {"q": "داروخانه"})
    assert response.status_code == 200
    text = response.content.decode()
    assert "مجوز تأسیس داروخانه" in text and "۱ مجوز" in text
    assert f"/permits/{catalogue['pharmacy'].public_id}/" in text


def test_catalogue_page_filters_and_english(catalogue):
    response = Client().get("/en/permits/", {"registration": "1", "kind": "nonsense"})
    text = response.content.decode()
    assert response.status_code == 200
    assert "Home-business permit: home production of pickles" in text
    assert "Permit to establish a pharmacy" not in text


@pytest.mark.parametrize(
    "params",
    [
        {"q": "ب" * 5000},
        {"q": "\u202eداروخانه"},
        {"page": "999999999999"},
        {"authority": "x" * 500},
    ],
)
def test_odd_queries_answer_calmly(catalogue, params):
    assert Client().get("/permits/", params).status_code == 200


def test_a_nul_byte_in_the_query_is_refused_with_a_clear_message(catalogue):
    response = Client().get("/permits/?q=%00")
    assert response.status_code == 400


def test_permit_page_lists_conditions_with_legal_basis(catalogue):
    permit = catalogue["home"]
    text = Client().get(f"/permits/{permit.public_id}/").content.decode()
    assert "معرفی فضای کار در منزل" in text
    assert "قانون نظام صنفی کشور، ماده ۱۲" in text
    assert "ثبت‌محور: با ثبت‌نام کامل، بی‌درنگ صادر می‌شود." in text
    assert to_persian_digits(permit.public_id) in text  # shown in Persian digits


def test_permit_page_of_a_draft_or_unknown_id_is_404(catalogue, authority):
    draft = operations.create_permit_type(
        roles.SYSTEM, authority=authority, kind="guild", fields=FIELDS, conditions=[]
    )
    assert Client().get(f"/permits/{draft.permit.public_id}/").status_code == 404
    assert Client().get("/permits/1234567890/").status_code == 404
    assert Client().get("/permits/abc/").status_code == 404


def test_removed_page_lists_removals_and_attempts(catalogue, removed):
    with pytest.raises(operations.Reintroduced):
        draft = operations.start_version(roles.SYSTEM, catalogue["bread"])
        operations.update_draft(
            roles.SYSTEM, draft, fields=FIELDS, conditions=[condition("گواهی سوء پیشینه متقاضی")]
        )
    text = Client().get("/permits/removed/").content.decode()
    assert "گواهی عدم سوءپیشینه" in text
    assert "هیئت مقررات‌زدایی" in text and "۶۰/۵۲۸۸۱" in text
    assert "«گواهی سوء پیشینه متقاضی»" in text
    assert "اتاق اصناف آزمایشی" in text
    english = Client().get("/en/permits/removed/").content.decode()
    assert "certificate of no criminal record" in english and "Deregulation Board" in english


def test_pages_refuse_post(catalogue):
    assert Client().post("/permits/").status_code == 405
