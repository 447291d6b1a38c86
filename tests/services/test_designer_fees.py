"""The designer's fee fields: the fee, whether it is given back on rejection, and fees that
depend on what the applicant types (rows of {input, condition, value, amount, what it is for}),
saved into the definition as ``services.fees`` reads it; refused in plain words with the
error summary (the form kept), and changed only by those who may change the draft."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.utils import translation

from panjereh.catalogue import roles
from panjereh.services import definitions, fees
from panjereh.services import designer_forms as dforms
from panjereh.services.models import DefinitionStatus
from tests.factories import UserFactory, make_agency, make_agency_staff

from .test_design import at
from .test_designer_views import _client, form_of, url

pytestmark = pytest.mark.django_db
S = DefinitionStatus


@pytest.fixture
def people():
    roles.ensure_groups()
    a, b = make_agency(), make_agency()
    aeo = UserFactory()
    aeo.groups.add(Group.objects.get(name=roles.AEO))
    return {
        "a": a,
        "editor_a": make_agency_staff(a, "editor"),
        "viewer_a": make_agency_staff(a, "viewer"),
        "admin_a": make_agency_staff(a, "admin"),
        "editor_b": make_agency_staff(b, "editor"),
        "aeo": aeo,
    }


@pytest.fixture(autouse=True)
def exchange_catalogue(db):
    """The registries' published data services, as the exchange registers them."""
    from panjereh.exchange import provision
    from panjereh.registries import catalogue

    for registry in ("civil", "science", "judiciary"):
        provision.register_registry(
            f"http://127.0.0.1:9/{registry}", description=catalogue.openapi(registry)
        )


@pytest.fixture(autouse=True)
def _persian():
    with translation.override("fa"):
        yield


def _summary(response) -> str:
    page = response.content.decode()
    start = page.find('id="error-summary"')
    return page[start : start + 3000]


def _with_inputs(spec: dict, **changes) -> dict:
    """The edit form of ``spec`` with two typed inputs, the fee section shown."""
    data = form_of(spec)
    n = len(spec.get("inputs", []))
    data.update(
        {
            f"input-{n}-code": "use",
            f"input-{n}-label_fa": "نوع بهره‌برداری",
            f"input-{n}-label_en": "Kind of use",
            f"input-{n + 1}-code": "copies",
            f"input-{n + 1}-label_fa": "تعداد نسخه",
            "fee_form": "1",
            "fee_refundable": "on",
            "fee_rials": "۱٬۲۰۰٬۰۰۰",
        }
    )
    data.update(changes)
    return data


RULES = {
    "feerule-0-field": "input.use",
    "feerule-0-op": "eq",
    "feerule-0-value": "تجاری",
    "feerule-0-amount": "۵٬۰۰۰٬۰۰۰",
    "feerule-0-label_fa": "بهره‌برداری تجاری",
    "feerule-0-label_en": "Commercial use",
    "feerule-1-field": "input.use",
    "feerule-1-op": "in",
    "feerule-1-value": "دانشجویی، آموزشی",
    "feerule-1-amount": "0",
    "feerule-1-label_fa": "دانشجویی یا آموزشی",
}


def test_an_editor_sets_the_fee_its_refund_and_rules_on_typed_inputs(client, people):
    definition = at(S.DRAFT, people["a"], smart=True)
    c = _client(client, people["editor_a"])
    page = c.get(url("designer_version", definition.pk)).content.decode()
    assert 'id="fees"' in page and 'name="fee_refundable"' in page
    assert 'id="id_fee_refundable" checked' in page  # given back unless the officer says not
    response = c.post(
        url("designer_version", definition.pk), _with_inputs(definition.spec, **RULES)
    )
    assert response.status_code == 302, _summary(response)
    definition.refresh_from_db()
    spec = definition.spec
    assert definitions.validate(spec) == []
    assert (spec["fee_rials"], spec["fee_refundable"]) == (1_200_000, True)
    assert spec["fee_rules"] == [
        {
            "rule": {"field": "input.use", "op": "eq", "value": "تجاری"},
            "amount_rials": 5_000_000,
            "label_fa": "بهره‌برداری تجاری",
            "label_en": "Commercial use",
        },
        {
            "rule": {"field": "input.use", "op": "in", "value": ["دانشجویی", "آموزشی"]},
            "amount_rials": 0,
            "label_fa": "دانشجویی یا آموزشی",
        },
    ]
    # What the applicant pays, as the engine computes it from the saved definition.
    assert fees.amount(spec, {"use": "تجاری"}) == 5_000_000
    assert fees.amount(spec, {"use": "آموزشی"}) == 0
    assert fees.amount(spec, {"use": "شخصی"}) == 1_200_000
    # The page shows the rows back, and saving them again changes nothing.
    page = c.get(url("designer_version", definition.pk)).content.decode()
    assert 'value="input.use" selected' in page and 'value="دانشجویی, آموزشی"' in page
    rows = dforms.rows_of(spec)
    again = form_of(spec, fee_form="1", fee_refundable="on")
    for n, row in enumerate(rows["fee_rules"][:-1]):
        for key in ("field", "op", "value", "amount", "label_fa", "label_en"):
            again[f"feerule-{n}-{key}"] = str(row[key])
    assert c.post(url("designer_version", definition.pk), again).status_code == 302
    definition.refresh_from_db()
    assert definition.spec["fee_rules"] == spec["fee_rules"]
    # Not refundable: the box unticked.
    data = {**again}
    del data["fee_refundable"]
    assert c.post(url("designer_version", definition.pk), data).status_code == 302
    definition.refresh_from_db()
    assert definition.spec["fee_refundable"] is False
    assert (
        'id="id_fee_refundable" checked'
        not in c.get(url("designer_version", definition.pk)).content.decode()
    )


def test_a_form_without_the_fee_section_leaves_the_refund_and_rules_alone(client, people):
    definition = at(S.DRAFT, people["a"], smart=True)
    spec = {
        **definition.spec,
        "inputs": [{"code": "use", "label_fa": "نوع بهره‌برداری", "source": "user"}],
        "fee_rials": 900_000,
        "fee_refundable": False,
        "fee_rules": [
            {
                "rule": {"any": [{"field": "input.use", "op": "empty"}]},
                "amount_rials": 1,
                "label_fa": "ترکیبی",
            }
        ],
    }
    assert definitions.validate(spec) == []
    definition.spec = spec
    definition.save(update_fields=["spec"])
    c = _client(client, people["editor_a"])
    page = c.get(url("designer_version", definition.pk)).content.decode()
    assert "ترکیبی" in page  # a compound rule from a file is shown, kept as it is
    response = c.post(url("designer_version", definition.pk), form_of(spec, title_fa="تازه"))
    assert response.status_code == 302
    definition.refresh_from_db()
    assert definition.spec["fee_refundable"] is False
    assert definition.spec["fee_rules"] == spec["fee_rules"]
    # With the section, rows come first and the compound rule is kept after them.
    data = form_of(spec, fee_form="1", **{k: v for k, v in RULES.items() if "-0-" in k})
    assert c.post(url("designer_version", definition.pk), data).status_code == 302
    definition.refresh_from_db()
    assert [r["label_fa"] for r in definition.spec["fee_rules"]] == ["بهره‌برداری تجاری", "ترکیبی"]
    assert definition.spec["fee_refundable"] is False  # the box was not ticked


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"feerule-0-field": ""}, "feerule-0-field", "ورودی"),
        ({"feerule-0-field": "identity.age"}, "feerule-0-field", "فقط به آنچه متقاضی"),
        ({"feerule-0-field": "input.nobody"}, "feerule-0-field", "فقط به آنچه متقاضی"),
        ({"feerule-0-op": "gt"}, "feerule-0-op", "مقایسه"),
        ({"feerule-0-op": ""}, "feerule-0-op", "مقایسه"),
        ({"feerule-0-value": ""}, "feerule-0-value", "مقداری"),
        ({"feerule-0-amount": "-5"}, "feerule-0-amount", "صحیح"),
        ({"feerule-0-amount": "۵ میلیون"}, "feerule-0-amount", "صحیح"),
        ({"feerule-0-amount": ""}, "feerule-0-amount", "صحیح"),
        ({"feerule-0-label_fa": ""}, "feerule-0-label_fa", "به فارسی"),
        ({"fee_rials": "-1"}, "fee_rials", "صحیح"),
    ],
)
def test_a_bad_fee_field_is_refused_in_plain_words_and_nothing_is_saved(
    client, people, changes, field, words
):
    definition = at(S.DRAFT, people["a"], smart=True)
    before = dict(definition.spec)
    c = _client(client, people["editor_a"])
    data = _with_inputs(definition.spec, **{**RULES, **changes})
    response = c.post(url("designer_version", definition.pk), data)
    page = response.content.decode()
    assert response.status_code == 400
    assert 'id="error-summary"' in page and f'href="#id_{field}"' in page
    assert f'id="id_{field}-error"' in page and words in page, page[:200]
    # The form comes back as typed.
    assert 'value="بهره‌برداری تجاری"' in page or field == "feerule-0-label_fa"
    definition.refresh_from_db()
    assert definition.spec == before
    # The check endpoint names the same field, and saves nothing either.
    answer = c.post(url("designer_check", definition.pk), data).json()
    assert field in {f["field"] for f in answer["fields"]}


def test_a_nul_byte_or_a_huge_amount_is_refused_and_changes_nothing(client, people):
    definition = at(S.DRAFT, people["a"], smart=True)
    before = dict(definition.spec)
    c = _client(client, people["editor_a"])
    for changes in (
        {"feerule-0-value": "تجا\x00ری"},
        {"feerule-0-amount": "99999999999999999999"},
    ):
        response = c.post(
            url("designer_version", definition.pk),
            _with_inputs(definition.spec, **{**RULES, **changes}),
        )
        assert response.status_code == 400
        definition.refresh_from_db()
        assert definition.spec == before


@pytest.mark.parametrize(
    ("who", "expected"),
    [("editor_a", 302), ("admin_a", 302), ("aeo", 302), ("viewer_a", 403), ("editor_b", 404)],
)
def test_who_may_change_the_fee(client, people, who, expected):
    definition = at(S.DRAFT, people["a"], smart=True)
    response = _client(client, people[who]).post(
        url("designer_version", definition.pk), _with_inputs(definition.spec, **RULES)
    )
    assert response.status_code == expected
    definition.refresh_from_db()
    assert ("fee_rules" in definition.spec) == (expected == 302)


def test_a_published_version_shows_no_fee_form(client, people):
    definition = at(S.PUBLISHED, people["a"], smart=True)
    c = _client(client, people["admin_a"])
    page = c.get(url("designer_version", definition.pk)).content.decode()
    assert 'name="fee_refundable"' not in page
    response = c.post(
        url("designer_version", definition.pk), _with_inputs(definition.spec, **RULES)
    )
    assert response.status_code == 403
