"""The back office (Django's admin) in the window's look and language (issue 12, item 29):
Persian first and right to left, the window's name and font, list fields edited one item per
line instead of as raw JSON, dates in the solar calendar in Persian."""

from __future__ import annotations

import re

import pytest

from panjereh.common.forms import StringListField
from tests.factories import make_agency_staff, make_service

pytestmark = pytest.mark.django_db


def _html(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def test_the_staff_sign_in_page_is_persian_right_to_left_and_the_windows(client):
    html = _html(client.get("/admin/login/"))
    assert '<html lang="fa" dir="rtl">' in html
    assert "Django" not in re.sub(r"<(link|script)[^>]*>", "", html)
    assert "میز کار پنجره" in html
    assert "portal/css/admin" in html
    english = _html(client.get("/en/admin/login/"))
    assert '<html lang="en" dir="ltr">' in english
    assert "Panjereh back office" in english
    assert "Django administration" not in english


def test_list_fields_of_a_service_card_are_edited_one_item_per_line(client):
    service = make_service(recipients=["G2C", "G2B"], channels=["web", "mobile"])
    editor = make_agency_staff(service.agency, role="editor")
    client.force_login(editor)
    html = _html(client.get(f"/admin/catalogue/service/{service.pk}/change/"))
    recipients = re.search(r'<textarea name="recipients"[^>]*>(.*?)</textarea>', html, re.S)
    assert recipients is not None, "recipients are not a text area"
    assert recipients.group(1).strip() == "G2C\nG2B"
    assert "[&quot;G2C&quot;" not in html


def test_dates_in_the_back_office_lists_are_jalali_in_persian(client, time_machine):
    time_machine.move_to("2026-12-06 09:00+03:30")
    service = make_service()
    editor = make_agency_staff(service.agency, role="editor")
    client.force_login(editor)
    html = _html(client.get("/admin/catalogue/service/"))
    assert "۱۵ آذر ۱۴۰۵" in html
    assert "Dec. 6, 2026" not in html and "دسامبر" not in html
    english = _html(client.get("/en/admin/catalogue/service/"))
    assert "۱۴۰۵" not in english


def test_a_list_typed_one_item_per_line_becomes_a_clean_list():
    field = StringListField(required=False)
    assert field.clean(" G2C \n\nG2B\n") == ["G2C", "G2B"]
    assert field.prepare_value(["a", "b"]) == "a\nb"
    assert not field.has_changed(["a", "b"], "a\r\nb\r\n")
    with pytest.raises(Exception, match="required|لازم|الزامی"):
        StringListField(required=True).clean("\n \n")
