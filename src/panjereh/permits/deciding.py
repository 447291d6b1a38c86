"""The authority's queue in the window: approval-based permits of an authority without a
specialised portal are decided here by its staff.

Rights come from :mod:`panjereh.catalogue.roles`, per object (the application's authority's
agency): its viewers, editors and admins read the queue (*read*); its editors and admins
approve or reject (*decide*); a superuser and :data:`roles.SYSTEM` may too. Another
authority's staff, platform roles and citizens do neither (their views answer 404 for an
application they may not read, 403 for a decision they may not take).

Approving issues the permit through the one way (:func:`issuing.issue`); rejecting needs a
reason, which the applicant reads in the trace, and gives a paid fee back.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from panjereh.catalogue import roles

from . import applying, issuing
from .models import ApplicationState, PermitApplication
from .operations import clean_text

MAX_REASON = 1000
S = ApplicationState


def in_window_queue(application: PermitApplication) -> bool:
    """Waiting for the authority's decision in the window (not at a specialised portal)."""
    return application.state == S.UNDER_REVIEW and not application.portal


def can_read(actor, application: PermitApplication) -> bool:
    if roles.is_system(actor):
        return True
    return applying.is_authority_staff(actor, application, roles.READ)


def can_decide(actor, application: PermitApplication) -> bool:
    if roles.is_system(actor):
        return True
    return applying.is_authority_staff(actor, application, roles.DECIDE)


def _require_decide(actor, application: PermitApplication) -> None:
    if not can_decide(actor, application):
        raise roles.NotPermitted(
            _("Only the issuing authority’s staff may decide its applications."), roles.DECIDE
        )


def queue(actor):
    """The open applications in the window queues of the authorities ``actor`` works for,
    the most urgent first."""
    rows = PermitApplication.objects.filter(state=S.UNDER_REVIEW, portal="").select_related(
        "permit", "authority", "company", "applicant"
    )
    if roles.is_system(actor) or getattr(actor, "is_superuser", False):
        return rows.order_by("due_by", "id")
    if not getattr(actor, "is_authenticated", False):
        return rows.none()
    agencies = roles.agencies_for(actor, roles.READ)
    return rows.filter(authority__agency_id__in=agencies).order_by("due_by", "id")


def approve(actor, application: PermitApplication):
    """The authority approves: the permit is issued (once) and the trace says who decided."""
    _require_decide(actor, application)
    with transaction.atomic():
        locked = (
            PermitApplication.objects.select_for_update(of=("self",))
            .select_related("permit", "authority", "company", "applicant", "version")
            .get(pk=application.pk)
        )
        if not in_window_queue(locked):
            raise applying.ApplicationError(
                {"": _("This application is not waiting for a decision in the window.")}
            )
        applying.trace(locked, applying.APPROVED, by=actor)
        issued = issuing.issue(locked, by=roles.person(actor))
        applying.trace(locked, applying.ISSUED, number=issued.number)
    application.refresh_from_db()
    return issued


def reject(actor, application: PermitApplication, *, reason) -> PermitApplication:
    """The authority rejects, with a reason the applicant reads; a paid fee is given back."""
    _require_decide(actor, application)
    try:
        reason = clean_text(reason, label=_("the reason"), required=True, limit=MAX_REASON)
    except applying.PermitError as exc:
        raise applying.ApplicationError({"reason": exc.messages[0]}) from None
    now = timezone.now()

    def guard(locked: PermitApplication) -> None:
        if not in_window_queue(locked):
            raise applying.ApplicationError(
                {"": _("This application is not waiting for a decision in the window.")}
            )

    with transaction.atomic():
        applying.MACHINE.move(application, S.REJECTED, guard=guard, reason=reason, decided_at=now)
        applying.trace(application, applying.REJECTED, by=actor, reason=reason)
    refunded = application.fee_rials > 0 and applying.refund_paid_fee(application, "rejected")
    _tell_rejected(application, refunded=bool(refunded))
    return application


def _tell_rejected(application: PermitApplication, *, refunded: bool) -> None:
    """The applicant reads the decision and its reason in their inbox (once)."""
    from panjereh.inbox.models import Message
    from panjereh.inbox.notify import post

    title_fa = application.permit.title_fa
    title_en = application.permit.title_en or title_fa
    fee_fa = "\nهزینه پرداخت‌شده به کارت شما بازگردانده می‌شود." if refunded else ""
    fee_en = "\nThe fee you paid is given back to your card." if refunded else ""
    post(
        application.applicant,
        kind=Message.Kind.DECISION,
        dedupe_key=f"permit-rejected:{application.reference}",
        subject_fa=f"{title_fa}: درخواست رد شد",
        subject_en=f"{title_en}: the application was rejected",
        body_fa=f"مرجع صدور درخواست {application.reference} را رد کرد.\nدلیل: {application.reason}"
        + fee_fa,
        body_en=f"The issuing authority rejected application {application.reference}.\n"
        f"Reason: {application.reason}" + fee_en,
        link_url=applying.page_url(application),
        link_label_fa="دیدن درخواست و همه مراحل آن",
        link_label_en="See the application and every step",
    )
