"""The back office: agency staff reach only their own agency's cards; IDs are AEO's; every save
goes through the operations (rules, permissions, versions) and refusals are form errors."""

from __future__ import annotations

import pytest
import time_machine
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.urls import reverse

from panjereh.catalogue import roles
from panjereh.catalogue.models import Service
from panjereh.catalogue.rules import make_service_id
from tests.factories import UserFactory, make_agency, make_agency_staff, make_service

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    roles.ensure_groups()
    civil = make_agency(code="civil", name_fa="سازمان ثبت احوال کشور")
    tax = make_agency(code="tax", name_fa="سازمان امور مالیاتی کشور")
    return {
        "civil": civil,
        "tax": tax,
        "civil_card": make_service(civil, title_fa="صدور گواهی ولادت نوزاد"),
        "tax_card": make_service(tax, title_fa="گواهی مفاصاحساب مالیاتی"),
        "civil_admin": make_agency_staff(civil, "admin"),
    }


def _user_with_role(role: str):
    user = UserFactory()
    user.groups.add(Group.objects.get(name=role))
    return user


def _change_url(service: Service) -> str:
    return reverse("admin:catalogue_service_change", args=[service.pk])


def _form_data(response) -> dict:
    """What a browser would post back: every field of the form and its inlines as shown."""
    data = {}

    def add(form):
        for name, field in form.fields.items():
            value = form[name].value()
            key = form.add_prefix(name)
            if isinstance(value, bool):
                if value:
                    data[key] = "on"
            elif isinstance(value, list | tuple):
                data[key] = [str(v) for v in value]
            else:
                data[key] = "" if value is None else value
            del field

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        add(formset.management_form)
        for form in formset.forms:
            add(form)
    return data


def test_agency_admin_lists_only_own_cards(client, world):
    client.force_login(world["civil_admin"])
    response = client.get(reverse("admin:catalogue_service_changelist"))
    assert response.status_code == 200
    listed = list(response.context["cl"].queryset)
    assert listed == [world["civil_card"]]


def test_agency_admin_cannot_change_another_agencys_card(client, world):
    card = world["tax_card"]
    client.force_login(world["civil_admin"])
    assert client.get(_change_url(card)).status_code in (302, 403, 404)
    response = client.post(
        _change_url(card),
        {"title_fa": "عنوان دستکاری‌شده", "agency": world["civil"].pk, "scope": "connectable"},
    )
    assert response.status_code in (302, 403, 404)
    card.refresh_from_db()
    assert card.title_fa == "گواهی مفاصاحساب مالیاتی"
    assert card.version == 1 and card.agency == world["tax"]


def test_agency_admin_edits_own_card_but_not_its_service_id(client, world):
    card = world["civil_card"]
    old_id = card.service_id
    client.force_login(world["civil_admin"])
    response = client.get(_change_url(card))
    assert response.status_code == 200
    assert "service_id" not in response.context["adminform"].form.fields
    data = _form_data(response)
    data["title_en"] = "Newborn birth certificate"
    data["service_id"] = make_service_id("555555555")
    response = client.post(_change_url(card), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    card.refresh_from_db()
    assert card.title_en == "Newborn birth certificate"
    assert card.service_id == old_id
    latest = card.versions.order_by("-version").first()
    assert latest.version == 2 and latest.author == world["civil_admin"]
    assert LogEntry.objects.filter(object_id=str(card.pk)).exists()


def test_agency_admin_cannot_approve_smart_and_sees_why(client, world):
    card = world["civil_card"]
    client.force_login(world["civil_admin"])
    data = _form_data(client.get(_change_url(card)))
    data["smart_status"] = "approved"
    response = client.post(_change_url(card), data)
    assert response.status_code == 200  # the form again, with the refusal on it
    assert response.context["adminform"].form.errors
    card.refresh_from_db()
    assert card.smart_status == "none" and card.version == 1


def test_rule_violations_show_as_form_errors(client, world):
    card = world["civil_card"]
    client.force_login(_user_with_role(roles.AEO))
    data = _form_data(client.get(_change_url(card)))
    data["scope"] = "exempt"
    data["connected"] = ""
    data.pop("connected")
    response = client.post(_change_url(card), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "exemption_document" in errors
    card.refresh_from_db()
    assert card.scope == "connectable"


def test_aeo_changes_a_service_id(client, world):
    card = world["tax_card"]
    aeo = _user_with_role(roles.AEO)
    client.force_login(aeo)
    response = client.get(_change_url(card))
    assert "service_id" in response.context["adminform"].form.fields
    data = _form_data(response)
    new_id = make_service_id("555555555")
    data["service_id"] = new_id
    response = client.post(_change_url(card), data)
    assert response.status_code == 302
    card.refresh_from_db()
    assert card.service_id == new_id
    assert card.versions.order_by("-version").first().author == aeo


def test_steering_wg_approves_but_edits_nothing_else(client, world):
    card = world["tax_card"]
    member = _user_with_role(roles.STEERING_WG)
    client.force_login(member)
    response = client.get(_change_url(card))
    assert list(response.context["adminform"].form.fields) == ["smart_status"]
    data = _form_data(response)
    data["smart_status"] = "approved"
    assert client.post(_change_url(card), data).status_code == 302
    card.refresh_from_db()
    assert card.smart_status == "approved"
    assert card.versions.order_by("-version").first().author == member


@time_machine.travel("2025-06-21 10:30 +0330", tick=False)  # 31 Khordad 1404
def test_version_history_shows_author_and_jalali_time(client, world):
    operator = _user_with_role(roles.ITO)
    client.force_login(operator)
    data = _form_data(client.get(_change_url(world["civil_card"])))
    data["fee"] = "1000"
    assert client.post(_change_url(world["civil_card"]), data).status_code == 302
    html = client.get(_change_url(world["civil_card"])).content.decode()
    assert "۳۱ خرداد ۱۴۰۴ 10:30" in html
    assert operator.username in html


def test_agency_editor_adds_a_card_for_own_agency_only(client, world):
    editor = make_agency_staff(world["civil"], "editor")
    client.force_login(editor)
    url = reverse("admin:catalogue_service_add")
    response = client.get(url)
    assert list(response.context["adminform"].form.fields["agency"].queryset) == [world["civil"]]
    data = _form_data(response)
    data.update(agency=world["civil"].pk, title_fa="ثبت درخواست تغییر نام", scope="connectable")
    data.update(level="service", category="identity", smart_status="none")
    data.update(electronification_level="1", min_assurance_level="2", fee="0")
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    card = Service.objects.get(title_fa="ثبت درخواست تغییر نام")
    assert card.agency == world["civil"] and card.service_id is None
    assert card.versions.get().author == editor
    data["agency"] = world["tax"].pk
    data["title_fa"] = "خدمت دستگاه دیگر"
    assert client.post(url, data).status_code == 200  # not a valid choice for this editor
    assert not Service.objects.filter(title_fa="خدمت دستگاه دیگر").exists()


def test_agency_admin_edits_own_agency_but_not_its_national_status(client, world):
    civil, tax = world["civil"], world["tax"]
    client.force_login(world["civil_admin"])
    other = reverse("admin:catalogue_agency_change", args=[tax.pk])
    assert client.get(other).status_code in (302, 403, 404)
    url = reverse("admin:catalogue_agency_change", args=[civil.pk])
    response = client.get(url)
    fields = response.context["adminform"].form.fields
    assert "connection_status" not in fields and "in_scope" not in fields
    data = _form_data(response)
    data.update(name_en="National Organization for Civil Registration")
    data.update(connection_status="not_applicable", in_scope="")
    assert client.post(url, data).status_code == 302
    civil.refresh_from_db()
    assert civil.name_en == "National Organization for Civil Registration"
    assert civil.connection_status == "connected" and civil.in_scope
    assert civil.versions.order_by("-version").first().author == world["civil_admin"]
