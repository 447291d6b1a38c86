"""Identity's write use cases, one function each; rights and rules are checked here.

Views only read the request, call one of these and show the outcome.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from panjereh.common import ratelimit

from . import assurance, audit
from .models import AuthEvent, Delegation, User


class IdentityError(Exception):
    """A refusal to show to the person (``message`` is translated text, ``code`` for tests)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


# -- registration -------------------------------------------------------------------------------


def complete_registration(
    national_code: str, mobile: str, record: dict, birth_date: date, request=None
) -> tuple[User, bool]:
    """Create (or refresh) the account of a person whose national code, birth date and mobile
    the registries matched and whose one-time code was right; returns it and whether it is new.

    The caller has checked all of that: this is the only write of registration."""
    now = timezone.now()
    try:
        with transaction.atomic():
            user = User.objects.select_for_update().filter(national_code=national_code).first()
            created = user is None
            if created:
                user = User(username=f"c-{uuid.uuid4().hex[:20]}", national_code=national_code)
                user.set_unusable_password()
            user.first_name = record["first_name"]
            user.last_name = record["last_name"]
            user.father_name = record["father_name"]
            user.birth_date = birth_date
            user.mobile = mobile
            user.registry_verified_at = now
            user.mobile_verified_at = now
            user.save()
    except IntegrityError:
        # Two confirmations of one national code raced; the other one created the account.
        user = User.objects.get(national_code=national_code)
        created = False
    audit.record(
        AuthEvent.Kind.REGISTERED, request, user=user, created=created, mobile_tail=user.mobile[-4:]
    )
    assurance.recompute(user, request)
    return user, created


# -- delegations -------------------------------------------------------------------------------


def offer_delegation(
    principal: User, helper_national_code: str, purpose: str, days: int, request=None
) -> Delegation:
    """Offer ``helper_national_code`` the right to act for ``principal`` for ``days`` days.

    The answer is the same whether or not the code has an account and whoever holds it: the
    offer waits until its holder signs in and accepts, and only then is the helper named to the
    principal. Offers per principal are rate limited."""
    if helper_national_code == principal.national_code:
        raise IdentityError("self", _("You cannot be your own helper."))
    subject = f"user:{principal.pk}"
    if ratelimit.is_locked(ratelimit.DELEGATION_OFFERS, subject):
        raise IdentityError(
            "rate_limited", _("Too many authorisations in a short time. Please try again later.")
        )
    now = timezone.now()
    delegation = Delegation.objects.create(
        principal=principal,
        helper_national_code=helper_national_code,
        purpose=purpose,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    ratelimit.hit(ratelimit.DELEGATION_OFFERS, subject)
    audit.record(
        AuthEvent.Kind.DELEGATION_GRANTED,
        request,
        user=principal,
        delegation_id=delegation.pk,
        helper_code_tail=helper_national_code[-3:],
    )
    return delegation


def pending_offers(user: User):
    """Offers waiting for ``user`` to accept (made to their national code, still current)."""
    if not user.national_code:
        return Delegation.objects.none()
    return Delegation.objects.filter(
        helper_national_code=user.national_code,
        helper__isnull=True,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).exclude(principal=user)


def accept_delegation(helper: User, pk: int, request=None) -> Delegation:
    """The holder of the offered national code accepts; from now on they are named."""
    with transaction.atomic():
        delegation = pending_offers(helper).select_for_update().filter(pk=pk).first()
        if delegation is None:
            raise IdentityError("not_found", _("This authorisation is not waiting for you."))
        delegation.helper = helper
        delegation.accepted_at = timezone.now()
        delegation.save(update_fields=["helper", "accepted_at"])
    audit.record(
        AuthEvent.Kind.DELEGATION_ACCEPTED,
        request,
        user=helper,
        delegation_id=delegation.pk,
    )
    return delegation


def revoke_delegation(principal: User, pk: int, request=None) -> Delegation:
    delegation = Delegation.objects.filter(pk=pk, principal=principal).first()
    if delegation is None:
        raise IdentityError("not_found", _("This authorisation is not yours."))
    if delegation.revoked_at is None:
        delegation.revoked_at = timezone.now()
        delegation.save(update_fields=["revoked_at"])
        audit.record(AuthEvent.Kind.DELEGATION_REVOKED, request, user=principal, delegation_id=pk)
    return delegation


def start_acting(helper: User, pk: int, request) -> Delegation:
    """The helper starts acting for the principal in this browser session."""
    delegation = Delegation.objects.filter(pk=pk, helper=helper).first()
    if delegation is None:
        raise IdentityError("not_found", _("This authorisation is not yours."))
    if not delegation.is_active():
        raise IdentityError("ended", _("This authorisation has ended."))
    request.session[audit.ACTING_SESSION_KEY] = delegation.pk
    audit.record(AuthEvent.Kind.ACTING_AS, request, user=helper, purpose=delegation.purpose)
    return delegation
