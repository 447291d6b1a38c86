"""Case progress: the window's copy of the person's cases, read from the judiciary's case
system (the simulated ``courts`` registry) through the exchange (docs/judiciary.md, "Case
progress").

* :func:`read_feed` is the periodic job ``judiciary-read-cases`` (``common.periodic``; the
  Celery task ``judiciary.read_cases``). It reads the courts' event feed from the cursor kept
  in :class:`~.models.FeedCursor` ``courts-events``, page by page, and records each event
  (:func:`record`). The cursor moves past an event only once the event is recorded (a
  compare-and-set, so two workers never move it back); when the exchange or the courts fail,
  the failure is counted and noted on the cursor, the next read waits a doubling pause
  (:func:`retry_after`), and the same events are read again: nothing is lost.
* :func:`record` keeps one event once (:class:`~.models.CaseEvent` is unique by the feed's
  ``event_id``), updates the case and its parties, and for a ``filed``, ``stage``, ``hearing``
  or ``decision`` event sends each party who has a SANA account one official notice from the
  judiciary through the official mailbox (``mailbox.operations.send``, idempotent per event and
  person: never two for one event). A defendant or accused who uses the window but has no SANA
  account yet gets an alert in their inbox, and through it an SMS, that a case was filed with
  them as a party, without its content, sending them to SANA registration.
* :func:`sync_person` reads the person's own cases (``cases``, the person's national code as
  ``X-Road-UserId``, so the read shows in "who read my data") when they open their cases: the
  cases filed before the window followed the feed, with their history. History sends no
  notice.

Only cases with at least one party who uses the window are kept.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation

from panjereh.common.conf import Section
from panjereh.common.persian import to_latin_digits, to_persian_digits

from .models import Case, CaseEvent, CaseParty, FeedCursor, SanaAccount

log = logging.getLogger(__name__)

SECTION = Section(
    "PANJEREH_JUDICIARY_CASES_",
    {
        "PAGE": 100,  # events per read of the feed
        "PAGES": 20,  # pages per run: a long backlog is read over several runs
        "SYNC_MINUTES": 10,  # a person's cases read again from the courts at most this often
        "RETRY_SECONDS": 30,  # the first pause after a failed read; doubles, at most an hour
    },
)
SUBSYSTEM = "courts-registry"
# (registry subsystem, service code, data items the window asks for)
CASES = (SUBSYSTEM, "cases", ["courts.cases"])
EVENTS = (SUBSYSTEM, "events", ["courts.case_events"])
SERVICES = [CASES, EVENTS]
PURPOSE_TITLE_FA = "پیگیری پرونده‌های قضایی در پنجره ملی"
PURPOSE_TITLE_EN = "Following judicial cases at the national window"
FEED = "courts-events"
NOTICE_CLIENT = "courts-registry"
NOTIFIED_KINDS = {
    CaseEvent.Kind.FILED,
    CaseEvent.Kind.STAGE,
    CaseEvent.Kind.HEARING,
    CaseEvent.Kind.DECISION,
}
AGAINST = {CaseParty.Role.DEFENDANT, CaseParty.Role.ACCUSED}
_NUMBER_RE = re.compile(r"^[0-9]{6,32}$")
_CODE_RE = re.compile(r"^[0-9]{10}$")
_ID_RE = re.compile(r"^[0-9a-z-]{1,64}$")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# The courts' stage codes, as a person reads them.
STAGES = {
    "filed": ("ثبت دادخواست یا شکایت", "Filed"),
    "referred": ("ارجاع به شعبه", "Referred to a branch"),
    "examination": ("در حال رسیدگی", "Under examination"),
    "decided": ("صدور رأی", "Decision issued"),
    "appeal": ("تجدیدنظرخواهی", "Under appeal"),
    "final": ("قطعیت رأی", "Decision final"),
    "enforcement": ("اجرای حکم", "Enforcement"),
    "closed": ("مختومه", "Closed"),
}
STAGE_ORDER = tuple(STAGES)


class CourtsUnavailable(Exception):
    """The exchange or the courts gave no usable answer; nothing was decided on it."""


class BadEvent(ValueError):
    """An event of the feed that cannot be recorded as it is (logged, skipped)."""


def stage_label(code: str) -> tuple[str, str]:
    """(Persian, English) of a stage code; never the raw code for a known stage."""
    return STAGES.get(code, ("مرحله دیگر", "Another stage"))


# -- calling the courts through the exchange ---------------------------------------------------


def _consumer():
    from panjereh.exchange.models import ConsumerSystem
    from panjereh.identity.registry_checks import SUBSYSTEM as WINDOW

    system = (
        ConsumerSystem.objects.filter(subsystem=WINDOW, enabled=True)
        .select_related("agency")
        .first()
    )
    if system is None:
        raise CourtsUnavailable("the national window is not an exchange consumer")
    return system


def judiciary_agency():
    """The judiciary's agency: the exchange member publishing the courts' services."""
    from panjereh.exchange.models import DataService

    service = (
        DataService.objects.filter(subsystem=EVENTS[0], code=EVENTS[1])
        .select_related("provider")
        .first()
    )
    return service.provider if service is not None else None


def _call(spec, user_id: str, rest: str = "", *, params=None) -> Any:
    from panjereh.common.addresses import exchange_url
    from panjereh.exchange import client as nix_client
    from panjereh.exchange.client import service_address
    from panjereh.identity import registry_checks

    system = _consumer()
    address = service_address(spec[0], spec[1])
    if address is None:
        raise CourtsUnavailable(f"no data service {spec[0]}/{spec[1]} on the exchange")
    client = nix_client.NixClient(
        exchange_url("PANJEREH_JUDICIARY_EXCHANGE_URL"),
        system.client_id,
        registry_checks.consumer_key(),
        timeout=8.0,
    )
    try:
        reply = client.get(
            f"{address}/{rest}" if rest else address,
            user_id=user_id,
            issue="COURTS",
            purpose=registry_checks.purpose_service_id(system, PURPOSE_TITLE_EN),
            items=spec[2],
            params=params,
        )
    except nix_client.ExchangeError as exc:
        log.warning("courts: %s not read (%s)", spec[1], exc)
        raise CourtsUnavailable(str(exc)[:300]) from exc
    return reply


def window_agency():
    """The national window's agency (the exchange consumer that reads the courts)."""
    return _consumer().agency


def provision(agency, *, resolution_number: str, valid_days: int = 365):
    """Grants for the national window (``agency``) on the courts' ``cases`` and ``events``,
    under the window's case-following service. For the demo and the tests; in production the
    Interoperability Working Group decides."""
    from panjereh.identity import registry_checks

    return registry_checks.grant_window(
        agency,
        SERVICES,
        purpose=(PURPOSE_TITLE_FA, PURPOSE_TITLE_EN),
        number_base=925_000_000,
        resolution_number=resolution_number,
        valid_days=valid_days,
    )


# -- reading the feed ------------------------------------------------------------------------


def retry_after(failures: int) -> dt.timedelta:
    """The pause before reading again after ``failures`` failed reads in a row: 30 s, 60 s,
    2 min … at most an hour."""
    first = int(SECTION.get("RETRY_SECONDS"))
    return dt.timedelta(seconds=min(3600, first * 2 ** max(0, failures - 1)))


def cursor() -> FeedCursor:
    row, _created = FeedCursor.objects.get_or_create(name=FEED)
    return row


def _failed(row: FeedCursor, exc: Exception) -> None:
    FeedCursor.objects.filter(pk=row.pk).update(
        failures=F("failures") + 1, last_error=str(exc)[:300], checked_at=timezone.now()
    )
    log.info("courts feed not read now: %s", exc)


def read_feed(*, force: bool = False) -> int:
    """The periodic job: read the courts' feed from the cursor and record each event; how many
    events were newly recorded. After a failure it waits its pause (unless ``force``)."""
    row = cursor()
    now = timezone.now()
    if (
        not force
        and row.failures
        and row.checked_at
        and now < row.checked_at + retry_after(row.failures)
    ):
        return 0
    recorded = 0
    for _page in range(int(SECTION.get("PAGES"))):
        after = row.cursor
        try:
            params = {"limit": str(SECTION.get("PAGE"))}
            if after:
                params["after"] = after
            reply = _call(EVENTS, _consumer().agency.member_code, params=params)
            data = reply.data if reply.found else None
            if not isinstance(data, dict) or not isinstance(data.get("events"), list):
                raise CourtsUnavailable("the feed answered in an unknown form")
        except CourtsUnavailable as exc:
            _failed(row, exc)
            return recorded
        for event in data["events"]:
            if not isinstance(event, dict):
                continue
            try:
                recorded += int(record(event, from_feed=True))
            except BadEvent as exc:
                log.error("courts feed: event skipped: %s", exc)
            except CourtsUnavailable as exc:  # a notice could not be sent now: this event again
                _failed(row, exc)
                return recorded
            position = str(event.get("cursor") or "")
            if position > row.cursor:
                FeedCursor.objects.filter(pk=row.pk, cursor=row.cursor).update(cursor=position)
                row.cursor = position
        following = str(data.get("next") or "")
        if following > row.cursor:
            FeedCursor.objects.filter(pk=row.pk, cursor=row.cursor).update(cursor=following)
        FeedCursor.objects.filter(pk=row.pk).update(
            checked_at=timezone.now(), failures=0, last_error=""
        )
        row.refresh_from_db()
        if not data.get("has_more"):
            break
    return recorded


# -- recording an event -----------------------------------------------------------------------


def _text(value: Any, limit: int) -> str:
    """Plain text of the court's, control characters out, digits stored Latin (the pages
    show them in the page's script)."""
    text = to_latin_digits(str(value or "").strip())
    return _CONTROL_RE.sub("", text)[:limit]


def _moment(value: Any) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(str(value))
    except ValueError:
        raise BadEvent(f"not a moment: {str(value)[:40]!r}") from None
    if moment.tzinfo is None:
        raise BadEvent("a moment without its zone")
    return moment


def _parties(value: Any) -> list[dict[str, str]]:
    if not isinstance(value, list):
        raise BadEvent("parties is not a list")
    out = []
    roles = set(CaseParty.Role.values)
    for party in value[:50]:
        if not isinstance(party, dict):
            continue
        code, role = str(party.get("national_code", "")), str(party.get("role", ""))
        if _CODE_RE.match(code) and role in roles:
            out.append({"national_code": code, "role": role, "name": _text(party.get("name"), 200)})
    return out


def _users(codes: list[str]) -> dict[str, Any]:
    users = get_user_model().objects.filter(national_code__in=codes, is_active=True)
    return {u.national_code: u for u in users}


def _upsert_case(number: str, summary: dict[str, Any], parties, users, at: dt.datetime) -> Case:
    case = Case.objects.select_for_update().filter(number=number).first()
    if case is None:
        case = Case(number=number, opened_at=_moment(summary.get("opened_at") or at.isoformat()))
        case.updated_at = at
    case.kind = _text(summary.get("kind"), 32) or case.kind or "civil"
    case.subject = _text(summary.get("subject"), 300) or case.subject or "—"
    case.court = _text(summary.get("court"), 200) or case.court or "—"
    case.branch = _text(summary.get("branch"), 100) or case.branch
    case.stage = _text(summary.get("stage"), 40) or case.stage or "filed"
    if summary.get("subject_en"):
        case.data = {**case.data, "subject_en": _text(summary.get("subject_en"), 300)}
    case.save()
    for party in parties:
        user = users.get(party["national_code"])
        row, created = CaseParty.objects.get_or_create(
            case=case,
            national_code=party["national_code"],
            role=party["role"],
            defaults={"user": user, "name": party["name"]},
        )
        if not created and user is not None and row.user_id != user.pk:
            CaseParty.objects.filter(pk=row.pk).update(user=user)
    return case


def record(event: dict[str, Any], *, from_feed: bool, case: dict[str, Any] | None = None) -> bool:
    """Keep one event of a case (once, by its ``event_id``) and update the case; True if it was
    new here. From the feed, the parties are told (:func:`tell`, once per event and person,
    even when the event was kept before from a person's reading of their cases)."""
    event_id = str(event.get("event_id", ""))
    number = str(event.get("case_number", ""))
    kind = str(event.get("kind", ""))
    if not _ID_RE.match(event_id) or not _NUMBER_RE.match(number):
        raise BadEvent(f"event {event_id[:64]!r} of case {number[:32]!r}")
    if kind not in CaseEvent.Kind.values:
        raise BadEvent(f"event {event_id}: unknown kind")
    at = _moment(event.get("at"))
    parties = _parties(event.get("parties"))
    users = _users([p["national_code"] for p in parties])
    if not users:
        return False  # nobody of this case uses the window: the window keeps nothing of it
    summary = dict(case or event.get("case") or {})
    stage = _text(event.get("stage"), 40)
    if kind != CaseEvent.Kind.PLEADING and stage:
        summary["stage"] = stage
    detail = event.get("detail") if isinstance(event.get("detail"), dict) else {}
    created = False
    with transaction.atomic():
        kept = Case.objects.filter(number=number).first()
        known = CaseEvent.objects.filter(event_id=event_id).first()
        if known is None:
            latest = kept.events.order_by("-at", "-pk").first() if kept else None
            if latest is not None and latest.at > at:
                summary.pop("stage", None)  # an older event: the case's stage stays
            row = _upsert_case(number, summary, parties, users, at)
            try:
                with transaction.atomic():
                    known = CaseEvent.objects.create(
                        case=row,
                        event_id=event_id,
                        kind=kind,
                        stage=stage,
                        at=at,
                        title=_text(event.get("title_fa"), 300) or kind,
                        detail={
                            "court": detail,
                            "title_en": _text(event.get("title_en"), 300),
                            "source": "feed" if from_feed else "history",
                        },
                    )
                created = True
            except IntegrityError:
                known = CaseEvent.objects.get(event_id=event_id)
            Case.objects.filter(pk=row.pk, updated_at__lt=at).update(updated_at=at)
        elif from_feed:
            _upsert_case(number, {}, parties, users, at)  # a party who joined the window since
        if from_feed and kind in NOTIFIED_KINDS:
            tell(known, parties, users)
    return created


# -- telling the parties ----------------------------------------------------------------------


def _notice_text(event: CaseEvent) -> tuple[str, str]:
    case = event.case
    number = to_persian_digits(case.number)
    court = event.detail.get("court", {}) if isinstance(event.detail, dict) else {}
    lines = [
        f"پرونده شماره {number}",
        f"موضوع: {to_persian_digits(case.subject)}",
        f"مرجع: {to_persian_digits(case.court)} {to_persian_digits(case.branch)}".strip(),
    ]
    if event.kind == CaseEvent.Kind.HEARING and court.get("hearing_at"):
        from panjereh.common import jalali

        try:
            hearing = dt.datetime.fromisoformat(str(court["hearing_at"]))
            when = jalali.format_fa(hearing, with_month_name=True)
            clock = to_persian_digits(hearing.astimezone(jalali.TEHRAN).strftime("%H:%M"))
            lines.append(f"وقت رسیدگی: {when} ساعت {clock}")
        except ValueError:
            pass
        if court.get("room"):
            lines.append(f"اتاق: {to_persian_digits(str(court['room'])[:20])}")
    elif event.kind == CaseEvent.Kind.DECISION and court.get("summary_fa"):
        lines.append(f"خلاصه رأی: {to_persian_digits(_text(court['summary_fa'], 1000))}")
    else:
        lines.append(f"مرحله: {stage_label(event.stage)[0]}")
    lines.append("جزئیات پرونده: پنجره ملی، خدمات الکترونیک قضایی، پرونده‌های من")
    return f"پرونده {number}: {to_persian_digits(event.title)}", "\n".join(lines)


def tell(event: CaseEvent, parties: list[dict[str, str]], users: dict[str, Any]) -> int:
    """One official notice per party with an active SANA account, and a filed-against alert to
    a defendant or accused who uses the window without one; how many were sent now (0 if every
    one was sent before: the mailbox's idempotency key and the inbox's dedupe key are per
    event and person)."""
    from panjereh.inbox import notify
    from panjereh.mailbox import operations as mailbox

    agency = judiciary_agency()
    if agency is None:
        raise CourtsUnavailable("the judiciary is not on the exchange")
    sana = set(
        SanaAccount.objects.filter(
            user__in=users.values(), state=SanaAccount.State.ACTIVE
        ).values_list("user_id", flat=True)
    )
    notices = dict(event.detail.get("notices") or {})
    sent = 0
    subject, body = _notice_text(event)
    for code in dict.fromkeys(p["national_code"] for p in parties):
        user = users.get(code)
        if user is None:
            continue
        roles = {p["role"] for p in parties if p["national_code"] == code}
        if user.pk in sana:
            data = {"to": {"national_code": code}, "subject": subject, "body": body}
            try:
                draft = mailbox.check(data, with_attachments=False)
                notice, created = mailbox.send(
                    agency,
                    NOTICE_CLIENT,
                    draft,
                    idempotency_key=f"courts:{event.event_id}:{code}",
                    digest=mailbox.request_hash(data),
                )
            except mailbox.MailboxError as exc:
                if exc.status >= 500:
                    raise CourtsUnavailable(str(exc)) from exc
                log.error("courts: notice of %s not sent: %s", event.event_id, exc.code)
                continue
            notices[str(user.pk)] = notice.reference
            sent += int(created)
        elif event.kind == CaseEvent.Kind.FILED and roles & AGAINST:
            with translation.override("fa"):
                try:
                    link = reverse("judiciary:sana")
                except NoReverseMatch:
                    link = reverse("judiciary:cases")
            _message, created = notify.post(
                user,
                kind="notice",
                dedupe_key=f"courts-filed:{event.event_id}",
                subject_fa="پرونده‌ای قضایی با شما به‌عنوان طرف دعوا ثبت شده است",
                subject_en="A judicial case has been filed naming you as a party",
                body_fa="برای دیدن پرونده و دریافت ابلاغیه‌های آن، در سامانه ثنا ثبت‌نام کنید.",
                body_en="Register for SANA to see the case and receive its notices.",
                link_url=link,
                link_label_fa="ثبت‌نام در سامانه ثنا",
                link_label_en="Register for SANA",
            )
            sent += int(created)
    if notices != (event.detail.get("notices") or {}):
        detail = {**event.detail, "notices": notices}
        CaseEvent.objects.filter(pk=event.pk).update(
            detail=detail, notice_reference=event.notice_reference or next(iter(notices.values()))
        )
        event.detail = detail
    return sent


# -- a person's own cases ---------------------------------------------------------------------


def _sync_key(user) -> str:
    return f"judiciary:cases-synced:{user.pk}"


def sync_person(user, *, force: bool = False) -> int:
    """Read the person's cases from the courts (at most every ``SYNC_MINUTES`` unless
    ``force``) and keep them with their history; how many events were new here. Raises
    :class:`CourtsUnavailable` when the courts cannot be asked."""
    code = str(getattr(user, "national_code", "") or "")
    if not _CODE_RE.match(code):
        return 0
    if not force and cache.get(_sync_key(user)):
        return 0
    reply = _call(CASES, code, code)
    data = reply.data if reply.found else {"cases": []}
    cases = data.get("cases") if isinstance(data, dict) else None
    if not isinstance(cases, list):
        raise CourtsUnavailable("the courts answered in an unknown form")
    new = 0
    for item in cases[:200]:
        if not isinstance(item, dict):
            continue
        summary = {
            k: item.get(k)
            for k in ("kind", "subject", "subject_en", "court", "branch", "opened_at")
        }
        for event in item.get("events") or []:
            if not isinstance(event, dict):
                continue
            try:
                new += int(record(event, from_feed=False, case=summary))
            except BadEvent as exc:
                log.error("courts: case %s: event skipped: %s", item.get("number"), exc)
    cache.set(_sync_key(user), True, int(SECTION.get("SYNC_MINUTES")) * 60)
    return new
