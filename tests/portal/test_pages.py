"""Server-side rendering of the public pages, in Persian and English."""

from __future__ import annotations

import re
from urllib.parse import quote, unquote

import pytest
from django.urls import reverse

from panjereh.common.persian import to_persian_digits
from tests.factories import make_service

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return response.content.decode()


def test_home_in_persian(client, catalogue):
    response = client.get("/")
    assert response.status_code == 200
    html = text(response)
    assert '<html lang="fa" dir="rtl">' in html
    assert 'class="skip-link" href="#main"' in html
    assert 'id="main"' in html
    # Headline figures in Persian digits: 6 of the 8 cards are connectable and have an ID.
    assert "۸" in html and "8</dd>" not in html
    # Top-level bodies only (ministries and organisations), each linking to its page.
    assert reverse("portal:agency", args=["health-ministry"]) in html
    assert reverse("portal:agency", args=["civil-registration"]) in html
    assert 'href="/agencies/tehran-medical-university/"' not in html
    assert "وزارت بهداشت" in html
    assert reverse("portal:life_event", args=["birth"]) in html
    assert "Vazirmatn" not in html or "fonts.googleapis" not in html


def test_home_in_english(client, catalogue):
    html = text(client.get("/en/"))
    assert '<html lang="en" dir="ltr">' in html
    assert "Ministry of Health and Medical Education" in html
    # An agency with no English name falls back to Persian.
    assert "سازمان ثبت اسناد و املاک کشور" in html
    assert "Having a baby" in html
    assert not re.search("[۰-۹]", html)


def test_language_switcher_is_a_link_that_keeps_the_page(client, catalogue):
    page = f"/services/{catalogue.birth_certificate.service_id}/"
    html = text(client.get(page))
    # A link, not a form: public pages carry no CSRF token, so they can be shared from the cache.
    assert "csrfmiddlewaretoken" not in html
    match = re.search(r'class="lang-switch">\s*<a href="([^"]+)"', html)
    assert match and match.group(1) == f"/i18n/en/?next=/en{quote(page)}"
    response = client.get(match.group(1).replace("&amp;", "&"))
    assert response.status_code == 302 and response["Location"] == f"/en{page}"
    assert response.cookies["django_language"].value == "en"
    english = text(client.get(f"/en{page}"))
    assert f'href="/i18n/fa/?next={quote(page)}"' in english
    assert client.get(f"/i18n/fa/?next={page}")["Location"] == page


def test_switcher_goes_nowhere_outside_the_window(client, catalogue):
    assert client.get("/i18n/en/?next=https://evil.example/")["Location"] == "/"
    assert client.get("/i18n/en/?next=//evil.example/")["Location"] == "/"
    assert client.get("/i18n/xx/?next=/").status_code == 404


def test_switcher_keeps_the_query_string(client, catalogue):
    html = text(client.get("/search/?q=ولادت&smart=1"))
    match = re.search(r'class="lang-switch">\s*<a href="/i18n/en/\?next=([^"]+)"', html)
    assert match
    target = unquote(match.group(1))
    assert target.startswith("/en/search/?q=") and "smart=1" in target


def _answering(host: str) -> None:
    """The status monitor last found ``host`` answering (a link out is offered only then)."""
    from panjereh.status.models import System

    System.objects.create(
        key=host.replace(".", "-"),
        kind="agency_window",
        name_fa=host,
        check_url=f"https://{host}/",
        last_ok=True,
    )


def test_service_page_in_persian(client, catalogue):
    service = catalogue.birth_certificate
    _answering("example.org")
    response = client.get(f"/services/{service.service_id}/")
    assert response.status_code == 200
    html = text(response)
    assert "<h1>صدور گواهی ولادت</h1>" in html
    assert to_persian_digits(service.service_id) in html
    assert "سازمان ثبت احوال کشور" in html
    # Registry items are labelled as held by the government, even without a stored label.
    assert "دولت این را دارد" in html
    assert "مشخصات هویتی" in html and "گواهی ولادت بیمارستانی" in html
    assert "نام نوزاد" in html
    # Grouping comes from the shared ``num`` filter; Django's fa formats do not group, so the
    # Persian separator (٬) appears only once that filter groups by itself.
    assert re.search("۲۵۰٬?۰۰۰ ریال", html)
    assert "۲ روز" in html and "۱ ساعت" in html and "۳۰ دقیقه" in html
    assert "خدمت هوشمند" in html
    assert 'href="https://example.org/birth"' in html
    assert "/life-events/birth/" in html


def test_service_page_in_english(client, catalogue):
    html = text(client.get(f"/en/services/{catalogue.birth_certificate.service_id}/"))
    assert "<h1>Birth certificate</h1>" in html
    assert "The government already holds this" in html
    assert "Identity particulars" in html
    assert "250,000 rials" in html
    assert "2 days" in html and "1 hour" in html and "30 minutes" in html
    assert catalogue.birth_certificate.service_id in html


def test_service_found_by_pk_and_by_id_in_persian_digits(client, catalogue):
    service = catalogue.id_card
    assert client.get(f"/services/{service.pk}/").status_code == 200
    response = client.get(f"/services/{to_persian_digits(service.service_id)}/")
    assert response.status_code == 200
    html = text(response)
    assert "شناسنامه" in html  # document asked for
    assert "ثبت اثر انگشت در دفتر پیشخوان" in html  # in-person step


def test_service_without_english_title_falls_back_to_persian(client, catalogue):
    html = text(client.get(f"/en/services/{catalogue.tax_form.service_id}/"))
    assert "<h1>فرم 101 اظهارنامه مالیاتی</h1>" in html
    assert "not yet connected" in html


def test_exempt_service_says_so(client, catalogue):
    html = text(client.get(f"/en/services/{catalogue.exempt.service_id}/"))
    assert "exempt from being offered online" in html


@pytest.mark.parametrize(
    "url",
    [
        "/services/9999999999/",
        "/services/99999/",
        "/services/abc/",
        "/services/123456789012345/",
        "/agencies/no-such-agency/",
        "/life-events/no-such-event/",
        "/en/agencies/no-such-agency/",
    ],
)
def test_unknown_addresses_are_404(client, catalogue, url):
    assert client.get(url).status_code == 404


def test_agency_page_counts_and_subsidiaries(client, catalogue):
    response = client.get("/en/agencies/health-ministry/")
    assert response.status_code == 200
    html = text(response)
    assert "<h1>Ministry of Health and Medical Education</h1>" in html
    assert "Ministry" in html
    assert 'href="/en/agencies/tehran-medical-university/"' in html
    assert "Yes: sign in once" in html
    # Connectable (exempt excluded) across the ministry and its university: 2, both connected,
    # one smart.
    figures = re.findall(r"<dd>(\d+)", html)
    assert figures[:3] == ["2", "2", "1"]
    assert "100.0%" in html and "50.0%" in html
    assert "Medical licence enquiry for agencies" in html


def test_subsidiary_page_has_breadcrumb_and_own_window(client, catalogue):
    _answering("example.org")
    html = text(client.get("/agencies/tehran-medical-university/"))
    assert 'href="/agencies/health-ministry/"' in html
    assert 'href="https://example.org/tums"' in html
    assert "دریافت پرونده پزشکی بیمارستان" in html


def test_agency_page_paginates_its_services(client, catalogue):
    for n in range(25):
        make_service(catalogue.registry, title_fa=f"خدمت شماره {n}")
    first = text(client.get("/en/agencies/deeds-registration/"))
    assert "Page 1 of 2" in first and 'rel="next"' in first
    second = client.get("/en/agencies/deeds-registration/?page=2")
    assert second.status_code == 200 and "Page 2 of 2" in text(second)


def test_search_page_finds_and_counts(client, catalogue):
    response = client.get("/search/", {"q": "گواهي ولادت"})
    assert response.status_code == 200
    html = text(response)
    assert "صدور گواهی ولادت" in html
    assert "۱ خدمت" in html
    english = text(client.get("/en/search/", {"q": "گواهی ولادت"}))
    assert "1 service found" in english
    assert "Birth certificate" in english


def test_search_filters(client, catalogue):
    html = text(client.get("/en/search/", {"agency": "health-ministry"}))
    assert "3 services found" in html
    assert "Hospital medical record" in html
    html = text(client.get("/en/search/", {"recipient": "G2B"}))
    assert "2 services found" in html and "Registering a private joint-stock company" in html
    html = text(client.get("/en/search/", {"smart": "1", "event": "birth"}))
    assert "1 service found" in html and "Birth certificate" in html
    html = text(client.get("/en/search/", {"recipient": "G2G", "agency": "civil-registration"}))
    assert "0 services found" in html and "No services matched" in html


def test_search_form_controls_are_labelled(client, catalogue):
    html = text(client.get("/search/", {"q": "x"}))
    ids = re.findall(r'<(?:input|select)[^>]*\bid="([^"]+)"', html)
    controls = re.findall(r"<(?:input|select)\b[^>]*>", html)
    visible = [c for c in controls if 'type="hidden"' not in c]
    assert len(ids) == len(visible)
    for control_id in ids:
        assert f'for="{control_id}"' in html, control_id


def test_search_with_bad_and_huge_input_is_safe(client, catalogue):
    for params in [
        {"q": "ولادت" * 5000},
        {"q": "<script>alert(1)</script>"},
        {"agency": "x" * 5000, "recipient": "nobody", "event": "'; drop table", "page": "-1"},
        {"q": "ولادت", "page": "99999999999999999999"},
        {"q": "ولادت", "page": "abc"},
        {"smart": "maybe"},
    ]:
        response = client.get("/search/", params)
        assert response.status_code == 200, params
        assert "<script>alert(1)</script>" not in text(response)
    html = text(client.get("/search/", {"q": "ا" * 1000}))
    assert "ا" * 201 not in html
    # A NUL byte is refused before the view with a clear page (common.badinput).
    assert client.get("/search/", {"q": "\x00"}).status_code == 400


def test_search_results_paginate(client, catalogue):
    for n in range(30):
        make_service(catalogue.civil, title_fa=f"گواهی شماره {n}")
    html = text(client.get("/en/search/", {"q": "گواهی"}))
    assert "31 services found" in html
    assert "Page 1 of 2" in html
    assert 'href="?q=%DA%AF%D9%88%D8%A7%D9%87%DB%8C&amp;page=2"' in html


def test_empty_search_lists_all_services(client, catalogue):
    html = text(client.get("/en/search/"))
    assert "8 services found" in html


def test_life_events(client, catalogue):
    html = text(client.get("/en/life-events/"))
    assert "Having a baby" in html and "Starting a business" in html
    response = client.get("/en/life-events/birth/")
    assert response.status_code == 200
    html = text(response)
    assert "2 services" in html
    assert "Birth certificate" in html and "Registering a birth" in html
    assert 'href="/en/agencies/civil-registration/"' in html
    persian = text(client.get("/life-events/birth/"))
    assert "صاحب فرزند شدن" in persian


@pytest.mark.django_db
def test_a_service_with_a_definition_starts_inside_the_national_window(client):
    from django.core.management import call_command

    from panjereh.services.models import ServiceDefinition

    call_command("seed", profile="small")
    call_command("services", "load-definitions")
    definition = ServiceDefinition.objects.get(code="student-status", active=True)
    page = client.get(f"/services/{definition.service.service_id}/").content.decode()
    assert 'href="/services/apply/student-status/"' in page
