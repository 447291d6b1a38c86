"""The simulated national dataset's service definitions (``panjereh.demo.definitions``): the
same seed gives the same bytes, each passes the definitions' own checks, the bulk rows are the
ones the designer's operations write, the smart flag and the definitions agree (780 = 780 on
the national dataset), and a sample of the smart ones runs through the real registries."""

from __future__ import annotations

import random
import time
from collections import Counter

import pytest

from panjereh.catalogue.models import Service, ServiceVersion
from panjereh.catalogue.vocab import SmartStatus
from panjereh.demo import dataset
from panjereh.demo import definitions as generated
from panjereh.services import definitions as loader
from panjereh.services.queries import certified_smart_service_ids, smart_flag_disagreements

from .conftest import adult, run_until_settled, submit
from .paying import settle_fee


@pytest.fixture(scope="module")
def national_specs() -> list[dict]:
    return generated.specs_for_dataset("national")


def test_the_same_seed_gives_byte_identical_specs_and_another_seed_others(national_specs):
    assert generated.dumps(generated.specs_for_dataset("national")) == generated.dumps(
        national_specs
    )
    assert generated.dumps(generated.specs_for_dataset("small", seed=7)) != generated.dumps(
        generated.specs_for_dataset("small")
    )


def test_every_smart_card_gets_a_smart_definition_that_passes_the_checks(national_specs):
    _agency_plans, cards = dataset.build("national")
    approved = {
        c.fields["service_id"]: c.fields for c in cards if c.fields["smart_status"] == "approved"
    }
    assert len(approved) == dataset.NATIONAL_TARGETS["smart"] == 780
    smart = [s for s in national_specs if s["smart"]]
    shipped_smart = {
        sid
        for sid, agency in generated.shipped().items()
        if sid in approved and loader.read_file(_shipped_path(sid))["smart"]
    }
    # Each smart card has one: generated, or a definition file shipped with Panjereh.
    assert {s["service_id"] for s in smart} | shipped_smart == set(approved)
    assert len(smart) + len(shipped_smart) == 780
    by_id = {c.fields["service_id"]: c.fields for c in cards}
    reasons = Counter()
    for spec in national_specs:
        assert loader.validate(spec) == [], spec["code"]
        card = by_id[spec["service_id"]]
        # Publishing changes nothing on the card: it already says what the definition says.
        view = loader.card_view(spec)
        for name in ("inputs", "documents_required", "in_person_steps"):
            assert view[name] == card[name], (spec["code"], name)
        assert spec["fee_rials"] == card["fee"]
        assert spec["target_minutes"] == card["target_minutes"]
        assert spec["assurance_level"] == card["min_assurance_level"]
        assert spec["document"]["title_fa"] == card["title_fa"] or not spec["smart"]
        if spec["smart"]:
            assert loader.explain(spec) == []
            assert spec["eligibility"], spec["code"]
            assert all(step["kind"] == "automatic" for step in spec["steps"])
            assert not spec["uploads"] and not spec["in_person_steps"]
            reasons.update(e["reason"]["code"] for e in spec["eligibility"])
        else:
            assert any(step["kind"] == "manual" for step in spec["steps"])
            for asked in spec["uploads"] + spec["in_person_steps"]:
                assert asked["reason"] and asked["reason_en"]
    # The rules come from the cards' items: many different reasons, not one everywhere.
    assert len(reasons) >= 10, reasons
    human = [s for s in national_specs if not s["smart"]]
    assert len(human) == sum(1 for c in cards if generated.is_human_card(c.fields)) - sum(
        1 for sid in generated.shipped() if sid in by_id and generated.is_human_card(by_id[sid])
    ) + sum(1 for c in cards if generated.is_on_the_way_card(c.fields))


def test_cards_on_their_way_to_smart_fetch_what_the_smart_one_will_with_an_officers_review():
    _agency_plans, cards = dataset.build("national")
    agencies = {plan.fields["code"]: plan.fields for plan in _agency_plans}
    on_the_way = [c for c in cards if generated.is_on_the_way_card(c.fields)]
    assert on_the_way and {c.fields["smart_status"] for c in on_the_way} == {
        "proposed",
        "certified",
    }
    for card in on_the_way[:50]:
        spec = generated.on_the_way_spec(card.fields, agencies[card.agency.code])
        assert loader.validate(spec) == [], spec["code"]
        assert spec["smart"] is False
        assert spec["data"] and spec["eligibility"]
        assert [step["kind"] for step in spec["steps"]][-2:] == ["manual", "automatic"]
        # Not smart only because an officer still reviews: nothing uploaded, no visit.
        assert not spec["uploads"] and not spec["in_person_steps"]


def _shipped_path(service_id: str):
    for path in sorted(loader.DEFINITIONS_DIR.iterdir()):
        if path.suffix == ".json" and loader.read_file(path).get("service_id") == service_id:
            return path
    raise AssertionError(service_id)


@pytest.mark.django_db
def test_bulk_rows_are_those_the_operations_write_and_the_flags_agree():
    from panjereh.catalogue import roles
    from panjereh.services import design
    from panjereh.services.models import DefinitionEvent, ServiceDefinition

    dataset.seed("small")
    done = generated.seed()
    assert (
        done.smart
        + sum(1 for code in done.shipped if ServiceDefinition.objects.get(code=code).smart)
        == dataset.SMALL_TARGETS["smart"]
    )
    assert generated.seed().skipped  # once only
    assert smart_flag_disagreements() == {
        "marked_without_definition": [],
        "definition_without_mark": [],
    }
    marked = Service.objects.filter(smart_status=SmartStatus.APPROVED)
    assert set(marked.values_list("pk", flat=True)) == certified_smart_service_ids()

    bulk = ServiceDefinition.objects.filter(code__startswith="sim-", smart=True).first()
    versions = ServiceVersion.objects.count()
    # The same spec through the designer's operations, as the system, under another code.
    spec = {**bulk.spec, "code": bulk.code + "-ops"}
    system = roles.SYSTEM
    ops = design.create_draft(
        bulk.agency, spec, actor=system, version=1, note=generated.GENERATED_NOTE
    )
    design.submit(ops, actor=system, note=generated.GENERATED_NOTE)
    design.certify(ops, actor=system, note=generated.CERTIFIED_NOTE)
    design.publish(ops, actor=system, note=generated.GENERATED_NOTE)
    ops.refresh_from_db()
    assert ServiceVersion.objects.count() == versions  # the card needed no change

    def fields(row):
        return (row.service_id, row.agency_id, row.smart, row.title_fa, row.title_en,
                row.assurance_level, row.target_minutes, row.active, row.status,
                row.published_at is not None)  # fmt: skip

    def events(row):
        return list(
            DefinitionEvent.objects.filter(definition=row)
            .order_by("at", "pk")
            .values_list("from_status", "to_status", "by_id", "by_system", "note")
        )

    assert fields(ops) == fields(bulk)
    assert {**ops.spec, "code": bulk.code} == bulk.spec
    assert events(ops) == events(bulk)
    assert [e[1] for e in events(bulk)] == ["draft", "submitted", "certified", "published"]
    human = ServiceDefinition.objects.filter(code__startswith="sim-", smart=False).first()
    assert [e[1] for e in events(human)] == ["draft", "submitted", "published"]

    # The check sees a disagreement either way.
    card = Service.objects.filter(smart_status=SmartStatus.APPROVED).first()
    Service.objects.filter(pk=card.pk).update(smart_status=SmartStatus.CERTIFIED)
    assert smart_flag_disagreements()["definition_without_mark"] == [card.service_id]
    Service.objects.filter(pk=card.pk).update(smart_status=SmartStatus.APPROVED)
    ServiceDefinition.objects.filter(service=card).update(active=False)
    assert smart_flag_disagreements()["marked_without_definition"] == [card.service_id]


@pytest.mark.slow
@pytest.mark.django_db
def test_national_dataset_780_smart_cards_780_certified_smart_definitions():
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("seed", profile="national", stdout=_Quiet())
    seconds = time.perf_counter() - started
    assert Service.objects.filter(smart_status=SmartStatus.APPROVED).count() == 780
    assert len(certified_smart_service_ids()) == 780
    assert smart_flag_disagreements() == {
        "marked_without_definition": [],
        "definition_without_mark": [],
    }
    assert seconds < 90, seconds


class _Quiet:
    def write(self, *_args, **_kwargs):
        pass

    def flush(self):
        pass


SAMPLE = 50
# What an applicant types for the dataset's typed (non-registry) inputs.
TYPED = {
    "request_description": "درخواست برای آزمون خدمت",
    "contact_email": "applicant@example.ir",
    "preferred_date": "1404/05/01",
    "amount": "5000000",
}


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_seeded_sample_of_50_smart_definitions_runs_to_a_document_or_a_reasoned_refusal(
    smart, population, national_specs
):
    from panjereh.services.models import Document

    rng = random.Random(1404)
    sample = rng.sample([s for s in national_specs if s["smart"]], SAMPLE)
    outcomes = Counter()
    started = time.perf_counter()
    for spec in sample:
        loader.load_spec(spec)
    # The demo's provisioning: grants for the 50 (the shipped ones have theirs), then nothing.
    assert generated.provision(resolution_number="1404/test") == SAMPLE
    assert generated.provision(resolution_number="1404/test") == 0
    for spec in sample:
        chained = any(fetch["subject"] != "applicant" for fetch in spec["data"])

        def fits(i, chained=chained):
            # A company service is asked by someone whose social insurance names an employer.
            return adult(population, i) and (
                not chained or population.insurance_record(i)["insured"]
            )

        user = _random_citizen(population, rng, fits)
        typed = {entry["code"]: TYPED[entry["code"]] for entry in spec["inputs"]}
        # A service with a fee goes on once paid (tests/services/test_fees.py pays at the bank).
        application = settle_fee(submit(spec["code"], user, **typed))
        application = run_until_settled(application, timeout=30)
        assert application.state in ("issued", "rejected"), (
            spec["code"],
            application.state,
            application.review_reason,
        )
        if application.state == "issued":
            document = Document.objects.get(application=application)
            assert document.token.count(".") == 2  # a compact JWS: signed
        else:
            reasons = {e["reason"]["code"] for e in spec["eligibility"]}
            assert application.decision_reasons, spec["code"]
            assert {r["code"] for r in application.decision_reasons} <= reasons
            assert all(r["fa"] and r["en"] for r in application.decision_reasons)
        outcomes[application.state] += 1
    assert outcomes["issued"] and outcomes["rejected"], outcomes
    assert time.perf_counter() - started < 90


def _random_citizen(population, rng, fits):
    from panjereh.identity.models import User

    while True:
        i = rng.randrange(population.size)
        if fits(i):
            code = population.national_code(i)
            person = population.person(i)
            user, _created = User.objects.get_or_create(
                national_code=code,
                defaults={
                    "username": f"c{code}",
                    "first_name": person["first_name"],
                    "last_name": person["last_name"],
                    "mobile": population.mobile(i) or "",
                    "assurance_level": 3,
                },
            )
            return user


@pytest.mark.django_db
def test_publishing_a_non_smart_version_keeps_a_proposed_cards_stage_unless_it_asks_a_file():
    from tests.factories import make_agency, make_service

    agency = make_agency()
    proposed = make_service(agency, smart_status="proposed")
    smart = make_service(agency, smart_status="approved")
    asks_a_file = make_service(agency, smart_status="certified")
    for card in (proposed, smart, asks_a_file):
        spec = {
            "service_id": card.service_id,
            "smart": False,
            "target_minutes": card.target_minutes or 60,
            "assurance_level": 2,
            "inputs": [],
            "data": [],
            "uploads": [],
            "in_person_steps": [],
        }
        if card is asks_a_file:
            spec["uploads"] = [{"code": "letter", "label_fa": "نامه", "reason": "no registry"}]
        loader.sync_card(spec, agency)
    for card in (proposed, smart, asks_a_file):
        card.refresh_from_db()
    assert proposed.smart_status == SmartStatus.PROPOSED
    assert smart.smart_status == SmartStatus.NONE
    assert asks_a_file.smart_status == SmartStatus.NONE  # the smart path asks for no file


def test_every_shipped_definition_file_fits_the_national_dataset():
    """``panjereh demo`` loads the shipped files over the national dataset and stops on a
    refused one: a file's service ID is either new or a card of the file's own agency."""
    _agency_plans, cards = dataset.build("national")
    owner = {c.fields["service_id"]: c.agency.code for c in cards if c.fields.get("service_id")}
    for path in sorted(loader.DEFINITIONS_DIR.glob("*.json")):
        spec = loader.read_file(path)
        agency = owner.get(spec["service_id"])
        assert agency in (None, spec["agency"]["code"]), (path.name, spec["service_id"], agency)
