"""Amend, renew, suspend, reinstate, revoke, cancel, expire: rights per role and per permit,
one state machine, the history and the holder's inbox."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from panjereh.catalogue import roles
from panjereh.common import periodic
from panjereh.inbox.models import Message
from panjereh.permits import holding, issuing
from panjereh.permits.models import IssuedPermit, PermitEvent, PermitStatus

from .issued_support import make_application

pytestmark = pytest.mark.django_db

pytest_plugins = ["tests.permits.issued_support"]

ACTORS = ["holder", "customer", "staff", "admin_staff", "viewer", "other_staff", "supervisor"]
# Who may do what (each on a valid permit, or a suspended one for reinstate, or one near its
# end for renew).
ALLOWED = {
    "amend": {"staff", "admin_staff"},
    "suspend": {"staff", "admin_staff"},
    "reinstate": {"staff", "admin_staff"},
    "revoke": {"admin_staff"},
    "renew": {"holder"},
    "cancel": {"holder"},
}


def _do(action, actor, issued):
    if action == "amend":
        return holding.amend(actor, issued, business_name="نانوایی برکت نو")
    if action == "renew":
        return holding.renew(actor, issued)
    if action == "reinstate":
        return holding.reinstate(actor, issued, "رفع نقص")
    if action == "cancel":
        return holding.cancel(actor, issued)
    return getattr(holding, action)(actor, issued, "تخلف بهداشتی")


@pytest.mark.parametrize("action", list(ALLOWED))
@pytest.mark.parametrize("who", ACTORS)
def test_role_by_action_matrix(request, action, who, issued):
    actor = request.getfixturevalue(who)
    if action == "reinstate":
        holding.suspend(roles.SYSTEM, issued, "بازرسی")
    if action == "renew":
        IssuedPermit.objects.filter(pk=issued.pk).update(
            valid_until=timezone.localdate() + dt.timedelta(days=10)
        )
        issued.refresh_from_db()
    before = (issued.status, issued.valid_until, issued.business_name)
    events = PermitEvent.objects.filter(issued=issued).count()
    if who in ALLOWED[action]:
        _do(action, actor, issued)
        assert PermitEvent.objects.filter(issued=issued).count() == events + 1
        event = PermitEvent.objects.filter(issued=issued).last()
        assert event.kind == holding.ACTIONS[action].kind and event.by_id == actor.pk
    else:
        with pytest.raises(PermissionDenied):
            _do(action, actor, issued)
        issued.refresh_from_db()
        assert (issued.status, issued.valid_until, issued.business_name) == before
        assert PermitEvent.objects.filter(issued=issued).count() == events


def test_suspend_then_reinstate_then_revoke_tells_the_holder(issued, staff, admin_staff, holder):
    holding.suspend(staff, issued, "عدم رعایت ضوابط بهداشتی")
    assert issued.status == PermitStatus.SUSPENDED
    holding.reinstate(staff, issued, "")
    assert issued.status == PermitStatus.VALID
    holding.revoke(admin_staff, issued, "حکم قطعی هیئت")
    issued.refresh_from_db()
    assert issued.status == PermitStatus.REVOKED
    kinds = list(PermitEvent.objects.filter(issued=issued).values_list("kind", flat=True))
    assert kinds == ["issued", "suspended", "reinstated", "revoked"]
    revoked = PermitEvent.objects.filter(issued=issued).last()
    assert revoked.from_status == "valid" and revoked.to_status == "revoked"
    assert revoked.note == "حکم قطعی هیئت"
    subjects = list(
        Message.objects.filter(user=holder).order_by("pk").values_list("subject_fa", flat=True)
    )
    assert len(subjects) == 4 and "ابطال" in subjects[-1]


def test_a_revoked_permit_cannot_move_again(issued, admin_staff, holder):
    holding.revoke(admin_staff, issued, "تخلف")
    for action, actor in [("suspend", admin_staff), ("reinstate", admin_staff), ("cancel", holder)]:
        with pytest.raises(holding.HoldingError):
            _do(action, actor, issued)
    issued.refresh_from_db()
    assert issued.status == PermitStatus.REVOKED
    assert PermitEvent.objects.filter(issued=issued).count() == 2


def test_a_reason_is_required_and_cleaned(issued, staff):
    for bad in ["", "   ", "دلیل\x00", "دلیل\u202e", "x" * 1001]:
        with pytest.raises(ValidationError):
            holding.suspend(staff, issued, bad)
    issued.refresh_from_db()
    assert issued.status == PermitStatus.VALID


def test_amend_records_the_changes_and_signs_again(issued, staff):
    old_token = issued.token
    holding.amend(staff, issued, business_name="نانوایی برکت نو", province="البرز", note="اصلاح")
    issued.refresh_from_db()
    assert issued.business_name == "نانوایی برکت نو" and issued.province == "البرز"
    event = PermitEvent.objects.filter(issued=issued).last()
    assert event.changes == {
        "business_name": ["نانوایی سنگک برکت", "نانوایی برکت نو"],
        "province": ["تهران", "البرز"],
    }
    assert issued.token != old_token
    assert issuing.verify(issued.token).status == "valid"
    assert issuing.verify(old_token).status == "superseded"
    with pytest.raises(holding.HoldingError):  # nothing to change
        holding.amend(staff, issued, business_name="نانوایی برکت نو")


def test_renew_only_near_the_end_or_after(issued, holder):
    with pytest.raises(holding.HoldingError):
        holding.renew(holder, issued)
    end = timezone.localdate() + dt.timedelta(days=30)
    IssuedPermit.objects.filter(pk=issued.pk).update(valid_until=end)
    issued.refresh_from_db()
    holding.renew(holder, issued)
    assert issued.valid_until == end.replace(year=end.year + 5)
    assert issuing.verify(issued.token).claims["valid_until"] == issued.valid_until.isoformat()


def test_expire_job_expires_permits_past_their_end_and_renewal_revives(issued, holder, published):
    other = issuing.issue(make_application(published, holder))
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    IssuedPermit.objects.filter(pk=issued.pk).update(valid_until=yesterday)
    assert "permits-expire" in periodic.jobs()
    assert periodic.run("permits-expire")
    issued.refresh_from_db()
    other.refresh_from_db()
    assert issued.status == PermitStatus.EXPIRED and other.status == PermitStatus.VALID
    event = PermitEvent.objects.filter(issued=issued).last()
    assert event.kind == "expired" and event.by is None
    assert holding.expire_due() == 0  # again: nothing more
    holding.renew(holder, issued)
    assert issued.status == PermitStatus.VALID
    assert issued.valid_until == timezone.localdate().replace(year=timezone.localdate().year + 5)


def test_the_company_permit_holder_is_the_representative_named_now(published, monkeypatch):
    from panjereh.identity import businesses
    from panjereh.identity.models import LegalPerson
    from tests.identity.helpers import national_code

    from .issued_support import citizen

    company = LegalPerson.objects.create(national_id="10100000001", name="شرکت نان آور")
    ceo = citizen(national_code=national_code("049937089"))
    issued = issuing.issue(make_application(published, ceo, company=company))
    named = {"yes": True}

    def require_can_act(person, company_arg, scope):
        if not named["yes"] or person.pk != ceo.pk:
            raise businesses.CannotAct("not_representative", "not named")
        return None

    monkeypatch.setattr(businesses, "require_can_act", require_can_act)
    named["yes"] = False
    with pytest.raises(PermissionDenied):
        holding.cancel(ceo, issued)
    named["yes"] = True
    holding.cancel(ceo, issued)
    assert issued.status == PermitStatus.CANCELLED
