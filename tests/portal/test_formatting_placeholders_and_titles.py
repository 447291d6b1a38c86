"""Identifiers, stored titles and placeholders in the page's digits (issue 12, item 27): the
fast checks beside the browser suite's digit scan."""

from __future__ import annotations

import re

import pytest
from django.template import Context, Template
from django.utils import translation

from panjereh.common.forms import JalaliDateField
from panjereh.identity.forms import BirthDateField
from tests.factories import make_agency
from tests.feedback.conftest import make_application, make_citizen, make_definition

pytestmark = pytest.mark.django_db

PERSIAN_DIGITS = re.compile(r"[۰-۹]")
ASCII_DIGITS = re.compile(r"[0-9]")


def _render(text: str, **context) -> str:
    return Template(text).render(Context(context))


@pytest.mark.parametrize("field_class", [JalaliDateField, BirthDateField])
def test_date_placeholders_follow_the_language_active_when_rendered(field_class):
    field = field_class()  # built once, as at import time
    with translation.override("en"):
        assert not PERSIAN_DIGITS.search(str(field.widget.render("d", "")))
    with translation.override("fa"):
        html = str(field.widget.render("d", ""))
        assert PERSIAN_DIGITS.search(html)
        assert "placeholder" in html and not re.search(r'placeholder="[^"]*[0-9]', html)


def test_pick_shows_a_stored_persian_title_in_persian_digits():
    text = "{% pick fa en %}"
    with translation.override("fa"):
        assert _render(text, fa="خدمت آزمون 4", en="Test service 4") == "خدمت آزمون ۴"
    with translation.override("en"):
        assert _render(text, fa="خدمت آزمون 4", en="Test service 4") == "Test service 4"


def test_an_identifier_is_isolated_and_in_the_pages_digits():
    with translation.override("fa"):
        html = _render("{{ n|code }}", n="MSRT-H-20261207-42018B9B")
        assert html.startswith('<bdi dir="ltr"') and not ASCII_DIGITS.search(html.split(">")[1])
    with translation.override("en"):
        assert "MSRT-H-20261207-42018B9B" in _render("{{ n|code }}", n="MSRT-H-20261207-42018B9B")


def test_feedback_tracking_box_placeholder_in_the_pages_digits(client):
    client.force_login(make_citizen())
    persian = client.get("/feedback/").content.decode()
    assert re.search(r'id="id_code"[^>]*placeholder="C-[۰-۹]+"', persian)
    english = client.get("/en/feedback/").content.decode()
    assert re.search(r'id="id_code"[^>]*placeholder="C-[0-9]+"', english)


def test_application_titles_on_the_persian_feedback_page_have_persian_digits(client):
    citizen = make_citizen()
    definition = make_definition(make_agency())
    make_application(citizen, definition)
    client.force_login(citizen)
    html = client.get("/feedback/").content.decode()
    title = definition.title_fa
    assert title not in html
    assert title.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")) in html
