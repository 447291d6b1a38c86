"""Routing approval-based applications to the issuing authorities' specialised portals, and
bringing every hand-off and every move back into the application's trace (issue 16, part 4).

The protocol is docs/portals.md. Three jobs of the one job table (``common.periodic``):

* **send** (:func:`send_due`, ``permits-send``): an application in ``routing`` whose
  ``next_try_at`` has come is submitted to its portal (``POST applications``), signed with the
  window's secret there, with the same reference and the same body on every try (the portal is
  idempotent on the reference, so a submit whose answer was lost never makes two). A 201/200
  moves it to ``at_portal`` (trace ``sent``). A timeout, a dropped connection, a 5xx or a fault
  of configuration leaves it waiting: ``send_attempts`` + 1, ``next_try_at`` after a doubling
  delay (``PANJEREH_PORTAL_RETRY_FIRST`` … ``_RETRY_MAX``), ``last_error`` in plain words, and
  the trace says ``portal_unreachable`` on the first failure and whenever the reason changes
  (not once a try). A 400/409 (the portal refuses what was sent) is not tried again: the
  application stays in ``routing`` with no next try, **held for a person** (trace
  ``portal_refused`` with the portal's reason; :func:`held` lists them, :func:`resend` queues
  one again once its cause is fixed). The applicant's pending answers to requests for more
  information are delivered by the same job (:func:`deliver_answers`).
* **read** (:func:`read_portals`, ``permits-read-portals``): each portal's event feed is read
  from the cursor kept in :class:`PortalLink`. Each event becomes a trace step (source
  *portal*, ``portal_event_id`` = the event's id, unique: an event read twice is recorded once)
  and moves the application (the one table, :data:`.lifecycle.TABLE`): ``received`` → at the portal,
  ``under_review``, ``more_information_requested`` (its text in ``requested``, the applicant is
  told), ``inspection_scheduled``, ``approved`` → the permit is issued (:func:`issuing.issue`,
  with the portal's number and validity), ``rejected`` with its reason. A page's steps and the
  cursor past them are written in one transaction: the cursor never passes an unrecorded event.
* **overdue**: the same run marks (once, trace ``overdue``) every application still open at its
  portal after its legal time (``due_by``), so the applicant and the overseer see it.

Each call to a portal also records its health in :class:`PortalLink`: ``last_ok_at`` (the last
answer), ``failures`` (calls failed in a row, 0 once one succeeds), ``last_error`` (the latest
reason) and ``last_error_at``, which is the moment of the **first** failure of the running
series, i.e. "unreachable since" while ``failures`` > 0. :func:`portal_health` gives the
overseer's figures per authority.

The window signs its calls itself (HMAC-SHA256, the protocol's own; it imports nothing of the
simulated portals, which are another organisation).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Min, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from panjereh.catalogue import roles
from panjereh.common import httpclient

from . import conf, issuing, lifecycle
from .models import (
    ApplicationState,
    IssuingAuthority,
    PermitApplication,
    PortalLink,
    TraceEvent,
    TraceSource,
)
from .operations import PermitError, clean_text

log = logging.getLogger(__name__)
S = ApplicationState
POOL = "permit-portals"
MAX_ANSWER_BYTES = 1024 * 1024
MAX_ANSWER_TEXT = 4000
SEND_BATCH = 50

# The window's trace kinds (the portal's are its event types).
SENT = "sent"
UNREACHABLE = "portal_unreachable"
REFUSED = "portal_refused"
RESENT = "resent"
ANSWERED = "information_sent"  # the label of permits.labels
OVERDUE = "overdue"
ISSUED = "issued"

# Where each portal event takes the application in the window.
EVENT_STATES: dict[str, str] = {
    "received": S.AT_PORTAL,
    "under_review": S.UNDER_REVIEW,
    "more_information_requested": S.INFORMATION_REQUESTED,
    "inspection_scheduled": S.INSPECTION_SCHEDULED,
    "rejected": S.REJECTED,
}
_AT_PORTAL_STATES = lifecycle.AT_PORTAL
MACHINE = lifecycle.MACHINE  # the one table of an application's states
# A permit may be issued from any of these (the portal approved it).
ISSUABLE = frozenset({S.ROUTING, *_AT_PORTAL_STATES})

PORTAL_TITLES = {
    "behinyab": gettext_lazy("Behinyab (simulated), Ministry of Industry, Mine and Trade"),
    "heritage": gettext_lazy("Cultural heritage and tourism permits portal (simulated)"),
    "health": gettext_lazy("Health permits portal (simulated)"),
}


def portal_title(code: str) -> str:
    return str(PORTAL_TITLES.get(code, code))


# -- failures in plain words ------------------------------------------------------------------

ERRORS = {
    "timeout": gettext_noop("The portal did not answer in time."),
    "dropped": gettext_noop("The connection to the portal failed or was cut without an answer."),
    "unavailable": gettext_noop("The portal answered that it is not available now."),
    "signature": gettext_noop(
        "The portal did not accept the window's signature (a fault of configuration)."
    ),
    "not_configured": gettext_noop(
        "The portal's address or the window's key for it is not configured."
    ),
    "unreadable": gettext_noop("The portal's answer could not be read."),
    "no_portal_type": gettext_noop("This permit has no name at the portal yet."),
    "refused": gettext_noop("The portal refused the application as sent."),
    # The feed's cursor is not one the portal gave: its data was replaced. The window does not
    # start again from the beginning by itself (the portal's event ids would repeat).
    "bad_cursor": gettext_noop(
        "The portal does not know the window's place in its event feed; an operator must check it."
    ),
}


def error_text(code: str) -> str:
    """A failure's words in the language of the page (``last_error`` keeps the English)."""
    return _(ERRORS.get(code, ERRORS["unavailable"]))


class PortalUnreachable(Exception):
    """A call that got no usable answer: ``code`` is a key of :data:`ERRORS`."""

    def __init__(self, code: str, status: int | None = None) -> None:
        self.code, self.status = code, status
        super().__init__(f"{code}" + (f" (HTTP {status})" if status else ""))


# -- the signed call --------------------------------------------------------------------------


def signed_headers(secret: bytes, method: str, target: str, body: bytes) -> dict[str, str]:
    """The protocol's headers: HMAC-SHA256 over timestamp, nonce, method, path?query, body."""
    timestamp, nonce = str(int(time.time())), secrets.token_urlsafe(18)
    text = f"{timestamp}\n{nonce}\n{method}\n{target}\n".encode() + body
    return {
        "X-Portal-Key": str(conf.get("KEY")),
        "X-Portal-Timestamp": timestamp,
        "X-Portal-Nonce": nonce,
        "X-Portal-Signature": hmac.new(secret, text, hashlib.sha256).hexdigest(),
    }


def encode(data: Any) -> bytes:
    """The exact bytes sent: the same data gives the same bytes on every try."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def call(portal: str, method: str, path: str, data: Any = None) -> tuple[int, dict[str, Any]]:
    """One signed call to ``portal`` (``path`` after its base address); (status, JSON answer).
    Raises :class:`PortalUnreachable` for no answer, a 5xx or a refused signature; other
    statuses are the caller's to read. Records the portal's health either way."""
    try:
        status, answer = _call(portal, method, path, data)
    except PortalUnreachable as exc:
        _health(portal, ok=False, error=exc.code)
        raise
    _health(portal, ok=True)
    return status, answer


def _call(portal: str, method: str, path: str, data: Any) -> tuple[int, dict[str, Any]]:
    base = conf.url(portal)
    try:
        secret = conf.secret(portal) if base else b""
    except ImproperlyConfigured:
        secret = b""
    if not base or not secret:
        raise PortalUnreachable("not_configured")
    body = encode(data) if data is not None else b""
    target = urlsplit(base).path + "/" + path
    timeout = float(conf.get("TIMEOUT"))
    client = httpclient.pooled(POOL)
    headers = signed_headers(secret, method, target, body)
    if body:
        headers["Content-Type"] = "application/json"
    try:
        request = client.build_request(
            method, base + "/" + path, content=body, headers=headers, timeout=timeout
        )
        response = client.send(request, stream=True)
        content = httpclient.read_capped(response, MAX_ANSWER_BYTES, time.monotonic() + timeout)
    except httpx.TimeoutException as exc:
        raise PortalUnreachable("timeout") from exc
    except (httpx.HTTPError, httpclient.TooLarge, OSError) as exc:
        raise PortalUnreachable("dropped") from exc
    status = response.status_code
    if status >= 500:
        raise PortalUnreachable("unavailable", status)
    if status in (401, 403):
        raise PortalUnreachable("signature", status)
    try:
        answer = json.loads(content) if content else {}
    except ValueError as exc:
        raise PortalUnreachable("unreadable", status) from exc
    if not isinstance(answer, dict):
        raise PortalUnreachable("unreadable", status)
    if status == 404 and answer.get("error") == "not_found":
        raise PortalUnreachable("not_configured", status)  # a wrong base address
    return status, answer


def close_connections() -> None:
    httpclient.close(POOL)


def _health(portal: str, *, ok: bool, error: str = "") -> None:
    """The portal's health as the window saw it (see the module's docstring)."""
    now = timezone.now()
    PortalLink.objects.get_or_create(portal=portal)
    links = PortalLink.objects.filter(portal=portal)
    if ok:
        links.update(last_ok_at=now, failures=0)
        return
    links.filter(failures=0).update(last_error_at=now)  # a new series of failures starts
    links.update(failures=F("failures") + 1, last_error=ERRORS.get(error, error)[:300])


# -- the trace --------------------------------------------------------------------------------


def trace(application: PermitApplication, kind: str, *, by=None, at=None, **detail) -> TraceEvent:
    """One step the window took about the portal, in the application's trace."""
    return TraceEvent.objects.create(
        application=application,
        at=at or timezone.now(),
        source=TraceSource.WINDOW,
        kind=kind,
        detail=detail,
        by=roles.person(by) if by is not None else None,
    )


# -- sending ----------------------------------------------------------------------------------

_DETAIL_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def submission(application: PermitApplication) -> dict[str, Any]:
    """What the portal receives: built from the application's rows only, so the same on every
    try (the portal compares it to the first)."""
    if application.company_id:
        company = application.company
        applicant = {"national_id": company.national_id, "name": company.name[:200]}
    else:
        person = application.applicant
        applicant = {
            "national_code": person.national_code,
            "name": (person.get_full_name() or person.username)[:200],
        }
    details: dict[str, Any] = {}
    for key, value in sorted((application.details or {}).items()):
        if not _DETAIL_KEY.match(str(key)) or len(details) >= 50:
            continue
        if isinstance(value, (bool, int)) or (isinstance(value, str) and value.strip()):
            details[key] = value[:2000] if isinstance(value, str) else value
    return {
        "reference": application.reference,
        "permit_type": application.permit.portal_type,
        "applicant": applicant,
        "title": application.title[:200],
        "details": details,
    }


def backoff(attempts: int) -> dt.timedelta:
    """The wait after ``attempts`` failed tries: doubling from RETRY_FIRST up to RETRY_MAX."""
    first, most = float(conf.get("RETRY_FIRST")), float(conf.get("RETRY_MAX"))
    return dt.timedelta(seconds=min(most, first * 2 ** max(0, min(attempts - 1, 30))))


def due_query(now: dt.datetime):
    return PermitApplication.objects.filter(state=S.ROUTING, next_try_at__lte=now).exclude(
        portal=""
    )


def send_due(limit: int = SEND_BATCH) -> int:
    """The periodic job: send the applications whose try has come, then the pending answers;
    how many applications reached their portal."""
    now = timezone.now()
    pks = list(due_query(now).order_by("next_try_at", "pk").values_list("pk", flat=True)[:limit])
    sent = 0
    down: set[str] = set()
    for pk in pks:
        application = (
            PermitApplication.objects.select_related("permit", "authority", "applicant", "company")
            .filter(pk=pk)
            .first()
        )
        if application is None:
            continue
        if application.portal in down:  # one failure per portal and run is enough to know
            _failed(application, PortalUnreachable("unavailable"), claimed=False)
            continue
        try:
            if send(application):
                sent += 1
        except PortalUnreachable:
            down.add(application.portal)
    deliver_answers(skip=down)
    return sent


def _claim(application: PermitApplication, now: dt.datetime) -> bool:
    """This process takes the try (another worker running the same job skips it): the next try
    is pushed past the call's own time, so a crash here only delays it."""
    lease = now + dt.timedelta(seconds=float(conf.get("TIMEOUT")) * 3 + 5)
    return bool(
        PermitApplication.objects.filter(
            pk=application.pk, state=S.ROUTING, next_try_at=application.next_try_at
        ).update(next_try_at=lease)
    )


def send(application: PermitApplication) -> bool:
    """One try at handing ``application`` to its portal; True when the portal has it. Raises
    :class:`PortalUnreachable` after recording a failure of the portal itself."""
    now = timezone.now()
    if application.state != S.ROUTING or not _claim(application, now):
        return False
    if not application.permit.portal_type:
        _hold(application, "no_portal_type", status=None, portal_error="", detail="")
        return False
    try:
        status, answer = call(application.portal, "POST", "applications", submission(application))
    except PortalUnreachable as exc:
        _failed(application, exc)
        raise
    if status in (200, 201):
        _arrived(application, answer, status)
        return True
    _hold(
        application,
        "refused",
        status=status,
        portal_error=str(answer.get("error", ""))[:60],
        detail=str(answer.get("detail", ""))[:200],
    )
    return False


def _arrived(application: PermitApplication, answer: dict[str, Any], status: int) -> None:
    now = timezone.now()
    due = _moment(answer.get("due_by"))
    with transaction.atomic():
        locked = PermitApplication.objects.select_for_update().get(pk=application.pk)
        attempt = locked.send_attempts + 1
        changes: dict[str, Any] = {
            "send_attempts": attempt,
            "next_try_at": None,
            "last_error": "",
        }
        if locked.due_by is None and due is not None:
            changes["due_by"] = due
        if locked.state == S.ROUTING:
            changes.update(portal_state=str(answer.get("state", ""))[:40], portal_updated_at=now)
            MACHINE.move(locked, S.AT_PORTAL, **changes)
        else:  # the feed was faster than this answer
            PermitApplication.objects.filter(pk=locked.pk).update(**changes, updated_at=now)
        trace(
            locked,
            SENT,
            at=now,
            attempt=attempt,
            portal=locked.portal,
            repeated=status == 200,
            portal_due_by=str(answer.get("due_by", "")),
        )
    application.refresh_from_db()


def _failed(application: PermitApplication, exc: PortalUnreachable, *, claimed=True) -> None:
    now = timezone.now()
    with transaction.atomic():
        locked = PermitApplication.objects.select_for_update().get(pk=application.pk)
        if locked.state != S.ROUTING:
            return
        attempt = locked.send_attempts + (1 if claimed else 0)
        words = ERRORS[exc.code]
        next_try = now + backoff(max(attempt, 1))
        changed = words != locked.last_error
        PermitApplication.objects.filter(pk=locked.pk).update(
            send_attempts=attempt, next_try_at=next_try, last_error=words, updated_at=now
        )
        if changed or attempt == 1:
            trace(
                locked,
                UNREACHABLE,
                at=now,
                attempt=attempt,
                error=exc.code,
                status=exc.status,
                next_try_at=next_try.isoformat(),
                portal=locked.portal,
            )
    application.refresh_from_db()


def _hold(application, code: str, *, status, portal_error: str, detail: str) -> None:
    """Not tried again until a person :func:`resend` s it: what was sent is wrong."""
    now = timezone.now()
    with transaction.atomic():
        locked = PermitApplication.objects.select_for_update().get(pk=application.pk)
        if locked.state != S.ROUTING:
            return
        words = ERRORS[code] + (f" ({portal_error}: {detail})" if portal_error else "")
        PermitApplication.objects.filter(pk=locked.pk).update(
            send_attempts=locked.send_attempts + 1,
            next_try_at=None,
            last_error=words[:300],
            updated_at=now,
        )
        trace(
            locked,
            REFUSED,
            at=now,
            error=code,
            status=status,
            portal_error=portal_error,
            portal_detail=detail,
            portal=locked.portal,
        )
    application.refresh_from_db()


def held():
    """Applications held for a person: the portal refused them as sent (or they cannot be)."""
    return PermitApplication.objects.filter(
        state=S.ROUTING, next_try_at__isnull=True, send_attempts__gt=0
    ).exclude(portal="")


def can_manage(user, authority: IssuingAuthority) -> bool:
    """The platform's operators, or the authority's staff who decide its applications."""
    return roles.can(user, roles.OPERATE) or (
        authority.agency_id is not None and roles.can(user, roles.DECIDE, authority.agency_id)
    )


def resend(actor, application: PermitApplication) -> PermitApplication:
    """A held application queued to be sent again (its cause fixed: the permit's name at the
    portal set, the portal's rule changed)."""
    if not can_manage(actor, application.authority):
        raise roles.NotPermitted(
            _("Only the platform's operators or the authority's staff may do this.")
        )
    now = timezone.now()
    with transaction.atomic():
        updated = held().filter(pk=application.pk).update(next_try_at=now, updated_at=now)
        if not updated:
            raise PermitError(_("This application is not held: it is sent as usual."))
        trace(application, RESENT, by=actor, at=now)
    application.refresh_from_db()
    return application


# -- reading the feeds ------------------------------------------------------------------------


def portals_in_use() -> list[str]:
    used = set(
        IssuingAuthority.objects.exclude(portal="").values_list("portal", flat=True).distinct()
    )
    return [name for name in conf.PORTAL_NAMES if name in used]


def read_portals() -> int:
    """The periodic job: read every portal's feed; how many new events were recorded. Then
    mark the applications that overran their legal time."""
    recorded = 0
    for portal in portals_in_use():
        try:
            recorded += read(portal)
        except PortalUnreachable as exc:
            log.info("the feed of portal %s was not read now: %s", portal, exc)
    mark_overdue()
    return recorded


def read(portal: str, *, limit: int | None = None, pages: int | None = None) -> int:
    """Read ``portal``'s feed from the kept cursor; the number of events recorded. Raises
    :class:`PortalUnreachable` (the cursor stays)."""
    limit = int(limit or conf.get("PAGE_SIZE"))
    recorded = 0
    link, _created = PortalLink.objects.get_or_create(portal=portal)
    for _page in range(int(pages or conf.get("MAX_PAGES"))):
        cursor = link.cursor
        status, page = call(portal, "GET", f"events?after={quote(cursor)}&limit={limit}")
        if status == 400 and page.get("error") == "bad_cursor":
            _health(portal, ok=False, error="bad_cursor")
            raise PortalUnreachable("bad_cursor", status)
        if status != 200 or not isinstance(page.get("events"), list):
            _health(portal, ok=False, error="unreadable")
            raise PortalUnreachable("unreadable", status)
        with transaction.atomic():
            link = PortalLink.objects.select_for_update().get(pk=link.pk)
            if link.cursor != cursor:
                break  # another reader took this page
            for event in page["events"]:
                if isinstance(event, dict):
                    recorded += record(portal, event)
            following = str(page.get("next") or "")
            if following and following > cursor:
                link.cursor = following
                link.save(update_fields=["cursor"])
        if not page.get("has_more"):
            break
    return recorded


def _moment(text: Any) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(str(text))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def _date(text: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(text))
    except ValueError:
        return None


_ENVELOPE = {"cursor", "id", "portal", "reference", "type", "at"}


def record(portal: str, event: dict[str, Any]) -> int:
    """One event of ``portal``'s feed into its application's trace and state, once; 1 if this
    call recorded it (0: already there, or not an application of the window's)."""
    event_id = str(event.get("id") or "")[:80]
    kind = str(event.get("type") or "")
    application = (
        PermitApplication.objects.select_for_update(of=("self",))
        .select_related("permit", "authority", "applicant", "company")
        .filter(reference=str(event.get("reference") or ""), portal=portal)
        .first()
    )
    if not event_id or application is None:
        return 0
    if TraceEvent.objects.filter(portal_event_id=event_id).exists():
        return 0
    at = _moment(event.get("at")) or timezone.now()
    detail = {k: v for k, v in event.items() if k not in _ENVELOPE}
    try:
        with transaction.atomic():
            TraceEvent.objects.create(
                application=application,
                at=at,
                source=TraceSource.PORTAL,
                kind=kind[:40],
                portal_event_id=event_id,
                detail=detail,
            )
    except IntegrityError:
        return 0  # recorded by another reader meanwhile
    _apply(application, kind, detail, at)
    return 1


def _apply(application: PermitApplication, kind: str, detail: dict[str, Any], at) -> None:
    """The application's state after the portal's event (a final state never moves)."""
    base: dict[str, Any] = {"portal_state": kind[:40], "portal_updated_at": at}
    if application.state == S.ROUTING:  # the submit's answer was lost; the feed has it
        base.update(next_try_at=None, last_error="")
    if kind == "approved":
        if application.state in ISSUABLE:
            permit = detail.get("permit") if isinstance(detail.get("permit"), dict) else {}
            PermitApplication.objects.filter(pk=application.pk).update(**base)
            issued = issuing.issue(
                application,
                portal_number=str(permit.get("number", ""))[:40],
                valid_from=_date(permit.get("valid_from")),
                valid_until=_date(permit.get("valid_until")),
            )
            # At the approval's moment: the permit follows from it (the portal's clock).
            trace(
                application,
                ISSUED,
                at=at,
                number=issued.number,
                portal_number=issued.portal_number,
            )
            _overdue_at_decision(application, at)
        return
    target = EVENT_STATES.get(kind)
    if target is None:
        return
    changes = dict(base)
    if kind == "more_information_requested":
        changes["requested"] = str(detail.get("requested", ""))[:4000]
    elif kind == "under_review":
        changes["requested"] = ""
    elif kind == "rejected":
        changes.update(reason=str(detail.get("reason", ""))[:4000], decided_at=timezone.now())
    if target == application.state or not MACHINE.can(application, target):
        # The same state again (``received`` after the submit's answer), or an event for an
        # application decided or withdrawn in the window: the trace has it, the state stays.
        if application.state not in (S.ISSUED, S.REJECTED, S.WITHDRAWN):
            PermitApplication.objects.filter(pk=application.pk).update(**changes)
        return
    MACHINE.move(application, target, **changes)
    if kind in ("more_information_requested", "rejected"):
        _tell(application, kind)
    if kind == "rejected":
        _overdue_at_decision(application, at)


def _tell(application: PermitApplication, kind: str) -> None:
    """The applicant's inbox: the portal asks for more, or refused."""
    from django.urls import reverse

    from panjereh.inbox.models import Message
    from panjereh.inbox.notify import post

    with translation.override(settings.LANGUAGE_CODE):
        link = reverse("permits:application", args=[application.reference])
    title_fa = application.permit.title_fa
    title_en = application.permit.title_en or title_fa
    if kind == "more_information_requested":
        subject = (f"درخواست اطلاعات تکمیلی: {title_fa}", f"More information requested: {title_en}")
        body = (
            f"مرجع صدور مجوز برای درخواست {application.reference} اطلاعات بیشتری خواسته است:\n"
            f"{application.requested}\nپاسخ را در صفحه درخواست بفرستید.",
            f"The issuing authority asks for more information about application "
            f"{application.reference}:\n{application.requested}\n"
            "Send your answer from the application's page.",
        )
    else:
        subject = (f"درخواست مجوز رد شد: {title_fa}", f"Permit application refused: {title_en}")
        body = (
            f"درخواست {application.reference} رد شد. دلیل: {application.reason}",
            f"Application {application.reference} was refused. Reason: {application.reason}",
        )
    post(
        application.applicant,
        kind=Message.Kind.DECISION if kind == "rejected" else Message.Kind.NOTICE,
        dedupe_key=f"permit-app:{application.reference}:{kind}:{application.trace.count()}"[:120],
        subject_fa=subject[0],
        subject_en=subject[1],
        body_fa=body[0],
        body_en=body[1],
        link_url=link,
        link_label_fa="صفحه درخواست",
        link_label_en="The application",
    )


# -- overdue ----------------------------------------------------------------------------------


def is_overdue(application: PermitApplication, now: dt.datetime | None = None) -> bool:
    """The legal time passed: still open after ``due_by``, or decided after it."""
    if application.due_by is None or not application.portal:
        return False
    moment = application.decided_at or now or timezone.now()
    return moment > application.due_by


def mark_overdue() -> int:
    """Trace ``overdue`` once for each application open at its portal past its legal time."""
    now = timezone.now()
    late = (
        PermitApplication.objects.filter(state__in=[S.ROUTING, *_AT_PORTAL_STATES], due_by__lt=now)
        .exclude(portal="")
        .exclude(trace__kind=OVERDUE)
    )
    marked = 0
    for application in late[:500]:
        trace(
            application,
            OVERDUE,
            at=now,
            due_by=application.due_by.isoformat(),
            portal=application.portal,
        )
        marked += 1
    return marked


def _overdue_at_decision(application: PermitApplication, at: dt.datetime) -> None:
    """A decision after the legal time: said in the trace (once), before the decision."""
    application.refresh_from_db()
    if is_overdue(application) and not application.trace.filter(kind=OVERDUE).exists():
        trace(
            application,
            OVERDUE,
            at=min(at, timezone.now()),
            due_by=application.due_by.isoformat(),
            portal=application.portal,
        )


# -- the applicant's answer to a request for more information ---------------------------------


def pending_answer(application: PermitApplication) -> TraceEvent | None:
    """The answer given to the latest request and not yet taken by the portal."""
    latest_request = (
        application.trace.filter(kind="more_information_requested").order_by("-at", "-id").first()
    )
    answers = application.trace.filter(kind=ANSWERED)
    if latest_request is not None:
        answers = answers.filter(recorded_at__gte=latest_request.recorded_at)
    return answers.order_by("-id").first()


def can_answer(application: PermitApplication) -> bool:
    """Waiting for the applicant: more information asked and no answer given to it yet."""
    return application.state == S.INFORMATION_REQUESTED and pending_answer(application) is None


def answer_information(actor, application: PermitApplication, text: Any) -> TraceEvent:
    """The applicant (or a person who may apply for its company, asked afresh of the registry)
    answers the portal's request. Kept in the trace first, then handed to the portal now or by
    the send job (a portal down loses nothing). Raises :class:`PermitError` or NotPermitted."""
    from .applying import may_act_for_application

    if not may_act_for_application(actor, application, "apply"):
        raise roles.NotPermitted(_("Only the applicant answers the issuing authority."))
    clean = clean_text(text, label=_("your answer"), required=True, limit=MAX_ANSWER_TEXT)
    with transaction.atomic():
        locked = PermitApplication.objects.select_for_update().get(pk=application.pk)
        if locked.state != S.INFORMATION_REQUESTED:
            raise PermitError(_("The issuing authority is not waiting for information now."))
        if not can_answer(locked):
            raise PermitError(_("Your answer was already sent; the authority has it."))
        number = locked.trace.filter(kind=ANSWERED).count() + 1
        answer = trace(
            locked,
            ANSWERED,
            by=actor,
            answer_id=f"{locked.reference}-A{number}",
            text=clean,
            delivered=False,
        )
    try:
        deliver(answer)
    except PortalUnreachable:
        pass  # the send job tries again
    application.refresh_from_db()
    return answer


def deliver(answer: TraceEvent) -> bool:
    """Hand one answer to the portal; True once the portal has it (or refused it for good)."""
    application = answer.application
    detail = dict(answer.detail)
    status, body = call(
        application.portal,
        "POST",
        f"applications/{quote(application.reference)}/information",
        {"answer_id": detail["answer_id"], "text": detail["text"]},
    )
    if status == 200:
        detail.update(delivered=True, delivered_at=timezone.now().isoformat())
    elif status in (400, 404, 409):
        detail.update(delivered=False, refused=str(body.get("error", ""))[:60] or "refused")
    else:
        return False
    TraceEvent.objects.filter(pk=answer.pk).update(detail=detail)
    answer.detail = detail
    return True


def deliver_answers(skip: set[str] | frozenset[str] = frozenset()) -> int:
    """Answers not yet taken by the portal, tried again; how many were delivered."""
    done = 0
    pending = (
        TraceEvent.objects.filter(kind=ANSWERED, detail__delivered=False)
        .exclude(detail__has_key="refused")
        .select_related("application")
        .order_by("pk")[:SEND_BATCH]
    )
    for answer in pending:
        if answer.application.portal in skip:
            continue
        try:
            done += deliver(answer)
        except PortalUnreachable:
            skip = {*skip, answer.application.portal}
    return done


# -- the overseer's view per authority --------------------------------------------------------


@dataclass
class PortalHealth:
    authority: IssuingAuthority
    portal: str
    portal_title: str
    waiting: int  # applications waiting to be sent (routing, with a next try)
    held: int  # refused as sent: waiting for a person
    oldest_unsent: dt.datetime | None
    unreachable_since: dt.datetime | None
    failures: int
    last_error: str
    last_ok_at: dt.datetime | None
    at_portal: int  # open at the portal
    overdue: int  # open at the portal past the legal time


def visible_authorities(user):
    """The authorities with a portal whose health ``user`` may see: every one for the platform's
    supervising roles, their own for an authority's staff."""
    authorities = IssuingAuthority.objects.exclude(portal="").order_by("name_fa")
    if roles.can(user, roles.SUPERVISE):
        return authorities
    return authorities.filter(agency_id__in=roles.agencies_for(user, roles.READ))


def portal_health(authorities=None, now: dt.datetime | None = None) -> list[PortalHealth]:
    """Per authority with a specialised portal: waiting to be sent, held, the oldest unsent,
    unreachable since, open and overdue at the portal, the portal's last answer."""
    now = now or timezone.now()
    if authorities is None:
        authorities = IssuingAuthority.objects.exclude(portal="").order_by("name_fa")
    authorities = list(authorities)
    figures = {
        row["authority_id"]: row
        for row in PermitApplication.objects.filter(authority__in=authorities)
        .values("authority_id")
        .annotate(
            waiting=Count("id", filter=Q(state=S.ROUTING, next_try_at__isnull=False)),
            held=Count(
                "id", filter=Q(state=S.ROUTING, next_try_at__isnull=True, send_attempts__gt=0)
            ),
            oldest=Min("submitted_at", filter=Q(state=S.ROUTING)),
            at_portal=Count("id", filter=Q(state__in=_AT_PORTAL_STATES)),
            overdue=Count(
                "id", filter=Q(state__in=[S.ROUTING, *_AT_PORTAL_STATES], due_by__lt=now)
            ),
        )
    }
    links = {link.portal: link for link in PortalLink.objects.all()}
    rows = []
    for authority in authorities:
        row = figures.get(authority.pk, {})
        link = links.get(authority.portal)
        failing = link is not None and link.failures > 0
        rows.append(
            PortalHealth(
                authority=authority,
                portal=authority.portal,
                portal_title=portal_title(authority.portal),
                waiting=row.get("waiting", 0),
                held=row.get("held", 0),
                oldest_unsent=row.get("oldest"),
                unreachable_since=link.last_error_at if failing else None,
                failures=link.failures if link else 0,
                last_error=link.last_error if failing else "",
                last_ok_at=link.last_ok_at if link else None,
                at_portal=row.get("at_portal", 0),
                overdue=row.get("overdue", 0),
            )
        )
    return rows
