"""Every write of the transaction-credit check, with its rights checked here.

Who may do what (docs/credit.md, Rights):

========================  =========  ============  ======  ===========  ========
action                    initiator  other party   helper  third party  no one
========================  =========  ============  ======  ===========  ========
start a check             (anyone with a national code, about another person)
consent                   yes        yes           no      no           no
withdraw                  yes        yes           no      no           no
read the other's status   yes        yes           no      no           no
========================  =========  ============  ======  ===========  ========

A helper acting under a delegation (``identity.audit``) may not consent, withdraw or read for
the person: consent to have one's financial record read is the person's own. Staff without a
national code are no party to any deal.

Nothing is read from the registry unless both parties' consents are valid at that moment: no
exchange call is made otherwise. A check closes (withdrawn, or expired when a consent runs out
or the other party did not consent in time); a closed check reads nothing more and the results
kept for the readers are erased.
"""

from __future__ import annotations

import datetime as dt
import secrets
import unicodedata

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from panjereh.catalogue import roles
from panjereh.common.badinput import clean_text
from panjereh.common.statemachine import InvalidTransition, Machine
from panjereh.common.uniquecode import insert_with_unique_code
from panjereh.identity.validators import clean_national_code

from . import conf, registry
from .models import CLOSED_STATES, CheckEvent, CheckState, Consent, CreditCheck, StatusRead

DESCRIPTION_MIN, DESCRIPTION_MAX = 3, 200
REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


class CheckRefused(InvalidTransition):
    """The check cannot do this now (closed, consents missing or expired)."""


def _record(locked, from_state, to_state, *, by, changes, **event) -> None:
    CheckEvent.objects.create(
        credit_check=locked,
        at=timezone.now(),
        kind=event.get("kind", "state"),
        by_code=by or "",
        from_state=from_state,
        to_state=to_state,
    )


MACHINE = Machine(
    {
        CheckState.AWAITING: {CheckState.CONSENTED, CheckState.WITHDRAWN, CheckState.EXPIRED},
        CheckState.CONSENTED: {CheckState.WITHDRAWN, CheckState.EXPIRED},
    },
    record=_record,
    message=lambda check, to: _("This check is closed: nothing more can be done in it."),
    error=CheckRefused,
)


# -- who is asking ------------------------------------------------------------------------------


def _citizen_code(actor, delegation=None) -> str:
    """The actor's own national code, or NotPermitted (no one, a helper, staff)."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise roles.NotPermitted(_("Sign in to use the credit check."))
    if delegation is not None:
        raise roles.NotPermitted(
            _("A helper cannot consent to, withdraw or read a credit check for someone else.")
        )
    code = str(getattr(actor, "national_code", "") or "")
    if not code:
        raise roles.NotPermitted(_("Only a person with a national code can use the credit check."))
    return code


def party_code(check: CreditCheck, actor, delegation=None) -> str:
    """The actor's national code if they are a party to ``check``; NotPermitted otherwise."""
    code = _citizen_code(actor, delegation)
    if code not in check.party_codes():
        raise roles.NotPermitted(_("You are not a party to this deal."))
    return code


def _user_of(national_code: str):
    return get_user_model().objects.filter(national_code=national_code, is_active=True).first()


# -- deadlines ----------------------------------------------------------------------------------


def consent_days() -> int:
    return max(1, int(conf.get("CONSENT_DAYS")))


def expires_at(check: CreditCheck) -> dt.datetime:
    """When the check runs out: the first consent's expiry, or, while a party has not
    consented, the end of the consent period counted from the start."""
    consents = [c for c in check.consents.all() if c.withdrawn_at is None]
    ends = [c.expires_at for c in consents]
    if len(consents) < 2:
        ends.append(check.created_at + dt.timedelta(days=consent_days()))
    return min(ends)


def valid_consents(check: CreditCheck, moment: dt.datetime | None = None) -> list[Consent]:
    moment = moment or timezone.now()
    return [c for c in check.consents.all() if c.valid_at(moment)]


def _close(locked: CreditCheck, to_state: str, by: str, now: dt.datetime) -> CreditCheck:
    MACHINE.move(locked, to_state, by=by, closed_at=now)
    # What a reader saw is kept only while the deal lasts.
    StatusRead.objects.filter(credit_check=locked).update(result={})
    return locked


def refresh(check: CreditCheck) -> CreditCheck:
    """The check as stored now, with its expiry applied (a check past its deadline becomes
    expired). Every operation starts here: nothing trusts the caller's copy."""
    check = CreditCheck.objects.select_related("initiator", "counterparty").get(pk=check.pk)
    if check.state in CLOSED_STATES or timezone.now() < expires_at(check):
        return check
    with transaction.atomic():
        locked = CreditCheck.objects.select_for_update().get(pk=check.pk)
        now = timezone.now()
        if locked.state not in CLOSED_STATES and now >= expires_at(locked):
            _close(locked, CheckState.EXPIRED, "", now)
        return locked


def expire_due() -> int:
    """The periodic job: close every open check past its deadline (and erase its results)."""
    closed = 0
    for check in CreditCheck.objects.exclude(state__in=CLOSED_STATES).prefetch_related("consents"):
        if refresh(check).state == CheckState.EXPIRED:
            closed += 1
    return closed


# -- starting a check ---------------------------------------------------------------------------


def _clean_description(value: str) -> str:
    text = unicodedata.normalize("NFC", str(value or "")).strip()
    if not clean_text(text) or any(
        unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\n" for ch in text
    ):
        raise ValidationError(
            {"description": ValidationError(_("Use letters, digits and punctuation only."), "bad")}
        )
    text = " ".join(text.split())
    if len(text) < DESCRIPTION_MIN:
        raise ValidationError(
            {"description": ValidationError(_("Say in a few words what the deal is."), "short")}
        )
    if len(text) > DESCRIPTION_MAX:
        raise ValidationError(
            {
                "description": ValidationError(
                    _("Describe the deal in at most 200 characters."), "long"
                )
            }
        )
    return text


def _reference() -> str:
    body = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"CR-{body[:4]}-{body[4:]}"


def start_check(
    actor, *, counterparty_code: str, description: str, consent: bool = True, delegation=None
) -> CreditCheck:
    """A new check of a deal with the person of ``counterparty_code``; the actor's consent
    with it when ``consent``. The other party is told (inbox and SMS; never any status)."""
    code = _citizen_code(actor, delegation)
    errors: dict[str, ValidationError] = {}
    try:
        other = clean_national_code(counterparty_code)
        if other == code:
            errors["counterparty_code"] = ValidationError(
                _("Enter the other party's national code, not your own."), "self"
            )
    except ValidationError as exc:
        errors["counterparty_code"] = exc
        other = ""
    try:
        text = _clean_description(description)
    except ValidationError as exc:
        errors.update(exc.error_dict)
        text = ""
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    started = CreditCheck.objects.filter(
        initiator_code=code, created_at__gte=now - dt.timedelta(days=1)
    ).count()
    if started >= int(conf.get("STARTS_PER_DAY")):
        raise ValidationError(
            _("You have started as many checks as one person may in a day. Try again tomorrow.")
        )
    with transaction.atomic():
        counterparty = _user_of(other)
        check = insert_with_unique_code(
            _reference,
            lambda reference: CreditCheck.objects.create(
                reference=reference,
                initiator=actor,
                initiator_code=code,
                counterparty_code=other,
                counterparty=counterparty,
                description=text,
                created_at=now,
            ),
        )
        CheckEvent.objects.create(credit_check=check, at=now, kind="started", by_code=code)
        if consent:
            _give_consent(check, actor, code, now)
        if counterparty is not None:
            _tell_asked(check, counterparty)
    return check


# -- consent and withdrawal ---------------------------------------------------------------------


def _give_consent(check: CreditCheck, actor, code: str, now: dt.datetime) -> Consent:
    consent = Consent.objects.create(
        credit_check=check,
        national_code=code,
        user=actor,
        given_at=now,
        expires_at=now + dt.timedelta(days=consent_days()),
    )
    CheckEvent.objects.create(credit_check=check, at=now, kind="consented", by_code=code)
    return consent


def give_consent(check: CreditCheck, actor, *, delegation=None) -> CreditCheck:
    """The actor's consent that the other party may read their status in this deal (until it
    expires). Again while valid: nothing changes. Both valid: the check can be read."""
    code = party_code(check, actor, delegation)
    check = refresh(check)
    with transaction.atomic():
        locked = CreditCheck.objects.select_for_update().get(pk=check.pk)
        if locked.state in CLOSED_STATES:
            raise CheckRefused(_("This check is closed: nothing more can be done in it."))
        now = timezone.now()
        if locked.counterparty_id is None and code == locked.counterparty_code:
            locked.counterparty = actor
            locked.save(update_fields=["counterparty"])
        if not Consent.objects.filter(credit_check=locked, national_code=code).exists():
            _give_consent(locked, actor, code, now)
        if len(valid_consents(locked, now)) == 2 and locked.state == CheckState.AWAITING:
            MACHINE.move(locked, CheckState.CONSENTED, by=code)
            other = _user_of(locked.other_code(code))
            if other is not None:
                _tell_consented(locked, other)
    return locked


def withdraw(check: CreditCheck, actor, *, delegation=None) -> CreditCheck:
    """The actor withdraws: the check closes, nothing more is read, kept results are erased;
    the other party is told."""
    code = party_code(check, actor, delegation)
    check = refresh(check)
    with transaction.atomic():
        locked = CreditCheck.objects.select_for_update().get(pk=check.pk)
        if locked.state in CLOSED_STATES:
            raise CheckRefused(_("This check is closed: nothing more can be done in it."))
        now = timezone.now()
        Consent.objects.filter(credit_check=locked, national_code=code).update(withdrawn_at=now)
        _close(locked, CheckState.WITHDRAWN, code, now)
        other = _user_of(locked.other_code(code))
        if other is not None:
            _tell_withdrawn(locked, other)
    return locked


# -- reading ------------------------------------------------------------------------------------


def read_status(check: CreditCheck, actor, *, delegation=None) -> StatusRead:
    """The other party's status, read now through the exchange (in their "who read my data"
    with this check's reference) and listed on the check for both. Refused, with no call,
    unless both consents are valid; :class:`registry.RegistryUnavailable` records nothing."""
    code = party_code(check, actor, delegation)
    check = refresh(check)
    if check.state in CLOSED_STATES:
        raise CheckRefused(_("This check is closed: nothing more can be done in it."))
    if check.state != CheckState.CONSENTED or len(valid_consents(check)) != 2:
        raise CheckRefused(_("Both of you must consent before either can see the other's status."))
    subject = check.other_code(code)
    status = registry.financial_status(subject, reference=check.reference, reader_code=code)
    with transaction.atomic():
        locked = CreditCheck.objects.select_for_update().get(pk=check.pk)
        # A withdrawal while the registry answered wins: the answer is not kept.
        if locked.state != CheckState.CONSENTED or len(valid_consents(locked)) != 2:
            raise CheckRefused(_("This check is closed: nothing more can be done in it."))
        read = StatusRead.objects.create(
            credit_check=locked,
            reader=actor,
            reader_code=code,
            subject_code=subject,
            read_at=timezone.now(),
            as_of=status.as_of,
            message_id=status.message_id,
            result=status.as_dict(),
        )
        other = _user_of(subject)
        if other is not None:
            _tell_read(locked, read, other)
    return read


# -- telling the other party (inbox and SMS; never a status) ------------------------------------


def _post(user, check: CreditCheck, key: str, subject_fa: str, subject_en: str, fa: str, en: str):
    from panjereh.inbox.models import Message
    from panjereh.inbox.notify import post

    post(
        user,
        kind=Message.Kind.NOTICE,
        dedupe_key=f"credit:{check.reference}:{key}"[:120],
        subject_fa=subject_fa,
        subject_en=subject_en,
        body_fa=fa,
        body_en=en,
        link_url=reverse("credit:check", args=[check.reference]),
        link_label_fa="دیدن اعتبارسنجی معامله",
        link_label_en="See the credit check",
    )


def _tell_asked(check: CreditCheck, user) -> None:
    name = check.initiator.get_full_name() or "…" + check.initiator_code[-3:]
    _post(
        user,
        check,
        "asked",
        "درخواست اعتبارسنجی معامله",
        "A credit check for a deal was asked of you",
        f"{name} برای معامله «{check.description}» از شما می‌خواهد با اعتبارسنجی معامله "
        "موافقت کنید تا هر دو وضعیت محکومیت مالی یکدیگر را ببینید. تا موافقت نکنید چیزی "
        "خوانده نمی‌شود.",
        f"{name} asks you to agree to a credit check for the deal “{check.description}”, so "
        "that each of you sees the other's financial-conviction status. Nothing is read "
        "unless you agree.",
    )


def _tell_consented(check: CreditCheck, user) -> None:
    _post(
        user,
        check,
        f"consented:{user.pk}",
        "هر دو طرف با اعتبارسنجی معامله موافقت کردند",
        "Both parties agreed to the credit check",
        f"طرف دیگر معامله «{check.description}» موافقت کرد. اکنون می‌توانید وضعیت او را ببینید.",
        f"The other party of the deal “{check.description}” agreed. You can now see their status.",
    )


def _tell_withdrawn(check: CreditCheck, user) -> None:
    _post(
        user,
        check,
        "withdrawn",
        "اعتبارسنجی معامله پس گرفته شد",
        "The credit check was withdrawn",
        f"طرف دیگر معامله «{check.description}» رضایت خود را پس گرفت. چیزی دیگر خوانده نمی‌شود.",
        f"The other party of the deal “{check.description}” withdrew. Nothing more is read.",
    )


def _tell_read(check: CreditCheck, read: StatusRead, user) -> None:
    _post(
        user,
        check,
        f"read:{read.pk}",
        "وضعیت محکومیت مالی شما در اعتبارسنجی معامله دیده شد",
        "Your financial-conviction status was seen in a credit check",
        f"طرف دیگر معامله «{check.description}» با رضایت شما وضعیت محکومیت مالی شما را دید "
        f"(شماره پیگیری {check.reference}).",
        f"The other party of the deal “{check.description}” saw your financial-conviction "
        f"status, with your consent (reference {check.reference}).",
    )
