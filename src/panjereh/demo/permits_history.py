"""Issued permits for the demo: a few hundred thousand permits issued over the last years by
the generated catalogue's authorities, so that the public permit pages, "my licences", the
ratings and the oversight figures have something realistic to show. SIMULATED DATA: nothing
here happened; the holders are made-up names (persons from first-name and surname lists,
companies from generic words), never real people, and the command says so.

What is written (``seed(count)``: by default 300,000 on PostgreSQL, 100,000 on SQLite;
docs/permits.md, *Dataset*):

- ``IssuedPermit`` rows spread over the last four years (more in recent years), over the
  catalogue's permit types (guild 55 %, home business 30 %, agency 15 %; within a kind a few
  types are far more common), over 31 provinces weighted roughly by population; numbers drawn
  from the seeded generator with the permit ID's check digit (``issuing.check_digit``), unique;
- statuses with their ``PermitEvent`` history: every permit ``issued``; permits past their
  validity either ``renewed`` before it ended or ``expired``; of the rest about 1.5 % revoked,
  2 % suspended, 2 % suspended and reinstated, 3 % cancelled by the holder, 5 % amended;
- about one permit in 25 came through a ``PermitApplication`` of a synthetic applicant, with
  its trace (registered, sent, the portal's received / under review / inspection / approved,
  issued): registration-based ones within seconds, approval-based ones after a time that
  depends on the authority (some overrun the legal time); plus rejected and still-open
  applications (about 12 % more), so per-authority issuing times and open hand-offs are real
  figures of these rows;
- ``HolderRating`` rows (about one for ten permits, several per rated permit) by synthetic
  raters, one per rater, permit and Jalali quarter; a few hidden, some answered.

The synthetic people are inactive users with unusable passwords (``sim-permits-…``): names on
rows, nobody can sign in as them. Permits of a synthetic applicant name that user as holder;
the others have no holder account (holder and company are names only). Simulated permits
carry no signed document (``token`` empty).

Deterministic with the seed (dates are counted back from ``now``) and written fast: one
transaction, rows built as tuples and written with PostgreSQL's ``COPY`` (psycopg's
``cursor.copy``) or, on SQLite, one prepared ``INSERT`` run many times (``executemany``), in
chunks; primary keys are given from the tables' current maximum, and PostgreSQL's sequences
are moved past them with Django's own ``sequence_reset_sql``. Idempotent: nothing is written
when the synthetic users exist. Demo only: never imported by production code.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import time
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from panjereh.common import jalali
from panjereh.identity.models import User
from panjereh.permits.issuing import check_digit
from panjereh.permits.models import (
    ApplicationState,
    HolderRating,
    IssuedPermit,
    PermitApplication,
    PermitEvent,
    PermitEventKind,
    PermitKind,
    PermitStatus,
    PermitType,
    TraceEvent,
)
from panjereh.registries.population import COMPANY_WORDS, FEMALE_NAMES, MALE_NAMES, SURNAMES

DEFAULT_COUNT = 300_000
# The embedded demo database writes about a quarter as fast (and starts every `make demo`):
# a third of the figure keeps the first start's added time near 20 s on a quiet machine.
SQLITE_COUNT = 100_000
DEFAULT_SEED = 1416
YEARS = 4
PREFIX = "sim-permits-"  # usernames of the synthetic applicants and raters
REFERENCE_PREFIX = "SIM-PRM-"
APPLICATION_SHARE = 1 / 25  # of issued permits, came through an application with a trace
NOT_ISSUED_SHARE = 0.12  # rejected or still open, over the applications that issued a permit
RATING_SHARE = 1 / 10  # ratings per issued permit
CHUNK = 20_000  # permits generated and written at a time (bounded memory at 1,000,000)

# Provinces and weights roughly by population (percent).
PROVINCES = (
    ("تهران", 16),
    ("خراسان رضوی", 8),
    ("اصفهان", 6.5),
    ("فارس", 6),
    ("خوزستان", 6),
    ("آذربایجان شرقی", 4.8),
    ("مازندران", 4),
    ("آذربایجان غربی", 4),
    ("کرمان", 4),
    ("سیستان و بلوچستان", 3.5),
    ("البرز", 3.4),
    ("گیلان", 3.2),
    ("کرمانشاه", 2.4),
    ("گلستان", 2.3),
    ("هرمزگان", 2.2),
    ("لرستان", 2.2),
    ("همدان", 2.1),
    ("کردستان", 2),
    ("مرکزی", 1.8),
    ("قم", 1.6),
    ("قزوین", 1.6),
    ("اردبیل", 1.6),
    ("بوشهر", 1.4),
    ("یزد", 1.4),
    ("زنجان", 1.3),
    ("چهارمحال و بختیاری", 1.2),
    ("خراسان شمالی", 1),
    ("خراسان جنوبی", 0.9),
    ("کهگیلویه و بویراحمد", 0.9),
    ("سمنان", 0.9),
    ("ایلام", 0.7),
)
COMPANY_ENDINGS = ("تجارت", "صنعت", "گستر", "پخش", "بازرگانی", "تولیدی", "خدمات", "فرآور")
COMPANY_FORMS = ("سهامی خاص", "با مسئولیت محدود", "تعاونی")
SHOPS = ("فروشگاه", "کارگاه", "مغازه", "نمایندگی", "فروشگاه بزرگ", "بنکداری")
HOME_SHOPS = ("کارگاه خانگی", "محصولات خانگی", "دست‌سازه‌های", "آشپزخانه خانگی")
SUSPENSION_NOTES = (
    "رعایت‌نکردن ضوابط بهداشتی در بازدید پسینی",
    "گزارش بازرسی: فعالیت خارج از محل اعلام‌شده",
    "نداشتن مسئول فنی در زمان بازدید",
)
REVOCATION_NOTES = (
    "تکرار تخلف پس از تعلیق",
    "اطلاعات نادرست در ثبت‌نام",
    "حکم قطعی مرجع رسیدگی به تخلفات",
)
REJECTION_REASONS = (
    "محل فعالیت با کاربری مجاز منطبق نیست.",
    "مسئول فنی معرفی‌شده مدرک تحصیلی مرتبط ندارد.",
    "نتیجه بازدید کارشناس منفی بود.",
)
COMMENTS = (
    "برخورد خوب و کار تمیز.",
    "کیفیت خوب، قیمت مناسب.",
    "سر وقت تحویل داد.",
    "رضایت داشتم، دوباره خرید می‌کنم.",
    "تأخیر در تحویل داشت.",
    "کیفیت با توضیحات فرق داشت.",
    "پاسخ‌گویی ضعیف بود.",
    "بسته‌بندی مناسب و بهداشتی.",
)
ANSWERS = (
    "از لطف شما سپاسگزاریم.",
    "پوزش می‌خواهیم؛ موضوع را پیگیری کردیم.",
    "با ما تماس بگیرید تا جبران کنیم.",
)
FEES = (0, 0, 150_000, 300_000, 500_000, 1_200_000, 2_500_000)
PORTAL_PREFIX = {"behinyab": "BY", "heritage": "HR", "health": "HL"}

APPLICATION_COLUMNS = (
    "id reference permit_id version_id authority_id applicant_id company_id title details state "
    "fee_rials submitted_at due_by decided_at portal send_attempts next_try_at last_error "
    "portal_state portal_updated_at reason requested updated_at"
).split()
PERMIT_COLUMNS = (
    "id number permit_id authority_id application_id holder_id company_id holder_name "
    "business_name province status issued_at valid_from valid_until portal_number token kid "
    "updated_at"
).split()
EVENT_COLUMNS = "id issued_id at kind from_status to_status by_id note changes".split()
TRACE_COLUMNS = "id application_id at recorded_at source kind portal_event_id detail by_id".split()
RATING_COLUMNS = (
    "id issued_id rater_id period stars comment created_at hidden answer answered_at answered_by_id"
).split()


@dataclass
class PermitsHistoryResult:
    permits: int = 0
    events: int = 0
    applications: int = 0
    trace: int = 0
    ratings: int = 0
    users: int = 0
    seconds: float = 0.0
    writing_seconds: float = 0.0
    skipped: bool = False


class _Writer:
    """Rows as tuples into one table: ``COPY`` on PostgreSQL (psycopg's ``cursor.copy``),
    a prepared ``INSERT`` run many times on SQLite. Datetimes and dates go through the
    backend's own adapters (``connection.ops``)."""

    def __init__(self) -> None:
        self.postgres = connection.vendor == "postgresql"
        self.written: dict[str, int] = {}
        self.seconds = 0.0  # spent writing

    def when(self, value: dt.datetime | None):
        return value if self.postgres or value is None else str(value.replace(tzinfo=None))

    def day(self, value: dt.date | None):
        return value if self.postgres or value is None else value.isoformat()

    def write(self, model, columns: list[str], rows: list[tuple]) -> None:
        if not rows:
            return
        table = model._meta.db_table
        self.written[table] = self.written.get(table, 0) + len(rows)
        started = time.perf_counter()
        try:
            self._write(table, columns, rows)
        finally:
            self.seconds += time.perf_counter() - started

    def _write(self, table: str, columns: list[str], rows: list[tuple]) -> None:
        with connection.cursor() as cursor:
            if self.postgres:
                from psycopg import sql

                statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
                    sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
                )
                with cursor.cursor.copy(statement) as copy:
                    for row in rows:
                        copy.write_row(row)
                return
            quote = connection.ops.quote_name
            names = ", ".join(quote(c) for c in columns)
            marks = ", ".join(["%s"] * len(columns))
            for start in range(0, len(rows), 5000):
                cursor.executemany(
                    # Names come from this module's column lists, checked against the models.
                    f"INSERT INTO {quote(table)} ({names}) VALUES ({marks})",  # noqa: S608
                    rows[start : start + 5000],
                )


def _next_id(model) -> int:
    return (model.objects.aggregate(top=Max("pk"))["top"] or 0) + 1


def _quarter(moment: dt.datetime) -> str:
    day = jalali.from_gregorian(moment.astimezone(jalali.TEHRAN).date())
    return f"{day.year}-{(day.month - 1) // 3 + 1}"


def _plus_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _users(rng: random.Random, role: str, count: int) -> list[tuple[int, str]]:
    """``count`` synthetic inactive users (``sim-permits-<role>-NNNNN``): (pk, full name)."""
    rows = []
    for i in range(count):
        female = rng.random() < 0.45
        first = rng.choice(FEMALE_NAMES if female else MALE_NAMES)
        rows.append(
            User(
                username=f"{PREFIX}{role}-{i:05d}",
                first_name=first,
                last_name=rng.choice(SURNAMES),
                is_active=False,  # a name on simulated rows only: cannot sign in
                password=make_password(None),
            )
        )
    User.objects.bulk_create(rows, batch_size=2000)
    return [
        (pk, f"{first} {last}")
        for pk, first, last in User.objects.filter(username__startswith=f"{PREFIX}{role}-")
        .order_by("username")
        .values_list("pk", "first_name", "last_name")
    ]


def default_count() -> int:
    return DEFAULT_COUNT if connection.vendor == "postgresql" else SQLITE_COUNT


def seed(
    count: int | None = None,
    *,
    seed: int = DEFAULT_SEED,
    now: dt.datetime | None = None,
    ratings: bool = True,
) -> PermitsHistoryResult:
    """Write ``count`` simulated issued permits with their history (nothing if they exist or
    the permits catalogue is empty)."""
    started = time.perf_counter()
    result = PermitsHistoryResult()
    count = default_count() if count is None else count
    types = list(
        PermitType.objects.filter(published_version__isnull=False)
        .order_by("pk")
        .values_list(
            "pk",
            "kind",
            "authority_id",
            "authority__portal",
            "registration_based",
            "legal_days",
            "published_version_id",
        )
    )
    if count <= 0 or not types or User.objects.filter(username__startswith=PREFIX).exists():
        result.skipped = True
        return result
    now = now or timezone.now()
    rng = random.Random(seed)
    by_kind = {kind: [t for t in types if t[1] == kind] for kind in PermitKind.values}
    shares = {PermitKind.GUILD: 55, PermitKind.HOME_BUSINESS: 30, PermitKind.AGENCY: 15}
    kinds = [kind for kind in shares if by_kind[kind]]
    kinds_weights = [shares[kind] for kind in kinds]
    # How fast each authority decides its approval-based permits (× the legal time).
    pace = {t[2]: 0.25 + 1.35 * random.Random(seed * 7919 + t[2]).random() for t in types}
    provinces = [p for p, _w in PROVINCES]
    province_weights = list(_cumulative([w for _p, w in PROVINCES]))
    writer = _Writer()
    span = YEARS * 365 * 86400
    with transaction.atomic():
        n_people = max(20, min(3_000, count // 100))
        applicants = _users(rng, "applicant", n_people)
        raters = _users(rng, "rater", n_people)
        result.users = 2 * n_people
        taken = set(IssuedPermit.objects.values_list("number", flat=True))
        ids = {
            model: _next_id(model)
            for model in (PermitApplication, IssuedPermit, PermitEvent, TraceEvent, HolderRating)
        }
        state = _State(rng, now, writer, ids, taken, applicants, raters, pace, ratings)
        for start in range(0, count, CHUNK):
            for _ in range(min(CHUNK, count - start)):
                kind = rng.choices(kinds, weights=kinds_weights)[0]
                pool = by_kind[kind]
                permit = pool[int(len(pool) * rng.random() ** 1.8)]
                province = rng.choices(provinces, cum_weights=province_weights)[0]
                age = max(3600, int(span * (1 - math.sqrt(rng.random()))))
                state.permit(permit, province, now - dt.timedelta(seconds=age))
            state.extra_applications(by_kind, provinces, province_weights)
            state.flush()
        if writer.postgres:
            models = [PermitApplication, IssuedPermit, PermitEvent, TraceEvent, HolderRating]
            with connection.cursor() as cursor:
                for statement in connection.ops.sequence_reset_sql(no_style(), models):
                    cursor.execute(statement)
    written = writer.written
    result.permits = written.get(IssuedPermit._meta.db_table, 0)
    result.events = written.get(PermitEvent._meta.db_table, 0)
    result.applications = written.get(PermitApplication._meta.db_table, 0)
    result.trace = written.get(TraceEvent._meta.db_table, 0)
    result.ratings = written.get(HolderRating._meta.db_table, 0)
    result.seconds = time.perf_counter() - started
    result.writing_seconds = writer.seconds
    return result


def _cumulative(weights):
    total = 0.0
    for w in weights:
        total += w
        yield total


class _State:
    """The generator's running state: next primary keys, numbers taken, rows of this chunk."""

    def __init__(self, rng, now, writer, ids, taken, applicants, raters, pace, ratings):
        self.rng, self.now, self.writer, self.taken = rng, now, writer, taken
        self.ids = {model._meta.db_table: first for model, first in ids.items()}
        self.applicants, self.raters, self.pace, self.with_ratings = (
            applicants,
            raters,
            pace,
            ratings,
        )
        self.today = now.astimezone(jalali.TEHRAN).date()
        self.rows: dict = {m: [] for m in ids}
        self.issued_here = 0
        self.sequence = 0

    def _id(self, model) -> int:
        table = model._meta.db_table
        value = self.ids[table]
        self.ids[table] = value + 1
        return value

    def _number(self) -> str:
        while True:
            body = str(self.rng.randrange(10**10, 10**11))
            number = body + check_digit(body)
            if number not in self.taken:
                self.taken.add(number)
                return number

    def _between(self, start: dt.datetime, end: dt.datetime) -> dt.datetime:
        seconds = int((end - start).total_seconds())
        return start + dt.timedelta(seconds=self.rng.randrange(max(1, seconds)))

    def _company(self) -> str:
        rng = self.rng
        return (
            f"شرکت {rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_WORDS)} "
            f"{rng.choice(COMPANY_ENDINGS)} ({rng.choice(COMPANY_FORMS)})"
        )

    def _person(self) -> str:
        rng = self.rng
        first = rng.choice(FEMALE_NAMES if rng.random() < 0.45 else MALE_NAMES)
        return f"{first} {rng.choice(SURNAMES)}"

    def permit(self, permit_type, province: str, issued_at: dt.datetime) -> None:
        rng, w = self.rng, self.writer
        pk, kind, authority, portal, registration_based, legal_days, version = permit_type
        company_share = {"guild": 0.15, "home_business": 0.0, "agency": 0.6}[kind]
        application_id = holder_id = None
        if rng.random() < company_share:
            holder_name = self._company()
            business = holder_name.removeprefix("شرکت ").split(" (")[0]
        else:
            if rng.random() < APPLICATION_SHARE / (1 - company_share):
                holder_id, holder_name = self.applicants[rng.randrange(len(self.applicants))]
            else:
                holder_name = self._person()
            surname = holder_name.rsplit(" ", 1)[-1]
            shops = HOME_SHOPS if kind == PermitKind.HOME_BUSINESS else SHOPS
            business = f"{rng.choice(shops)} {surname}"
        years = rng.choices(
            *{
                "guild": ([1, 3, 5], [25, 35, 40]),
                "home_business": ([1, 3, 5], [20, 50, 30]),
                "agency": ([2, 5, 10], [30, 50, 20]),
            }[kind]
        )[0]
        valid_from = issued_at.astimezone(jalali.TEHRAN).date()
        valid_until = _plus_years(valid_from, years)
        issued_id = self._id(IssuedPermit)
        number = self._number()
        portal_number = ""
        if portal and not registration_based:
            portal_number = f"{PORTAL_PREFIX.get(portal, 'PT')}-{rng.randrange(10**9, 10**10)}"
        if holder_id is not None:
            application_id = self._application(
                permit_type, holder_id, business, province, issued_at, number, portal_number
            )
        events: list[tuple] = []  # (at, kind, from status, to status, note, changes)
        V, S = PermitStatus, PermitEventKind
        events.append((issued_at, S.ISSUED, "", V.VALID, "", {}))
        status = V.VALID
        last = issued_at
        # Past its validity: renewed before the end (once or twice), or expired.
        while valid_until <= self.today and rng.random() < 0.35:
            end = dt.datetime.combine(valid_until, dt.time(9), tzinfo=jalali.TEHRAN)
            at = end - dt.timedelta(days=rng.randint(1, 25), minutes=rng.randrange(600))
            new_until = _plus_years(valid_until, years)
            events.append(
                (
                    at,
                    S.RENEWED,
                    V.VALID,
                    V.VALID,
                    "",
                    {"valid_until": [valid_until.isoformat(), new_until.isoformat()]},
                )
            )
            valid_until, last = new_until, at
        if valid_until <= self.today:
            at = dt.datetime.combine(valid_until, dt.time(0, 5), tzinfo=jalali.TEHRAN)
            events.append((at, S.EXPIRED, V.VALID, V.EXPIRED, "", {}))
            status = V.EXPIRED
        else:
            draw = rng.random()
            later = min(self.now, dt.datetime.combine(valid_until, dt.time(), tzinfo=jalali.TEHRAN))
            first = last + dt.timedelta(days=1)
            if first < later:
                at = self._between(first, later)
                if draw < 0.015:
                    note = rng.choice(REVOCATION_NOTES)
                    events.append((at, S.REVOKED, V.VALID, V.REVOKED, note, {}))
                    status = V.REVOKED
                elif draw < 0.035:
                    note = rng.choice(SUSPENSION_NOTES)
                    events.append((at, S.SUSPENDED, V.VALID, V.SUSPENDED, note, {}))
                    status = V.SUSPENDED
                elif draw < 0.055:
                    note = rng.choice(SUSPENSION_NOTES)
                    events.append((at, S.SUSPENDED, V.VALID, V.SUSPENDED, note, {}))
                    back = min(later, at + dt.timedelta(days=rng.randint(3, 60)))
                    events.append((back, S.REINSTATED, V.SUSPENDED, V.VALID, "", {}))
                elif draw < 0.085:
                    events.append((at, S.CANCELLED, V.VALID, V.CANCELLED, "", {}))
                    status = V.CANCELLED
                elif draw < 0.135:
                    old = business
                    business = f"{rng.choice(SHOPS)} {rng.choice(SURNAMES)}"
                    events.append(
                        (at, S.AMENDED, V.VALID, V.VALID, "", {"business_name": [old, business]})
                    )
        last_at = max(e[0] for e in events)
        self.rows[PermitEvent].extend(
            (
                self._id(PermitEvent),
                issued_id,
                w.when(at),
                kind,
                from_status,
                to_status,
                None,
                note,
                json.dumps(changes, ensure_ascii=False) if changes else "{}",
            )
            for at, kind, from_status, to_status, note, changes in events
        )
        self.rows[IssuedPermit].append(
            (
                issued_id,
                number,
                pk,
                authority,
                application_id,
                holder_id,
                None,
                holder_name,
                business,
                province,
                status,
                w.when(issued_at),
                w.day(valid_from),
                w.day(valid_until),
                portal_number,
                "",
                "",
                w.when(last_at),
            )
        )
        if self.with_ratings and status != V.CANCELLED:
            self._ratings(issued_id, holder_id, issued_at)

    def _ratings(self, issued_id: int, holder_id, issued_at: dt.datetime) -> None:
        rng, w = self.rng, self.writer
        # A sixth of rated permits get one rating, the rest several: about RATING_SHARE a permit.
        if rng.random() >= RATING_SHARE / 6:
            return
        quality = rng.choice([4.6, 4.2, 3.8, 3.0, 2.2])
        n = min(len(self.raters), 1 + int(rng.expovariate(1 / 5)))
        for rater, _name in rng.sample(self.raters, n):
            created = self._between(issued_at, self.now)
            stars = max(1, min(5, round(rng.gauss(quality, 0.9))))
            comment = rng.choice(COMMENTS) if rng.random() < 0.4 else ""
            answer, answered_at, answered_by = "", None, None
            if comment and rng.random() < 0.25:
                answer = rng.choice(ANSWERS)
                answered_at = min(self.now, created + dt.timedelta(hours=rng.randint(1, 72)))
                answered_by = holder_id
            self.rows[HolderRating].append(
                (
                    self._id(HolderRating),
                    issued_id,
                    rater,
                    _quarter(created),
                    stars,
                    comment,
                    w.when(created),
                    rng.random() < 0.01,
                    answer,
                    w.when(answered_at),
                    answered_by,
                )
            )

    def _reference(self, at: dt.datetime) -> str:
        self.sequence += 1
        year = jalali.from_gregorian(at.astimezone(jalali.TEHRAN).date()).year
        return f"{REFERENCE_PREFIX}{year}-{self.sequence:07d}"

    def _application(
        self,
        permit_type,
        applicant: int,
        title: str,
        province: str,
        issued_at: dt.datetime,
        number: str,
        portal_number: str,
        *,
        state: str = ApplicationState.ISSUED,
    ) -> int:
        """An application (and its trace) that ended at ``issued_at`` in ``state``."""
        rng, w = self.rng, self.writer
        pk, _kind, authority, portal, registration_based, legal_days, version = permit_type
        if registration_based:
            submitted = issued_at - dt.timedelta(seconds=rng.uniform(2, 40))
            portal = ""
        else:
            days = max(0.2, self.pace[authority] * max(legal_days, 1) * rng.lognormvariate(0, 0.5))
            submitted = issued_at - dt.timedelta(days=days)
        app_id = self._id(PermitApplication)
        due_by = submitted + dt.timedelta(days=legal_days) if legal_days else None
        final = state in (ApplicationState.ISSUED, ApplicationState.REJECTED)
        trace = [(submitted, "window", "registered", None, {})]
        if registration_based:
            trace.append((issued_at, "window", "issued", None, {"number": number}))
        else:
            step = (issued_at - submitted) / 10
            if portal:
                trace.append((submitted + step * 0.01, "window", "sent", None, {}))
                trace.append((submitted + step * 0.02, "portal", "received", 1, {}))
                if state != ApplicationState.AT_PORTAL:
                    trace.append((submitted + step, "portal", "under_review", 2, {}))
                if final and rng.random() < 0.5:
                    trace.append((submitted + step * 5, "portal", "inspection_scheduled", 3, {}))
                if state == ApplicationState.ISSUED:
                    trace.append(
                        (issued_at, "portal", "approved", 4, {"permit": {"number": portal_number}})
                    )
                elif state == ApplicationState.REJECTED:
                    trace.append(
                        (
                            issued_at,
                            "portal",
                            "rejected",
                            4,
                            {"reason": rng.choice(REJECTION_REASONS)},
                        )
                    )
            else:
                trace.append((submitted + step, "window", "under_review", None, {}))
            if state == ApplicationState.ISSUED:
                trace.append((issued_at, "window", "issued", None, {"number": number}))
        reason = trace[-1][4].get("reason", "") if state == ApplicationState.REJECTED else ""
        if state == ApplicationState.REJECTED and not portal:
            reason = rng.choice(REJECTION_REASONS)
            trace.append((issued_at, "window", "rejected", None, {"reason": reason}))
        last_at = trace[-1][0]
        portal_state = {
            ApplicationState.ISSUED: "approved",
            ApplicationState.REJECTED: "rejected",
            ApplicationState.AT_PORTAL: "received",
        }.get(state, "under_review")
        self.rows[PermitApplication].append(
            (
                app_id,
                self._reference(submitted),
                pk,
                version,
                authority,
                applicant,
                None,
                title,
                json.dumps({"province": province}, ensure_ascii=False),
                state,
                rng.choice(FEES) if not registration_based else 0,
                w.when(submitted),
                w.when(due_by),
                w.when(issued_at) if final else None,
                portal,
                1 if portal else 0,
                None,
                "",
                portal_state if portal else "",
                w.when(last_at) if portal else None,
                reason,
                "",
                w.when(last_at),
            )
        )
        for at, source, kind, portal_seq, detail in trace:
            event_id = f"sim-{portal}-{app_id}-{portal_seq}" if portal_seq else None
            self.rows[TraceEvent].append(
                (
                    self._id(TraceEvent),
                    app_id,
                    w.when(at),
                    w.when(at),
                    source,
                    kind,
                    event_id,
                    json.dumps(detail, ensure_ascii=False) if detail else "{}",
                    None,
                )
            )
        return app_id

    def extra_applications(self, by_kind, provinces, province_weights) -> None:
        """Rejected and still-open applications of approval-based permits (no permit issued),
        in proportion to the issued ones of this chunk."""
        rng = self.rng
        approval = [t for kind in by_kind.values() for t in kind if not t[4]]
        if not approval:
            return
        issued_apps = len(self.rows[PermitApplication])
        for _ in range(round(issued_apps * NOT_ISSUED_SHARE)):
            permit_type = approval[rng.randrange(len(approval))]
            applicant = self.applicants[rng.randrange(len(self.applicants))]
            province = rng.choices(provinces, cum_weights=province_weights)[0]
            if rng.random() < 0.5:
                end = self.now - dt.timedelta(days=rng.uniform(1, YEARS * 365))
                state = ApplicationState.REJECTED
            else:
                # Still open: its latest step recently; some past their legal time.
                end = self.now - dt.timedelta(hours=rng.uniform(1, 240))
                state = ApplicationState.UNDER_REVIEW
                if permit_type[3] and rng.random() < 0.3:
                    state = ApplicationState.AT_PORTAL
            title = f"{rng.choice(SHOPS)} {applicant[1].rsplit(' ', 1)[-1]}"
            self._application(permit_type, applicant[0], title, province, end, "", "", state=state)

    def flush(self) -> None:
        w = self.writer
        w.write(PermitApplication, APPLICATION_COLUMNS, self.rows[PermitApplication])
        w.write(IssuedPermit, PERMIT_COLUMNS, self.rows[IssuedPermit])
        w.write(PermitEvent, EVENT_COLUMNS, self.rows[PermitEvent])
        w.write(TraceEvent, TRACE_COLUMNS, self.rows[TraceEvent])
        w.write(HolderRating, RATING_COLUMNS, self.rows[HolderRating])
        for rows in self.rows.values():
            rows.clear()
