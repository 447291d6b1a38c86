"""Write operations of the feedback app, one function per use case.

Every function checks its rules before it writes and raises :class:`FeedbackError` (with a
localised message) otherwise, so bad input changes nothing. Transactions are explicit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from panjereh.catalogue import roles
from panjereh.catalogue.models import Agency, AgencyMembership, Service
from panjereh.common import statemachine, uniquecode
from panjereh.common.persian import normalize, to_latin_digits
from panjereh.identity import businesses
from panjereh.identity.models import DelegationScope
from panjereh.identity.registry_checks import RegistryUnavailable
from panjereh.inbox import notify
from panjereh.inbox.models import Message
from panjereh.permits.models import PermitApplication, RemovedCondition
from panjereh.services import notices
from panjereh.services import ratings as service_ratings
from panjereh.services.models import Application
from panjereh.services.workflow import TERMINAL

from .models import (
    PERMIT_KINDS,
    Complaint,
    ComplaintEvent,
    ComplaintKind,
    ComplaintState,
    Evidence,
    Rating,
)

MAX_TEXT = 2000
UPLOAD_MARGIN = 64 * 1024  # a description of 2,000 characters is at most 8 KB in UTF-8


class FeedbackError(Exception):
    """A request the rules refuse; ``message`` is shown to the user as is."""

    def __init__(self, message, code: str = "invalid"):
        super().__init__(str(message))
        self.message = message
        self.code = code


# -- settings ---------------------------------------------------------------------------------


def edit_days() -> int:
    return int(getattr(settings, "PANJEREH_FEEDBACK_EDIT_DAYS", 7))


def reply_days() -> int:
    return int(getattr(settings, "PANJEREH_FEEDBACK_REPLY_DAYS", 5))


def max_upload_bytes() -> int:
    return int(getattr(settings, "PANJEREH_FEEDBACK_MAX_UPLOAD_BYTES", 5 * 1024 * 1024))


def max_files() -> int:
    return int(getattr(settings, "PANJEREH_FEEDBACK_MAX_FILES", 3))


def min_public_ratings() -> int:
    """The small-number rule's threshold: :func:`panjereh.feedback.queries.min_public_ratings`."""
    from .queries import min_public_ratings

    return min_public_ratings()


def upload_request_limit() -> int:
    """The largest complaint request accepted at all: every evidence file at its limit plus a
    margin for the form's other fields and the multipart framing."""
    return max_upload_bytes() * max_files() + UPLOAD_MARGIN


def evidence_dir() -> Path:
    configured = getattr(settings, "PANJEREH_FEEDBACK_EVIDENCE_DIR", None)
    return Path(configured) if configured else Path(settings.VAR_DIR) / "feedback-evidence"


# -- ratings ----------------------------------------------------------------------------------


def parse_score(value, code: str = "score") -> int:
    """A 1-5 score from form input (Persian or Arabic digits accepted); ``code`` names the
    field in the error."""
    text = to_latin_digits(str(value or "")).strip()
    if not text.isdigit() or not 1 <= int(text) <= 5:
        raise FeedbackError(_("Choose a score from 1 to 5."), code)
    return int(text)


def _clean_text(text: str | None, *, required: bool = False) -> str:
    cleaned = _normalize_lines(text or "")
    if required and not cleaned:
        raise FeedbackError(_("Please write a text."), "required")
    if len(cleaned) > MAX_TEXT:
        raise FeedbackError(_("The text is too long (at most 2,000 characters)."), "too_long")
    return cleaned


def _normalize_lines(text: str) -> str:
    lines = [normalize(line) for line in text.replace("\r\n", "\n").split("\n")]
    return "\n".join(lines).strip()


@transaction.atomic
def rate(
    application: Application,
    user,
    *,
    ease,
    satisfaction,
    comment: str = "",
) -> tuple[Rating, bool]:
    """Rate (or, inside the edit window, change the rating of) ``user``'s own finished
    application. Returns (rating, created)."""
    ease_score = parse_score(ease, "ease")
    satisfaction_score = parse_score(satisfaction, "satisfaction")
    text = _clean_text(comment)
    # The row lock makes two simultaneous first ratings of one application queue up.
    locked = (
        Application.objects.select_for_update()
        .select_related("definition")
        .filter(pk=application.pk)
        .first()
    )
    if locked is None or locked.user_id != user.pk:
        raise FeedbackError(_("You can rate only your own applications."), "not_yours")
    if locked.state not in TERMINAL:
        raise FeedbackError(_("You can rate an application once it is finished."), "not_finished")
    now = timezone.now()
    existing = Rating.objects.select_for_update().filter(application=locked).first()
    if existing is not None:
        if not existing.editable:
            raise FeedbackError(
                _("This application is already rated and the time to change it has passed."),
                "closed",
            )
        changed = existing.satisfaction != satisfaction_score
        existing.ease, existing.satisfaction, existing.comment = (
            ease_score,
            satisfaction_score,
            text,
        )
        existing.updated_at = now
        existing.save(update_fields=["ease", "satisfaction", "comment", "updated_at"])
        if changed:
            service_ratings.set_rating(locked, satisfaction_score, changed=True)
        return existing, False
    try:
        with transaction.atomic():
            rating = Rating.objects.create(
                application=locked,
                user=user,
                agency_id=locked.agency_id,
                service_id=locked.definition.service_id,
                ease=ease_score,
                satisfaction=satisfaction_score,
                comment=text,
                created_at=now,
                updated_at=now,
                edit_until=now + dt.timedelta(days=edit_days()),
                reply_due_at=now + dt.timedelta(days=reply_days()),
            )
    except IntegrityError as exc:  # a concurrent first rating won the race
        raise FeedbackError(_("This application is already rated."), "duplicate") from exc
    service_ratings.set_rating(locked, satisfaction_score)
    return rating, True


def can_reply(user, agency_id: int) -> bool:
    """The agency's editors and admins answer in its name; its viewers only read."""
    return roles.can(user, roles.REPLY, agency_id)


@transaction.atomic
def reply(rating: Rating, staff, text: str) -> Rating:
    """The agency's reply to a rating; it goes to the citizen's inbox."""
    body = _clean_text(text, required=True)
    locked = Rating.objects.select_for_update().select_related("application").get(pk=rating.pk)
    if not can_reply(staff, locked.agency_id):
        raise FeedbackError(_("Only the agency's staff can reply."), "forbidden")
    if locked.replied_at is not None:
        raise FeedbackError(_("This rating already has a reply."), "replied")
    locked.reply, locked.replied_at = body, timezone.now()
    locked.replied_by = roles.person(staff)
    locked.save(update_fields=["reply", "replied_at", "replied_by"])
    application = locked.application
    title_fa, title_en = _rating_titles(locked)
    notify.post(
        locked.user,
        kind=Message.Kind.NOTICE,
        dedupe_key=f"feedback:reply:{locked.pk}",
        subject_fa=f"پاسخ دستگاه به نظر شما درباره {title_fa}",
        subject_en=f"The agency replied to your rating of {title_en}",
        body_fa=body,
        body_en=body,
        **notices.link(application),
    )
    rating.reply, rating.replied_at = locked.reply, locked.replied_at
    rating.replied_by_id = locked.replied_by_id
    return locked


def _tell_staff(agency_id: int | None, **message) -> None:
    """Post one inbox message to every staff member of an agency."""
    if agency_id is None:
        return
    for membership in AgencyMembership.objects.filter(agency_id=agency_id).select_related("user"):
        notify.post(membership.user, kind=Message.Kind.NOTICE, **message)


def _rating_titles(rating: Rating) -> tuple[str, str]:
    definition = rating.application.definition
    return definition.title_fa, definition.title_en or definition.title_fa


@transaction.atomic
def escalate(rating: Rating, user, reason: str = "") -> Rating:
    """An unhappy citizen sends the case to the supervising body (after the agency's reply,
    or once the reply is overdue), saying why. It is routed like a complaint
    (:func:`supervising_body`; none: the Steering WG) and the agency's staff and the
    supervising body's staff are told in their inboxes."""
    locked = (
        Rating.objects.select_for_update()
        .select_related("application__definition", "agency")
        .get(pk=rating.pk)
    )
    if locked.user_id != user.pk:
        raise FeedbackError(_("You can escalate only your own rating."), "not_yours")
    if not locked.can_escalate:
        raise FeedbackError(
            _(
                "Only a rating of 1 or 2 can be escalated, after the agency's reply or once its "
                "time to reply has passed."
            ),
            "cannot_escalate",
        )
    text = _clean_text(reason)
    if not text:
        raise FeedbackError(_("Please write why you escalate this case."), "reason")
    body = supervising_body(locked.agency)
    locked.escalated_at, locked.escalated_by = timezone.now(), user
    locked.escalation_reason, locked.escalated_to = text, body
    locked.save(update_fields=["escalated_at", "escalated_by", "escalation_reason", "escalated_to"])
    title_fa, title_en = _rating_titles(locked)
    body_fa = body.name_fa if body else STEERING_FA
    body_en = (body.name_en or body.name_fa) if body else STEERING_EN
    message = {
        "dedupe_key": f"feedback:escalated:{locked.pk}",
        "subject_fa": f"ارزیابی ناراضی درباره {title_fa} به {body_fa} ارجاع شد",
        "subject_en": f"An unhappy rating of {title_en} was escalated to {body_en}",
        "body_fa": text,
        "body_en": text,
    }
    _tell_staff(locked.agency_id, **message)
    if body is not None:
        _tell_staff(body.pk, **message)
    for name in ("escalated_at", "escalated_by_id", "escalation_reason", "escalated_to_id"):
        setattr(rating, name, getattr(locked, name))
    return locked


def can_handle_escalation(user, rating: Rating) -> bool:
    """Who decides an escalated rating: the same people as for a complaint routed to the same
    supervising body (see :func:`can_handle`)."""
    return rating.escalated_at is not None and _handles(user, rating.escalated_to_id)


@transaction.atomic
def handle_escalation(rating: Rating, by, outcome: str) -> Rating:
    """The supervising body's outcome of an escalated rating; it goes to the citizen's inbox
    (and to the agency's staff)."""
    text = _clean_text(outcome, required=True)
    locked = (
        Rating.objects.select_for_update()
        .select_related("application__definition")
        .get(pk=rating.pk)
    )
    if not can_handle_escalation(by, locked):
        raise FeedbackError(_("You do not handle this escalation."), "forbidden")
    if locked.escalation_handled_at is not None:
        raise FeedbackError(_("This escalation has already been handled."), "handled")
    locked.escalation_outcome = text
    locked.escalation_handled_by = roles.person(by)
    locked.escalation_handled_at = timezone.now()
    locked.save(
        update_fields=["escalation_outcome", "escalation_handled_at", "escalation_handled_by"]
    )
    title_fa, title_en = _rating_titles(locked)
    notify.post(
        locked.user,
        kind=Message.Kind.NOTICE,
        dedupe_key=f"feedback:escalation:{locked.pk}:handled",
        subject_fa=f"نتیجه پیگیری اعتراض شما درباره {title_fa}",
        subject_en=f"The outcome of your escalation about {title_en}",
        body_fa=text,
        body_en=text,
        **notices.link(locked.application),
    )
    _tell_staff(
        locked.agency_id,
        dedupe_key=f"feedback:escalation:{locked.pk}:handled",
        subject_fa=f"نتیجه پیگیری ارزیابی ارجاع‌شده درباره {title_fa}",
        subject_en=f"Outcome of the escalated rating of {title_en}",
        body_fa=text,
        body_en=text,
    )
    for name in ("escalation_outcome", "escalation_handled_at", "escalation_handled_by_id"):
        setattr(rating, name, getattr(locked, name))
    return locked


# -- complaints -------------------------------------------------------------------------------

CODE_PREFIX = "C-"
STEERING_FA, STEERING_EN = "کارگروه راهبری و نظارت", "the Steering Working Group"


def luhn_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:  # the digit next to the check digit is doubled
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def new_tracking_code() -> str:
    body = f"{secrets.randbelow(10**7):07d}"
    return CODE_PREFIX + body + luhn_digit(body)


def normalize_tracking_code(text: str | None) -> str | None:
    """``C-12345674`` from what a person types (Persian digits, no dash, lower case); None
    when it is not a well-formed code (the check digit catches most typing errors)."""
    raw = to_latin_digits(text or "").strip().upper().replace(" ", "").replace("-", "")
    if raw.startswith("C"):
        raw = raw[1:]
    if len(raw) != 8 or not raw.isdigit() or luhn_digit(raw[:7]) != raw[7]:
        return None
    return CODE_PREFIX + raw


def supervising_body(agency: Agency) -> Agency | None:
    """The body that handles complaints about ``agency``: its topmost parent (the ministry it
    reports to); for an agency with no parent, the agency named by the setting
    ``PANJEREH_FEEDBACK_SUPERVISOR`` (a code), if any. The Steering WG sees every complaint."""
    top, seen = agency, set()
    while top.parent_id is not None and top.pk not in seen:
        seen.add(top.pk)
        top = Agency.objects.get(pk=top.parent_id)
    if top.pk != agency.pk:
        return top
    code = getattr(settings, "PANJEREH_FEEDBACK_SUPERVISOR", "")
    if code:
        fallback = Agency.objects.filter(code=code).exclude(pk=agency.pk).first()
        if fallback is not None:
            return fallback
    return None


def supervising_bodies(agency_ids) -> list[int]:
    """Those of ``agency_ids`` that :func:`supervising_body` can route to: the top of a chain
    with agencies under it, or the agency named by ``PANJEREH_FEEDBACK_SUPERVISOR``."""
    routes_here = Q(parent__isnull=True, children__isnull=False)
    code = getattr(settings, "PANJEREH_FEEDBACK_SUPERVISOR", "")
    if code:
        routes_here |= Q(code=code)
    return list(
        Agency.objects.filter(routes_here, pk__in=list(agency_ids))
        .values_list("pk", flat=True)
        .distinct()
    )


def _handles(user, body_id: int | None) -> bool:
    """The Steering WG judges every case; the supervising body's deciding staff (editors,
    admins, not viewers) judge those routed to it."""
    if roles.can(user, roles.JUDGE_COMPLAINTS):
        return True
    return body_id is not None and roles.can(user, roles.DECIDE, body_id)


def can_handle(user, complaint: Complaint) -> bool:
    """Steering WG members (and superusers) handle every complaint; staff of the supervising
    body handle those routed to it. The agency complained about does not judge itself."""
    return _handles(user, complaint.routed_to_id)


@dataclass(frozen=True)
class CheckedFile:
    original_name: str
    content_type: str
    extension: str
    data: bytes


MAGIC = [
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
]


EXTENSIONS = {content_type: extension for _magic, content_type, extension in MAGIC}


def sniff(head: bytes) -> tuple[str, str] | None:
    """(content type, extension) from a file's first bytes; None for any other type."""
    for magic, content_type, extension in MAGIC:
        if head.startswith(magic):
            return content_type, extension
    return None


def megabytes(size: int) -> float | int:
    mb = round(size / (1024 * 1024), 1)
    return int(mb) if mb == int(mb) else mb


def check_upload(upload) -> CheckedFile:
    """Refuse a file that is too large or is not really a PDF, JPEG or PNG (by its bytes, not
    its name or the browser's content type)."""
    limit = max_upload_bytes()
    if upload.size is None or upload.size > limit:
        raise FeedbackError(
            _("The file %(name)s is larger than %(mb)s MB.")
            % {"name": upload.name, "mb": megabytes(limit)},
            "too_large",
        )
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise FeedbackError(
            _("The file %(name)s is too large.") % {"name": upload.name}, "too_large"
        )
    found = sniff(data[:16])
    if found is None:
        raise FeedbackError(
            _("The file %(name)s is not a PDF, JPEG or PNG file.") % {"name": upload.name},
            "file_type",
        )
    name = Path(str(upload.name or "evidence")).name[:200]
    return CheckedFile(name, found[0], found[1], data)


def file_complaint(
    user,
    *,
    agency: Agency,
    kind: str,
    description: str,
    service: Service | None = None,
    files: list | None = None,
) -> Complaint:
    """Record a complaint with its evidence, route it, and tell the citizen its code."""
    if kind not in ComplaintKind.values:
        raise FeedbackError(_("Choose what happened."), "kind")
    if service is not None and service.agency_id != agency.pk:
        raise FeedbackError(_("That service is not one of this agency's."), "service")
    text = _clean_text(description, required=True)
    checked = _checked_files(files)
    return _record(
        user,
        checked,
        agency=agency,
        service=service,
        kind=kind,
        description=text,
        routed_to=supervising_body(agency),
    )


def _checked_files(files: list | None) -> list[CheckedFile]:
    files = [f for f in (files or []) if f]
    if len(files) > max_files():
        raise FeedbackError(_("Attach at most %(n)s files.") % {"n": max_files()}, "too_many_files")
    return [check_upload(f) for f in files]  # every check before anything is written


def _record(user, checked: list[CheckedFile], **fields) -> Complaint:
    """Write the complaint, its first event and its evidence files (none left behind when the
    rows are not written), and tell the citizen. The one way a complaint is stored."""
    folder = evidence_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    written: list[Path] = []
    try:
        with transaction.atomic():
            try:
                complaint = uniquecode.insert_with_unique_code(
                    new_tracking_code,
                    lambda code: Complaint.objects.create(tracking_code=code, user=user, **fields),
                    attempts=10,
                )
            except uniquecode.CodeNotStored as exc:
                raise FeedbackError(_("Please try again."), "busy") from exc
            ComplaintEvent.objects.create(
                complaint=complaint, to_state=ComplaintState.RECEIVED, by=user
            )
            for item in checked:
                stored = secrets.token_hex(16)
                path = folder / stored
                path.write_bytes(item.data)
                path.chmod(0o600)
                written.append(path)
                Evidence.objects.create(
                    complaint=complaint,
                    stored_name=stored,
                    original_name=item.original_name,
                    content_type=item.content_type,
                    size=len(item.data),
                    sha256=hashlib.sha256(item.data).hexdigest(),
                )
            _tell(complaint, "received")
    except BaseException:
        for path in written:  # no orphan file when the rows were not written
            path.unlink(missing_ok=True)
        raise
    return complaint


# -- violations reported from a permit application (issue 16, part 6) ------------------------


def may_report_on(user, application: PermitApplication, *, fresh: bool = True) -> bool:
    """The applicant, or a person who acts for the application's company now with the right
    to apply in its name (asked of the company registry: afresh for a decision, within its
    short memory for showing a page). Anyone else may not report on the application."""
    if not getattr(user, "is_authenticated", False):
        return False
    if application.applicant_id == user.pk:
        return True
    if application.company_id is None:
        return False
    try:
        found = businesses.authority(user, application.company.national_id, fresh=fresh)
    except RegistryUnavailable:
        return False
    return found is not None and DelegationScope.APPLY in found.scopes


def file_permit_complaint(
    user,
    application: PermitApplication,
    *,
    kind: str,
    description: str,
    removed_condition: RemovedCondition | None = None,
    files: list | None = None,
) -> Complaint:
    """A demand for a visit, a payment off the portal, or a removed condition asked again,
    reported from a permit application with its evidence. It is about the application's
    issuing authority; it is routed through the authority's agency in the service catalogue
    (:func:`supervising_body`) when it has one, otherwise to the Steering WG, and decided
    like any other complaint (:func:`move`)."""
    if not may_report_on(user, application):
        raise FeedbackError(
            _("Only the applicant, or a person acting for the applicant company, can report on "
              "this application."),
            "forbidden",
        )  # fmt: skip
    if kind not in PERMIT_KINDS:
        raise FeedbackError(_("Choose what happened."), "kind")
    if kind != ComplaintKind.REMOVED_CONDITION:
        removed_condition = None
    elif (
        removed_condition is not None
        and not application.permit.removed_conditions.filter(pk=removed_condition.pk).exists()
    ):
        raise FeedbackError(
            _("That condition is not one removed from this permit."), "removed_condition"
        )
    text = _clean_text(description, required=True)
    checked = _checked_files(files)
    authority = application.authority
    agency = Agency.objects.filter(pk=authority.agency_id).first() if authority.agency_id else None
    return _record(
        user,
        checked,
        agency=agency,
        authority=authority,
        permit_application=application,
        removed_condition=removed_condition,
        kind=kind,
        description=text,
        routed_to=supervising_body(agency) if agency is not None else None,
    )


def evidence_path(evidence: Evidence) -> Path:
    return evidence_dir() / evidence.stored_name


TRANSITIONS: dict[str, set[str]] = {
    ComplaintState.RECEIVED: {ComplaintState.UNDER_REVIEW},
    ComplaintState.UNDER_REVIEW: {ComplaintState.UPHELD, ComplaintState.NOT_UPHELD},
    ComplaintState.UPHELD: set(),
    ComplaintState.NOT_UPHELD: set(),
}
DECISIONS = {ComplaintState.UPHELD, ComplaintState.NOT_UPHELD}


class InvalidMove(statemachine.InvalidTransition, FeedbackError):
    """The one :class:`~panjereh.common.statemachine.InvalidTransition`, also a
    :class:`FeedbackError` (code ``transition``) as the complaint pages expect."""

    def __init__(self, message, code: str = "transition") -> None:
        super().__init__(message, code)


def _event(complaint: Complaint, from_state: str, to_state: str, *, by, note: str, **_context):
    ComplaintEvent.objects.create(
        complaint=complaint,
        from_state=from_state,
        to_state=to_state,
        by=roles.person(by),
        note=note,
    )
    _tell(complaint, to_state)


MACHINE = statemachine.Machine(
    TRANSITIONS,
    record=_event,
    message=lambda _complaint, _to: _("This complaint cannot move to that state now."),
    error=InvalidMove,
    update_fields=(),
)


def move(complaint: Complaint, to_state: str, by, note: str = "") -> Complaint:
    """Move a complaint along its states; a decision needs a reply, which goes to the inbox."""

    def handler_only(locked: Complaint) -> None:
        if not can_handle(by, locked):
            raise FeedbackError(_("You do not handle this complaint."), "forbidden")

    def with_text(_locked: Complaint, changes: dict, event: dict) -> None:
        event["note"] = text = _clean_text(note, required=to_state in DECISIONS)
        if to_state in DECISIONS:
            changes.update(reply=text, decided_at=timezone.now())

    return MACHINE.move(complaint, to_state, by=by, guard=handler_only, check=with_text)


_NOTICES = {
    "received": (
        "شکایت شما با کد پیگیری {code} ثبت شد",
        "Your complaint {code} was received",
        "شکایت شما درباره {agency} به {body} فرستاده شد.",
        "Your complaint about {agency} was sent to {body}.",
    ),
    ComplaintState.UNDER_REVIEW: (
        "شکایت {code} در دست بررسی است",
        "Your complaint {code} is under review",
        "",
        "",
    ),
    ComplaintState.UPHELD: (
        "شکایت {code} وارد دانسته شد",
        "Your complaint {code} was upheld",
        "{reply}",
        "{reply}",
    ),
    ComplaintState.NOT_UPHELD: (
        "شکایت {code} وارد دانسته نشد",
        "Your complaint {code} was not upheld",
        "{reply}",
        "{reply}",
    ),
}


def _tell(complaint: Complaint, event: str) -> None:
    subject_fa, subject_en, body_fa, body_en = _NOTICES[event]
    body = complaint.routed_to
    values = {
        "code": complaint.tracking_code,
        "agency": complaint.against_fa,
        "body": body.name_fa if body else STEERING_FA,
        "reply": complaint.reply,
    }
    values_en = {
        **values,
        "agency": complaint.against_en,
        "body": (body.name_en or body.name_fa) if body else STEERING_EN,
    }
    notify.post(
        complaint.user,
        kind=Message.Kind.NOTICE,
        dedupe_key=f"feedback:complaint:{complaint.tracking_code}:{event}",
        subject_fa=subject_fa.format(**values),
        subject_en=subject_en.format(**values_en),
        body_fa=body_fa.format(**values),
        body_en=body_en.format(**values_en),
    )
