"""Each page in one language's formatting (issue 12, item 27): an English page carries no
Persian digits or Jalali month names, a Persian page no ASCII digits in its figures."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from panjereh.common.persian import to_persian_digits
from tests.feedback.conftest import make_citizen

pytestmark = pytest.mark.django_db

PERSIAN_DIGITS = re.compile(r"[۰-۹]")


def test_the_english_account_page_shows_the_birth_date_in_english(client):
    citizen = make_citizen(birth_date=dt.date(1990, 3, 21))
    client.force_login(citizen)
    html = client.get("/en/account/").content.decode()
    assert "21 Mar 1990" in html
    assert not PERSIAN_DIGITS.search(html.split("<main", 1)[1])
    persian = client.get("/account/").content.decode()
    assert "۱ فروردین ۱۳۶۹" in persian


@pytest.mark.parametrize(
    ("error", "persian", "english"),
    [
        ("connection closed without an answer", "اتصال بدون پاسخ بسته شد", "closed without"),
        ("HTTP 503", "وضعیت HTTP ۵۰۳", "HTTP status 503"),
        ("ReadError", "خطای پیش‌بینی‌نشده", "unexpected fault"),
    ],
)
def test_an_incident_names_what_the_monitor_saw_in_the_pages_language(
    client, error, persian, english
):
    from tests.status.conftest import feed, make_system

    system = make_system()
    incident = None
    for _ in range(3):
        incident = feed(system, False, status=None, error=error) or incident
    assert incident is not None
    html = client.get(f"/status/incidents/{incident.public_id}/").content.decode()
    assert persian in html
    assert error not in html
    english_html = client.get(f"/en/status/incidents/{incident.public_id}/").content.decode()
    assert english in english_html


ASCII_DIGITS = re.compile(r"[0-9]")


def _main_text(html: str) -> str:
    """The visible text of the page's main element (tags and attributes dropped)."""
    main = html.split("<main", 1)[1].split("</main>", 1)[0]
    return re.sub(r"<[^>]*>", " ", main.split(">", 1)[1])


def test_the_incident_lookup_gives_its_example_in_the_pages_digits(client):
    persian = client.get("/status/incidents/", {"id": ""}).content.decode()
    assert '<bdi dir="ltr" class="code">INC-۱۴۰۵-۰۰۰۷</bdi>' in persian
    assert not ASCII_DIGITS.search(_main_text(persian))
    english = client.get("/en/status/incidents/", {"id": "nonsense"}).content.decode()
    assert '<bdi dir="ltr" class="code">INC-1405-0007</bdi>' in english
    assert not PERSIAN_DIGITS.search(_main_text(english))


def test_an_incident_id_is_shown_in_the_pages_digits(client):
    from tests.status.conftest import feed, make_system

    system = make_system()
    incident = None
    for _ in range(3):
        incident = feed(system, False) or incident
    assert incident is not None
    year, number = incident.public_id.split("-")[1:]
    persian = client.get("/status/").content.decode()
    assert f'data-incident="{incident.public_id}"' in persian
    shown = f"INC-{to_persian_digits(year)}-{to_persian_digits(number)}"
    assert f'<bdi dir="ltr" class="code">{shown}</bdi>' in persian
    page = client.get(f"/status/incidents/{incident.public_id}/").content.decode()
    assert f'id="incident-id-value"><bdi dir="ltr" class="code">{shown}</bdi>' in page


def test_the_sample_agency_windows_write_persian_digits():
    from panjereh.samples.agency_window import fa_digits

    assert fa_digits(2) == "۲"
    assert fa_digits("level 10") == "level ۱۰"
