"""The public catalogue API: read-only, searchable like the portal, safe with bad input."""

import pytest

from tests.factories import make_agency, make_service

pytestmark = pytest.mark.django_db


@pytest.fixture
def cards():
    ministry = make_agency(code="moh", name_fa="وزارت بهداشت", kind="ministry")
    child = make_agency(code="moh-hosp", name_fa="بیمارستان نمونه", parent=ministry)
    other = make_agency(code="nocr", name_fa="سازمان ثبت احوال کشور")
    birth = make_service(other, title_fa="صدور گواهی ولادت نوزاد", title_en="Birth certificate")
    visit = make_service(
        child, title_fa="نوبت‌دهی بیمارستان", title_en="Hospital appointment", recipients=["G2C"]
    )
    licence = make_service(
        ministry, title_fa="پروانه مطب", title_en="Clinic licence", recipients=["G2B"]
    )
    return {"birth": birth, "visit": visit, "licence": licence}


def test_search_with_arabic_letters_finds_the_same_card(client, cards):
    persian = client.get("/api/catalogue/services/", {"q": "گواهی ولادت"}).json()
    arabic = client.get("/api/catalogue/services/", {"q": "گواهي ولادت"}).json()
    assert persian["count"] == arabic["count"] == 1
    assert persian["results"][0]["service_id"] == cards["birth"].service_id


def test_service_by_id_in_persian_digits(client, cards):
    sid = cards["birth"].service_id
    persian_digits = sid.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    response = client.get(f"/api/catalogue/services/{persian_digits}/")
    assert response.status_code == 200
    assert response.json()["agency"] == "nocr"


def test_agency_filter_includes_subsidiaries_and_recipient_filters(client, cards):
    body = client.get("/api/catalogue/services/", {"agency": "moh"}).json()
    assert {r["service_id"] for r in body["results"]} == {
        cards["visit"].service_id,
        cards["licence"].service_id,
    }
    body = client.get("/api/catalogue/services/", {"agency": "moh", "recipient": "G2B"}).json()
    assert [r["service_id"] for r in body["results"]] == [cards["licence"].service_id]


def test_bad_filters_are_refused_clearly(client, cards):
    assert client.get("/api/catalogue/services/", {"recipient": "X"}).status_code == 400
    assert client.get("/api/catalogue/services/", {"agency": "nope"}).status_code == 404
    assert client.get("/api/catalogue/services/9999999999/").status_code == 404


def test_api_is_read_only(client, cards):
    response = client.post("/api/catalogue/services/", {"title_fa": "x"})
    assert response.status_code == 405
    response = client.delete("/api/catalogue/agencies/nocr/")
    assert response.status_code == 405


def test_agencies_list_and_detail(client, cards):
    body = client.get("/api/catalogue/agencies/").json()
    assert body["count"] == 3
    detail = client.get("/api/catalogue/agencies/moh-hosp/").json()
    assert detail["parent"] == "moh"


def test_stats_as_of_rejects_a_bad_jalali_date(client, cards):
    assert client.get("/api/catalogue/stats/", {"as_of": "1404-13-01"}).status_code == 400
    body = client.get("/api/catalogue/stats/", {"as_of": "۱۴۰۴/۰۳/۳۱"}).json()
    assert body["as_of"] == "1404-03-31"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": str(2**63)}, "limit"),
        ({"offset": str(2**63)}, "offset"),
        ({"offset": str(10**30)}, "offset"),
        ({"limit": "0"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"smart": "maybe"}, "smart"),
        ({"life_event": "holiday"}, "life_event"),
        ({"recipient": "X"}, "recipient"),
    ],
)
def test_wrong_or_out_of_range_parameters_answer_400_with_the_fields_error(
    client, cards, params, field
):
    response = client.get("/api/catalogue/services/", params)
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_agencies_page_parameters_are_validated(client, cards):
    response = client.get("/api/catalogue/agencies/", {"limit": str(2**63)})
    assert response.status_code == 400 and "limit" in response.json()
    body = client.get("/api/catalogue/agencies/", {"limit": "2", "offset": "1"}).json()
    assert body["count"] == 3 and len(body["results"]) == 2


def test_stats_bad_date_names_the_parameter(client, cards):
    response = client.get("/api/catalogue/stats/", {"as_of": "tomorrow"})
    assert response.status_code == 400
    assert "1404-03-31" in response.json()["as_of"][0]


def test_nullable_fields_are_null_as_documented(client, cards):
    from panjereh.catalogue.models import Service

    Service.objects.filter(pk=cards["licence"].pk).update(service_id=None)
    body = client.get("/api/catalogue/services/", {"agency": "moh"}).json()
    rows = {r["title_en"]: r for r in body["results"]}
    assert rows["Clinic licence"]["service_id"] is None
    assert rows["Clinic licence"]["parent"] is None and rows["Clinic licence"]["agency"] == "moh"
    assert client.get("/api/catalogue/agencies/moh/").json()["parent"] is None
    assert body["previous"] is None


def test_smart_filter_reads_the_usual_booleans(client, cards):
    assert client.get("/api/catalogue/services/", {"smart": "true"}).json()["count"] == 0
    assert client.get("/api/catalogue/services/", {"smart": "0"}).status_code == 200


def test_unknown_addresses_under_the_api_answer_json_404(client, cards):
    for url in (
        "/api/catalogue/services/abc/",
        "/api/catalogue/agencies/a.b/",
        "/api/catalogue/x/",
    ):
        response = client.get(url)
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        assert "detail" in response.json()


def test_an_address_with_a_newline_under_the_api_answers_json(client):
    """Found by the API fuzz on PostgreSQL: "." in the catch-all did not match a newline, so
    such an address got the portal's HTML 404."""
    response = client.get("/api/catalogue/services/a%0Ab/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
