"""Art. 107(ح) for every card: what a card asks for that a base registry holds, the recorded
justification publishing it needs, and the public page that lists them."""

from __future__ import annotations

import io
import json

import pytest
from django.contrib.auth.models import AnonymousUser, Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import translation

from panjereh.catalogue import lint, operations, queries, roles
from panjereh.catalogue.models import OnceOnlyJustification, Service, ServiceVersion
from panjereh.catalogue.rules import (
    REGISTRY_HOLDERS,
    once_only_findings,
    registry_items_named,
)
from panjereh.catalogue.vocab import REGISTRY_ITEMS
from panjereh.common.persian import to_persian_digits
from tests.factories import UserFactory, make_agency, make_agency_staff, make_service

pytestmark = pytest.mark.django_db

BASIS = "بند «ح» ماده ۱۰۷ قانون برنامه هفتم؛ مصوبه ۱۲۳"
REASON = "استعلام برخط سند از سازمان ثبت هنوز برای املاک قدیمی پاسخ نمی‌دهد."


# --- findings -----------------------------------------------------------------------------------


def items(card) -> set[tuple[str, str]]:
    return {(f.item, f.kind) for f in once_only_findings(card)}


def test_a_non_smart_card_asking_for_registry_documents_and_typed_data_is_found():
    card = {
        "smart_status": "none",
        "documents_required": ["تصویر کارت ملی", "اصل سند مالکیت", "گواهی پزشکی"],
        "inputs": [
            {"source": "registry", "item": "civil.identity"},
            {"source": "user", "item": "civil.birth_date", "label_fa": "تاریخ تولد"},
            {"source": "user", "code": "postcode", "label_fa": "کد پستی محل سکونت"},
            {"source": "document", "code": "doc1", "label_fa": "گواهی عدم سوء پیشینه"},
            {"source": "user", "code": "email", "label_fa": "نشانی رایانامه برای پیگیری"},
        ],
        "in_person_steps": ["مراجعه به دفتر برای تحویل اصل شناسنامه"],
    }
    assert items(card) == {
        ("civil.identity", "document"),
        ("ssaa.deed", "document"),
        ("civil.birth_date", "typed"),
        ("post.address", "typed"),
        ("judiciary.criminal_record", "upload"),
        ("civil.identity", "in_person"),
    }
    deed = next(f for f in once_only_findings(card) if f.item == "ssaa.deed")
    assert deed.asked == "اصل سند مالکیت"
    assert "اصل سند مالکیت" in deed.message_fa and REGISTRY_HOLDERS["ssaa"][0] in deed.message_fa
    assert "Deeds and Properties Registration" in deed.message_en and "107(h)" in deed.message_en
    with translation.override("en"):
        assert deed.message == deed.message_en
    with translation.override("fa"):
        assert deed.message == deed.message_fa


def test_a_smart_card_is_checked_the_same_way():
    smart = make_service(
        smart_status="approved", inputs=[{"source": "registry", "item": "civil.identity"}]
    )
    assert once_only_findings(smart) == []
    card = {"smart_status": "approved", "documents_required": ["گواهی فوت"]}
    assert items(card) == {("civil.death_record", "document")}


@pytest.mark.parametrize(
    ("text", "item"),
    [
        ("کارت ملی", "civil.identity"),
        ("كارت ملي", "civil.identity"),  # Arabic Kaf and Yeh
        ("کارت‌ملی", "civil.identity"),  # ZWNJ
        ("کارتملی", "civil.identity"),
        ("گواهي عدم سوءپيشينه", "judiciary.criminal_record"),
        ("گواهی عدم سو پیشینه", "judiciary.criminal_record"),
        ("کد‌ پستی", "post.address"),
        ("آدرس", "post.address"),
        ("اصل سند مالكيت", "ssaa.deed"),
        ("تصویر مدرک تحصیلی", "science.degree"),
        ("سند ازدواج", "civil.marital_status"),
        ("گواهی فوت پدر", "civil.death_record"),
        ("عکس ۳×۴ جدید", "civil.photo"),
        ("Copy of the national ID card", "civil.identity"),
    ],
)
def test_spelling_variants_meet(text, item):
    assert registry_items_named(text) == [item]


@pytest.mark.parametrize(
    "text", ["شناسنامه خدمت", "نشانی رایانامه", "گواهی پزشکی", "فرم درخواست", "", None, 42]
)
def test_names_of_other_things_are_not_registry_items(text):
    assert registry_items_named(text) == []


def test_odd_card_shapes_are_read_without_error():
    card = {"documents_required": "کارت ملی", "inputs": ["x", None, {"source": "user"}]}
    assert once_only_findings(card) == []
    assert once_only_findings({"documents_required": [{"label_fa": "شناسنامه"}]})[0].item == (
        "civil.identity"
    )
    huge = "کارت ملی " + "ا" * 1_000_000
    assert [f.item for f in once_only_findings({"documents_required": [huge]})] == [
        "civil.identity"
    ]


# --- publishing needs a justification ----------------------------------------------------------


@pytest.fixture
def agency():
    return make_agency(code="housing-test")


@pytest.fixture
def editor(agency):
    return make_agency_staff(agency, role="editor")


@pytest.fixture
def offline_card(agency):
    return make_service(agency, connected=False, connection_form="", documents_required=[])


def ask_for_deed(card, editor):
    return operations.save_service(card, {"documents_required": ["اصل سند مالکیت"]}, author=editor)


def test_an_offline_card_may_ask_but_publishing_it_is_refused_with_the_reason(offline_card, editor):
    card = ask_for_deed(offline_card, editor)
    versions = ServiceVersion.objects.filter(service=card).count()
    with translation.override("fa"), pytest.raises(ValidationError) as info:
        operations.save_service(
            card, {"connected": True, "connection_form": "direct"}, author=editor
        )
    message = " ".join(info.value.message_dict["documents_required"])
    assert "اصل سند مالکیت" in message and "سازمان ثبت اسناد" in message
    with translation.override("en"), pytest.raises(ValidationError) as info:
        operations.save_service(
            card, {"connected": True, "connection_form": "direct"}, author=editor
        )
    assert "Deeds and Properties" in " ".join(info.value.message_dict["documents_required"])
    card.refresh_from_db()
    assert not card.connected
    assert ServiceVersion.objects.filter(service=card).count() == versions


def test_publishing_is_accepted_once_justified(offline_card, editor):
    card = ask_for_deed(offline_card, editor)
    record = operations.record_once_only_justification(
        card, "ssaa.deed", reason_fa=REASON, legal_basis=BASIS, author=editor
    )
    assert (record.version, record.author, record.asked) == (1, editor, "اصل سند مالکیت")
    assert record.service_version == card.version and record.agency_id == card.agency_id
    card = operations.save_service(
        card, {"connected": True, "connection_form": "direct"}, author=editor
    )
    assert Service.objects.get(pk=card.pk).connected


def test_a_published_card_may_not_take_on_a_new_registry_item(agency, editor):
    card = make_service(agency)
    with pytest.raises(ValidationError):
        operations.save_service(card, {"documents_required": ["کارت ملی"]}, author=editor)
    # What a published card already asked for does not block an unrelated edit.
    Service.objects.filter(pk=card.pk).update(documents_required=["کارت ملی"])
    card.refresh_from_db()
    operations.save_service(card, {"fee": 1000}, author=editor)
    assert Service.objects.get(pk=card.pk).fee == 1000


def test_the_windows_own_writes_record_the_card_and_leave_the_finding_pending(agency):
    card = make_service(agency, documents_required=["شناسنامه"])  # as SYSTEM
    report = lint.once_only("housing-test")
    assert report.per_agency["housing-test"]["unjustified_published"] == 1
    assert [line.justified for line in report.lines] == [False]
    assert card.connected


def test_a_justification_is_never_changed_and_a_new_one_is_a_new_version(offline_card, editor):
    card = ask_for_deed(offline_card, editor)
    first = operations.record_once_only_justification(
        card, "ssaa.deed", reason_fa=REASON, legal_basis=BASIS, author=editor
    )
    second = operations.record_once_only_justification(
        card, "ssaa.deed", reason_fa="دلیل تازه", reason_en="A newer reason", legal_basis=BASIS,
        author=roles.SYSTEM,
    )  # fmt: skip
    assert (second.version, second.author) == (2, None)
    first.reason_fa = "دگرگون"
    with pytest.raises(ValueError):
        first.save()
    assert OnceOnlyJustification.objects.get(pk=first.pk).reason_fa == REASON


def test_only_what_the_card_asks_for_can_be_justified(offline_card, editor):
    card = ask_for_deed(offline_card, editor)
    for item in ("civil.identity", "no.such.item"):
        with pytest.raises(ValidationError):
            operations.record_once_only_justification(
                card, item, reason_fa=REASON, legal_basis=BASIS, author=editor
            )
    assert not OnceOnlyJustification.objects.exists()


# --- who may record one ---------------------------------------------------------------------


def _platform(role: str):
    user = UserFactory()
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


@pytest.mark.parametrize(
    ("actor", "allowed"),
    [
        ("own_editor", True),
        ("own_admin", True),
        ("own_viewer", False),
        ("other_editor", False),
        ("aeo", True),
        ("steering", False),
        ("plain_staff", False),
        ("anonymous", False),
        ("none", False),
        ("system", True),
    ],
)
def test_who_may_record_a_justification(offline_card, agency, actor, allowed):
    card = ask_for_deed(offline_card, make_agency_staff(agency, role="editor"))
    other = make_agency(code="other-agency")
    actors = {
        "own_editor": lambda: make_agency_staff(agency, role="editor"),
        "own_admin": lambda: make_agency_staff(agency, role="admin"),
        "own_viewer": lambda: make_agency_staff(agency, role="viewer"),
        "other_editor": lambda: make_agency_staff(other, role="editor"),
        "aeo": lambda: _platform(roles.AEO),
        "steering": lambda: _platform(roles.STEERING_WG),
        "plain_staff": lambda: UserFactory(),
        "anonymous": AnonymousUser,
        "none": lambda: None,
        "system": lambda: roles.SYSTEM,
    }
    who = actors[actor]()

    def record():
        return operations.record_once_only_justification(
            card, "ssaa.deed", reason_fa=REASON, legal_basis=BASIS, author=who
        )

    if allowed:
        assert record().item == "ssaa.deed"
    else:
        with pytest.raises(PermissionDenied):
            record()
        assert not OnceOnlyJustification.objects.exists()


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("reason_fa", "دلیل\x00پنهان"),
        ("reason_fa", "ب" * 2001),
        ("reason_fa", "   "),
        ("reason_fa", "متن \u202eوارونه"),
        ("reason_fa", "شخصی \ue000"),
        ("reason_fa", "نیمه \ud800"),
        ("reason_fa", 12345),
        ("reason_en", "bell \x07"),
        ("legal_basis", ""),
        ("legal_basis", "ماده " * 100),
        ("legal_basis", "\x00"),
    ],
)
def test_bad_text_is_refused_cleanly_and_nothing_is_written(offline_card, editor, field, value):
    card = ask_for_deed(offline_card, editor)
    texts = {"reason_fa": REASON, "reason_en": "", "legal_basis": BASIS, field: value}
    with pytest.raises(ValidationError) as info:
        operations.record_once_only_justification(card, "ssaa.deed", author=editor, **texts)
    assert field in info.value.message_dict
    assert not OnceOnlyJustification.objects.exists()


def test_persian_text_with_line_breaks_and_zwnj_is_kept(offline_card, editor):
    card = ask_for_deed(offline_card, editor)
    record = operations.record_once_only_justification(
        card, "ssaa.deed", reason_fa="سطر یکم\nسطر‌دوم", legal_basis=BASIS, author=editor
    )
    assert record.reason_fa.startswith("سطر یکم")


# --- the linter and the public page ------------------------------------------------------------


@pytest.fixture
def catalogue(agency, editor):
    """Two agencies: one justified exception, unjustified requests on published and offline
    cards."""
    other = make_agency(code="zz-other", name_fa="سازمان دیگر", name_en="Other Organisation")
    justified = make_service(agency, title_fa="خدمت سند", connected=False, connection_form="")
    justified = ask_for_deed(justified, editor)
    operations.record_once_only_justification(
        justified, "ssaa.deed", reason_fa=REASON, reason_en="Old deeds are not online yet.",
        legal_basis=BASIS, author=editor,
    )  # fmt: skip
    operations.save_service(
        justified, {"connected": True, "connection_form": "direct"}, author=editor
    )
    make_service(agency, documents_required=["کارت ملی", "شناسنامه", "گواهی فوت"])
    make_service(other, connected=False, connection_form="", documents_required=["کد پستی"])
    make_service(other, title_fa="خدمت پزشکی", documents_required=["گواهی پزشکی"])
    return {"agency": agency, "other": other, "justified": justified}


def expected_counts() -> dict[str, tuple[int, int]]:
    """Counted here, from the cards, without the code under test's aggregation."""
    counts: dict[str, list[int]] = {}
    justified = set(OnceOnlyJustification.objects.values_list("service_id", "item"))
    for service in Service.objects.select_related("agency"):
        asked = {f.item for f in once_only_findings(service)}
        unjustified = len(asked - {i for s, i in justified if s == service.pk})
        if unjustified:
            row = counts.setdefault(service.agency.code, [0, 0])
            row[0] += unjustified
            row[1] += unjustified * service.connected
    return {code: tuple(row) for code, row in counts.items()}


def test_the_linter_reports_every_card_with_counts_per_agency(catalogue):
    report = lint.once_only()
    got = {c: (v["unjustified"], v["unjustified_published"]) for c, v in report.per_agency.items()}
    assert got == expected_counts() == {"housing-test": (2, 2), "zz-other": (1, 0)}
    assert sum(line.justified for line in report.lines) == 1
    assert lint.lint() == []  # lawful or pending: not a broken card

    out = io.StringIO()
    call_command("catalogue", "lint", "--format", "json", "--once-only", stdout=out)
    payload = json.loads(out.getvalue())
    assert payload["once_only"]["per_agency"]["housing-test"]["unjustified"] == 2
    assert len(payload["once_only"]["findings"]) == len(report.lines)
    with pytest.raises(CommandError):
        call_command("catalogue", "lint", "--strict", stdout=io.StringIO())


def test_the_public_page_lists_justified_exceptions_and_unjustified_counts(catalogue):
    client = Client()
    page = client.get("/once-only/")
    assert page.status_code == 200 and page["Content-Language"] == "fa"
    html = page.content.decode()
    assert html.count('<tr data-service="') == len(queries.once_only_exceptions()) == 1
    assert REASON in html and "اصل سند مالکیت" in html and "سازمان ثبت اسناد" in html
    assert to_persian_digits(BASIS) in html
    for code, (unjustified, published) in expected_counts().items():
        row = html.split(f'<tr data-agency="{code}">')[1].split("</tr>")[0]
        assert f'data-count="unjustified">{to_persian_digits(unjustified)}<' in row
        assert f'data-count="published">{to_persian_digits(published)}<' in row
    english = client.get("/en/once-only/").content.decode()
    assert "Old deeds are not online yet." in english and "Deeds and Properties" in english


def test_a_new_justification_shows_on_the_next_request(catalogue, agency, editor):
    client = Client()
    assert "zz-other" in client.get("/once-only/").content.decode()
    card = Service.objects.get(agency__code="housing-test", title_fa="خدمت آزمایشی")
    for item in ("civil.identity", "civil.death_record"):
        operations.record_once_only_justification(
            card, item, reason_fa=REASON, legal_basis=BASIS, author=roles.SYSTEM
        )
    html = client.get("/once-only/").content.decode()
    assert html.count('<tr data-service="') == 3
    assert '<tr data-agency="housing-test">' not in html


def test_every_registry_item_has_a_holder():
    assert {registry for registry, _fa, _en in REGISTRY_ITEMS.values()} <= set(REGISTRY_HOLDERS)


# --- the back office ----------------------------------------------------------------------------


def form_data(response) -> dict:
    """What a browser posts back: every field of the admin form and its inlines as shown."""
    data = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    for form in forms:
        for name in form.fields:
            value = form[name].value()
            key = form.add_prefix(name)
            if isinstance(value, bool):
                if value:
                    data[key] = "on"
            elif isinstance(value, list | tuple):
                data[key] = [str(v) for v in value]
            else:
                data[key] = "" if value is None else value
    return data


def test_the_back_office_shows_the_refusal_as_a_form_error(client, offline_card, editor):
    card = ask_for_deed(offline_card, editor)
    client.force_login(editor)
    url = reverse("admin:catalogue_service_change", args=[card.pk])
    data = form_data(client.get(url))
    data["connected"] = "on"
    data["connection_form"] = "direct"
    response = client.post(url, data)
    assert response.status_code == 200
    errors = " ".join(str(e) for e in response.context["adminform"].form.errors.values())
    assert "سند مالکیت" in errors
    card.refresh_from_db()
    assert not card.connected
    operations.record_once_only_justification(
        card, "ssaa.deed", reason_fa=REASON, legal_basis=BASIS, author=editor
    )
    assert client.post(url, data).status_code == 302
    card.refresh_from_db()
    assert card.connected
