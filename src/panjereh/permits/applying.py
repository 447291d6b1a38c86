"""Applying for a permit in the window: "register first, then route" (issue 16, part 4).

:func:`apply` registers an application by a signed-in person, for themselves or for a company
they act for (the profile switch; the company registry is asked again at this decision through
:func:`identity.businesses.require_can_act` with the *apply* scope). Every application records
both the person (``applicant``) and the company; its trace (:class:`TraceEvent`, source
*window*) starts with ``registered`` naming both.

What happens next depends on the permit's published version and its authority:

* a **fee** (:func:`fee_of`) above zero: the application waits in ``awaiting_payment``; the
  payment is made as the window for the applicant (purpose ``permit``, key
  ``permit-fee:<reference>``, collected into the authority's agency's treasury account) and
  :func:`paid` (the payments purpose, registered in ``PermitsConfig.ready``) moves it on;
* **registration-based**: issued at once (:func:`issuing.issue`), trace ``issued``;
* approval-based, the authority has a **specialised portal**: ``routing`` with
  ``next_try_at`` = now, trace ``queued_for_portal`` (``permits.routing`` sends it);
* approval-based, **no portal**: ``under_review`` in the authority's queue in the window
  (:mod:`.deciding`), trace ``sent_to_authority_queue``.

The legal time (``due_by``) runs from the moment the file is complete: submission for a free
permit, the payment for one with a fee.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from panjereh.catalogue import roles
from panjereh.common import jalali
from panjereh.common.persian import to_latin_digits
from panjereh.common.uniquecode import insert_with_unique_code
from panjereh.identity import businesses
from panjereh.identity.models import LegalPerson
from panjereh.payments import operations as payments
from panjereh.payments import purposes
from panjereh.payments import queries as payment_queries

from . import issuing, lifecycle
from .models import (
    ApplicationState,
    ConditionKind,
    PermitApplication,
    PermitType,
    PermitVersion,
    TraceEvent,
    TraceSource,
)
from .operations import PermitError, clean_text

log = logging.getLogger(__name__)

PURPOSE = "permit"
MAX_TITLE = 200
MAX_ADDRESS = 300
MAX_DESCRIPTION = 1000
MAX_TOKEN = 64
REFERENCE_PREFIX = "PRM"
# Letters and digits that cannot be mistaken for one another when read aloud or copied.
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
PaymentState = payment_queries.PaymentState

# The provinces an applicant chooses from: (code, Persian, English).
PROVINCES: tuple[tuple[str, str, str], ...] = (
    ("tehran", "تهران", "Tehran"),
    ("alborz", "البرز", "Alborz"),
    ("isfahan", "اصفهان", "Isfahan"),
    ("razavi-khorasan", "خراسان رضوی", "Razavi Khorasan"),
    ("north-khorasan", "خراسان شمالی", "North Khorasan"),
    ("south-khorasan", "خراسان جنوبی", "South Khorasan"),
    ("fars", "فارس", "Fars"),
    ("east-azerbaijan", "آذربایجان شرقی", "East Azerbaijan"),
    ("west-azerbaijan", "آذربایجان غربی", "West Azerbaijan"),
    ("ardabil", "اردبیل", "Ardabil"),
    ("khuzestan", "خوزستان", "Khuzestan"),
    ("mazandaran", "مازندران", "Mazandaran"),
    ("gilan", "گیلان", "Gilan"),
    ("golestan", "گلستان", "Golestan"),
    ("kerman", "کرمان", "Kerman"),
    ("yazd", "یزد", "Yazd"),
    ("sistan-baluchestan", "سیستان و بلوچستان", "Sistan and Baluchestan"),
    ("kurdistan", "کردستان", "Kurdistan"),
    ("kermanshah", "کرمانشاه", "Kermanshah"),
    ("hamadan", "همدان", "Hamadan"),
    ("lorestan", "لرستان", "Lorestan"),
    ("ilam", "ایلام", "Ilam"),
    ("markazi", "مرکزی", "Markazi"),
    ("qom", "قم", "Qom"),
    ("qazvin", "قزوین", "Qazvin"),
    ("zanjan", "زنجان", "Zanjan"),
    ("semnan", "سمنان", "Semnan"),
    ("hormozgan", "هرمزگان", "Hormozgan"),
    ("bushehr", "بوشهر", "Bushehr"),
    ("chaharmahal-bakhtiari", "چهارمحال و بختیاری", "Chaharmahal and Bakhtiari"),
    ("kohgiluyeh-boyer-ahmad", "کهگیلویه و بویراحمد", "Kohgiluyeh and Boyer-Ahmad"),
)
_PROVINCE = {code: (fa, en) for code, fa, en in PROVINCES}

# The fields of the application form, for the views' error anchors.
FIELDS = ("title", "province", "address", "description")

# The window's own trace kinds (the portal's come from ``permits.routing``).
REGISTERED = "registered"
AWAITING_PAYMENT = "awaiting_payment"
NO_TREASURY = "no_treasury"
FEE_PAID = "fee_paid"
FEE_REFUNDED = "fee_refunded"
ISSUED = "issued"
QUEUED_FOR_PORTAL = "queued_for_portal"
SENT_TO_AUTHORITY_QUEUE = "sent_to_authority_queue"
APPROVED = "approved"
REJECTED = "rejected"
WITHDRAWN = "withdrawn"

# Every move of an application, this module's, the portals' (routing) and the issuing, is
# checked against the one table in :mod:`.lifecycle` (``common.statemachine``).
S = ApplicationState
MACHINE = lifecycle.MACHINE  # the one table of an application's states
InvalidTransition = MACHINE.error


class ApplicationError(PermitError):
    """An application refused; ``problems`` maps a form field (or ``""``) to its message."""

    def __init__(self, problems: Mapping[str, str]):
        self.problems = dict(problems)
        super().__init__(list(self.problems.values()))


def _one(message: str, field: str = "") -> ApplicationError:
    return ApplicationError({field: message})


# -- the fee ------------------------------------------------------------------------------------

# An amount of rials as the catalogue writes it: digits (Latin, Persian or Arabic-Indic) with
# any thousands separator, then «ریال» or "rial(s)".
_AMOUNT = re.compile(r"([0-9۰-۹٠-٩][0-9۰-۹٠-٩,٬،' ]*)\s*(?:ریال|rials?\b)", re.IGNORECASE)


def _amount_in(text: str) -> int | None:
    found = _AMOUNT.search(text or "")
    if not found:
        return None
    number = re.sub(r"[^0-9]", "", to_latin_digits(found.group(1)))
    return int(number) if number else None


def fee_of(version: PermitVersion) -> int:
    """The permit's fee in rials: the sum, over the version's *fee* conditions, of the amount
    each writes (its Persian text, else its English one: a number followed by «ریال» or
    "rials"). A fee condition that names no amount («صدور رایگان», "issued free of charge")
    adds nothing. The catalogue holds no other record of fees (docs/permits.md, Applying)."""
    total = 0
    for text_fa, text_en in version.conditions.filter(kind=ConditionKind.FEE).values_list(
        "text_fa", "text_en"
    ):
        amount = _amount_in(text_fa)
        if amount is None:
            amount = _amount_in(text_en)
        total += amount or 0
    return total


# -- checks -------------------------------------------------------------------------------------


def _require_person(actor) -> None:
    if (
        roles.is_system(actor)
        or actor is None
        or not getattr(actor, "is_authenticated", False)
        or not getattr(actor, "is_active", False)
        or not getattr(actor, "national_code", "")
    ):
        raise roles.NotPermitted(_("Sign in with your national code to apply for a permit."))


def clean_details(title: Any, details: Mapping[str, Any] | None) -> tuple[str, dict[str, str]]:
    """The business name and the form's fields, tidy, or :class:`ApplicationError` naming every
    field that is wrong."""
    details = details if isinstance(details, Mapping) else {}
    problems: dict[str, str] = {}
    cleaned: dict[str, str] = {}

    def take(field: str, value: Any, **rules) -> str:
        try:
            return clean_text(value, **rules)
        except PermitError as exc:
            problems[field] = exc.messages[0]
            return ""

    name = take("title", title, label=_("the business name"), required=True, limit=MAX_TITLE)
    code = details.get("province")
    if not isinstance(code, str) or code not in _PROVINCE:
        problems["province"] = _("Choose the province where the business is.")
    else:
        cleaned["province_code"] = code
        cleaned["province"] = _PROVINCE[code][0]
    cleaned["address"] = take(
        "address",
        details.get("address"),
        label=_("the address"),
        required=False,
        limit=MAX_ADDRESS,
    )
    cleaned["description"] = take(
        "description",
        details.get("description"),
        label=_("the description of the business"),
        required=True,
        limit=MAX_DESCRIPTION,
    )
    unknown = set(details) - {"province", "address", "description"}
    if unknown:
        problems[""] = _("The form holds a field it does not ask for.")
    if problems:
        raise ApplicationError(problems)
    return name, {k: v for k, v in cleaned.items() if v}


def _company(actor, company) -> tuple[LegalPerson | None, businesses.Authority | None]:
    if company is None or company == "":
        return None, None
    try:
        found = businesses.require_can_act(actor, company, "apply")
    except businesses.CannotAct as exc:
        raise _one(exc.message) from None
    return found.company, found


# -- the reference ------------------------------------------------------------------------------


def _year(now: dt.datetime) -> int:
    return jalali.from_gregorian(now).year


def _random_reference(now: dt.datetime) -> str:
    tail = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return f"{REFERENCE_PREFIX}-{_year(now)}-{tail}"


def _token_reference(actor, token: str, now: dt.datetime) -> str:
    """The reference of the person's application made with the form's ``token``: the same
    token (a double submit, a reload) names the same application, and the unique reference
    makes a second one impossible. A keyed hash: it says nothing of the person."""
    digest = hmac.new(
        settings.SECRET_KEY.encode(), f"permit-apply:{actor.pk}:{token}".encode(), hashlib.sha256
    ).digest()
    tail = base64.b32encode(digest).decode()[:8].replace("0", "Z").replace("1", "Y")
    tail = tail.replace("O", "X").replace("I", "W")
    return f"{REFERENCE_PREFIX}-{_year(now)}-{tail}"


# -- the trace ----------------------------------------------------------------------------------


def trace(application: PermitApplication, kind: str, *, by=None, at=None, **detail) -> TraceEvent:
    """One step the window took, in the application's trace."""
    return TraceEvent.objects.create(
        application=application,
        at=at or timezone.now(),
        source=TraceSource.WINDOW,
        kind=kind,
        detail=detail,
        by=roles.person(by),
    )


def _person_name(person) -> str:
    return (person.get_full_name() or person.username) if person is not None else ""


# -- applying -----------------------------------------------------------------------------------


def apply(
    actor,
    permit: PermitType,
    *,
    title: Any,
    details: Mapping[str, Any] | None,
    company: LegalPerson | str | None = None,
    request=None,
    token: str = "",
) -> PermitApplication:
    """Register an application for ``permit`` by ``actor`` (for ``company`` if given) and move it
    on as far as the window can at once. Raises :class:`ApplicationError` (what to correct, or
    why the person may not act for the company) or :class:`roles.NotPermitted` (not signed in
    as a person); nothing is stored on a refusal. With ``token`` (the form's), sending the same
    form twice returns the first application."""
    del request  # the session's choice is the caller's: it passes ``company``
    _require_person(actor)
    version = permit.published_version
    if version is None:
        raise _one(_("This permit is not open for applications."))
    name, cleaned = clean_details(title, details)
    token = str(token or "")
    if len(token) > MAX_TOKEN or (token and not token.isascii()) or "\x00" in token:
        raise _one(_("The form has expired. Open it again and send it."))
    now = timezone.now()
    if token:
        existing = PermitApplication.objects.filter(
            reference=_token_reference(actor, token, now)
        ).first()
        if existing is not None:
            return _same(existing, actor, permit)
    legal_person, authority = _company(actor, company)
    fee = fee_of(version)
    auth_row = permit.authority

    def insert(reference: str) -> PermitApplication:
        application = PermitApplication.objects.create(
            reference=reference,
            permit=permit,
            version=version,
            authority=auth_row,
            applicant=actor,
            company=legal_person,
            title=name,
            details=cleaned,
            state=S.AWAITING_PAYMENT if fee > 0 else S.ROUTING,
            fee_rials=fee,
            submitted_at=now,
            due_by=now + dt.timedelta(days=version.legal_days),
            next_try_at=None,
        )
        trace(
            application,
            REGISTERED,
            by=actor,
            at=now,
            person=_person_name(actor),
            company=legal_person.name if legal_person else "",
            company_id=legal_person.national_id if legal_person else "",
            role=authority.role if authority else "",
            version=version.number,
        )
        return application

    def made_already(_exc: IntegrityError) -> PermitApplication | None:
        if not token:
            return None
        found = PermitApplication.objects.filter(
            reference=_token_reference(actor, token, now)
        ).first()
        return _same(found, actor, permit) if found else None

    with transaction.atomic():
        if token:
            application = insert_with_unique_code(
                lambda: _token_reference(actor, token, now),
                insert,
                attempts=1,
                on_conflict=made_already,
            )
        else:
            application = insert_with_unique_code(lambda: _random_reference(now), insert)
        if application.applicant_id != actor.pk or application.submitted_at != now:
            return application  # another request made it first
        if fee > 0:
            trace(application, AWAITING_PAYMENT, at=now, amount=fee)
        else:
            _go_on(application, by=actor, now=now)
    if application.state == S.AWAITING_PAYMENT:
        ask(application)
    return application


def _same(existing: PermitApplication, actor, permit: PermitType) -> PermitApplication:
    if existing.applicant_id != actor.pk or existing.permit_id != permit.pk:
        raise _one(_("The form has expired. Open it again and send it."))
    return existing


def _go_on(application: PermitApplication, *, by=None, now=None) -> None:
    """A complete file (registered, and paid if it has a fee) goes where it goes; the caller
    holds the row in a transaction."""
    now = now or timezone.now()
    version = application.version
    if version.registration_based:
        issued = issuing.issue(application, by=roles.person(by))
        trace(application, ISSUED, number=issued.number)
        return
    portal = application.authority.portal
    if portal:
        PermitApplication.objects.filter(pk=application.pk).update(
            state=S.ROUTING, portal=portal, next_try_at=now, updated_at=now
        )
        application.state, application.portal, application.next_try_at = S.ROUTING, portal, now
        trace(application, QUEUED_FOR_PORTAL, portal=portal)
    else:
        PermitApplication.objects.filter(pk=application.pk).update(
            state=S.UNDER_REVIEW, next_try_at=None, updated_at=now
        )
        application.state = S.UNDER_REVIEW
        trace(application, SENT_TO_AUTHORITY_QUEUE, authority=application.authority.name_fa)


# -- the fee's payment --------------------------------------------------------------------------


def page_url(application: PermitApplication, lang: str | None = None) -> str:
    with translation.override(lang or settings.LANGUAGE_CODE):
        return reverse("permits:application", args=[application.reference])


def _description(application: PermitApplication) -> str:
    return f"{application.permit.title_fa} — {application.reference}"


def _no_treasury(application: PermitApplication, why: str) -> None:
    if not application.trace.filter(kind=NO_TREASURY).exists():
        trace(application, NO_TREASURY, why=why)


def ask(application: PermitApplication):
    """The fee's payment, made as the window for the applicant (idempotent); None when the
    authority cannot take payments (no agency, or no treasury account: said once in the
    trace; the application waits) or the payments app failed (the "Pay" button asks again)."""
    agency = application.authority.agency
    if agency is None:
        _no_treasury(application, "no_agency")
        return None
    try:
        return payments.create_payment(
            purpose_kind=PURPOSE,
            purpose_id=application.reference,
            amount=application.fee_rials,
            agency=agency,
            description=_description(application),
            payer=application.applicant,
            actor=roles.SYSTEM,
            idempotency_key=f"permit-fee:{application.reference}",
            return_url=page_url(application, translation.get_language()),
        )
    except payments.PaymentError as exc:
        log.warning("permit application %s: no payment (%s)", application.reference, exc.messages)
        if getattr(exc, "code", "") == "no_account":
            _no_treasury(application, "no_account")
        return None
    except Exception:
        log.exception("permit application %s: the payment was not made", application.reference)
        return None


def pay(application: PermitApplication, *, actor, absolute: Callable[[str], str]) -> str:
    """The applicant pays the fee: the bank page's address (a payment under way is continued;
    one that ended without money is followed by a new one). ``absolute`` makes the bank's
    callback address absolute (the request's ``build_absolute_uri``)."""
    if getattr(actor, "pk", None) != application.applicant_id:
        raise roles.NotPermitted(_("Only the applicant pays for an application."))
    application.refresh_from_db()
    if application.state != S.AWAITING_PAYMENT:
        raise _one(_("This application is not waiting for a payment."))
    if application.company_id:
        try:
            businesses.require_can_act(actor, application.company, "pay")
        except businesses.CannotAct as exc:
            raise _one(exc.message) from None
    if application.authority.agency is None:
        raise _one(
            _(
                "The issuing authority cannot take payments in the window yet (it has no "
                "treasury account). Your application is kept and waits."
            )
        )
    try:
        payment = payments.create_payment(
            purpose_kind=PURPOSE,
            purpose_id=application.reference,
            amount=application.fee_rials,
            agency=application.authority.agency,
            description=_description(application),
            payer=application.applicant,
            actor=actor,
            return_url=page_url(application, translation.get_language()),
        )
        if payment.state in (PaymentState.CAPTURED, PaymentState.SETTLED, PaymentState.AUTHORISED):
            raise _one(_("This fee is already paid; the application goes on in a moment."))
        callback = absolute(reverse("payments:callback", args=[payment.provider]))
        return payments.start_payment(payment, actor=actor, callback_url=callback)
    except payments.PaymentError as exc:
        if getattr(exc, "code", "") == "no_account":
            _no_treasury(application, "no_account")
        raise _one(" ".join(str(m) for m in exc.messages)) from exc


def _application_of(payment) -> PermitApplication | None:
    if payment.purpose_kind != PURPOSE:
        return None
    return (
        PermitApplication.objects.select_related("version", "authority", "permit")
        .filter(reference=payment.purpose_id)
        .first()
    )


def paid(payment) -> None:
    """The payments app's word that the fee is captured (at least once: idempotent). The
    application goes on (issued, routed or queued); one withdrawn meanwhile gets its money
    back."""
    application = _application_of(payment)
    if application is None:
        log.error("payment %s pays for an unknown permit application", payment.reference)
        return
    now = timezone.now()
    with transaction.atomic():
        locked = (
            PermitApplication.objects.select_for_update(of=("self",))
            .select_related("version", "authority", "permit")
            .get(pk=application.pk)
        )
        if locked.state == S.AWAITING_PAYMENT:
            trace(locked, FEE_PAID, amount=payment.amount, payment=payment.reference)
            # The file is complete now: the legal time runs from the payment.
            due = now + dt.timedelta(days=locked.version.legal_days)
            PermitApplication.objects.filter(pk=locked.pk).update(due_by=due)
            locked.due_by = due
            _go_on(locked, now=now)
            return
        withdrawn = locked.state == S.WITHDRAWN
    if withdrawn:
        refund(locked, payment, why="withdrawn")


def refund(application: PermitApplication, payment, *, why: str) -> bool:
    """Give the paid fee back (after a withdrawal or a rejection); True when asked or nothing
    is owed."""
    payment.refresh_from_db()
    if payment.state not in (PaymentState.CAPTURED, PaymentState.SETTLED):
        return True
    if payment.refundable <= 0:
        return True
    try:
        made = payments.request_refund(
            payment,
            amount=payment.refundable,
            reason=f"{why}: {application.reference}",
            actor=roles.SYSTEM,
            idempotency_key=f"permit-{why}:{application.reference}",
        )
    except Exception:
        log.exception("permit application %s: the refund was not asked", application.reference)
        return False
    if not application.trace.filter(kind=FEE_REFUNDED).exists():
        trace(application, FEE_REFUNDED, amount=made.amount, why=why)
    return True


def refund_paid_fee(application: PermitApplication, why: str) -> bool:
    payment = payment_queries.live_payment(PURPOSE, application.reference)
    if payment is None:
        return True
    return refund(application, payment, why=why)


def page(payment) -> str:
    application = _application_of(payment)
    return page_url(application, translation.get_language()) if application else ""


def register() -> None:
    purposes.register(PURPOSE, purposes.Purpose(paid=paid, page=page))


def fee_status(application: PermitApplication) -> dict[str, Any]:
    """The fee as the application's page shows it."""
    if application.fee_rials <= 0:
        return {"amount": 0, "phase": "free", "payment": None, "payable": False}
    payment = (
        payment_queries.history(application.applicant)
        .filter(purpose_kind=PURPOSE, purpose_id=application.reference)
        .first()
    )
    if application.authority.agency_id is None or (
        payment is None and application.trace.filter(kind=NO_TREASURY).exists()
    ):
        phase = "no_treasury"
    elif payment is None or payment.state == PaymentState.CREATED:
        phase = "unpaid"
    elif payment.state in (PaymentState.CAPTURED, PaymentState.SETTLED):
        phase = "refunded" if payment.refunded_amount else "paid"
    elif payment.state == PaymentState.AUTHORISED:
        phase = "confirming"
    elif payment.state == PaymentState.STARTED:
        phase = "at_bank"
    else:
        phase = "failed"
    return {
        "amount": application.fee_rials,
        "phase": phase,
        "payment": payment,
        "payable": application.state == S.AWAITING_PAYMENT
        and phase in ("unpaid", "at_bank", "failed", "no_treasury"),
    }


# -- withdrawing --------------------------------------------------------------------------------


def may_act_for_application(actor, application: PermitApplication, scope: str) -> bool:
    """The applicant, or a person who may do ``scope`` for the application's company now
    (asked afresh of the company registry)."""
    if getattr(actor, "pk", None) == application.applicant_id:
        return True
    if not application.company_id or not getattr(actor, "is_authenticated", False):
        return False
    try:
        businesses.require_can_act(actor, application.company, scope)
    except businesses.CannotAct:
        return False
    return True


def can_withdraw(application: PermitApplication) -> bool:
    """Open and still in the window's hands: waiting for the fee, in the authority's queue in
    the window, or waiting to be sent and not tried yet. Once handed to a specialised portal
    it is the portal's (the portals take no withdrawals, docs/portals.md)."""
    if application.state == S.AWAITING_PAYMENT:
        return True
    if application.state == S.UNDER_REVIEW:
        return not application.portal
    return application.state == S.ROUTING and application.send_attempts == 0


def withdraw(actor, application: PermitApplication) -> PermitApplication:
    """The applicant (or a person acting for its company with *apply*) withdraws an open
    application still in the window's hands."""
    if not may_act_for_application(actor, application, "apply"):
        raise roles.NotPermitted(_("Only the applicant withdraws an application."))
    application.refresh_from_db()
    if not can_withdraw(application):
        raise _one(_("This application can no longer be withdrawn here."))
    if application.state == S.AWAITING_PAYMENT:
        live = payment_queries.live_payment(PURPOSE, application.reference)
        if live is not None:
            if live.state in (PaymentState.CREATED, PaymentState.STARTED):
                try:
                    payments.cancel_payment(live, actor=roles.SYSTEM)
                except payments.PaymentError:
                    pass
                live.refresh_from_db()
            if live.state != PaymentState.CANCELLED:
                # Money may be on its way (paid at the bank, being confirmed).
                raise _one(
                    _("Your payment is being confirmed by the bank. Wait a moment and look again.")
                )
    now = timezone.now()

    def guard(locked: PermitApplication) -> None:
        if not can_withdraw(locked):
            raise _one(_("This application can no longer be withdrawn here."))

    with transaction.atomic():
        MACHINE.move(application, S.WITHDRAWN, guard=guard, decided_at=now, next_try_at=None)
        trace(application, WITHDRAWN, by=actor, person=_person_name(roles.person(actor)))
    return application


# -- who sees an application --------------------------------------------------------------------


def is_authority_staff(user, application: PermitApplication, capability: str = roles.READ) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    agency_id = application.authority.agency_id
    return agency_id is not None and agency_id in roles.agencies_for(user, capability)


def shown_scope(user, application: PermitApplication, scope: str) -> bool:
    """For showing a button only (the action asks the registry afresh): the applicant, or a
    person whose kept registry answer gives ``scope`` for the application's company."""
    if getattr(user, "pk", None) == application.applicant_id:
        return True
    if not application.company_id or not getattr(user, "national_code", ""):
        return False
    try:
        found = businesses.authority(user, application.company.national_id, fresh=False)
    except Exception:  # the registry not answering: no button
        return False
    return found is not None and scope in found.scopes


def visible_to(user, application: PermitApplication) -> bool:
    """The applicant, a person who may read for its company (the registry's answer may be up to
    the representation TTL old: showing a page is not a decision), the authority's staff."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.pk == application.applicant_id or is_authority_staff(user, application):
        return True
    if not application.company_id or not getattr(user, "national_code", ""):
        return False
    try:
        found = businesses.authority(user, application.company.national_id, fresh=False)
    except Exception:  # the registry not answering: shown to the applicant and staff only
        return False
    return found is not None and "read" in found.scopes


def submissions(user, company: LegalPerson | None = None):
    """The person's applications and, when acting for a company, the company's, newest first."""
    where = Q(applicant=user)
    if company is not None:
        where |= Q(company=company)
    return (
        PermitApplication.objects.filter(where)
        .select_related("permit", "authority", "company")
        .order_by("-submitted_at", "-id")
    )
