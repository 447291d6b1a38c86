"""The generated national permits catalogue, calibrated to the seed's figures.

Figures (domain/seed002.md §1.7, §3.4, §3.9; docs/permits.md says which are used and why):

- 3,000 guild permits and 1,600 agency permits: the ">4,600 permits via the portal" of L664
  (the earlier "4,000 permits" of L420 is not reproduced);
- 520 home-business permits (L448), counted apart from the 4,600: 5,120 permit types in all;
  518 of them registration-based, the 2 home-made-food ones not (the Ministry of Health
  "opposes and resists", L448, L454);
- 33,000 conditions before the "Cleanup 1" project, of which 1,000 were removed (L436, L484):
  the first version of every permit holds 33,000 conditions in all; a permit that lost
  conditions has a second, published version without them, and the register names each
  removal (1,000 permit-and-requirement pairs over 25 requirements).

Everything is deterministic (one seeded random generator) and written with ``bulk_create``.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from panjereh.catalogue import queries as catalogue_queries
from panjereh.common import jalali

from . import matching, search
from .models import (
    Condition,
    ConditionKind,
    IssuingAuthority,
    PermitKind,
    PermitType,
    PermitVersion,
    RemovedCondition,
    Resolution,
    VersionState,
)

DATA = Path(__file__).parent / "data"
SEED = 1402

# The seed's figures (see the module's docstring).
GUILD_PERMITS = 3_000
AGENCY_PERMITS = 1_600
HOME_BUSINESS_PERMITS = 520
HOME_NOT_REGISTRATION_BASED = 2
CONDITIONS_BEFORE_CLEANUP = 33_000
CONDITIONS_REMOVED = 1_000
FIRST_PUBLIC_ID = 9_000_000_001

GUILD_FORMS = [
    ("فروش {g}", "selling {g}"),
    ("خرده‌فروشی {g}", "retail of {g}"),
    ("عمده‌فروشی {g}", "wholesale of {g}"),
    ("فروش اینترنتی {g}", "online sale of {g}"),
    ("پخش {g}", "distribution of {g}"),
    ("واردات و فروش {g}", "importing and selling {g}"),
    ("بسته‌بندی {g}", "packaging {g}"),
    ("انبارداری {g}", "warehousing {g}"),
    ("حمل {g}", "carrying {g}"),
    ("حق‌العمل‌کاری {g}", "commission sale of {g}"),
    ("نمایندگی فروش {g}", "sales agency for {g}"),
    ("فروش سیار {g}", "mobile sale of {g}"),
    ("فروش {g} در بازار روز", "selling {g} at a day market"),
    ("فروشگاه تخصصی {g}", "specialist shop for {g}"),
    ("فروشگاه زنجیره‌ای {g}", "chain stores for {g}"),
    ("نمایشگاه فروش {g}", "showroom for {g}"),
    ("فروش امانی {g}", "consignment sale of {g}"),
    ("تولید کارگاهی {g}", "workshop production of {g}"),
    ("فروش {g} در مراکز خرید", "selling {g} in shopping centres"),
    ("صادرات {g}", "exporting {g}"),
]
HOME_FORMS = [
    ("تولید خانگی {g}", "home production of {g}"),
    ("بسته‌بندی خانگی {g}", "home packaging of {g}"),
    ("فروش اینترنتی {g} خانگی", "online sale of home-made {g}"),
    ("سفارش‌پذیری {g} در خانه", "taking orders for {g} made at home"),
    ("عرضه {g} خانگی در بازارچه", "selling home-made {g} at local markets"),
    ("آموزش خانگی تهیه {g}", "teaching how to make {g} at home"),
]
# The two home businesses still approval-based: home-made food.
HOME_FOOD = "غذای آماده"
AGENCY_FORMS = [
    ("مجوز تأسیس {s}", "permit to establish {s}"),
    ("پروانه بهره‌برداری {s}", "operating licence for {s}"),
    ("موافقت اصولی {s}", "approval in principle for {s}"),
    ("پروانه مسئول فنی {s}", "technical manager’s licence for {s}"),
    ("تمدید پروانه {s}", "renewal of the licence for {s}"),
    ("مجوز توسعه {s}", "permit to expand {s}"),
    ("مجوز انتقال {s}", "permit to move {s}"),
    ("مجوز تغییر مالکیت {s}", "permit to change the owner of {s}"),
    ("گواهی صلاحیت {s}", "certificate of competence for {s}"),
    ("مجوز فعالیت شعبه {s}", "permit for a branch of {s}"),
    ("صدور المثنی پروانه {s}", "duplicate licence for {s}"),
    ("مجوز تغییر نام {s}", "permit to rename {s}"),
    ("مجوز تعطیلی موقت {s}", "permit to close {s} temporarily"),
]

# Legal bases. The Principle-44 law's article 7 is the seed's (L581, L592); the article numbers
# of the others are given for the generated data and are not checked against the laws' texts.
GUILD_LAW = ("قانون نظام صنفی کشور، ماده ۱۲", "Guild System Law, art. 12")
P44_LAW = (
    "قانون اجرای سیاست‌های کلی اصل ۴۴، ماده ۷",
    "Law on Implementing the General Policies of Principle 44, art. 7",
)
HOME_LAW = (
    "قانون ساماندهی و حمایت از مشاغل خانگی، ماده ۳",
    "Law on Organising and Supporting Home Businesses, art. 3",
)
FEE_LAW = ("قانون بودجه سال ۱۴۰۲، جدول تعرفه خدمات", "Budget Law 1402, table of service fees")
AGE_LAW = ("قانون مدنی، ماده ۱۲۱۰", "Civil Code, art. 1210")

# The authorities whose approval-based permits are decided at a specialised portal
# (``panjereh.portals``, docs/portals.md): behinyab stands for the MIMT's portal, which issues
# the small industries' establishment and operation licences (ISIPO is under the MIMT); the
# heritage portal for the Ministry of Cultural Heritage; the health portal for the Ministry of
# Health and its Food and Drug Administration. The other authorities decide in the window.
AUTHORITY_PORTALS = {"isipo": "behinyab", "mchth": "heritage", "mohme": "health", "fda": "health"}
# Each agency permit of those authorities is one of its portal's permits: by the form for
# behinyab (setting up, moving or growing a unit is an establishment licence; the rest concern
# a running unit), by the subject for the others (the nearest of the portal's permits).
ESTABLISHMENT_FORMS = {
    "مجوز تأسیس {s}",
    "موافقت اصولی {s}",
    "مجوز توسعه {s}",
    "مجوز انتقال {s}",
    "مجوز فعالیت شعبه {s}",
}
SUBJECT_PORTAL_TYPES = {
    "دفتر خدمات مسافرتی": "travel_agency",
    "راهنمای گردشگری": "travel_agency",
    "هتل": "ecolodge",
    "اقامتگاه بوم‌گردی": "ecolodge",
    "مهمانپذیر": "ecolodge",
    "مجتمع گردشگری": "ecolodge",
    "رستوران سنتی": "ecolodge",
    "کارگاه صنایع دستی": "handicraft_workshop",
    "موزه خصوصی": "handicraft_workshop",
    "کارخانه مواد غذایی": "food_production",
    "کارگاه بسته‌بندی مواد غذایی": "food_production",
    "کارخانه آب معدنی": "food_production",
    "واحد تولید مکمل غذایی": "food_production",
}


def portal_type(authority: str, form_fa: str, subject_fa: str) -> str:
    """The permit's name at its authority's portal ("" when the authority has none)."""
    portal = AUTHORITY_PORTALS.get(authority)
    if portal is None:
        return ""
    if portal == "behinyab":
        return "establishment" if form_fa in ESTABLISHMENT_FORMS else "operation"
    if portal == "health":
        return SUBJECT_PORTAL_TYPES.get(subject_fa, "pharmacy")
    return SUBJECT_PORTAL_TYPES.get(subject_fa, "travel_agency")


def _agency_law(authority: IssuingAuthority) -> tuple[str, str]:
    return (
        f"آیین‌نامه صدور مجوز {authority.name_fa}",
        f"permit regulation of the {authority.name_en}",
    )


@dataclass
class Spec:
    kind: str
    authority: str
    title_fa: str
    title_en: str
    registration_based: bool
    legal_days: int
    live: list[tuple] = field(default_factory=list)  # (kind, fa, en, basis_fa, basis_en)
    portal_type: str = ""  # the permit's name at its authority's specialised portal
    removed: list[str] = field(default_factory=list)  # register keys


def _tsv(name: str) -> list[list[str]]:
    with (DATA / name).open(encoding="utf-8") as handle:
        return [row for row in csv.reader(handle, delimiter="\t") if row and row[0][:1] != "#"]


def _condition_pool(spec: Spec, authority: IssuingAuthority, rng: random.Random) -> list[tuple]:
    """Every condition a permit of this kind may have, the first three always asked."""
    fee = rng.choice([0, 150_000, 300_000, 500_000, 1_200_000, 2_500_000, 5_000_000])
    law = {
        PermitKind.GUILD: GUILD_LAW,
        PermitKind.HOME_BUSINESS: HOME_LAW,
        PermitKind.AGENCY: _agency_law(authority),
    }[spec.kind]
    if spec.registration_based:
        when = (
            "صدور بی‌درنگ پس از تکمیل ثبت‌نام",
            "issued at once when the registration is complete",
        )
        inspect = (
            "نظارت پسینی: بازدید پس از صدور",
            "supervision after issue: a visit once the permit is issued",
        )
    else:
        when = (
            f"صدور حداکثر {jalali_digits(spec.legal_days)} روز پس از تکمیل پرونده",
            f"issued at most {spec.legal_days} days after the file is complete",
        )
        inspect = ("بازدید کارشناس از محل فعالیت", "an expert’s site inspection")
    fee_text = (
        (
            f"هزینه صدور: {jalali_digits(f'{fee:,}').replace(',', '٬')} ریال، فقط پرداخت الکترونیکی",
            f"issue fee: {fee:,} rials, paid online only",
        )
        if fee
        else ("صدور رایگان", "issued free of charge")
    )
    pool = [
        (ConditionKind.TIME, *when, *P44_LAW),
        (ConditionKind.FEE, *fee_text, *FEE_LAW),
        (ConditionKind.ELIGIBILITY, "داشتن دست‌کم ۱۸ سال سن", "at least 18 years old", *AGE_LAW),
        (ConditionKind.INSPECTION, *inspect, *law),
        (
            ConditionKind.ELIGIBILITY,
            "تابعیت ایران یا پروانه کار اتباع خارجی",
            "Iranian nationality or a foreign national’s work permit",
            *law,
        ),
        (
            ConditionKind.ELIGIBILITY,
            "نداشتن پروانه فعال دیگر در همان رشته",
            "no other active permit in the same trade",
            *law,
        ),
        (
            ConditionKind.ELIGIBILITY,
            f"گذراندن دوره آموزشی {jalali_digits(rng.choice([8, 16, 24, 40]))} ساعته",
            "a short training course in the trade",
            *law,
        ),
    ]
    if spec.kind == PermitKind.HOME_BUSINESS:
        pool += [
            (
                ConditionKind.DOCUMENT,
                "معرفی فضای کار در منزل (بارگذاری در درگاه)",
                "a description of the workspace at home (uploaded to the portal)",
                *law,
            ),
            (
                ConditionKind.DOCUMENT,
                "نمونه یا عکس محصول (بارگذاری در درگاه)",
                "a sample or picture of the product (uploaded to the portal)",
                *law,
            ),
            (
                ConditionKind.ELIGIBILITY,
                "انجام کار در منزل مسکونی متقاضی",
                "the work is done in the applicant’s own home",
                *law,
            ),
        ]
    else:
        pool += [
            (
                ConditionKind.DOCUMENT,
                "مشخصات محل کسب (سند یا اجاره‌نامه عادی، بارگذاری در درگاه)",
                "details of the premises (title deed or a private lease, uploaded to the portal)",
                *law,
            ),
            (
                ConditionKind.DOCUMENT,
                "گواهی مهارت فنی و حرفه‌ای در همان رشته (استعلام برخط)",
                "a vocational skill certificate in the trade (checked online)",
                *law,
            ),
            (ConditionKind.DOCUMENT, "نقشه محل فعالیت", "a floor plan of the premises", *law),
        ]
    if spec.kind == PermitKind.AGENCY:
        pool += [
            (ConditionKind.DOCUMENT, "طرح توجیهی فعالیت", "a business plan", *law),
            (
                ConditionKind.ELIGIBILITY,
                "معرفی مسئول فنی با مدرک تحصیلی مرتبط",
                "a technical manager with a relevant qualification",
                *law,
            ),
            (ConditionKind.INSPECTION, "مصاحبه تخصصی", "a professional interview", *law),
        ]
    return pool


def jalali_digits(value) -> str:
    from panjereh.common.persian import to_persian_digits

    return to_persian_digits(value)


def build_specs() -> list[Spec]:
    """The permits of the catalogue, without their conditions (see :func:`plan`)."""
    goods = _tsv("goods.tsv")
    specs: list[Spec] = []
    rng = random.Random(SEED)
    for form_fa, form_en in GUILD_FORMS:
        for good_fa, good_en, _home in goods:
            specs.append(
                Spec(
                    kind=PermitKind.GUILD,
                    authority="guilds",
                    title_fa="پروانه کسب " + form_fa.format(g=good_fa),
                    title_en="Trade permit: " + form_en.format(g=good_en),
                    registration_based=False,
                    legal_days=rng.choice([7, 10, 15]),
                )
            )
    specs = specs[:GUILD_PERMITS]
    home_goods = [(fa, en) for fa, en, home in goods if home == "1"]
    home: list[Spec] = []
    for form_fa, form_en in HOME_FORMS:
        for good_fa, good_en in home_goods:
            food_production = good_fa == HOME_FOOD and form_fa.startswith(("تولید", "سفارش"))
            home.append(
                Spec(
                    kind=PermitKind.HOME_BUSINESS,
                    authority="home-business",
                    title_fa="مجوز کسب‌وکار خانگی: " + form_fa.format(g=good_fa),
                    title_en="Home-business permit: " + form_en.format(g=good_en),
                    registration_based=not food_production,
                    legal_days=15 if food_production else 0,
                )
            )
    # Keep both home-made-food permits inside the first 520.
    home.sort(key=lambda s: s.registration_based)
    specs += home[:HOME_BUSINESS_PERMITS]
    agency: list[Spec] = []
    subjects = _tsv("subjects.tsv")
    for form_fa, form_en in AGENCY_FORMS:
        for authority, subject_fa, subject_en in subjects:
            agency.append(
                Spec(
                    kind=PermitKind.AGENCY,
                    authority=authority,
                    title_fa=form_fa.format(s=subject_fa),
                    title_en=form_en.format(s=subject_en).capitalize(),
                    registration_based=False,
                    legal_days=rng.choice([15, 30, 45, 60, 90]),
                    portal_type=portal_type(authority, form_fa, subject_fa),
                )
            )
    specs += agency[:AGENCY_PERMITS]
    return specs


def _register() -> dict:
    return json.loads((DATA / "removed.json").read_text(encoding="utf-8"))


def plan(specs: list[Spec], authorities: dict[str, IssuingAuthority]) -> None:
    """Give each permit its live conditions (32,000 in all) and its removed ones (1,000)."""
    rng = random.Random(SEED + 1)
    live_total = CONDITIONS_BEFORE_CLEANUP - CONDITIONS_REMOVED
    pools = [_condition_pool(spec, authorities[spec.authority], rng) for spec in specs]
    counts = [rng.randint(4, 8) for _spec in specs]
    # Move the total to the seed's figure, one condition at a time, keeping 3..len(pool).
    while (difference := live_total - sum(counts)) != 0:
        i = rng.randrange(len(specs))
        if difference > 0 and counts[i] < len(pools[i]):
            counts[i] += 1
        elif difference < 0 and counts[i] > 3:
            counts[i] -= 1
    for spec, pool, count in zip(specs, pools, counts, strict=True):
        spec.live = pool[:3] + rng.sample(pool[3:], count - 3)
    keys = [item["key"] for item in _register()["removed"]]
    pairs: set[tuple[int, str]] = set()
    while len(pairs) < CONDITIONS_REMOVED:
        pairs.add((rng.randrange(len(specs)), rng.choice(keys)))
    for i, key in sorted(pairs):
        specs[i].removed.append(key)


def check_live_conditions(specs: list[Spec], register: list[matching.Entry]) -> None:
    """The generated live conditions must not match the register (the matcher's own test on
    real wordings): raise if one does."""
    seen: set[str] = set()
    for spec in specs:
        for _kind, fa, en, *_basis in spec.live:
            for text in (fa, en):
                if text in seen:
                    continue
                seen.add(text)
                found = matching.first_match([text], register)
                if found:
                    raise ValueError(f"generated condition {text!r} matches {found.key}")


@dataclass
class SeedReport:
    permit_types: int
    conditions: int
    removals: int
    seconds: float


def seed_permits_catalogue(*, replace: bool = False) -> SeedReport:
    """Load the generated national permits catalogue (nothing if one is there, unless
    ``replace``). For the demo (``panjereh seed_permits``) and the tests."""
    started = time.perf_counter()
    if PermitType.objects.exists():
        if not replace:
            return SeedReport(PermitType.objects.count(), Condition.objects.count(), 0, 0.0)
        clear()
    data = _register()
    with transaction.atomic():
        authorities = _seed_authorities()
        specs = build_specs()
        plan(specs, authorities)
        register_rows = _seed_register(data)
        check_live_conditions(
            specs,
            [
                matching.entry(row.pk, row.key, [row.wording_fa, row.wording_en, *row.phrases])
                for row in register_rows.values()
            ],
        )
        conditions = _seed_permits(specs, authorities, register_rows, data)
    search.invalidate()
    return SeedReport(len(specs), conditions, CONDITIONS_REMOVED, time.perf_counter() - started)


def assign_portals() -> int:
    """The specialised portals of a catalogue seeded before they were known: each authority's
    portal (:data:`AUTHORITY_PORTALS`) and each generated agency permit's name there, as a new
    seed would give them; permit types an editor changed are matched by their public ID only.
    Idempotent; the number of rows changed."""
    changed = 0
    for code, portal in AUTHORITY_PORTALS.items():
        changed += (
            IssuingAuthority.objects.filter(code=code).exclude(portal=portal).update(portal=portal)
        )
    wanted = {
        str(FIRST_PUBLIC_ID + n): spec.portal_type
        for n, spec in enumerate(build_specs())
        if spec.portal_type
    }
    rows = [
        row
        for row in PermitType.objects.filter(public_id__in=wanted, portal_type="").only(
            "pk", "public_id", "portal_type"
        )
    ]
    for row in rows:
        row.portal_type = wanted[row.public_id]
    PermitType.objects.bulk_update(rows, ["portal_type"], batch_size=500)
    return changed + len(rows)


def clear() -> None:
    with transaction.atomic():
        PermitType.objects.update(published_version=None)
        RemovedCondition.permit_types.through.objects.all().delete()
        for model in (Condition, PermitVersion):
            model.objects.all().delete()
        from .models import ReintroductionAttempt

        ReintroductionAttempt.objects.all().delete()
        RemovedCondition.objects.all().delete()
        Resolution.objects.all().delete()
        PermitType.objects.all().delete()
        IssuingAuthority.objects.all().delete()
    search.invalidate()


def _seed_authorities() -> dict[str, IssuingAuthority]:
    rows = _tsv("authorities.tsv")
    agencies = dict(
        catalogue_queries.agencies()
        .filter(code__in=[row[1] for row in rows if row[1]])
        .values_list("code", "id")
    )
    IssuingAuthority.objects.bulk_create(
        IssuingAuthority(
            code=code,
            agency_id=agencies.get(agency),
            name_fa=fa,
            name_en=en,
            portal=AUTHORITY_PORTALS.get(code, ""),
        )
        for code, agency, fa, en in rows
    )
    return {a.code: a for a in IssuingAuthority.objects.all()}


def _seed_register(data: dict) -> dict[str, RemovedCondition]:
    resolutions = {}
    for item in data["resolutions"]:
        resolutions[item["key"]] = Resolution.objects.create(
            body=item["body"],
            number=item["number"],
            date=jalali.to_gregorian(item["date"]),
            title_fa=item["title_fa"],
            title_en=item["title_en"],
        )
    RemovedCondition.objects.bulk_create(
        RemovedCondition(
            key=item["key"],
            kind=item["kind"],
            wording_fa=item["fa"],
            wording_en=item["en"],
            phrases=item["phrases"],
            resolution=resolutions[item["resolution"]],
        )
        for item in data["removed"]
    )
    return {row.key: row for row in RemovedCondition.objects.select_related("resolution")}


def _seed_permits(specs, authorities, register_rows, data) -> int:
    # Permits were published before the first removal; those that lost conditions got a
    # second version on the day of the resolution that removed the last of them.
    first_published = timezone.make_aware(dt.datetime(2022, 3, 21, 9, 0))  # 1 Farvardin 1401
    PermitType.objects.bulk_create(
        (
            PermitType(
                public_id=str(FIRST_PUBLIC_ID + n),
                kind=spec.kind,
                authority=authorities[spec.authority],
                title_fa=spec.title_fa,
                title_en=spec.title_en,
                summary_fa=_summary_fa(spec, authorities),
                summary_en=_summary_en(spec, authorities),
                registration_based=spec.registration_based,
                legal_days=spec.legal_days,
                portal_type=spec.portal_type,
            )
            for n, spec in enumerate(specs)
        ),
        batch_size=1000,
    )
    permits = list(PermitType.objects.order_by("public_id"))
    versions: list[PermitVersion] = []
    for permit, spec in zip(permits, specs, strict=True):
        fields = {
            "title_fa": spec.title_fa,
            "title_en": spec.title_en,
            "summary_fa": permit.summary_fa,
            "summary_en": permit.summary_en,
            "registration_based": spec.registration_based,
            "legal_days": spec.legal_days,
        }
        versions.append(
            PermitVersion(
                permit=permit,
                number=1,
                state=VersionState.SUPERSEDED if spec.removed else VersionState.PUBLISHED,
                published_at=first_published,
                **fields,
            )
        )
        if spec.removed:
            last = max(register_rows[key].resolution.date for key in spec.removed)
            versions.append(
                PermitVersion(
                    permit=permit,
                    number=2,
                    state=VersionState.PUBLISHED,
                    published_at=timezone.make_aware(dt.datetime.combine(last, dt.time(10))),
                    **fields,
                )
            )
    PermitVersion.objects.bulk_create(versions, batch_size=1000)
    by_permit: dict[int, list[PermitVersion]] = {}
    for version in PermitVersion.objects.order_by("permit_id", "number").only(
        "id", "permit_id", "number", "state"
    ):
        by_permit.setdefault(version.permit_id, []).append(version)
    conditions: list[tuple] = []
    through = RemovedCondition.permit_types.through
    links: list[tuple[int, int]] = []
    rng = random.Random(SEED + 2)
    for permit, spec in zip(permits, specs, strict=True):
        own = by_permit[permit.pk]
        original = list(spec.live)
        for key in spec.removed:
            row = register_rows[key]
            removed = (row.kind, row.wording_fa, row.wording_en, *_basis_of(spec, authorities))
            original.insert(rng.randint(3, len(original)), removed)
            links.append((row.pk, permit.pk))
        for position, (kind, fa, en, basis_fa, basis_en) in enumerate(original, start=1):
            key = next((k for k in spec.removed if register_rows[k].wording_fa == fa), "")
            conditions.append((own[0].pk, position, kind, fa, en, basis_fa, basis_en, key))
        if spec.removed:
            for position, (kind, fa, en, basis_fa, basis_en) in enumerate(spec.live, start=1):
                conditions.append((own[1].pk, position, kind, fa, en, basis_fa, basis_en, ""))
    # Tens of thousands of plain rows: one prepared INSERT run many times (executemany) costs a
    # fraction of building as many model instances for bulk_create.
    _insert_many(
        Condition,
        [
            "version_id",
            "position",
            "kind",
            "text_fa",
            "text_en",
            "basis_fa",
            "basis_en",
            "register_key",
        ],
        conditions,
    )
    _insert_many(through, ["removedcondition_id", "permittype_id"], links)
    PermitType.objects.update(
        published_version=Subquery(
            PermitVersion.objects.filter(
                permit=OuterRef("pk"), state=VersionState.PUBLISHED
            ).values("id")[:1]
        )
    )
    return len(conditions)


def _insert_many(model, columns: list[str], rows: list[tuple]) -> None:
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 5000):
            cursor.executemany(
                # Names come from the model's metadata, never from input.
                f"INSERT INTO {table} ({names}) VALUES ({marks})",  # noqa: S608
                rows[start : start + 5000],
            )


def _basis_of(spec: Spec, authorities) -> tuple[str, str]:
    if spec.kind == PermitKind.GUILD:
        return GUILD_LAW
    if spec.kind == PermitKind.HOME_BUSINESS:
        return HOME_LAW
    return _agency_law(authorities[spec.authority])


def _summary_fa(spec: Spec, authorities) -> str:
    authority = authorities[spec.authority].name_fa
    if spec.registration_based:
        return f"با ثبت‌نام کامل در درگاه، بی‌درنگ صادر می‌شود؛ {authority} پس از صدور نظارت می‌کند."
    return f"صادرکننده: {authority}. شرایط، هزینه و زمان صدور در این صفحه آمده است."


def _summary_en(spec: Spec, authorities) -> str:
    authority = authorities[spec.authority].name_en
    if spec.registration_based:
        return f"Issued at once on a complete registration; the {authority} supervises afterwards."
    return f"Issued by the {authority}. Its conditions, fee and time are on this page."
