"""A simulated history for the demo, so that observed figures are not empty: applications
with their journeys for the window's service definitions, sign-ins through simulated agency
windows (national single sign-on), and the exchange's monthly call statistics, over the last
Jalali months. SIMULATED DATA: nothing here happened; the docs and the command say so.

Deterministic (a seeded random generator, dates counted back from the current month) and
idempotent (nothing is written when simulated applications exist). Written in bulk; a few
thousand rows, well under a second or two. Demo only: never imported by production code.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from panjereh.common import jalali

PREFIX = "SIM-"  # tracking codes (and SSO sids) of simulated rows
GENERATED_PREFIX = "sim-"  # codes of the simulated dataset's definitions (demo.definitions)
GENERATED_PER_MONTH = 60
DEFAULT_MONTHS = 6
DEFAULT_SEED = 1405

# Share of applications that go to an officer, per definition code (the rest are automatic).
HUMAN_SHARE = {
    "household-support": 0.22,
    "no-criminal-record": 0.06,
    "veteran-status": 0.0,
    "student-status": 0.0,
    "newborn-birth-certificate": 0.0,
}
REJECTED_SHARE = 0.12  # rejected by a rule, with a reason
SIMULATED_WINDOWS = 40  # connected agencies using SSO that get a simulated window


@dataclass
class HistoryResult:
    months: int = 0
    applications: int = 0
    events: int = 0
    sign_ins: int = 0
    skipped: bool = False


def _months(months: int) -> list[jalali.Month]:
    current = jalali.Month.of(jalali.from_gregorian(timezone.now()))
    return [current.plus(-i) for i in range(months, 0, -1)] + [current]


_BOUNDS: dict[jalali.Month, tuple[dt.datetime, dt.datetime]] = {}


def _moment(rng: random.Random, month: jalali.Month, now: dt.datetime) -> dt.datetime:
    if month not in _BOUNDS:
        _BOUNDS[month] = month.bounds()
    start, end = _BOUNDS[month]
    end = min(end, now - dt.timedelta(hours=1))
    if end <= start:
        return start
    return start + dt.timedelta(seconds=rng.randrange(int((end - start).total_seconds())))


def _citizens(count: int = 20):
    from panjereh.identity.models import User

    users = list(User.objects.filter(username__startswith="sim-citizen-").order_by("pk"))
    for i in range(len(users), count):
        users.append(
            User.objects.create(
                username=f"sim-citizen-{i:02d}",
                national_code=f"99{i:08d}",
                first_name="شهروند",
                last_name=f"شبیه‌سازی‌شده {i}",
                is_active=False,  # cannot sign in: a name on simulated rows only
            )
        )
    return users


def seed(months: int = DEFAULT_MONTHS, seed: int = DEFAULT_SEED, per_month: int = 30):
    """Write the simulated history of the last ``months`` Jalali months and this one."""
    from panjereh.services.models import Application, JourneyEvent, ServiceDefinition

    result = HistoryResult(months=months)
    if months <= 0 or Application.objects.filter(tracking_code__startswith=PREFIX).exists():
        result.skipped = True
        return result
    rng = random.Random(seed)
    now = timezone.now()
    spans = _months(months)
    definitions = list(ServiceDefinition.objects.filter(active=True).order_by("code"))
    with transaction.atomic():
        users = _citizens()
        apps: list[Application] = []
        paths: list[list[tuple[str, str, str]]] = []
        shipped = [d for d in definitions if not d.code.startswith(GENERATED_PREFIX)]
        generated = [d for d in definitions if d.code.startswith(GENERATED_PREFIX)]
        for month in spans:
            # The shipped definitions get their full share; of the thousand-odd definitions of
            # the simulated dataset, a seeded few each month get one application (the history
            # stays about a thousand applications).
            few = rng.sample(generated, min(GENERATED_PER_MONTH, len(generated)))
            for d in shipped + sorted(few, key=lambda d: d.code):
                count = 1 if d in few else rng.randint(per_month // 2, per_month)
                for _ in range(count):
                    submitted = _moment(rng, month, now)
                    # A definition with an officer's step always has one.
                    human = not d.smart or rng.random() < HUMAN_SHARE.get(d.code, 0.05)
                    rejected = rng.random() < REJECTED_SHARE
                    done = submitted + dt.timedelta(
                        minutes=rng.randint(2, 30) if not human else rng.randint(300, 4000)
                    )
                    open_ = done > now
                    final = "rejected" if rejected else "issued"
                    steps = [("submitted", "", "")]
                    steps.append(("state", "submitted", "fetching"))
                    if human:
                        steps.append(("state", "fetching", "human_review"))
                        steps.append(("assigned", "", ""))
                        if not open_:
                            steps.append(("decided", "", ""))
                            steps.append(
                                ("state", "human_review", "issuing" if not rejected else final)
                            )
                    else:
                        steps.append(("state", "fetching", "deciding"))
                        steps.append(("decided", "", ""))
                        steps.append(("state", "deciding", "issuing" if not rejected else final))
                    if not rejected and not open_:
                        steps.append(("state", "issuing", "issued"))
                        steps.append(("issued", "", ""))
                    state = steps[-1][2] if steps[-1][0] == "state" else final
                    if human and open_:
                        state = "human_review"
                    user = users[rng.randrange(len(users))]
                    n = len(apps)
                    # The definition's fee (services.fees; no rules on simulated inputs). Its
                    # payment is written by payments(); a rejected one's refund is asked there,
                    # so the refund job has nothing left to do for it.
                    fee = int(d.spec.get("fee_rials") or 0)
                    closed = state == "rejected" and fee > 0
                    apps.append(
                        Application(
                            tracking_code=f"{PREFIX}{month.year % 100:02d}{month.month:02d}-{n:06d}",
                            definition=d,
                            agency_id=d.agency_id,
                            user=user,
                            subject_code=user.national_code,
                            idempotency_key=f"sim-{n}",
                            state=state,
                            decision=""
                            if state == "human_review"
                            else ("rejected" if rejected else "approved"),
                            decision_reasons=[_reason(d, human)]
                            if rejected and not (human and open_)
                            else [],
                            submitted_at=submitted,
                            due_at=submitted + dt.timedelta(minutes=d.target_minutes),
                            completed_at=None if state not in ("issued", "rejected") else done,
                            rating=rng.choice([None, None, 3, 4, 5, 5, 2]) if not open_ else None,
                            fee_rials=fee,
                            fee_refund_checked_at=done if closed else None,
                        )  # fmt: skip
                    )
                    paths.append([(k, f, t, submitted, done) for k, f, t in steps])
        Application.objects.bulk_create(apps, batch_size=2000)
        events = []
        for app, steps in zip(apps, paths, strict=True):
            for i, (kind, from_state, to_state, submitted, done) in enumerate(steps):
                at = submitted if i == 0 else min(done, now)
                at = at if i < 2 else at + dt.timedelta(microseconds=i)
                events.append(
                    JourneyEvent(
                        application_id=app.pk,
                        at=at,
                        kind=kind,
                        from_state=from_state,
                        to_state=to_state,
                        text_fa="رویداد شبیه‌سازی‌شده",
                        text_en="Simulated event",
                        data={"simulated": True},
                    )  # fmt: skip
                )
        JourneyEvent.objects.bulk_create(events, batch_size=5000)
        result.applications, result.events = len(apps), len(events)
        result.sign_ins = _sign_ins(rng, spans, users, now)
    return result


def exchange(months: int = DEFAULT_MONTHS, seed: int = DEFAULT_SEED) -> int:
    """The exchange's monthly call statistics of the complete months among the last
    ``months``: run once the registries are registered as data services (before that there is
    nothing to count calls of). Months that already have rows are kept. The rows written."""
    from panjereh.services.models import ServiceDefinition

    if months <= 0:
        return 0
    definitions = list(
        ServiceDefinition.objects.filter(active=True).only("agency", "spec").order_by("code")
    )
    with transaction.atomic():
        return _exchange(random.Random(seed), _months(months), definitions)


def _reason(definition, human: bool) -> dict[str, str]:
    """Why a simulated application was refused: the definition's first rule's reason when an
    automatic decision refused it, else a generic one."""
    rules = definition.spec.get("eligibility") or []
    if rules and not human:
        return dict(rules[0]["reason"])
    return {"code": "rule", "fa": "شرط احراز نشد", "en": "A condition was not met"}


def _sign_ins(rng: random.Random, spans, users, now) -> int:
    """Simulated windows of connected agencies using SSO, and their sign-ins each month."""
    from panjereh.catalogue.models import Agency
    from panjereh.identity.clients import Application
    from panjereh.identity.models import ClientProfile, SsoSession

    agencies = list(
        Agency.objects.filter(in_scope=True, connection_status="connected", sso_integrated=True)
        .order_by("code")
        .only("pk", "code", "name_fa")
    )
    rng.shuffle(agencies)
    agencies = agencies[:SIMULATED_WINDOWS]
    # Registered in bulk (register_agency_client hashes a secret per client: seconds for 40).
    # Nobody holds their secret: a random one, never shown; they only name whose window it was.
    Application.objects.bulk_create(
        [
            Application(
                client_id=f"simulated-window-{a.code}",
                name=f"{a.name_fa} (پنجره شبیه‌سازی‌شده، simulated)"[:255],
                client_type=Application.CLIENT_CONFIDENTIAL,
                authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
                redirect_uris=f"https://simulated.invalid/{a.code}/callback",
                client_secret=secrets.token_urlsafe(32),
                hash_client_secret=False,
                algorithm=Application.RS256_ALGORITHM,
            )
            for a in agencies
        ],
        ignore_conflicts=True,
    )
    clients = list(
        Application.objects.filter(client_id__startswith="simulated-window-").order_by("client_id")
    )
    by_code = {a.code: a for a in agencies}
    ClientProfile.objects.bulk_create(
        [
            ClientProfile(
                application=c, agency=by_code[c.client_id.removeprefix("simulated-window-")]
            )
            for c in clients
            if c.client_id.removeprefix("simulated-window-") in by_code
        ],
        ignore_conflicts=True,
    )
    sessions, links = [], []
    for month in spans:
        for client in clients:
            for _ in range(rng.randint(0, 8)):
                sid = f"{PREFIX}{len(sessions):08d}"
                sessions.append(
                    SsoSession(
                        sid=sid,
                        user=users[rng.randrange(len(users))],
                        started_at=_moment(rng, month, now),
                        ended_at=None,
                    )
                )
                links.append((sid, client.pk))
    SsoSession.objects.bulk_create(sessions, batch_size=5000)
    ids = dict(SsoSession.objects.filter(sid__startswith=PREFIX).values_list("sid", "pk"))
    through = SsoSession.clients.through
    through.objects.bulk_create(
        [through(ssosession_id=ids[sid], application_id=pk) for sid, pk in links],
        batch_size=5000,
    )
    return len(sessions)


def _exchange(rng: random.Random, spans, definitions) -> int:
    """Monthly call statistics (the exchange's roll-up rows) of the registries the
    definitions read, as consumed by the definitions' agencies."""
    from panjereh.exchange.models import DataService, MonthlyStat

    services = {(s.subsystem, s.code): s for s in DataService.objects.order_by("pk")}
    # Each agency calls the data services its definitions read.
    pairs = sorted(
        {
            (services[key].pk, d.agency_id)
            for d in definitions
            for fetch in d.spec.get("data", [])
            if (key := (f"{fetch['registry']}-registry", fetch["service"])) in services
        }
    )
    by_pk = {s.pk: s for s in services.values()}
    rows = []
    for month in spans[:-1]:  # complete months only, as the roll-up would
        key = str(month)
        if MonthlyStat.objects.filter(month=key).exists():
            continue  # a real roll-up exists for the month: keep it
        for service_pk, consumer in pairs:
            service = by_pk[service_pk]
            calls = rng.randint(40, 2500)
            failures = int(calls * rng.uniform(0.0, 0.04))
            rows.append(
                MonthlyStat(
                    month=key,
                    provider_id=service.provider_id,
                    consumer_id=consumer,
                    service=service,
                    calls=calls,
                    failures=failures,
                    refused=rng.randint(0, 3),
                    latency_p50_ms=rng.uniform(20, 80),
                    latency_p95_ms=rng.uniform(90, 300),
                    latency_p99_ms=rng.uniform(300, 900),
                )  # fmt: skip
            )
    MonthlyStat.objects.bulk_create(rows, batch_size=5000)
    return len(rows)


# -- payments ---------------------------------------------------------------------------------

PAYMENT_KEY = f"fee:{PREFIX}"  # idempotency keys of simulated applications' first payments
FAILED_SHARE = 0.06  # a first attempt the bank declined (insufficient funds), paid again after
CANCELLED_SHARE = 0.03  # a first attempt the payer cancelled on the bank's page
REVERSED_SHARE = 0.01  # a first attempt not confirmed in time, returned to the payer by the bank


@dataclass
class PaymentsResult:
    payments: int = 0
    captured: int = 0
    refunds: int = 0
    events: int = 0
    skipped: bool = False


def payments(seed: int = DEFAULT_SEED) -> PaymentsResult:
    """The fees of the simulated applications that have one (their definition's, as
    ``services.fees`` asks it): each paid into the agency's active treasury account a few
    minutes before it was submitted, some after a declined, cancelled or reversed first
    attempt; a rejected application's fee given back. Settled the next day, as the daily
    settlement file would. No signed receipts (the history's applications have none either).

    Written in bulk (a few thousand rows; the payments' state machine moves one row at a time
    with a lock, far too slow for history), with the event rows the machine writes for each
    move (``payments.operations``: from-state, to-state, actor, source, data), so a simulated
    payment's page reads like a real one's. Nothing within the last days the settlement job
    reconciles (``PANJEREH_PAYMENTS_SETTLEMENT_DAYS``) and today: the simulated bank never saw
    these payments, and the job would rightly open a "missing from the bank's file" case for
    each. Idempotent (nothing is written when simulated payments exist)."""
    from panjereh.common.jalali import TEHRAN
    from panjereh.payments import conf
    from panjereh.payments import providers as payment_providers
    from panjereh.payments.models import (
        Payment,
        PaymentEvent,
        PaymentState,
        Refund,
        RefundEvent,
        RefundState,
        TreasuryAccount,
    )
    from panjereh.services.models import Application

    result = PaymentsResult()
    if Payment.objects.filter(idempotency_key__startswith=PAYMENT_KEY).exists():
        result.skipped = True
        return result
    rng = random.Random(seed)
    now = timezone.now()
    today = now.astimezone(TEHRAN).date()
    cutoff = dt.datetime.combine(
        today - dt.timedelta(days=int(conf.get("SETTLEMENT_DAYS"))), dt.time.min, tzinfo=TEHRAN
    )
    accounts = dict(TreasuryAccount.objects.filter(active=True).values_list("agency_id", "pk"))
    provider = payment_providers.get().identifier
    rows = (
        Application.objects.filter(
            tracking_code__startswith=PREFIX,
            fee_rials__gt=0,
            submitted_at__lt=cutoff,
            agency_id__in=list(accounts),
        )
        .order_by("pk")
        .values_list(
            "tracking_code", "agency_id", "user_id", "submitted_at", "state", "completed_at",
            "fee_rials", "definition__title_fa",
        )
    )  # fmt: skip
    S = PaymentState
    made: list[Payment] = []
    moves: list[list[tuple]] = []  # per payment: (from, to, at, source, by payer, data)
    refunds: list[tuple[int, str, int, dt.datetime, dt.datetime]] = []  # payment index, …
    references: set[str] = set()

    def reference() -> str:
        while True:
            code = str(10**11 + rng.randrange(9 * 10**11))
            if code not in references:
                references.add(code)
                return code

    def card() -> str:
        return f"{rng.choice(['603799', '610433', '627412', '589210'])}******{rng.randrange(10**4):04d}"

    for code, agency_id, user_id, submitted, state, completed, fee, title in rows:
        # The attempts, oldest first: perhaps one that failed, then the one that paid.
        ending = rng.random()
        attempts = []
        if ending < FAILED_SHARE:
            attempts.append(S.FAILED)
        elif ending < FAILED_SHARE + CANCELLED_SHARE:
            attempts.append(S.CANCELLED)
        elif ending < FAILED_SHARE + CANCELLED_SHARE + REVERSED_SHARE:
            attempts.append(S.REVERSED)
        attempts.append(S.CAPTURED)
        # Far enough back that the last attempt is paid before the application was submitted.
        at = submitted - dt.timedelta(minutes=rng.randint(12, 25) * len(attempts))
        for attempt, outcome in enumerate(attempts):
            n = len(made)
            created = at
            started = created + dt.timedelta(seconds=rng.randint(5, 90))
            came_back = started + dt.timedelta(seconds=rng.randint(40, 240))
            ref = f"{rng.randrange(10**12):012d}"
            number = reference()
            # As services.fees makes them: the first asked by the window for the applicant,
            # another by the applicant paying again.
            payment = Payment(
                reference=number,
                idempotency_key=f"fee:{code}" if attempt == 0 else f"auto:{number}",
                purpose_kind="application",
                purpose_id=code,
                description=f"{title} — {code}"[:300],
                amount=fee,
                agency_id=agency_id,
                account_id=accounts[agency_id],
                payer_id=user_id,
                state=outcome,
                provider=provider,
                provider_token=f"{PREFIX}{n:07d}",
                created_at=created,
                started_at=started,
            )
            steps = [
                ("", S.CREATED, created, "create", attempt > 0, {}),
                (S.CREATED, S.STARTED, started, "payer", True, {}),
            ]
            if outcome in (S.FAILED, S.CANCELLED):
                payment.failure_code = "insufficient_funds" if outcome == S.FAILED else "cancelled"
                payment.ended_at = came_back
                steps.append((S.STARTED, outcome, came_back, "callback", False, {}))
            else:
                payment.provider_ref, payment.card_mask = ref, card()
                payment.authorised_at = came_back
                payment.verify_by = came_back + dt.timedelta(seconds=conf.get("VERIFY_WINDOW"))
                steps.append((S.STARTED, S.AUTHORISED, came_back, "callback", False, {}))
            if outcome == S.REVERSED:
                ended = payment.verify_by
                payment.failure_code, payment.ended_at = "not_verified_in_time", ended
                steps.append((S.AUTHORISED, S.REVERSED, ended, "reconciliation", False, {}))
            if outcome == S.CAPTURED:
                captured = came_back + dt.timedelta(seconds=rng.randint(1, 4))
                # Settled when the next day's settlement file is reconciled (the hourly job).
                day = captured.astimezone(TEHRAN).date()
                settled = dt.datetime.combine(
                    day + dt.timedelta(days=1), dt.time(rng.randint(0, 2), rng.randint(0, 59)),
                    tzinfo=TEHRAN,
                )  # fmt: skip
                payment.state = S.SETTLED
                payment.captured_amount = fee
                payment.captured_at = payment.purpose_told_at = captured
                payment.settled_at = settled
                steps.append((S.AUTHORISED, S.CAPTURED, captured, "callback", False, {"ref": ref}))
                steps.append(
                    (S.CAPTURED, S.SETTLED, settled, "settlement", False, {"day": day.isoformat()})
                )
                if state == "rejected" and completed is not None:
                    asked = completed + dt.timedelta(minutes=rng.randint(1, 20))
                    done = asked + dt.timedelta(minutes=rng.randint(2, 240))
                    if done < cutoff:
                        payment.refunded_amount = fee
                        refunds.append((n, code, fee, asked, done))
            made.append(payment)
            moves.append(steps)
            at = came_back + dt.timedelta(minutes=rng.randint(1, 10))
    with transaction.atomic():
        Payment.objects.bulk_create(made, batch_size=2000)
        events = [
            PaymentEvent(
                payment_id=payment.pk,
                from_state=from_state,
                to_state=to_state,
                at=at,
                actor_id=payment.payer_id if by_payer else None,
                source=source,
                data=data,
            )
            for payment, steps in zip(made, moves, strict=True)
            for from_state, to_state, at, source, by_payer, data in steps
        ]
        PaymentEvent.objects.bulk_create(events, batch_size=5000)
        reason = "درخواست رد شد و هزینه آن بازگردانده می‌شود"  # services.fees.refund_rejected's
        given_back = Refund.objects.bulk_create(
            [
                Refund(
                    payment_id=made[n].pk,
                    idempotency_key=f"reject:{code}",
                    amount=amount,
                    reason=f"{reason} ({code})",
                    state=RefundState.REFUNDED,
                    provider_ref=f"{rng.randrange(10**12):012d}",
                    created_at=asked,
                    ended_at=done,
                )
                for n, code, amount, asked, done in refunds
            ],
            batch_size=2000,
        )
        refund_events = [
            event
            for refund in given_back
            for event in (
                RefundEvent(
                    refund_id=refund.pk,
                    to_state=RefundState.REQUESTED,
                    at=refund.created_at,
                    note=refund.reason,
                ),
                RefundEvent(
                    refund_id=refund.pk,
                    from_state=RefundState.REQUESTED,
                    to_state=RefundState.REFUNDED,
                    at=refund.ended_at,
                ),
            )
        ]
        RefundEvent.objects.bulk_create(refund_events, batch_size=5000)
    result.payments, result.refunds = len(made), len(given_back)
    result.captured = sum(1 for p in made if p.captured_amount)
    result.events = len(events) + len(refund_events)
    return result
