"""Fees: what an application costs, its payment, its receipt and its refund.

A definition declares its fee: ``fee_rials`` (fixed), optionally ``fee_rules`` (the first rule
of the engine's rule language, :mod:`.rules`, that holds on the typed inputs gives the amount;
else ``fee_rials``) and ``fee_refundable`` (default true). :func:`amount` computes it when the
application is submitted; a fee above zero makes the application start in
``awaiting_payment`` (which the engine does not pick) with the amount stored on it, and a
payment is asked of the payments app (:func:`ask`; as the window, for the applicant).

The payments app tells what it was paid for through its purposes registry
(``payments.purposes``; registered in ``ServicesConfig.ready``): :func:`paid` runs after the
capture commits, at least once, so it is idempotent. It moves the application to
``submitted`` (due now, its target time counted from the payment) through the one state
machine (``workflow.transition``), issues the signed receipt (:func:`issue_receipt`: a JWS of
the collecting agency, like a document's, on the public verify page and as a PDF) and puts it
in the inbox. A payment that ends without money (a declined card) leaves the application
waiting: the applicant pays again (:func:`pay`), which makes a new payment since the old one
ended.

A rejected application whose fee was paid and is refundable is refunded by itself
(:func:`refund_rejected`, after the rejection commits; the job ``services-fee-refunds`` asks
again for any whose request did not get through). An application still waiting may be
withdrawn by its applicant (:func:`withdraw`), and one unpaid for
``PANJEREH_SERVICES_UNPAID_DAYS`` days is closed (:func:`close_unpaid`, the job
``services-close-unpaid``); both cancel a payment still open.

A proactive application (started by a registry event) of a fee-bearing service is not given
for free: it waits for the payment like any other, and the person is told in their inbox.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from panjereh.catalogue import roles
from panjereh.common import jalali
from panjereh.common.conf import setting
from panjereh.common.persian import to_persian_digits
from panjereh.common.uniquecode import insert_with_unique_code
from panjereh.payments import operations as payments
from panjereh.payments import purposes
from panjereh.payments import queries as payment_queries

from . import documents, rules, workflow
from .models import Application, JourneyEvent, Origin, Receipt, State

log = logging.getLogger(__name__)
PURPOSE = "application"
RECEIPT_TYPE = documents.RECEIPT_TYPE
PaymentState = payment_queries.PaymentState
PAID = (PaymentState.CAPTURED, PaymentState.SETTLED)
OPEN = (PaymentState.CREATED, PaymentState.STARTED, PaymentState.AUTHORISED)


class FeeError(ValueError):
    """A fee operation refused, worded for the applicant."""

    def __init__(self, message: str, *, unavailable: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.unavailable = unavailable


def unpaid_days() -> float:
    return float(setting("PANJEREH_SERVICES_UNPAID_DAYS", 14.0))


# -- the amount --------------------------------------------------------------------------------


def amount(spec: dict[str, Any], inputs: dict[str, str] | None) -> int:
    """The fee of an application of ``spec`` with these typed inputs (rials; 0: free)."""
    data = {"input": dict(inputs or {})}
    for entry in spec.get("fee_rules") or []:
        if rules.evaluate(entry["rule"], data):
            return int(entry["amount_rials"])
    return int(spec.get("fee_rials") or 0)


def refundable(application: Application) -> bool:
    return bool(application.definition.spec.get("fee_refundable", True))


def rials_fa(value: int) -> str:
    return to_persian_digits(f"{int(value):,}".replace(",", "٬"))


def rule_problems(spec: dict[str, Any]) -> list[str]:
    """What is wrong with a definition's ``fee_rules`` (the JSON Schema checked their shape):
    each rule well formed and reading only the typed inputs (the fee is known when the
    application is submitted, before anything is fetched)."""
    problems: list[str] = []
    codes = {item.get("code") for item in spec.get("inputs", [])}
    for entry in spec.get("fee_rules") or []:
        try:
            rules.check(entry.get("rule"))
        except rules.RuleError as exc:
            problems.append(_("A fee rule is malformed: %(error)s") % {"error": exc})
            continue
        for path in rules.fields_of(entry["rule"]):
            head, _sep, rest = path.partition(".")
            if head != "input" or rest not in codes:
                problems.append(
                    _("A fee rule may read only what the applicant types: %(f)s") % {"f": path}
                )
    return problems


# -- asking for the payment -----------------------------------------------------------------------


def _description(application: Application) -> str:
    return f"{application.definition.title_fa} — {application.tracking_code}"


def page_url(application: Application, lang: str | None = None) -> str:
    with translation.override(lang or settings.LANGUAGE_CODE):
        return reverse("services:detail", args=[application.tracking_code])


def ask(application: Application):
    """The application's payment, made as the window for the applicant right after it is
    submitted (idempotent); None when the agency cannot take payments yet (said in the
    journey once: the application waits, and the page says why)."""
    try:
        payment = payments.create_payment(
            purpose_kind=PURPOSE,
            purpose_id=application.tracking_code,
            amount=application.fee_rials,
            agency=application.agency,
            description=_description(application),
            payer=application.user,
            actor=roles.SYSTEM,
            idempotency_key=f"fee:{application.tracking_code}",
            return_url=page_url(application, translation.get_language()),
        )
    except payments.PaymentError as exc:
        log.warning("application %s: no payment (%s)", application.tracking_code, exc.messages)
        payment = None
        if (
            getattr(exc, "code", "") == "no_account"
            and not application.events.filter(
                kind=JourneyEvent.Kind.PAYMENT, data__no_account=True
            ).exists()
        ):
            workflow.record(
                application,
                JourneyEvent.Kind.PAYMENT,
                "دستگاه هنوز حساب خزانه‌ای برای دریافت هزینه ندارد؛ درخواست منتظر می‌ماند.",
                "The agency cannot take payments yet (it has no treasury account); "
                "the application waits.",
                {"no_account": True},
            )
    except Exception:  # the applicant's "Pay now" asks again
        log.exception("application %s: the payment was not made", application.tracking_code)
        payment = None
    if application.origin == Origin.PROACTIVE:
        _tell_to_pay(application)
    return payment


def _tell_to_pay(application: Application) -> None:
    from panjereh.inbox.models import Message
    from panjereh.inbox.notify import post

    from . import notices

    title_fa = application.definition.title_fa
    title_en = application.definition.title_en or title_fa
    post(
        application.user,
        kind=Message.Kind.NOTICE,
        dedupe_key=f"fee-due:{application.tracking_code}",
        subject_fa=f"{title_fa}: برای ادامه، هزینه خدمت را بپردازید",
        subject_en=f"{title_en}: pay the fee to go on",
        body_fa=(
            f"این خدمت به‌طور خودکار برای شما آغاز شد. هزینه آن {rials_fa(application.fee_rials)}"
            " ریال است؛ پس از پرداخت، درخواست پیش می‌رود."
        ),
        body_en=(
            f"This service was started for you. Its fee is {application.fee_rials:,} rials; "
            "once it is paid, the application goes on."
        ),
        **notices.link(application),
    )


def latest_payment(application: Application):
    """The application's newest payment (any state), or None."""
    return (
        payment_queries.history(application.user)
        .filter(purpose_kind=PURPOSE, purpose_id=application.tracking_code)
        .first()
    )


def pay(application: Application, *, actor, absolute: Callable[[str], str], return_url: str) -> str:
    """The applicant pays: the bank page's address. A payment under way is continued; one that
    ended without money (a declined card) is followed by a new one. ``absolute`` makes the
    bank's callback address absolute (the request's ``build_absolute_uri``)."""
    if getattr(actor, "pk", None) != application.user_id:
        raise roles.NotPermitted(_("Only the applicant pays for an application."))
    application.refresh_from_db()
    if application.state != State.AWAITING_PAYMENT:
        raise FeeError(_("This application is not waiting for a payment."))
    try:
        payment = payments.create_payment(
            purpose_kind=PURPOSE,
            purpose_id=application.tracking_code,
            amount=application.fee_rials,
            agency=application.agency,
            description=_description(application),
            payer=application.user,
            actor=actor,
            return_url=return_url,
        )
        if payment.state in PAID or payment.state == PaymentState.AUTHORISED:
            raise FeeError(_("This fee is already paid; the application goes on in a moment."))
        callback = absolute(reverse("payments:callback", args=[payment.provider]))
        return payments.start_payment(payment, actor=actor, callback_url=callback)
    except payments.PaymentError as exc:
        raise FeeError(
            " ".join(str(m) for m in exc.messages),
            unavailable=isinstance(exc, payments.PaymentUnavailable)
            or getattr(exc, "code", "") == "no_account",
        ) from exc


# -- paid ----------------------------------------------------------------------------------------


def _application_of(payment) -> Application | None:
    if payment.purpose_kind != PURPOSE:
        return None
    return (
        Application.objects.select_related("definition", "agency", "user")
        .filter(tracking_code=payment.purpose_id)
        .first()
    )


def paid(payment) -> None:
    """The payments app's word that the application's fee is captured (at least once)."""
    application = _application_of(payment)
    if application is None:
        log.error("payment %s pays for an unknown application", payment.reference)
        return
    now = timezone.now()
    amount_fa, amount_en = rials_fa(payment.amount), f"{payment.amount:,}"
    moved = False
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        if locked.state == State.AWAITING_PAYMENT:
            workflow.transition(
                locked,
                State.SUBMITTED,
                text_fa=f"هزینه خدمت ({amount_fa} ریال) پرداخت شد؛ درخواست به جریان افتاد",
                text_en=f"The fee ({amount_en} rials) was paid; the application is under way",
                data={"payment": payment.reference, "amount": payment.amount},
                next_attempt_at=now,
                # The agency's target time counts from the payment, not from the form.
                due_at=now + dt.timedelta(minutes=locked.definition.target_minutes),
            )
            moved = True
        state = locked.state
    receipt = issue_receipt(application, payment)
    _post_receipt(application, receipt)
    if moved:
        from . import tasks

        tasks.enqueue(application.pk)
    elif state == State.CLOSED:
        # Paid after it was withdrawn or closed (the bank was slower than the applicant): the
        # money goes back.
        _refund(
            application,
            payment,
            key=f"closed:{payment.reference}",
            fa="هزینه درخواستی که بسته شده بود بازگردانده می‌شود",
            en="The fee of an application that was closed is given back",
        )


def page(payment) -> str:
    application = _application_of(payment)
    return page_url(application, translation.get_language()) if application else ""


def register() -> None:
    purposes.register(PURPOSE, purposes.Purpose(paid=paid, page=page))


# -- the receipt ---------------------------------------------------------------------------------


def _receipt_claims(application: Application, payment, number: str) -> dict[str, Any]:
    agency = application.agency
    paid_at = payment.captured_at or timezone.now()
    return {
        "iss": agency.code,
        "iss_fa": agency.name_fa,
        "iss_en": agency.name_en,
        "num": number,
        "typ": "receipt",
        "svc": application.definition.service.service_id,
        "trk": application.tracking_code,
        "ref": payment.reference,
        "amt": payment.amount,
        "iat": int(timezone.now().timestamp()),
        "title_fa": "رسید پرداخت هزینه خدمت",
        "title_en": "Receipt of a service fee",
        "text_fa": (
            f"مبلغ {rials_fa(payment.amount)} ریال بابت «{application.definition.title_fa}» (درخواست "
            f"{application.tracking_code}) به حساب خزانه {agency.name_fa} پرداخت شد."
        ),
        "fields": [
            ["خدمت", "Service", application.definition.title_fa, application.definition.title_en],
            ["کد رهگیری درخواست", "Tracking code", application.tracking_code, ""],
            ["مبلغ (ریال)", "Amount (rials)", rials_fa(payment.amount), f"{payment.amount:,}"],
            ["شماره پرداخت", "Payment reference", payment.reference, ""],
            ["تاریخ پرداخت", "Paid on", jalali.format_fa(paid_at), paid_at.date().isoformat()],
        ],
    }


def issue_receipt(application: Application, payment) -> Receipt:
    """The payment's signed receipt, once (a second call returns it)."""
    existing = Receipt.objects.filter(payment_reference=payment.reference).first()
    if existing is not None:
        return existing
    day = jalali.iso(timezone.now()).replace("-", "")

    def insert(number: str) -> Receipt:
        claims = _receipt_claims(application, payment, number)
        token, kid = documents.sign(application.agency, claims, typ=RECEIPT_TYPE)
        receipt = Receipt.objects.create(
            application=application,
            payment_reference=payment.reference,
            number=number,
            agency=application.agency,
            amount=payment.amount,
            token=token,
            kid=kid,
        )
        workflow.record(
            application,
            JourneyEvent.Kind.PAYMENT,
            f"رسید پرداخت شماره {number} صادر و امضا شد",
            f"Receipt {number} issued and signed",
            {"receipt": number, "payment": payment.reference},
        )
        return receipt

    def issued_already(_exc: IntegrityError) -> Receipt | None:
        return Receipt.objects.filter(payment_reference=payment.reference).first()

    with transaction.atomic():
        return insert_with_unique_code(
            lambda: f"RCPT-{day}-{secrets.token_hex(4).upper()}", insert, on_conflict=issued_already
        )


def receipt_pdf_url(receipt: Receipt) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return reverse("services:receipt_pdf", args=[receipt.number])


def _post_receipt(application: Application, receipt: Receipt) -> None:
    from panjereh.inbox.models import Message
    from panjereh.inbox.notify import post

    from . import notices

    title_fa = application.definition.title_fa
    title_en = application.definition.title_en or title_fa
    _message, created = post(
        application.user,
        kind=Message.Kind.DOCUMENT,
        dedupe_key=f"receipt:{receipt.payment_reference}",
        subject_fa=f"رسید پرداخت: {title_fa}",
        subject_en=f"Payment receipt: {title_en}",
        body_fa=(
            f"هزینه درخواست {to_persian_digits(application.tracking_code)} به مبلغ "
            f"{rials_fa(receipt.amount)} ریال پرداخت شد.\nشماره رسید: {receipt.number}"
        ),
        body_en=(
            f"The fee of application {application.tracking_code}, {receipt.amount:,} rials, "
            f"was paid.\nReceipt number: {receipt.number}"
        ),
        document_url=receipt_pdf_url(receipt),
        **notices.link(application),
    )
    if created:
        workflow.record(
            application,
            JourneyEvent.Kind.NOTIFIED,
            "رسید پرداخت در صندوق پیام شهروند قرار گرفت",
            "The payment receipt was put in the citizen's inbox",
            {"receipt": receipt.number},
        )


def verify_receipt(result: documents.Verification, token: str) -> documents.Verification:
    """The online verdict of a receipt whose signature holds: it must be one the window issued."""
    receipt = Receipt.objects.filter(number=result.claims.get("num")).first()
    if receipt is None or receipt.token != token.strip():
        return documents.Verification("invalid", documents.FORGED_FA, documents.FORGED_EN)
    result.message_fa = "این رسید معتبر است و امضای دستگاه دریافت‌کننده بر آن درست است."
    result.message_en = "This receipt is valid: the collecting agency's signature is genuine."
    return result


# -- refunds -------------------------------------------------------------------------------------


def will_refund(application: Application) -> bool:
    """Whether a rejection gives the fee back (for the rejection notice)."""
    return (
        application.fee_rials > 0
        and refundable(application)
        and payment_queries.is_paid(PURPOSE, application.tracking_code)
    )


def _refund(application: Application, payment, *, key: str, fa: str, en: str) -> bool:
    payment.refresh_from_db()
    if payment.refundable <= 0:  # already given back
        return True
    try:
        refund = payments.request_refund(
            payment,
            amount=payment.refundable,
            reason=f"{fa} ({application.tracking_code})",
            actor=roles.SYSTEM,
            idempotency_key=key,
        )
    except Exception:
        log.exception("application %s: the refund was not asked", application.tracking_code)
        return False
    Application.objects.filter(pk=application.pk, fee_refund_checked_at__isnull=True).update(
        fee_refund_checked_at=timezone.now()
    )
    if not application.events.filter(kind=JourneyEvent.Kind.REFUND).exists():
        workflow.record(
            application,
            JourneyEvent.Kind.REFUND,
            f"{fa}: {rials_fa(refund.amount)} ریال",
            f"{en}: {refund.amount:,} rials",
            {"payment": payment.reference, "refund": refund.pk},
        )
    return True


def refund_rejected(application_id: int) -> bool:
    """Give back the paid, refundable fee of a rejected application (True when asked or
    nothing is owed; False when the request did not get through: the job asks again)."""
    application = Application.objects.select_related("definition").get(pk=application_id)
    if (
        application.state != State.REJECTED
        or application.fee_rials <= 0
        or application.fee_refund_checked_at is not None
    ):
        return True
    payment = payment_queries.live_payment(PURPOSE, application.tracking_code)
    if not refundable(application) or payment is None or payment.state not in PAID:
        # Nothing to give back: marked, so that the job does not look again.
        Application.objects.filter(pk=application.pk, fee_refund_checked_at__isnull=True).update(
            fee_refund_checked_at=timezone.now()
        )
        return True
    return _refund(
        application,
        payment,
        key=f"reject:{application.tracking_code}",
        fa="درخواست رد شد و هزینه آن بازگردانده می‌شود",
        en="The application was rejected and its fee is given back",
    )


def refund_due(limit: int = 100) -> int:
    """The job: rejected applications whose refundable fee was not asked back yet."""
    grace = timezone.now() - dt.timedelta(seconds=30)  # the first try runs at the rejection
    ids = list(
        Application.objects.filter(
            state=State.REJECTED,
            fee_rials__gt=0,
            fee_refund_checked_at__isnull=True,
            completed_at__lte=grace,
        )
        .order_by("completed_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(1 for pk in ids if refund_rejected(pk))


def rejection_lines(application: Application) -> tuple[str, str]:
    """What the rejection notice says of the fee (empty when there is nothing to say)."""
    if application.fee_rials <= 0 or not payment_queries.is_paid(
        PURPOSE, application.tracking_code
    ):
        return "", ""
    if refundable(application):
        return (
            f"\nهزینه پرداخت‌شده ({rials_fa(application.fee_rials)} ریال) به‌طور خودکار به "
            "کارت شما بازگردانده می‌شود.",
            f"\nThe fee you paid ({application.fee_rials:,} rials) is given back to your card "
            "automatically.",
        )
    return (
        "\nهزینه این خدمت بنا بر مقررات آن بازگرداندنی نیست.",
        "\nThe fee of this service is not refundable under its rules.",
    )


# -- withdrawing and closing unpaid applications -------------------------------------------------


def _let_go_of_payment(application: Application) -> None:
    """Cancel the waiting application's payment if one is open; refuse when money may be on
    its way (paid at the bank, being confirmed)."""
    payment = payment_queries.live_payment(PURPOSE, application.tracking_code)
    if payment is None:
        return
    if payment.state in (PaymentState.CREATED, PaymentState.STARTED):
        try:
            payments.cancel_payment(payment, actor=roles.SYSTEM)
            return
        except payments.PaymentError:
            payment.refresh_from_db()
    raise FeeError(_("Your payment is being confirmed by the bank. Wait a moment and look again."))


def _close(application: Application, text_fa: str, text_en: str, why: str) -> None:
    workflow.transition(
        application, State.CLOSED, text_fa=text_fa, text_en=text_en, data={"why": why}
    )


def withdraw(application: Application, *, actor) -> Application:
    """The applicant withdraws an application still waiting for its payment."""
    if getattr(actor, "pk", None) != application.user_id:
        raise roles.NotPermitted(_("Only the applicant withdraws an application."))
    application.refresh_from_db()
    if application.state != State.AWAITING_PAYMENT:
        raise FeeError(_("Only an application still waiting for its payment can be withdrawn."))
    _let_go_of_payment(application)
    try:
        _close(
            application,
            "درخواست پیش از پرداخت هزینه به خواست متقاضی بسته شد",
            "The applicant withdrew the application before paying",
            "withdrawn",
        )
    except workflow.InvalidTransition as exc:
        raise FeeError(_("This application is not waiting for a payment.")) from exc
    return application


def close_unpaid(limit: int = 200) -> int:
    """The job: applications unpaid after ``PANJEREH_SERVICES_UNPAID_DAYS`` are closed, and
    their applicants told."""
    from panjereh.inbox.models import Message
    from panjereh.inbox.notify import post

    from . import notices

    days = unpaid_days()
    cutoff = timezone.now() - dt.timedelta(days=days)
    closed = 0
    for application in Application.objects.filter(
        state=State.AWAITING_PAYMENT, submitted_at__lt=cutoff
    ).select_related("definition", "user")[:limit]:
        try:
            _let_go_of_payment(application)
            _close(
                application,
                f"هزینه در {rials_fa(int(days))} روز پرداخت نشد و درخواست بسته شد",
                f"The fee was not paid within {int(days)} days; the application was closed",
                "unpaid",
            )
        except (FeeError, workflow.InvalidTransition):
            continue  # paid meanwhile, or money on its way: the payment decides
        title_fa = application.definition.title_fa
        title_en = application.definition.title_en or title_fa
        post(
            application.user,
            kind=Message.Kind.NOTICE,
            dedupe_key=f"fee-unpaid:{application.tracking_code}",
            subject_fa=f"{title_fa}: درخواست بدون پرداخت بسته شد",
            subject_en=f"{title_en}: the application was closed unpaid",
            body_fa=(
                f"هزینه درخواست {to_persian_digits(application.tracking_code)} در "
                f"{rials_fa(int(days))} روز پرداخت نشد و درخواست بسته شد. اگر هنوز به این "
                "خدمت نیاز دارید، دوباره درخواست دهید."
            ),
            body_en=(
                f"The fee of application {application.tracking_code} was not paid within "
                f"{int(days)} days, so it was closed. Apply again if you still need the service."
            ),
            **notices.link(application),
        )
        closed += 1
    return closed


# -- what the application's page shows -----------------------------------------------------------


def status(application: Application) -> dict[str, Any]:
    """The fee as the applicant's page shows it: the amount, the newest payment and what it
    means (``phase``), and the receipts."""
    receipts = list(Receipt.objects.filter(application=application))
    if application.fee_rials <= 0:
        return {"amount": 0, "phase": "free", "payment": None, "receipts": receipts}
    payment = latest_payment(application)
    if payment is None:
        phase = "no_account" if application.events.filter(data__no_account=True).exists() else ""
        phase = phase or "unpaid"
    elif payment.state in PAID:
        phase = "refunded" if payment.refunded_amount else "paid"
    elif payment.state == PaymentState.AUTHORISED:
        phase = "confirming"
    elif payment.state in (PaymentState.CREATED, PaymentState.STARTED):
        phase = "unpaid" if payment.state == PaymentState.CREATED else "at_bank"
    else:
        phase = "failed"
    return {
        "amount": application.fee_rials,
        "phase": phase,
        "payment": payment,
        "receipts": receipts,
        "refundable": refundable(application),
        "payable": application.state == State.AWAITING_PAYMENT
        and phase in ("unpaid", "at_bank", "failed", "no_account"),
    }
