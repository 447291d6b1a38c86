"""The smart-service engine.

:func:`submit` creates an application (once per idempotency key). :func:`advance` takes one
application as far as it can go: fetch every data item through the exchange, check that the
records are complete, evaluate the rules, decide, issue the signed document and put it in the
inbox. Each step commits on its own and is safe to run again, so a worker killed at any point
leaves a state that the next run continues from:

- a fetch is stored once per (application, fetch name); a re-run skips what is stored;
- the document is unique per application (a database constraint);
- inbox messages are unique per (person, event).

Only one worker runs an application at a time: :func:`claim` takes a lease in one conditional
UPDATE; a killed worker's lease expires and another worker takes over.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import unicodedata
from typing import Any

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from panjereh.catalogue.rules import REGISTRY_HOLDERS
from panjereh.catalogue.vocab import REGISTRY_ITEMS
from panjereh.common import jalali
from panjereh.common.conf import setting
from panjereh.common.uniquecode import CodeNotStored, insert_with_unique_code

from . import documents, nix, rules, uploads, workflow
from .models import Application, FetchedData, JourneyEvent, Origin, ServiceDefinition, State

log = logging.getLogger(__name__)
# The exchange itself, named in the journey when it (not a registry) is what the application
# waits for; the registries' names are the catalogue's one table (catalogue.rules).
EXCHANGE_NAME = ("مرکز ملی تبادل اطلاعات", "the national exchange")


def _setting(name: str, default: float) -> float:
    """A number from the settings (``panjereh.common.conf``: Django setting, else the
    environment, for worker processes, else ``default``)."""
    return float(setting(name, float(default)))


def lease_seconds() -> float:
    return _setting("PANJEREH_SERVICES_LEASE_SECONDS", 30)


def max_attempts() -> int:
    """Attempts at a registry before the application goes to an officer (with the default
    backoff, 2 s doubling to 5 min: about 2½ hours of waiting)."""
    return int(_setting("PANJEREH_SERVICES_MAX_ATTEMPTS", 36))


def refused_attempts() -> int:
    """Tries of a call refused for a reason no retry fixes (no grant, a service the exchange
    does not have, a fault in the definition) before the application goes to an officer and
    the agency is told: a few, in case someone is fixing it right now, never forever."""
    return int(_setting("PANJEREH_SERVICES_REFUSED_ATTEMPTS", 3))


# Why the exchange refused, for people (the code itself stays in the journey's data and in the
# message to the agency's staff, who can quote it to the exchange).
REFUSALS = {
    "no_grant": (
        "دستگاه برای دریافت این اطلاعات مجوز ندارد",
        "the agency has no grant for this data",
    ),
    "grant_revoked": ("مجوز دریافت این اطلاعات لغو شده است", "the grant for this data was revoked"),
    "grant_expired": (
        "مجوز دریافت این اطلاعات منقضی شده است",
        "the grant for this data has expired",
    ),
    "unknown_service": (
        "خدمت داده‌ای که تعریف این خدمت نام می‌برد در تبادل اطلاعات نیست",
        "the data service the service definition names is not on the exchange",
    ),
    "no_consumer_system": (
        "سامانه دستگاه در تبادل اطلاعات ثبت نشده است",
        "the agency's system is not registered with the exchange",
    ),
}
REFUSED_OTHER = (
    "تبادل اطلاعات درخواست دستگاه را نپذیرفت",
    "the exchange refused the agency's call",
)
FAULT = (
    "خطایی در تعریف این خدمت یا در پنجره، پردازش را متوقف کرد",
    "an error in the service definition or in the window stopped the processing",
)


def backoff(attempts: int) -> dt.timedelta:
    """Exponential backoff: base × 2^(attempts-1), capped."""
    base = _setting("PANJEREH_SERVICES_RETRY_BASE_SECONDS", 2)
    cap = _setting("PANJEREH_SERVICES_RETRY_MAX_SECONDS", 300)
    return dt.timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


def registry_name(registry: str) -> tuple[str, str]:
    """The Persian and English name of a registry (or of the exchange) for the journey; never
    its internal code, unless the code is unknown to the catalogue."""
    if registry == "exchange":
        return EXCHANGE_NAME
    return REGISTRY_HOLDERS.get(registry, (registry, registry))


def fetch_label(fetch_spec: dict[str, Any]) -> tuple[str, str]:
    """What a fetch reads, for the journey: its own label (``label_fa``/``label_en``, needed
    when two fetches read the same items about different people) or its items' labels."""
    if fetch_spec.get("label_fa"):
        return fetch_spec["label_fa"], fetch_spec.get("label_en") or fetch_spec["label_fa"]
    labels = [REGISTRY_ITEMS.get(code, ("", code, code)) for code in fetch_spec["items"]]
    return "، ".join(fa for _r, fa, _en in labels), ", ".join(en for _r, _fa, en in labels)


def pick(fa: str, en: str) -> str:
    """The text in the active language (English falls back to Persian)."""
    return (en or fa) if (get_language() or "fa").startswith("en") else (fa or en)


def number(value: int) -> str:
    """A number as the page's language writes it (Persian digits on Persian pages)."""
    from panjereh.common.templatetags.persian import num

    return num(value)


def _upload_label(definition: ServiceDefinition, code: str, lang: str) -> str:
    for item in definition.spec.get("uploads", []):
        if item.get("code") == code:
            return (item.get("label_en") if lang == "en" else "") or item.get("label_fa") or code
    return code


# -- submitting -----------------------------------------------------------------------------


class SubmissionError(ValueError):
    pass


class InvalidSubmission(SubmissionError):
    """What the applicant gave is refused; ``problems`` maps each field (an input's or an
    upload's code) to the reason, in the page's language. Nothing was stored."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{code}: {text}" for code, text in problems.items()))
        self.problems = problems


# Characters a typed value may not hold: controls (a value goes into a signed document and
# the officer's page) and the bidirectional overrides and isolates that make text read
# differently from what it is ("Trojan Source"). The zero-width non-joiner Persian needs stays.
_BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _bad_characters(value: str) -> bool:
    return any(
        (unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn") and ch not in "\n\t")
        or ch in _BIDI_CONTROLS
        for ch in value
    )


def _label(entry: dict[str, Any]) -> str:
    return pick(entry.get("label_fa", ""), entry.get("label_en", "")) or entry.get("code", "")


def check_submission(
    definition: ServiceDefinition, inputs: dict[str, Any] | None, files: dict[str, Any] | None
) -> tuple[dict[str, str], list[uploads.CheckedFile], dict[str, str]]:
    """The typed values cleaned, the files checked, and every problem by field (empty when
    the submission may be stored). Reads each file once; writes nothing."""
    clean: dict[str, str] = {}
    problems: dict[str, str] = {}
    for item in definition.spec.get("inputs", []):
        code = item["code"]
        value = unicodedata.normalize("NFC", str((inputs or {}).get(code, ""))).strip()
        limit = item.get("max_length", 200)
        if _bad_characters(value):
            problems[code] = _("“%(label)s” contains characters that are not allowed.") % {
                "label": _label(item)
            }
        elif len(value) > limit:
            problems[code] = _("“%(label)s” must be at most %(n)s characters.") % {
                "label": _label(item),
                "n": number(limit),
            }
        elif item.get("required") and not value:
            problems[code] = _("Enter “%(label)s”.") % {"label": _label(item)}
        clean[code] = value
    checked: list[uploads.CheckedFile] = []
    for item in definition.spec.get("uploads", []):
        code = item["code"]
        upload = (files or {}).get(code)
        if upload is None or not getattr(upload, "name", ""):
            if item.get("required", True):
                problems[code] = _("Choose the file “%(label)s”.") % {"label": _label(item)}
            continue
        try:
            checked.append(uploads.check(code, upload))
        except uploads.UploadRefused as exc:
            problems[code] = f"{_label(item)}: {exc.message}"
    return clean, checked, problems


class DuplicateApplication(SubmissionError):
    """The same person asked for the same service with the same data a moment ago (an
    application still open, or decided within ``duplicate_hours()``): ask before a second."""

    def __init__(self, existing: Application) -> None:
        super().__init__(f"an identical application exists: {existing.tracking_code}")
        self.existing = existing


def duplicate_hours() -> float:
    return _setting("PANJEREH_SERVICES_DUPLICATE_HOURS", 24)


def identical_recent(
    definition: ServiceDefinition, user, subject_code: str, inputs: dict[str, str]
) -> Application | None:
    """The person's open or recent application of the same service about the same person with
    the same inputs, if any."""
    since = timezone.now() - dt.timedelta(hours=duplicate_hours())
    candidates = (
        Application.objects.filter(
            user=user, definition__code=definition.code, subject_code=subject_code
        )
        .filter(Q(submitted_at__gte=since) | ~Q(state__in=workflow.TERMINAL))
        .order_by("-submitted_at")
    )
    return next((a for a in candidates if a.inputs == inputs), None)


def new_tracking_code() -> str:
    # The Jalali day (yymmdd) in front: a code people read carries no Gregorian date.
    today = jalali.iso(timezone.now()).replace("-", "")[2:]
    return f"{today}-{secrets.randbelow(10**8):08d}"


def submit(
    definition: ServiceDefinition,
    user,
    *,
    idempotency_key: str,
    inputs: dict[str, str] | None = None,
    files: dict[str, Any] | None = None,
    subject_code: str | None = None,
    origin: str = Origin.CITIZEN,
    allow_duplicate: bool = True,
    company=None,
) -> tuple[Application, bool]:
    """Create the application, or return the one this key already made: (application, created).

    ``files`` are the uploads the definition asks for ({upload code: uploaded file}); typed
    values and files are checked together first (:func:`check_submission`), and anything
    refused raises :class:`InvalidSubmission` with nothing stored. With
    ``allow_duplicate=False`` (the citizen's form, until the citizen confirms) a new key
    with the same service, person and inputs as an open or recent application raises
    :class:`DuplicateApplication` instead of making a second one. With ``company`` (a
    ``LegalPerson``: the person acts for it) the company registry is asked first whether the
    person may apply for it (``identity.businesses.CannotAct`` when not), and the company is
    recorded with the person."""
    if not idempotency_key or len(idempotency_key) > 100:
        raise SubmissionError("an idempotency key of 1–100 characters is required")
    existing = Application.objects.filter(user=user, idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing, False
    if company is not None:
        # For a company: the registry must name the person (or their delegation must allow
        # applying) now, at the decision, not only when they switched (identity.businesses).
        from panjereh.identity import businesses

        businesses.require_can_act(user, company, "apply")
    clean, checked, problems = check_submission(definition, inputs, files)
    if problems:
        raise InvalidSubmission(problems)
    if not allow_duplicate:
        twin = identical_recent(definition, user, subject_code or user.national_code, clean)
        if twin is not None:
            raise DuplicateApplication(twin)

    from . import fees

    fee = fees.amount(definition.spec, clean)

    def insert(tracking_code: str) -> tuple[Application, bool]:
        now = timezone.now()
        application = Application.objects.create(
            tracking_code=tracking_code,
            definition=definition,
            agency=definition.agency,
            user=user,
            subject_code=subject_code or user.national_code,
            company=company,
            origin=origin,
            idempotency_key=idempotency_key,
            inputs=clean,
            # A fee-bearing application waits for its payment (services.fees); the engine
            # does not pick it until it is paid.
            state=State.AWAITING_PAYMENT if fee else State.SUBMITTED,
            next_attempt_at=None if fee else now,
            submitted_at=now,
            due_at=now + dt.timedelta(minutes=definition.target_minutes),
            fee_rials=fee,
        )
        workflow.record(
            application,
            JourneyEvent.Kind.SUBMITTED,
            "درخواست ثبت شد" if origin == Origin.CITIZEN else "خدمت به‌طور خودکار آغاز شد",
            "Application submitted" if origin == Origin.CITIZEN else "Started proactively",
            {"origin": origin},
        )
        if fee:
            workflow.record(
                application,
                JourneyEvent.Kind.PAYMENT,
                f"در انتظار پرداخت هزینه خدمت: {fees.rials_fa(fee)} ریال",
                f"Waiting for the fee to be paid: {fee:,} rials",
                {"fee_rials": fee},
            )
        return application, True

    def same_key(_exc: IntegrityError) -> tuple[Application, bool] | None:
        # The same key raced in from another request (the other insert won); else the random
        # tracking code was taken, and the helper draws another.
        existing = Application.objects.filter(user=user, idempotency_key=idempotency_key).first()
        return None if existing is None else (existing, False)

    try:
        with transaction.atomic():
            application, created = insert_with_unique_code(
                new_tracking_code, insert, attempts=6, on_conflict=same_key
            )
            if created and checked:
                rows = uploads.store(application, checked)
                workflow.record(
                    application,
                    JourneyEvent.Kind.SUBMITTED,
                    "مدارک دریافت شد: "
                    + "، ".join(_upload_label(definition, r.code, "fa") for r in rows),
                    "Documents received: "
                    + ", ".join(_upload_label(definition, r.code, "en") for r in rows),
                    {
                        "uploads": [
                            {"code": r.code, "sha256": r.sha256, "size": r.size} for r in rows
                        ]
                    },
                )
    except CodeNotStored as exc:
        raise SubmissionError("the application could not be stored; please try again") from exc
    if not created:
        return application, False
    if fee:
        # Asked of the payments app once the application is stored: a refusal (the agency
        # has no treasury account yet) leaves it waiting, never lost.
        transaction.on_commit(lambda: fees.ask(application))
        return application, True
    from . import tasks

    transaction.on_commit(lambda: tasks.enqueue(application.pk))
    return application, True


# -- leasing --------------------------------------------------------------------------------


def due(limit: int = 20) -> list[int]:
    now = timezone.now()
    return list(
        Application.objects.filter(state__in=workflow.RUNNABLE, next_attempt_at__lte=now)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


def claim(application_id: int) -> bool:
    """Take the lease on an application; False if another worker holds it."""
    now = timezone.now()
    taken = (
        Application.objects.filter(pk=application_id)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=now + dt.timedelta(seconds=lease_seconds()))
    )
    return taken == 1


def release(application_id: int) -> None:
    Application.objects.filter(pk=application_id).update(lease_until=None)


# -- advancing ------------------------------------------------------------------------------


def advance(application_id: int) -> str:
    """Run the application's steps until it waits, needs an officer, or is done; its state."""
    if not claim(application_id):
        return "leased"
    try:
        application = Application.objects.select_related(
            "definition", "definition__service", "agency", "user"
        ).get(pk=application_id)
        try:
            return _run(application)
        except DatabaseError:
            raise  # the database: transient; the lease expires and the next run continues
        except Exception as exc:
            # A fault no retry fixes by itself (a definition the engine cannot follow, a key
            # that will not sign): a few tries, then an officer, and the agency is told.
            log.exception("application %s failed", application.tracking_code)
            return _fault(application, exc)
    finally:
        release(application_id)


def _fault(application: Application, exc: Exception) -> str:
    application.refresh_from_db()
    attempts = application.attempts + 1
    reviewable = workflow.MACHINE.can(application, State.HUMAN_REVIEW)
    if attempts < refused_attempts() or not reviewable:
        Application.objects.filter(pk=application.pk).update(
            attempts=attempts, next_attempt_at=timezone.now() + backoff(attempts)
        )
        return application.state
    Application.objects.filter(pk=application.pk).update(attempts=attempts)
    _to_review(
        application,
        f"{FAULT[0]} (پس از {attempts} بار تلاش).",
        f"{FAULT[1]} (after {attempts} attempts).",
        {"fault": type(exc).__name__, "attempts": attempts},
        tell_agency=f"{type(exc).__name__}: {str(exc)[:300]}",
    )
    return application.state


def _run(application: Application) -> str:
    for _guard in range(10):
        state = application.state
        if state == State.SUBMITTED:
            workflow.transition(
                application,
                State.FETCHING,
                text_fa="دریافت اطلاعات از دستگاه‌ها آغاز شد",
                text_en="Collecting data from the registries",
            )
        elif state == State.WAITING:
            if application.next_attempt_at and application.next_attempt_at > timezone.now():
                return state
            workflow.transition(
                application,
                State.FETCHING,
                text_fa="تلاش دوباره برای دریافت اطلاعات",
                text_en="Trying the registry again",
                waiting_for="",
            )
        elif state == State.FETCHING:
            _fetch_all(application)
            if application.state == State.FETCHING:
                _check_complete(application)
        elif state == State.DECIDING:
            _decide(application)
        elif state == State.ISSUING:
            _issue(application)
        else:
            return state
    return application.state


def _data(application: Application) -> dict[str, Any]:
    data: dict[str, Any] = {
        row.name: row.record for row in FetchedData.objects.filter(application=application)
    }
    data["input"] = dict(application.inputs)
    data["subject"] = application.subject_code
    return data


def subject_of(fetch_spec: dict[str, Any], applicant: str, subject_code: str, data: dict) -> str:
    """Whom a fetch asks about: the applicant, the application's subject, or a person a
    fetched record names (``household.father_national_code``); empty if it names nobody."""
    subject = fetch_spec.get("subject", "applicant")
    if subject == "applicant":
        return applicant
    if subject == "subject":
        return subject_code
    return str(rules.lookup(data, subject) or "")


def _subject_for(fetch_spec: dict[str, Any], application: Application, data: dict) -> str:
    return subject_of(
        fetch_spec, application.user.national_code or "", application.subject_code, data
    )


def _fetch_all(application: Application) -> None:
    definition = application.definition
    done = set(FetchedData.objects.filter(application=application).values_list("name", flat=True))
    for fetch_spec in definition.spec["data"]:
        name = fetch_spec["name"]
        if name in done:
            continue
        data = _data(application)
        subject = _subject_for(fetch_spec, application, data)
        registry = fetch_spec["registry"]
        fa, en = registry_name(registry)
        what_fa, what_en = fetch_label(fetch_spec)
        if not subject:
            # The record this fetch depends on did not name the person: incomplete data.
            _to_review(
                application,
                f"اطلاعات لازم برای استعلام «{name}» از {fa} در سوابق نیامده است.",
                f"The records do not give the person to ask {en} about ({name}).",
                {"fetch": name, "missing": fetch_spec.get("subject")},
            )
            return
        workflow.record(
            application,
            JourneyEvent.Kind.DATA_REQUESTED,
            f"استعلام {what_fa} از {fa}",
            f"{what_en}: data requested from {en}",
            {"registry": registry, "service": fetch_spec["service"], "fetch": name},
        )
        try:
            answer = nix.fetch(definition, fetch_spec, subject, issue=application.tracking_code)
        except nix.ExchangeRefused as exc:
            # Not an outage: the exchange will refuse again until someone fixes the grant or
            # the definition. A few tries, then an officer, and the agency is told.
            why_fa, why_en = REFUSALS.get(exc.code, REFUSED_OTHER)
            incident_fa = f"، شناسه رخداد {exc.incident}" if exc.incident else ""
            incident_en = f", incident {exc.incident}" if exc.incident else ""
            detail = {"fetch": name, "refused": exc.code, "incident": exc.incident}
            if application.attempts + 1 < refused_attempts():
                _wait(application, registry, exc.code, refused=True)
                return
            Application.objects.filter(pk=application.pk).update(attempts=application.attempts + 1)
            _to_review(
                application,
                f"استعلام از {fa} پس از {application.attempts + 1} بار تلاش پذیرفته نشد: "
                f"{why_fa}{incident_fa}.",
                f"The inquiry to {en} was refused after {application.attempts + 1} attempts: "
                f"{why_en}{incident_en}.",
                detail,
                tell_agency=f"{exc.code}: {exc.detail}",
            )
            return
        except nix.ProviderUnavailable as exc:
            if application.attempts + 1 >= max_attempts():
                _to_review(
                    application,
                    f"{fa} پس از {application.attempts + 1} بار تلاش پاسخ نداد.",
                    f"{en} did not answer after {application.attempts + 1} attempts.",
                    {"fetch": name, "registry": registry, "detail": exc.detail},
                )
                return
            _wait(application, registry, exc.detail)
            return
        with transaction.atomic():
            FetchedData.objects.get_or_create(
                application=application,
                name=name,
                defaults={
                    "found": answer.found,
                    "record": answer.record,
                    "message_id": answer.message_id,
                },
            )
            workflow.record(
                application,
                JourneyEvent.Kind.DATA_RECEIVED,
                f"{what_fa} از {fa} دریافت شد" if answer.found else f"{fa}: {what_fa} یافت نشد",
                f"{what_en}: received from {en}" if answer.found else f"{en}: no {what_en} found",
                {"registry": registry, "fetch": name, "x_road_id": answer.message_id},
            )


def _wait(application: Application, registry: str, detail: str, *, refused: bool = False) -> None:
    fa, en = registry_name(registry)
    attempts = application.attempts + 1
    next_at = timezone.now() + backoff(attempts)
    with transaction.atomic():
        workflow.record(
            application,
            JourneyEvent.Kind.PROVIDER_FAILED,
            f"تبادل اطلاعات استعلام از {fa} را نپذیرفت" if refused else f"{fa} پاسخ نداد",
            f"The exchange refused the inquiry to {en}" if refused else f"{en} did not answer",
            {"registry": registry, "detail": detail, "attempt": attempts},
        )
        workflow.transition(
            application,
            State.WAITING,
            text_fa=f"در انتظار پاسخ {fa}",
            text_en=f"Waiting for {en}",
            waiting_for=registry,
            attempts=attempts,
            next_attempt_at=next_at,
        )


def _to_review(
    application: Application,
    reason_fa: str,
    reason_en: str,
    data: dict,
    *,
    tell_agency: str = "",
) -> None:
    """To the agency's queue with the reason; with ``tell_agency`` (the technical detail)
    the agency's staff also get a message: something of theirs needs fixing."""
    with transaction.atomic():
        workflow.record(application, JourneyEvent.Kind.INCOMPLETE, reason_fa, reason_en, data)
        workflow.transition(
            application,
            State.HUMAN_REVIEW,
            text_fa="ارجاع به کارشناس: " + reason_fa,
            text_en="Sent to an officer: " + reason_en,
            review_reason=f"{reason_fa}\n{reason_en}",
            next_attempt_at=None,
        )
        if tell_agency:
            from panjereh.inbox import notify

            from . import notices

            notify.tell_agency(
                application.agency_id,
                dedupe_key=f"stopped:{application.tracking_code}",
                subject_fa=f"درخواست {application.tracking_code} متوقف شد و به کارشناس رسید",
                subject_en=f"Application {application.tracking_code} stopped and needs an officer",
                body_fa=f"{reason_fa}\n{tell_agency}",
                body_en=f"{reason_en}\n{tell_agency}",
                **notices.staff_link(application),
            )


def incomplete(
    spec: dict[str, Any], answers: dict[str, tuple[bool, dict[str, Any]]]
) -> tuple[list[str], list[str], list[dict]]:
    """What is missing from the answers ({fetch name: (found, record)}) of a definition's
    fetches: (Persian problems, English problems, detail); empty lists when complete."""
    problems_fa, problems_en, detail = [], [], []
    for fetch_spec in spec["data"]:
        found, record = answers[fetch_spec["name"]]
        fa, en = registry_name(fetch_spec["registry"])
        if not found:
            problems_fa.append(f"{fa}: سابقه‌ای برای این شخص نیست")
            problems_en.append(f"{en}: no record for this person")
            detail.append({"fetch": fetch_spec["name"], "missing": "record"})
            continue
        missing = [f for f in fetch_spec.get("required", []) if record.get(f) is None]
        if missing:
            problems_fa.append(f"{fa}: سابقه ناقص است ({'، '.join(missing)})")
            problems_en.append(f"{en}: incomplete record ({', '.join(missing)})")
            detail.append({"fetch": fetch_spec["name"], "missing": missing})
    return problems_fa, problems_en, detail


def _check_complete(application: Application) -> None:
    """Never decide on incomplete data: a missing record or field sends it to an officer."""
    rows = {row.name: row for row in FetchedData.objects.filter(application=application)}
    problems_fa, problems_en, detail = incomplete(
        application.definition.spec,
        {name: (row.found, row.record) for name, row in rows.items()},
    )
    if problems_fa:
        _to_review(
            application, "؛ ".join(problems_fa), "; ".join(problems_en), {"problems": detail}
        )
        return
    workflow.transition(
        application,
        State.DECIDING,
        text_fa="همه اطلاعات لازم دریافت شد",
        text_en="All the data needed was received",
    )


def judge(spec: dict[str, Any], data: dict[str, Any]) -> tuple[list[dict], list[dict]]:
    """The eligibility reasons ``data`` fails (a rejection when any) and the manual steps
    (an officer decides when any and nothing failed)."""
    failed = [
        entry["reason"] for entry in spec["eligibility"] if not rules.evaluate(entry["rule"], data)
    ]
    manual = [step for step in spec["steps"] if step["kind"] == "manual"]
    return failed, manual


def _decide(application: Application) -> None:
    spec = application.definition.spec
    failed, manual = judge(spec, _data(application))
    if failed:
        _finish(application, approved=False, reasons=failed)
        return
    if manual:
        workflow.transition(
            application,
            State.HUMAN_REVIEW,
            text_fa="ارجاع به کارشناس: " + manual[0].get("label_fa", ""),
            text_en="Sent to an officer: " + manual[0].get("label_en", ""),
            review_reason=manual[0].get("label_fa", "") + "\n" + manual[0].get("label_en", ""),
            next_attempt_at=None,
        )
        return
    _finish(application, approved=True, reasons=[])


def _finish(application: Application, *, approved: bool, reasons: list[dict], officer=None):
    decision = application.definition.spec["decision"]["approved" if approved else "rejected"]
    # The journey reads in order: the decision, then the issuing, then the definition's own
    # outcome text ("your certificate has been issued") once the document exists.
    with transaction.atomic():
        workflow.record(
            application,
            JourneyEvent.Kind.DECIDED,
            "تصمیم: پذیرش" if approved else "تصمیم: رد — " + "؛ ".join(r["fa"] for r in reasons),
            "Decision: approved"
            if approved
            else "Decision: rejected — " + "; ".join(r["en"] for r in reasons),
            {"approved": approved, "reasons": reasons, "officer": officer.pk if officer else None},
        )
        if approved:
            workflow.transition(
                application,
                State.ISSUING,
                text_fa="صدور و امضای سند",
                text_en="Issuing and signing the document",
                decision="approved",
                decision_reasons=reasons,
                next_attempt_at=timezone.now(),
            )
        else:
            workflow.transition(
                application,
                State.REJECTED,
                text_fa=decision["fa"],
                text_en=decision["en"],
                decision="rejected",
                decision_reasons=reasons,
            )
            from . import fees, notices

            notices.decision(application)
            if application.fee_rials:
                # A paid, refundable fee goes back by itself, once the rejection is stored
                # (a call to the bank: outside the transaction; the job asks again if it
                # does not get through).
                transaction.on_commit(lambda: fees.refund_rejected(application.pk))


def decide_by_officer(application: Application, officer, *, approved: bool, note: str) -> None:
    """An officer's decision on an application in human review."""
    workflow.require_officer(officer, application)
    note = (note or "").strip()
    if not approved and not note:
        raise SubmissionError(_("A rejection needs a reason."))
    if _bad_characters(note):
        raise SubmissionError(_("The note contains characters that are not allowed."))
    application.refresh_from_db()
    if application.state != State.HUMAN_REVIEW:
        # Only what waits for an officer is the officer's to decide (not an application the
        # engine is still deciding, nor one decided already).
        raise workflow.InvalidTransition(
            _("This application is not waiting for an officer's decision.")
        )
    reasons = [] if approved else [{"code": "officer", "fa": note, "en": note}]
    _finish(application, approved=approved, reasons=reasons, officer=officer)
    if approved:
        from . import tasks

        transaction.on_commit(lambda: tasks.enqueue(application.pk))


def _issue(application: Application) -> None:
    data = _data(application)
    if not application.definition.spec.get("document"):
        # A definition without a document: the approval itself is the outcome, told to the
        # applicant as a decision notice in the inbox.
        outcome = application.definition.spec["decision"]["approved"]
        with transaction.atomic():
            workflow.transition(
                application, State.ISSUED, text_fa=outcome["fa"], text_en=outcome["en"]
            )
            from . import notices

            notices.decision(application, data=data)
        return
    with transaction.atomic():
        document = documents.issue(application, data)
        if not JourneyEvent.objects.filter(
            application=application, kind=JourneyEvent.Kind.ISSUED
        ).exists():
            workflow.record(
                application,
                JourneyEvent.Kind.ISSUED,
                f"سند شماره {document.number} صادر و امضا شد",
                f"Document {document.number} issued and signed",
                {"number": document.number, "kid": document.kid},
            )
        outcome = application.definition.spec["decision"]["approved"]
        workflow.transition(application, State.ISSUED, text_fa=outcome["fa"], text_en=outcome["en"])
        from . import notices

        notices.decision(application, document=document, data=data)


def items_label(definition: ServiceDefinition) -> list[tuple[str, str, str, str]]:
    """(registry name fa, registry name en, item label fa, item label en) of what the service
    fetches."""
    out = []
    for fetch_spec in definition.spec["data"]:
        fa, en = registry_name(fetch_spec["registry"])
        for code in fetch_spec["items"]:
            _reg, lfa, len_ = REGISTRY_ITEMS.get(code, ("", code, code))
            if (fa, en, lfa, len_) not in out:
                out.append((fa, en, lfa, len_))
    return out
