"""Creation, the state machine, treasury accounts and who may do what (no PSP call needed
except where a test starts a payment)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from panjereh.catalogue import roles
from panjereh.payments import operations, providers
from panjereh.payments.models import (
    FinanceCase,
    Payment,
    PaymentEvent,
    PaymentState,
    TreasuryAccount,
    validate_shaba,
)
from tests.factories import UserFactory, make_agency, make_agency_staff
from tests.payments.conftest import CALLBACK, new_payment, shaba

pytestmark = pytest.mark.django_db
S = PaymentState


# -- treasury accounts ----------------------------------------------------------------------------


def test_sheba_check_digits_are_checked():
    good = shaba("0170000000123456789012")
    validate_shaba(good)
    validate_shaba(" ir" + good[2:6] + " " + good[6:])  # spaces and lower case
    digits = good[2:].translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    validate_shaba("IR" + digits)  # Persian digits
    wrong = good[:-1] + str((int(good[-1]) + 1) % 10)
    with pytest.raises(ValidationError) as refused:
        validate_shaba(wrong)
    assert refused.value.code == "shaba_check"
    for text in ("IR12", "DE89370400440532013000", "IR0617000000012345678901X", ""):
        with pytest.raises(ValidationError):
            validate_shaba(text)


def test_a_new_treasury_account_replaces_the_active_one():
    agency = make_agency()
    first = operations.save_treasury_account(
        agency, shaba=shaba(), treasury_id="1", title="اول", actor=roles.SYSTEM
    )
    second = operations.save_treasury_account(
        agency, shaba=shaba(), treasury_id="2", title="دوم", actor=roles.SYSTEM
    )
    first.refresh_from_db()
    assert (first.active, second.active) == (False, True)
    with pytest.raises(IntegrityError), transaction.atomic():
        TreasuryAccount.objects.filter(pk=first.pk).update(active=True)


def test_a_wrong_sheba_changes_nothing():
    agency = make_agency()
    with pytest.raises(ValidationError):
        operations.save_treasury_account(
            agency,
            shaba="IR000000000000000000000000",
            treasury_id="1",
            title="x",
            actor=roles.SYSTEM,
        )
    assert not TreasuryAccount.objects.exists()


# -- creating a payment ------------------------------------------------------------------------------


def test_creation_is_idempotent_per_purpose(agency, citizen):
    one = new_payment(agency, citizen, purpose_id="APP-7")
    again = new_payment(agency, citizen, purpose_id="APP-7")
    assert one.pk == again.pk
    assert Payment.objects.count() == 1
    assert list(PaymentEvent.objects.values_list("from_state", "to_state")) == [("", "created")]
    assert one.account.agency == agency and one.amount == 1_200_000
    assert len(one.reference) == 12 and one.reference.isdigit()


def test_the_same_purpose_with_another_amount_is_refused(agency, citizen):
    new_payment(agency, citizen, purpose_id="APP-8")
    with pytest.raises(operations.PaymentError):
        new_payment(agency, citizen, purpose_id="APP-8", amount=5)


def test_an_idempotency_key_returns_its_payment_and_only_for_its_purpose(agency, citizen):
    one = new_payment(agency, citizen, purpose_id="B-1", idempotency_key="k-1")
    assert new_payment(agency, citizen, purpose_id="B-1", idempotency_key="k-1").pk == one.pk
    with pytest.raises(operations.PaymentError):
        new_payment(agency, citizen, purpose_id="B-2", idempotency_key="k-1")


def test_two_live_payments_for_one_purpose_are_impossible_in_the_database(agency, citizen):
    one = new_payment(agency, citizen, purpose_id="APP-9")
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(
            reference="100000000001",
            idempotency_key="x",
            purpose_kind=one.purpose_kind,
            purpose_id=one.purpose_id,
            description="",
            amount=1,
            agency=agency,
            account=one.account,
            provider="simulated",
        )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amount", 0),
        ("amount", -1),
        ("amount", 1.5),
        ("amount", True),
        ("amount", "1000"),
        ("amount", 10**14),
        ("purpose_id", ""),
        ("purpose_id", "a\x00b"),
        ("purpose_id", "x" * 65),
        ("purpose_kind", "bribe"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(agency, citizen, field, value):
    fields = {"amount": 1000, "purpose_id": "P-1", "purpose_kind": "application", field: value}
    with pytest.raises(ValidationError):
        operations.create_payment(
            agency=agency,
            description="d",
            payer=citizen,
            actor=roles.SYSTEM,
            **fields,
        )
    assert not Payment.objects.exists()


def test_an_agency_without_a_treasury_account_cannot_take_payments(citizen):
    with pytest.raises(operations.PaymentError) as refused:
        new_payment(make_agency(), citizen)
    assert refused.value.code == "no_account"


def test_amount_and_capture_constraints_hold_in_the_database(agency, citizen):
    payment = new_payment(agency, citizen)
    for changes in ({"amount": 0}, {"captured_amount": 5}, {"refunded_amount": 1}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Payment.objects.filter(pk=payment.pk).update(**changes)


# -- the state machine ----------------------------------------------------------------------------------


def test_every_state_has_its_row_and_endings_are_final():
    assert set(operations.TRANSITIONS) == set(S.values)
    for ending in (S.FAILED, S.CANCELLED, S.EXPIRED, S.REVERSED, S.SETTLED):
        assert operations.MACHINE.allowed(ending) == set()
    assert operations.MACHINE.allowed(S.CAPTURED) == {S.SETTLED}  # never captured again


def test_a_refused_move_changes_nothing_and_writes_no_event(agency, citizen):
    payment = new_payment(agency, citizen)
    with pytest.raises(operations.InvalidTransition):
        operations.MACHINE.move(payment, S.CAPTURED, event={"source": "test"})
    payment.refresh_from_db()
    assert payment.state == S.CREATED and payment.events.count() == 1


def test_a_move_writes_its_event_with_its_source(agency, citizen):
    payment = new_payment(agency, citizen)
    operations.cancel_payment(payment, actor=citizen)
    event = payment.events.last()
    assert (event.from_state, event.to_state, event.source, event.actor) == (
        "created",
        "cancelled",
        "payer",
        citizen,
    )
    assert payment.ended_at is not None


# -- providers ----------------------------------------------------------------------------------------------


def test_the_provider_registry_checks_identifiers_and_names_the_known_ones(settings):
    assert "simulated" in providers.identifiers()
    with pytest.raises(ValueError):
        providers.register("Not Valid!")
    with pytest.raises(ValueError):

        @providers.register("simulated")
        class Impostor(providers.Provider):
            pass

    settings.PANJEREH_PAYMENTS_PROVIDER = "nobody"
    with pytest.raises(LookupError):
        providers.get()


# -- who may do what ------------------------------------------------------------------------------------


@pytest.fixture
def people(agency):
    other = make_agency()
    ito = UserFactory()
    ito.save()
    roles.ensure_groups()
    from django.contrib.auth.models import Group

    ito.groups.add(Group.objects.get(name=roles.ITO))
    citizen_b = UserFactory(is_staff=False, national_code="0000000019")
    citizen_b.save()
    return {
        "viewer": make_agency_staff(agency, "viewer"),
        "editor": make_agency_staff(agency, "editor"),
        "admin": make_agency_staff(agency, "admin"),
        "other_editor": make_agency_staff(other, "editor"),
        "other_admin": make_agency_staff(other, "admin"),
        "ito": ito,
        "stranger": citizen_b,
        "anonymous": None,
    }


def _captured(agency, citizen) -> Payment:
    payment = new_payment(agency, citizen)
    Payment.objects.filter(pk=payment.pk).update(state=S.CAPTURED, captured_amount=payment.amount)
    payment.refresh_from_db()
    return payment


RIGHTS = {
    # action: who may (everyone else in the matrix is refused)
    "create": {"payer", "system"},
    "start": {"payer", "system"},
    "cancel": {"payer", "system"},
    "refund": {"editor", "admin", "system"},  # the agency decides; platform operators do not
    "treasury": {"admin", "ito", "system"},
    "reconcile_settlement": {"ito", "system"},
    "resolve_case": {"editor", "admin", "ito", "system"},
}
ACTORS = [
    "payer",
    "stranger",
    "viewer",
    "editor",
    "admin",
    "other_editor",
    "other_admin",
    "ito",
    "system",
    "anonymous",
]


def _attempt(action, actor, agency, citizen, monkeypatch):
    if action == "create":
        return new_payment(agency, citizen, actor=actor)
    if action == "start":
        monkeypatch.setattr(
            providers.get().__class__,
            "start",
            lambda self, payment, url: providers.Started(
                "tok-" + payment.reference, "http://bank/"
            ),
        )
        return operations.start_payment(
            new_payment(agency, citizen), actor=actor, callback_url=CALLBACK
        )
    if action == "cancel":
        return operations.cancel_payment(new_payment(agency, citizen), actor=actor)
    if action == "refund":
        monkeypatch.setattr(operations, "submit_refund", lambda refund: refund)
        return operations.request_refund(
            _captured(agency, citizen), amount=1, reason="r", actor=actor
        )
    if action == "treasury":
        return operations.save_treasury_account(
            agency, shaba=shaba(), treasury_id="9", title="t", actor=actor
        )
    if action == "reconcile_settlement":
        monkeypatch.setattr(
            providers.get().__class__, "settlement", lambda self, day: (b"", iter(()))
        )
        import datetime as dt

        return operations.reconcile_settlement(dt.date(2026, 1, 1), actor=actor)
    if action == "resolve_case":
        case = FinanceCase.objects.create(
            kind="extra", line_key=f"k-{FinanceCase.objects.count()}", agency=agency
        )
        return operations.resolve_case(case, actor=actor, resolution="done")
    raise AssertionError(action)


@pytest.mark.parametrize("action", sorted(RIGHTS))
def test_the_rights_matrix(action, agency, citizen, people, monkeypatch):
    for name in ACTORS:
        actor = {"payer": citizen, "system": roles.SYSTEM}.get(name) or people[name]
        if name in RIGHTS[action]:
            _attempt(action, actor, agency, citizen, monkeypatch)
        else:
            with pytest.raises(roles.NotPermitted):
                _attempt(action, actor, agency, citizen, monkeypatch)


def test_a_provider_module_that_leaves_out_a_method_cannot_be_registered():
    from panjereh.payments import providers

    class Halfway(providers.Provider):
        def start(self, payment, callback_url):
            return None

    with pytest.raises(TypeError, match="verify"):
        providers.register("halfway")(Halfway)
    assert "halfway" not in providers.identifiers()
