"""Every write of the payments app: one function per use case, rights checked here.

The rules that keep money from being lost or doubled:

* **Idempotent creation.** A purpose (an application, a permit, a bill) has at most one live
  payment (a partial unique constraint); asking again returns it. An idempotency key given by
  the caller returns the payment made under it.
* **One capture.** A payment moves through :data:`MACHINE` (``common.statemachine``): the row
  is locked, the move checked against the table and the event written in one transaction, so
  two callbacks, a callback and the reconciliation job, or two workers cannot both capture;
  ``captured_amount`` is 0 or the whole amount (a check constraint).
* **The bank is asked, never guessed.** A payment whose callback never comes is resolved by
  asking the provider (:func:`reconcile`, the job ``payments-reconcile``, with doubling
  backoff); a payment paid but not verified is verified, or reversed before the provider's
  deadline.
* **Refunds within the capture.** A refund reserves its amount on the locked payment row
  (``refunded_amount``, at most ``captured_amount`` by a check constraint) before the provider
  is asked; a refused refund gives the reservation back.
* **Calls to the provider happen outside database transactions**; what they answer is then
  written by a move.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from panjereh.catalogue import roles
from panjereh.common import statemachine, uniquecode
from panjereh.common.templatetags.persian import num

from . import conf, providers, purposes
from .models import (
    LIVE,
    PAID_STATES,
    CaseKind,
    CaseState,
    FinanceCase,
    Payment,
    PaymentEvent,
    PaymentState,
    Purpose,
    Refund,
    RefundEvent,
    RefundState,
    TreasuryAccount,
    normalize_shaba,
)
from .settlement import reconcile_recent_settlements as reconcile_recent_settlements
from .settlement import reconcile_settlement as reconcile_settlement

log = logging.getLogger(__name__)
S = PaymentState
MAX_AMOUNT = 10**13  # rials: ten thousand billion, far above any fee or bill


class PaymentError(ValidationError):
    """A refused payment operation, worded for the person (a form or page shows it)."""


class CallbackRefused(PaymentError):
    """A callback the window does not accept; nothing was changed."""


class PaymentUnavailable(PaymentError):
    """The provider could not be reached; nothing was charged."""


class InvalidTransition(statemachine.InvalidTransition, PaymentError):
    pass


TRANSITIONS: dict[str, set[str]] = {
    S.CREATED: {S.STARTED, S.FAILED, S.CANCELLED, S.EXPIRED},
    S.STARTED: {S.AUTHORISED, S.FAILED, S.CANCELLED, S.EXPIRED, S.REVERSED},
    S.AUTHORISED: {S.CAPTURED, S.REVERSED, S.FAILED},
    S.CAPTURED: {S.SETTLED},
    S.SETTLED: set(),
    S.FAILED: set(),
    S.CANCELLED: set(),
    S.EXPIRED: set(),
    S.REVERSED: set(),
}
ENDINGS = {S.FAILED, S.CANCELLED, S.EXPIRED, S.REVERSED}


def _record(
    payment: Payment, from_state: str, to_state: str, *, by, changes, source="", note="", data=None
) -> None:
    PaymentEvent.objects.create(
        payment=payment,
        from_state=from_state,
        to_state=to_state,
        actor=roles.person(by),
        source=source,
        note=note,
        data=data or {},
    )


MACHINE = statemachine.Machine(
    TRANSITIONS,
    record=_record,
    error=InvalidTransition,
    message=lambda payment, to: (
        _("A payment that is “%(from)s” cannot become “%(to)s”.")
        % {"from": PaymentState(payment.state).label, "to": PaymentState(to).label}
    ),
)


def _move(
    payment: Payment, to: str, *, source: str, by=roles.SYSTEM, note="", data=None, **changes
):
    """Move ``payment``; ``None`` when another mover got there first (it is then up to date)."""
    if to in ENDINGS:
        changes.setdefault("ended_at", timezone.now())
        changes.setdefault("next_check_at", None)
    try:
        return MACHINE.move(
            payment,
            to,
            by=by,
            event={"source": source, "note": note, "data": data or {}},
            **changes,
        )
    except InvalidTransition:
        return None


def _record_refund(refund: Refund, from_state, to_state, *, by, changes, note="", data=None):
    RefundEvent.objects.create(
        refund=refund,
        from_state=from_state,
        to_state=to_state,
        actor=roles.person(by),
        note=note,
        data=data or {},
    )


REFUND_MACHINE = statemachine.Machine(
    {
        RefundState.REQUESTED: {RefundState.REFUNDED, RefundState.FAILED},
        RefundState.REFUNDED: set(),
        RefundState.FAILED: set(),
    },
    record=_record_refund,
    error=InvalidTransition,
    message=lambda refund, to: _("This refund is already finished."),
)


# -- treasury accounts ------------------------------------------------------------------------


@transaction.atomic
def save_treasury_account(
    agency, *, shaba: str, treasury_id: str, title: str, actor
) -> TreasuryAccount:
    """Make ``shaba`` the agency's active treasury account (the earlier one stays, inactive,
    for the payments that name it). The agency's administrators, or the platform's."""
    roles.require(
        actor,
        roles.ADMINISTER,
        agency,
        message=_("Only the agency's administrators set its treasury account."),
    )
    account = TreasuryAccount(
        agency=agency,
        shaba=normalize_shaba(shaba),
        treasury_id=str(treasury_id or "").strip(),
        title=str(title or "").strip(),
    )
    account.full_clean(exclude=["agency"])
    TreasuryAccount.objects.select_for_update().filter(agency=agency, active=True).update(
        active=False
    )
    account.save()
    return account


# -- creating and starting a payment ------------------------------------------------------------


def _reference() -> str:
    return str(10**11 + secrets.randbelow(9 * 10**11))


def _same_request(payment: Payment, amount: int, agency_id: int) -> Payment:
    if payment.amount != amount or payment.agency_id != agency_id:
        raise PaymentError(
            _("A payment for this is already under way with another amount."), code="conflict"
        )
    return payment


def create_payment(
    *,
    purpose_kind: str,
    purpose_id: str,
    amount: int,
    agency,
    description: str,
    payer,
    actor,
    idempotency_key: str = "",
    return_url: str = "",
) -> Payment:
    """The payment of ``amount`` rials for one purpose, collected into ``agency``'s treasury
    account; the live payment of that purpose if there is one (idempotent).

    The payer creates their own payment; the window (SYSTEM) may create one for a payer."""
    if not (
        roles.is_system(actor) or (payer is not None and getattr(actor, "pk", None) == payer.pk)
    ):
        raise roles.NotPermitted(_("Only the payer can ask to pay."))
    if purpose_kind not in Purpose.values:
        raise PaymentError({"purpose_kind": [_("Not something the window takes payments for.")]})
    purpose_id = str(purpose_id or "").strip()
    if not purpose_id or len(purpose_id) > 64 or "\x00" in purpose_id:
        raise PaymentError({"purpose_id": [_("Say what this payment is for.")]})
    if not isinstance(amount, int) or isinstance(amount, bool) or not 0 < amount <= MAX_AMOUNT:
        raise PaymentError(
            {"amount": [_("The amount must be a whole number of rials above zero.")]}
        )
    if idempotency_key and (len(idempotency_key) > 100 or "\x00" in idempotency_key):
        raise PaymentError({"idempotency_key": [_("This idempotency key is not valid.")]})
    if idempotency_key:
        known = Payment.objects.filter(idempotency_key=idempotency_key).first()
        if known is not None:
            if (known.purpose_kind, known.purpose_id) != (purpose_kind, purpose_id):
                raise PaymentError(
                    _("This idempotency key was used for another payment."), code="conflict"
                )
            return _same_request(known, amount, agency.pk)
    live = Payment.objects.filter(LIVE, purpose_kind=purpose_kind, purpose_id=purpose_id).first()
    if live is not None:
        return _same_request(live, amount, agency.pk)
    account = TreasuryAccount.objects.filter(agency=agency, active=True).first()
    if account is None:
        raise PaymentError(
            _("This agency cannot take payments yet: it has no treasury account."),
            code="no_account",
        )
    provider = providers.get()

    def insert(reference: str) -> Payment:
        now = timezone.now()
        payment = Payment.objects.create(
            reference=reference,
            idempotency_key=idempotency_key or f"auto:{reference}",
            purpose_kind=purpose_kind,
            purpose_id=purpose_id,
            description=str(description or "")[:300],
            amount=amount,
            agency=agency,
            account=account,
            payer=payer,
            return_url=return_url[:500],
            provider=provider.identifier,
            created_at=now,
            # Never sent to the bank: the reconciliation job expires it after its life.
            next_check_at=now + dt.timedelta(seconds=conf.get("CREATED_LIFE")),
        )
        _record(payment, "", S.CREATED, by=actor, changes={}, source="create")
        return payment

    def on_conflict(_exc: IntegrityError) -> Payment | None:
        # Another request stored the same purpose's payment (or key) first: that is the answer.
        other = Payment.objects.filter(
            LIVE, purpose_kind=purpose_kind, purpose_id=purpose_id
        ).first() or (
            Payment.objects.filter(idempotency_key=idempotency_key).first()
            if idempotency_key
            else None
        )
        return _same_request(other, amount, agency.pk) if other else None

    return uniquecode.insert_with_unique_code(_reference, insert, on_conflict=on_conflict)


def _payer_or_system(payment: Payment, actor) -> None:
    if roles.is_system(actor):
        return
    if payment.payer_id is None or getattr(actor, "pk", None) != payment.payer_id:
        raise roles.NotPermitted(_("This is not your payment."))


def start_payment(payment: Payment, *, actor, callback_url: str) -> str:
    """Ask the provider for a token and say where to send the payer (the bank's page).

    Again for a started payment: the same page. The provider down: :class:`PaymentUnavailable`
    and the payment stays as it was (nothing charged, the payer may try again)."""
    _payer_or_system(payment, actor)
    payment.refresh_from_db()
    provider = providers.get(payment.provider)
    if payment.state not in (S.CREATED, S.STARTED):
        raise PaymentError(_("This payment can no longer be paid."), code="finished")
    try:
        started = provider.start(payment, callback_url)
    except providers.ProviderUnavailable as exc:
        log.warning("payment %s: the provider is unavailable (%s)", payment.reference, exc)
        raise PaymentUnavailable(
            _(
                "The bank's payment page cannot be reached now. Nothing was charged; try again in a few minutes."
            ),
            code="unavailable",
        ) from exc
    except providers.ProviderRefused as exc:
        log.error("payment %s: the provider refused a token (%s)", payment.reference, exc.code)
        raise PaymentUnavailable(
            _("The bank refused this payment. Nothing was charged."), code="refused"
        ) from exc
    now = timezone.now()
    if payment.state == S.CREATED:
        _move(
            payment,
            S.STARTED,
            source="payer" if not roles.is_system(actor) else "system",
            by=actor,
            provider_token=started.token,
            started_at=now,
            next_check_at=now + dt.timedelta(seconds=conf.get("CHECK_AFTER")),
        )
    if payment.provider_token != started.token:
        raise PaymentError(_("This payment can no longer be paid."), code="finished")
    return started.redirect_url


def cancel_payment(payment: Payment, *, actor) -> Payment:
    """The payer gives up before going to the bank."""
    _payer_or_system(payment, actor)
    if _move(payment, S.CANCELLED, source="payer", by=actor, failure_code="cancelled") is None:
        raise PaymentError(_("This payment can no longer be cancelled."), code="finished")
    return payment


# -- what the bank says ---------------------------------------------------------------------------


def _backoff(payment: Payment, reason: str) -> None:
    """Ask the provider again later: doubling, capped, and never past the reversal point."""
    now = timezone.now()
    wait = min(conf.get("CHECK_AFTER") * 2 ** min(payment.checks, 20), conf.get("CHECK_MAX"))
    later = now + dt.timedelta(seconds=wait)
    if payment.state == S.AUTHORISED and payment.verify_by:
        later = min(later, _reverse_point(payment))
    Payment.objects.filter(pk=payment.pk).update(next_check_at=later, checks=F("checks") + 1)
    payment.refresh_from_db(fields=["next_check_at", "checks"])
    log.info("payment %s: asked again at %s (%s)", payment.reference, later, reason)


def _reverse_point(payment: Payment) -> dt.datetime:
    return payment.verify_by - dt.timedelta(seconds=conf.get("VERIFY_MARGIN"))


def _authorise(payment: Payment, status_or_callback: Any, *, source: str) -> Payment | None:
    now = timezone.now()
    deadline = now + dt.timedelta(seconds=conf.get("VERIFY_WINDOW"))
    told = getattr(status_or_callback, "verify_by", None)
    if told is not None:
        deadline = min(deadline, told)
    return _move(
        payment,
        S.AUTHORISED,
        source=source,
        provider_ref=status_or_callback.ref[:40],
        card_mask=status_or_callback.card[:20],
        authorised_at=now,
        verify_by=deadline,
        # If this process dies before the verify call, the reconciliation job makes it.
        next_check_at=now + dt.timedelta(seconds=conf.get("CHECK_AFTER")),
        checks=0,
    )


def _capture(payment: Payment, *, source: str, data: dict | None = None) -> Payment | None:
    with transaction.atomic():
        moved = _move(
            payment,
            S.CAPTURED,
            source=source,
            data=data,
            captured_amount=payment.amount,
            captured_at=timezone.now(),
            next_check_at=None,
        )
        if moved is not None:
            purposes.tell_on_commit(moved)
    return moved


def _open_case(kind: str, line_key: str, **fields: Any) -> FinanceCase | None:
    try:
        with transaction.atomic():
            return FinanceCase.objects.create(kind=kind, line_key=line_key[:200], **fields)
    except IntegrityError:
        return None  # already in the queue


def _apply_verify_answer(payment: Payment, status: providers.Status, *, source: str) -> None:
    if status.state == providers.VERIFIED:
        if status.amount != payment.amount:
            # Never capture another amount than asked: finance decides.
            _open_case(
                CaseKind.AMOUNT,
                f"{payment.provider}:verify:{payment.reference}",
                agency=payment.agency,
                payment=payment,
                expected_amount=payment.amount,
                reported_amount=status.amount,
                detail={"source": source},
            )
            Payment.objects.filter(pk=payment.pk).update(next_check_at=None)
            return
        _capture(payment, source=source, data={"ref": status.ref})
    elif status.state == providers.REVERSED:
        _move(payment, S.REVERSED, source=source, failure_code=status.code or "reversed")
    elif status.state in (
        providers.FAILED,
        providers.CANCELLED,
        providers.EXPIRED,
        providers.UNKNOWN,
    ):
        _move(payment, S.FAILED, source=source, failure_code=status.code or status.state)
    else:
        _backoff(payment, f"verify answered {status.state}")


def _verify(payment: Payment, *, source: str) -> None:
    if payment.state != S.AUTHORISED:
        return
    if timezone.now() >= _reverse_point(payment):
        _reverse(payment, source=source)
        return
    try:
        status = providers.get(payment.provider).verify(payment)
    except providers.ProviderUnavailable as exc:
        _backoff(payment, f"verify: {exc}")
        return
    _apply_verify_answer(payment, status, source=source)


def _reverse(payment: Payment, *, source: str) -> None:
    try:
        status = providers.get(payment.provider).reverse(payment)
    except providers.ProviderUnavailable as exc:
        _backoff(payment, f"reverse: {exc}")  # past its deadline the bank reverses by itself
        return
    if status.state == providers.REVERSED:
        _move(payment, S.REVERSED, source=source, failure_code="not_verified_in_time")
    else:
        # Verified after all (by an earlier call whose answer was lost): the bank's word wins.
        _apply_verify_answer(payment, status, source=source)


def handle_callback(data: dict[str, str], *, provider: str | None = None) -> Payment:
    """The bank's result, through the payer's browser. Checked (signature, token, reference,
    amount, age) before anything changes; a repeated callback changes nothing and returns the
    payment as it is. A paid result is verified at once."""
    backend = providers.get(provider)
    try:
        callback = backend.read_callback(data)
    except providers.BadCallback as exc:
        log.warning("a callback was refused: %s", exc)
        raise CallbackRefused(
            _("This answer from the bank could not be checked. Nothing was changed."),
            code="signature",
        ) from exc
    payment = Payment.objects.filter(
        provider=backend.identifier, provider_token=callback.token
    ).first()
    if payment is None:
        raise CallbackRefused(
            _("The bank named a payment the window does not know."), code="unknown"
        )
    if callback.order_id != payment.reference or callback.amount != payment.amount:
        log.error("payment %s: a callback with another amount or reference", payment.reference)
        raise CallbackRefused(
            _("The bank's answer does not match this payment. Nothing was changed."),
            code="mismatch",
        )
    age = (timezone.now() - callback.signed_at).total_seconds()
    if age > conf.get("CALLBACK_MAX_AGE") or age < -300:
        raise CallbackRefused(
            _("This answer from the bank is too old to be accepted. Nothing was changed."),
            code="replay",
        )
    if payment.state == S.STARTED:
        if callback.state == providers.PAID:
            _authorise(payment, callback, source="callback")
        elif callback.state == providers.CANCELLED:
            _move(payment, S.CANCELLED, source="callback", failure_code="cancelled")
        else:
            _move(payment, S.FAILED, source="callback", failure_code=callback.code[:40] or "failed")
    payment.refresh_from_db()
    if payment.state == S.AUTHORISED and callback.state == providers.PAID:
        _verify(payment, source="callback")
        payment.refresh_from_db()
    return payment


def reconcile(payment: Payment) -> Payment:
    """Bring one open payment to the bank's truth: ask, then verify, reverse or end it."""
    payment.refresh_from_db()
    now = timezone.now()
    if payment.state == S.CREATED:
        if payment.created_at + dt.timedelta(seconds=conf.get("CREATED_LIFE")) < now:
            _move(payment, S.EXPIRED, source="reconciliation", failure_code="never_started")
        else:
            Payment.objects.filter(pk=payment.pk).update(
                next_check_at=payment.created_at
                + dt.timedelta(seconds=conf.get("CREATED_LIFE") + 1)
            )
        return payment
    if payment.state == S.STARTED:
        try:
            status = providers.get(payment.provider).inquire(payment)
        except providers.ProviderUnavailable as exc:
            _backoff(payment, f"inquiry: {exc}")
            return payment
        if status.state in (providers.PAID, providers.VERIFIED):
            if status.amount != payment.amount:
                _open_case(
                    CaseKind.AMOUNT,
                    f"{payment.provider}:inquiry:{payment.reference}",
                    agency=payment.agency,
                    payment=payment,
                    expected_amount=payment.amount,
                    reported_amount=status.amount,
                )
                _backoff(payment, "the bank reports another amount")
                return payment
            _authorise(payment, status, source="reconciliation")
        elif status.state == providers.ISSUED:
            _backoff(payment, "the payer has not paid yet")
        elif status.state == providers.REVERSED:
            _move(payment, S.REVERSED, source="reconciliation", failure_code="reversed_by_bank")
        elif status.state == providers.EXPIRED:
            _move(payment, S.EXPIRED, source="reconciliation", failure_code="expired")
        elif status.state == providers.CANCELLED:
            _move(payment, S.CANCELLED, source="reconciliation", failure_code="cancelled")
        else:
            _move(
                payment, S.FAILED, source="reconciliation", failure_code=status.code or status.state
            )
        payment.refresh_from_db()
    if payment.state == S.AUTHORISED:
        _verify(payment, source="reconciliation")
        payment.refresh_from_db()
    return payment


def reconcile_due(limit: int = 200) -> int:
    """The job: every open payment whose next question to the provider is due."""
    due = list(
        Payment.objects.filter(
            state__in=(S.CREATED, S.STARTED, S.AUTHORISED), next_check_at__lte=timezone.now()
        )
        .order_by("next_check_at")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in due:
        try:
            reconcile(Payment.objects.get(pk=pk))
        except Exception:  # one payment's fault must not stop the others
            log.exception("reconciling payment %s failed", pk)
    return len(due)


# -- refunds ------------------------------------------------------------------------------------------


def request_refund(
    payment: Payment, *, amount: int, reason: str, actor, idempotency_key: str = ""
) -> Refund:
    """Give back ``amount`` rials of a captured payment, never more than is left of it.

    The agency's deciders (or the window, e.g. for a rejected application) refund."""
    roles.require(
        actor,
        roles.DECIDE,
        payment.agency_id,
        message=_("Only the collecting agency's staff can refund a payment."),
    )
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise PaymentError(
            {"amount": [_("The amount must be a whole number of rials above zero.")]}
        )
    reason = str(reason or "").strip()
    if not reason or "\x00" in reason:
        raise PaymentError({"reason": [_("Say why the money is given back.")]})
    if idempotency_key:
        known = Refund.objects.filter(idempotency_key=idempotency_key).first()
        if known is not None:
            if known.payment_id != payment.pk or known.amount != amount:
                raise PaymentError(_("This idempotency key was used for another refund."))
            return known
    try:
        with transaction.atomic():
            locked = Payment.objects.select_for_update().get(pk=payment.pk)
            if locked.state not in PAID_STATES:
                raise PaymentError(
                    _("Only a payment that was paid can be refunded."), code="not_paid"
                )
            if amount > locked.refundable:
                raise PaymentError(
                    {
                        "amount": [
                            _("At most %(left)s rials of this payment can be given back.")
                            % {"left": num(locked.refundable)}
                        ]
                    },
                    code="exceeds",
                )
            Payment.objects.filter(pk=locked.pk).update(
                refunded_amount=F("refunded_amount") + amount
            )
            refund = Refund.objects.create(
                payment=locked,
                idempotency_key=idempotency_key or f"auto:{secrets.token_hex(12)}",
                amount=amount,
                reason=reason,
                requested_by=roles.person(actor),
            )
            _record_refund(refund, "", RefundState.REQUESTED, by=actor, changes={}, note=reason)
    except IntegrityError:
        known = Refund.objects.filter(idempotency_key=idempotency_key).first()
        if known is None:
            raise
        return known
    payment.refresh_from_db()
    submit_refund(refund)
    refund.refresh_from_db()
    return refund


def submit_refund(refund: Refund) -> Refund:
    """Ask the provider to give the money back (again harmlessly: idempotent per refund)."""
    if refund.state != RefundState.REQUESTED:
        return refund
    try:
        done = providers.get(refund.payment.provider).refund(refund)
    except providers.ProviderUnavailable as exc:
        log.warning(
            "refund %s: the provider is unavailable (%s); tried again later", refund.pk, exc
        )
        return refund
    except providers.ProviderRefused as exc:
        with transaction.atomic():
            moved = _refund_move(refund, RefundState.FAILED, failure_code=exc.code[:40])
            if moved:
                Payment.objects.filter(pk=refund.payment_id).update(
                    refunded_amount=F("refunded_amount") - refund.amount
                )
        return refund
    _refund_move(refund, RefundState.REFUNDED, provider_ref=done.ref[:40])
    return refund


def _refund_move(refund: Refund, to: str, **changes) -> bool:
    try:
        REFUND_MACHINE.move(refund, to, by=roles.SYSTEM, ended_at=timezone.now(), **changes)
    except InvalidTransition:
        return False
    return True


def submit_refunds_due(limit: int = 200) -> int:
    """The job: refunds the provider has not confirmed yet (it was down when they were asked)."""
    pending = list(
        Refund.objects.filter(state=RefundState.REQUESTED).select_related("payment")[:limit]
    )
    for refund in pending:
        submit_refund(refund)
    return len(pending)


# -- the daily settlement file: ``settlement`` (set-based; re-exported here) ----------------------


def resolve_case(case: FinanceCase, *, actor, resolution: str) -> FinanceCase:
    """Close a finance case with what was done. The agency's deciders or the operators."""
    if not (
        roles.can(actor, roles.OPERATE)
        or (case.agency_id and roles.can(actor, roles.DECIDE, case.agency_id))
    ):
        raise roles.NotPermitted(
            _("Only the agency's finance staff or the operators close a case.")
        )
    resolution = str(resolution or "").strip()
    if not resolution or "\x00" in resolution:
        raise PaymentError({"resolution": [_("Say how the difference was resolved.")]})
    updated = FinanceCase.objects.filter(pk=case.pk, state=CaseState.OPEN).update(
        state=CaseState.RESOLVED,
        resolution=resolution,
        resolved_at=timezone.now(),
        resolved_by=roles.person(actor),
    )
    if not updated:
        raise PaymentError(_("This case is already resolved."))
    case.refresh_from_db()
    return case
