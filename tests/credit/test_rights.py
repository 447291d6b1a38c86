"""Who may do what to a credit check (role × action, per object), and bad input: every refusal
is clear and changes nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError

from panjereh.catalogue import roles
from panjereh.credit import operations, registry
from panjereh.credit.models import CheckEvent, CheckState, Consent, CreditCheck, StatusRead
from panjereh.inbox.models import Message
from tests.factories import UserFactory

from .conftest import make_person, signed_in

pytestmark = pytest.mark.django_db

ALI, SARA, THIRD = "0012345679", "0084575948", "1234567891"
DELEGATION = object()  # a helper's active delegation (identity.audit)


@pytest.fixture(autouse=True)
def _no_registry(monkeypatch):
    """These tests never reach the registry: a call would be a failure of the rule."""

    def refuse(*args, **kwargs):
        raise AssertionError("the registry was asked")

    monkeypatch.setattr(registry, "financial_status", refuse)


@pytest.fixture
def cast(db):
    ali = make_person(ALI, "09121111111", "علی", "رضایی")
    sara = make_person(SARA, "09122222222", "سارا", "کریمی")
    third = make_person(THIRD, "09123333333")
    staff = UserFactory(is_staff=True)  # back-office staff: no national code
    staff.save()
    return {"initiator": ali, "counterparty": sara, "third": third, "staff": staff}


def fresh_check(cast) -> CreditCheck:
    return operations.start_check(
        cast["initiator"], counterparty_code=SARA, description="اجاره مغازه", consent=False
    )


ROLES = ("initiator", "counterparty", "helper", "third", "staff", "anonymous", "none")


def actor_of(cast, role):
    if role == "anonymous":
        return AnonymousUser(), None
    if role == "none":
        return None, None
    if role == "helper":
        return cast["counterparty"], DELEGATION  # signed in as the helper acting for Sara
    return cast[role], None


ALLOWED = {
    "consent": {"initiator", "counterparty"},
    "withdraw": {"initiator", "counterparty"},
    "read": {"initiator", "counterparty"},
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", sorted(ALLOWED))
def test_role_by_action(cast, role, action):
    check = fresh_check(cast)
    actor, delegation = actor_of(cast, role)
    call = {
        "consent": operations.give_consent,
        "withdraw": operations.withdraw,
        "read": operations.read_status,
    }[action]
    events = CheckEvent.objects.count()
    if role not in ALLOWED[action]:
        with pytest.raises(roles.NotPermitted):
            call(check, actor, delegation=delegation)
        check.refresh_from_db()
        assert check.state == CheckState.AWAITING
        assert CheckEvent.objects.count() == events and not Consent.objects.exists()
        return
    if action == "read":
        # A party, but nobody consented: refused as such, and nothing read.
        with pytest.raises(operations.CheckRefused):
            call(check, actor, delegation=delegation)
        assert not StatusRead.objects.exists()
    elif action == "consent":
        call(check, actor, delegation=delegation)
        assert Consent.objects.filter(national_code=actor.national_code).exists()
    else:
        call(check, actor, delegation=delegation)
        check.refresh_from_db()
        assert check.state == CheckState.WITHDRAWN


@pytest.mark.parametrize("role", ROLES)
def test_who_may_start_a_check(cast, role):
    actor, delegation = actor_of(cast, role)
    allowed = role in ("initiator", "counterparty", "third")
    if not allowed:
        with pytest.raises(roles.NotPermitted):
            operations.start_check(
                actor, counterparty_code=ALI, description="خرید زمین", delegation=delegation
            )
        assert not CreditCheck.objects.exists()
        return
    other = SARA if actor.national_code == ALI else ALI
    check = operations.start_check(actor, counterparty_code=other, description="خرید زمین")
    assert check.initiator_code == actor.national_code and check.counterparty_code == other


def test_consent_twice_is_one_consent_and_both_make_it_readable(cast):
    check = fresh_check(cast)
    operations.give_consent(check, cast["initiator"])
    operations.give_consent(check, cast["initiator"])
    assert Consent.objects.count() == 1
    check.refresh_from_db()
    assert check.state == CheckState.AWAITING
    operations.give_consent(check, cast["counterparty"])
    check.refresh_from_db()
    assert check.state == CheckState.CONSENTED and check.counterparty == cast["counterparty"]


def test_the_other_party_is_told_and_a_stranger_is_not(cast):
    check = fresh_check(cast)
    assert Message.objects.filter(user=cast["counterparty"]).count() == 1
    assert not Message.objects.filter(user=cast["third"]).exists()
    message = Message.objects.get(user=cast["counterparty"])
    assert check.description in message.body_fa and check.reference in message.link_url


# -- the pages ------------------------------------------------------------------------------------


def test_pages_need_sign_in_and_a_party(cast, client):
    check = fresh_check(cast)
    for path in ("/credit/", "/credit/new/", f"/credit/{check.reference}/"):
        answer = client.get(path)
        assert answer.status_code == 302 and "login" in answer["Location"]
    assert signed_in(cast["third"]).get(f"/credit/{check.reference}/").status_code == 404
    assert signed_in(cast["staff"]).get(f"/credit/{check.reference}/").status_code == 404
    assert signed_in(cast["initiator"]).get("/credit/NO-SUCH/").status_code == 404
    page = signed_in(cast["counterparty"]).get(f"/credit/{check.reference}/")
    assert page.status_code == 200 and 'id="consent-form"' in page.content.decode()


def test_a_helper_acting_for_a_party_is_refused_on_the_page(cast, monkeypatch):
    from panjereh.identity import audit

    check = fresh_check(cast)
    monkeypatch.setattr(audit, "acting_principal", lambda request: (request.user, DELEGATION))
    answer = signed_in(cast["counterparty"]).post(
        f"/credit/{check.reference}/", {"action": "consent"}
    )
    assert answer.status_code == 403
    assert not Consent.objects.exists()


def test_an_unknown_action_is_refused(cast):
    check = fresh_check(cast)
    answer = signed_in(cast["initiator"]).post(f"/credit/{check.reference}/", {"action": "x"})
    assert answer.status_code == 400 and 'class="error-summary"' in answer.content.decode()


def test_csrf_is_required(cast):
    from django.test import Client

    check = fresh_check(cast)
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast["counterparty"])
    assert client.post(f"/credit/{check.reference}/", {"action": "consent"}).status_code == 403
    assert not Consent.objects.exists()


# -- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "description", "field"),
    [
        ("0012345678", "اجاره", "counterparty_code"),  # wrong check digit
        ("12345", "اجاره", "counterparty_code"),
        ("1111111111", "اجاره", "counterparty_code"),  # one digit repeated
        (ALI, "اجاره", "counterparty_code"),  # oneself
        (SARA, "", "description"),
        (SARA, "ab", "description"),
        (SARA, "x" * 201, "description"),
        (SARA, "bad\x07bell", "description"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(cast, code, description, field):
    with pytest.raises(ValidationError) as refused:
        operations.start_check(cast["initiator"], counterparty_code=code, description=description)
    assert field in refused.value.message_dict
    assert not CreditCheck.objects.exists() and not Message.objects.exists()


def test_persian_digits_and_spaces_in_a_national_code_are_accepted(cast):
    check = operations.start_check(
        cast["initiator"], counterparty_code="۰۰۸-۴۵۷۵۹۴-۸", description="  خرید   خودرو  "
    )
    assert check.counterparty_code == SARA and check.description == "خرید خودرو"


def test_the_form_keeps_what_was_typed_and_shows_the_summary(cast):
    client = signed_in(cast["initiator"])
    answer = client.post(
        "/en/credit/new/",
        {"counterparty_code": "0012345678", "description": "renting a shop", "consent": "on"},
    )
    page = answer.content.decode()
    assert answer.status_code == 400
    assert 'class="error-summary"' in page and 'href="#id_counterparty_code"' in page
    assert "This national code is not valid." in page
    assert 'value="renting a shop"' in page and 'value="0012345678"' in page
    assert not CreditCheck.objects.exists()


def test_nul_bytes_and_huge_bodies_are_refused(cast):
    client = signed_in(cast["initiator"])
    answer = client.post("/credit/new/", {"counterparty_code": SARA, "description": "ab\x00cd"})
    assert answer.status_code == 400
    answer = client.post("/credit/new/", {"counterparty_code": SARA + "\x00", "description": "x"})
    assert answer.status_code == 400
    answer = client.post(
        "/credit/new/", {"counterparty_code": SARA, "description": "x" * 3_000_000}
    )
    assert answer.status_code in (400, 413)
    with pytest.raises(ValidationError):
        operations.start_check(cast["initiator"], counterparty_code=SARA, description="ab\x00cd")
    assert not CreditCheck.objects.exists()


def test_starts_per_day_are_limited(cast, settings):
    settings.PANJEREH_CREDIT_STARTS_PER_DAY = 2
    for n in range(2):
        operations.start_check(cast["initiator"], counterparty_code=SARA, description=f"deal {n}")
    with pytest.raises(ValidationError):
        operations.start_check(cast["initiator"], counterparty_code=SARA, description="deal 3")
    assert CreditCheck.objects.count() == 2


def test_the_other_party_is_named_only_once_they_agreed(cast):
    check = fresh_check(cast)
    initiator = signed_in(cast["initiator"])
    page = initiator.get(f"/credit/{check.reference}/").content.decode()
    assert "کریمی" not in page and "۹۴۸" in page  # only the code's last digits
    # The asked party sees who asks.
    assert (
        "رضایی"
        in signed_in(cast["counterparty"]).get(f"/credit/{check.reference}/").content.decode()
    )
    operations.give_consent(check, cast["counterparty"])
    assert "کریمی" in initiator.get(f"/credit/{check.reference}/").content.decode()


def test_the_judicial_services_list_the_credit_check(client):
    page = client.get("/en/judiciary/").content.decode()
    assert 'id="service-credit"' in page and 'href="/en/credit/"' in page
    assert "اعتبارسنجی معاملات" in client.get("/judiciary/").content.decode()


def test_the_expiry_job_closes_checks_past_their_deadline(cast):
    import datetime as dt

    import time_machine
    from django.utils import timezone

    late = fresh_check(cast)
    operations.give_consent(late, cast["initiator"])
    later = timezone.now() + dt.timedelta(days=operations.consent_days(), minutes=1)
    with time_machine.travel(later, tick=False):
        fresh = operations.start_check(cast["third"], counterparty_code=ALI, description="رهن")
        assert operations.expire_due() == 1
        assert operations.expire_due() == 0  # once
    late.refresh_from_db()
    fresh.refresh_from_db()
    assert late.state == CheckState.EXPIRED and late.closed_at is not None
    assert fresh.state == CheckState.AWAITING
    assert CheckEvent.objects.filter(credit_check=late, to_state="expired").count() == 1
