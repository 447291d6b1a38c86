"""Permits indicators against an independent computation on a random dataset (issue 16, "Done
when": an independent computation from the rows equals every permits indicator).

The dataset is drawn from a seeded generator: issuing authorities (one an agency of the
service catalogue), permit types with published and superseded versions and their conditions,
applications in every state with their times, permits issued from them, violation reports
decided or not, and refused reintroduction attempts, spread around the report quarter (some
after the as-of date, which must not count). The expected figures are computed here in plain
Python from every row read back (no query of the app, no helper of the indicators): the
version in force by its publication time, the report quarter from the Jalali calendar, the
median with ``statistics.median`` and the 90th percentile as the smallest value with at least
90% of the values at or below it.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import statistics
from zoneinfo import ZoneInfo

import jdatetime
import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from panjereh.common import jalali
from panjereh.feedback.models import Complaint
from panjereh.oversight import indicators, opendata, reports
from panjereh.permits.models import (
    ApplicationState,
    Condition,
    ConditionKind,
    IssuedPermit,
    IssuingAuthority,
    PermitApplication,
    PermitKind,
    PermitType,
    PermitVersion,
    ReintroductionAttempt,
    RemovedCondition,
    Resolution,
)
from tests.factories import UserFactory, make_agency

pytestmark = pytest.mark.django_db

TEHRAN = ZoneInfo("Asia/Tehran")
PERMIT_CODES = [
    "permits_electronic",
    "permits_issued_online",
    "permits_registration_based",
    "permits_legal_days",
    "permits_issuing_median",
    "permits_issuing_p90",
    "permits_within_legal",
    "permits_handoffs_unanswered",
    "permits_violations_upheld",
    "permits_reattempts",
]
ALL_STATES = [s.value for s in ApplicationState]
KINDS = ["in_person", "payment", "removed_condition", "document_held"]
COMPLAINT_STATES = ["received", "under_review", "upheld", "not_upheld"]


def _instant(text: str, rng: random.Random | None = None) -> dt.datetime:
    """A Jalali day (``1404-02-10``) at a random (or fixed) time of day in Tehran."""
    day = jdatetime.date(*map(int, text.split("-"))).togregorian()
    seconds = rng.randrange(86400) if rng else 12 * 3600
    return dt.datetime.combine(day, dt.time.min, tzinfo=TEHRAN) + dt.timedelta(seconds=seconds)


def _random_moment(rng: random.Random, start: str = "1403-09-01", end: str = "1404-05-20"):
    a, b = _instant(start), _instant(end)
    return a + dt.timedelta(seconds=rng.randrange(int((b - a).total_seconds())))


def build(seed: int) -> None:
    """A random dataset written with the models directly."""
    rng = random.Random(seed)
    agency = make_agency(code=f"permits-agency-{seed}", name_fa="وزارت مجوز", name_en="Ministry")
    authorities = [
        IssuingAuthority.objects.create(
            code=f"auth-{seed}-{i}",
            name_fa=f"مرجع {'الف ب پ ت'.split()[i]}",
            name_en=f"Authority {i}",
            agency=agency if i == 0 else None,
            portal=rng.choice(["", "behinyab", "health"]),
        )
        for i in range(4)
    ]
    users = [UserFactory(username=f"u{seed}-{i}") for i in range(5)]
    resolution = Resolution.objects.create(
        body="deregulation_board", number=f"R{seed}", date=dt.date(2023, 1, 1)
    )
    removed = [
        RemovedCondition.objects.create(
            key=f"removed-{seed}-{i}",
            kind="document",
            wording_fa=f"شرط {i}",
            phrases=[],
            resolution=resolution,
        )
        for i in range(3)
    ]
    permits = []
    for n in range(rng.randrange(14, 22)):
        authority = rng.choice(authorities)
        permit = PermitType.objects.create(
            public_id=f"{seed:02d}{n:08d}",
            kind=rng.choice(PermitKind.values),
            authority=authority,
            title_fa=f"مجوز {n}",
        )
        versions = []
        count = rng.choice([1, 1, 2, 3])
        for number in range(1, count + 1):
            last = number == count
            state = rng.choice(["published", "draft"]) if last and count > 1 else "published"
            if not last:
                state = "superseded"
            reg = rng.random() < 0.3
            version = PermitVersion.objects.create(
                permit=permit,
                number=number,
                state=state,
                title_fa=permit.title_fa,
                registration_based=reg,
                legal_days=0 if reg and rng.random() < 0.7 else rng.choice([3, 7, 15, 30]),
                published_at=None
                if state == "draft"
                else _random_moment(rng, "1402-01-01", "1404-04-20"),
            )
            for position in range(rng.randrange(1, 5)):
                Condition.objects.create(
                    version=version,
                    position=position,
                    kind=rng.choice(ConditionKind.values),
                    text_fa=f"شرط {position}",
                )
            versions.append(version)
        # Publication times in the order of the numbers (a later version supersedes).
        dated = sorted(v.published_at for v in versions if v.published_at)
        for version, at in zip([v for v in versions if v.published_at], dated, strict=True):
            PermitVersion.objects.filter(pk=version.pk).update(published_at=at)
        published = next((v for v in reversed(versions) if v.state == "published"), None)
        if published is None:  # the last one is a draft: the one before it is in force
            PermitVersion.objects.filter(pk=versions[-2].pk).update(state="published")
            published = versions[-2]
        PermitType.objects.filter(pk=permit.pk).update(
            published_version=published,
            registration_based=published.registration_based,
            legal_days=published.legal_days,
        )
        permits.append((permit, versions))
    for n in range(rng.randrange(120, 200)):
        permit, versions = rng.choice(permits)
        version = rng.choice(versions)
        submitted = _random_moment(rng)
        state = rng.choice(ALL_STATES)
        decided = None
        if state in ("issued", "rejected", "withdrawn") or rng.random() < 0.1:
            decided = submitted + dt.timedelta(seconds=rng.randrange(1, 60 * 86400))
        due = None
        if version.legal_days and rng.random() < 0.9:
            due = submitted + dt.timedelta(days=version.legal_days)
        application = PermitApplication.objects.create(
            reference=f"P{seed:02d}-{n:06d}",
            permit=permit,
            version=version,
            authority=permit.authority,
            applicant=rng.choice(users),
            title="کسب",
            state=state,
            submitted_at=submitted,
            due_by=due,
            decided_at=decided,
            send_attempts=rng.choice([0, 0, 1, 3]),
        )
        if state == "issued" or rng.random() < 0.05:
            issued_at = decided or submitted + dt.timedelta(seconds=rng.randrange(1, 40 * 86400))
            if rng.random() < 0.1:  # issued the same second
                issued_at = submitted
            IssuedPermit.objects.create(
                number=f"{seed:02d}{n:010d}",
                permit=permit,
                authority=permit.authority,
                application=application,
                holder_name="x",
                issued_at=issued_at,
                valid_from=dt.date(2025, 1, 1),
            )
    # Permits with no application (history loaded from elsewhere) do not count.
    for n in range(5):
        permit, _versions = rng.choice(permits)
        IssuedPermit.objects.create(
            number=f"9{seed:02d}{n:09d}",
            permit=permit,
            authority=permit.authority,
            holder_name="y",
            issued_at=_random_moment(rng),
            valid_from=dt.date(2025, 1, 1),
        )
    applications = list(PermitApplication.objects.all())
    for n in range(rng.randrange(20, 40)):
        application = rng.choice(applications)
        created = _random_moment(rng)
        state = rng.choice(COMPLAINT_STATES)
        with_authority = rng.random() < 0.85
        Complaint.objects.create(
            tracking_code=f"C-{seed:02d}{n:05d}0",
            user=application.applicant,
            agency=agency if not with_authority or application.authority.agency_id else None,
            authority=application.authority if with_authority else None,
            permit_application=application if with_authority else None,
            kind=rng.choice(KINDS),
            description="d",
            state=state,
            created_at=created,
            decided_at=created + dt.timedelta(days=rng.randrange(0, 50))
            if state in ("upheld", "not_upheld")
            else None,
        )
    for _attempt in range(rng.randrange(5, 15)):
        permit, _versions = rng.choice(permits)
        attempt = ReintroductionAttempt.objects.create(
            authority=permit.authority,
            permit=permit if rng.random() < 0.8 else None,
            permit_title=permit.title_fa,
            condition_text="x",
            removed=rng.choice(removed),
        )
        ReintroductionAttempt.objects.filter(pk=attempt.pk).update(at=_random_moment(rng))


# --- the independent computation --------------------------------------------------------


def report_quarter(as_of: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of the three Jalali months ending with the report month: the month of
    ``as_of`` if it is that month's last day, else the month before."""
    day = jdatetime.date.fromgregorian(date=as_of.astimezone(TEHRAN).date())
    tomorrow = day + dt.timedelta(days=1)
    y, m = (day.year, day.month) if tomorrow.month != day.month else (
        (day.year - 1, 12) if day.month == 1 else (day.year, day.month - 1)
    )  # fmt: skip
    index = y * 12 + m - 1
    fy, fm = divmod(index - 2, 12)
    ny, nm = divmod(index + 1, 12)

    def first(year, month):
        return dt.datetime.combine(
            jdatetime.date(year, month, 1).togregorian(), dt.time.min, tzinfo=TEHRAN
        )

    return first(fy, fm + 1), min(first(ny, nm + 1), as_of + dt.timedelta(microseconds=1))


def p90(values):
    ordered = sorted(values)
    return next(x for x in ordered if sum(1 for v in values if v <= x) >= 0.9 * len(values))


def expected(as_of: dt.datetime) -> dict:
    """Every permits indicator, per authority id and nationally (key None), from the rows."""
    start, end = report_quarter(as_of)
    in_force = {}
    for v in PermitVersion.objects.all():
        if v.state == "draft" or v.published_at is None or v.published_at > as_of:
            continue
        kept = in_force.get(v.permit_id)
        if kept is None or (v.published_at, v.number) > (kept.published_at, kept.number):
            in_force[v.permit_id] = v
    kinds = {}
    for c in Condition.objects.all():
        kinds.setdefault(c.version_id, set()).add(c.kind)
    authority_of = {p.pk: p.authority_id for p in PermitType.objects.all()}
    types = [
        {
            "permit": pid,
            "authority": authority_of[pid],
            "reg": v.registration_based,
            "legal": v.legal_days,
            "electronic": v.registration_based or "inspection" not in kinds.get(v.pk, set()),
        }
        for pid, v in in_force.items()
    ]
    issued = []
    for p in IssuedPermit.objects.all():
        if p.application_id is None or not (start <= p.issued_at < end):
            continue
        app = PermitApplication.objects.get(pk=p.application_id)
        issued.append(
            {
                "authority": p.authority_id,
                "permit": p.permit_id,
                "seconds": (p.issued_at - app.submitted_at).total_seconds(),
                "legal": PermitVersion.objects.get(pk=app.version_id).legal_days,
            }
        )
    handoffs = []
    handed_off = {
        "routing",
        "at_portal",
        "under_review",
        "information_requested",
        "inspection_scheduled",
    }
    for a in PermitApplication.objects.all():
        if a.submitted_at > as_of or a.state == "awaiting_payment":
            continue
        if a.decided_at is not None:
            if a.decided_at <= as_of:
                continue
        elif a.state not in handed_off:
            continue
        late = a.due_by is not None and a.due_by < as_of
        stuck = a.state == "routing" and a.send_attempts > 0 and a.decided_at is None
        handoffs.append({"authority": a.authority_id, "unanswered": late or stuck})
    complaints = [
        {
            "authority": c.authority_id,
            "upheld": c.state == "upheld" and c.decided_at is not None and c.decided_at <= as_of,
        }
        for c in Complaint.objects.all()
        if c.authority_id
        and c.kind in ("in_person", "payment", "removed_condition")
        and c.created_at <= as_of
    ]
    attempts = [a.authority_id for a in ReintroductionAttempt.objects.all() if a.at <= as_of]

    def share(num, den):
        return (round(100.0 * num / den, 1) if den else None, num, den)

    out = {}
    for key in [None, *IssuingAuthority.objects.values_list("pk", flat=True)]:

        def mine(rows, key=key):
            return [r for r in rows if key is None or r["authority"] == key]

        t, i = mine(types), mine(issued)
        ids = {r["permit"] for r in issued}
        legal = [r["legal"] for r in t if r["legal"] > 0]
        seconds = [r["seconds"] for r in i]
        timed = [r for r in i if r["legal"] > 0]
        h, c = mine(handoffs), mine(complaints)
        n_attempts = sum(1 for a in attempts if key is None or a == key)
        out[key] = {
            "permits_electronic": share(sum(r["electronic"] for r in t), len(t)) if t else None,
            "permits_issued_online": share(sum(r["permit"] in ids for r in t), len(t))
            if t
            else None,
            "permits_registration_based": share(sum(r["reg"] for r in t), len(t)) if t else None,
            "permits_legal_days": (round(float(statistics.median(legal)), 1), None, len(legal))
            if legal
            else None,
            "permits_issuing_median": (round(statistics.median(seconds) / 86400, 1), None, len(i))
            if i
            else None,
            "permits_issuing_p90": (round(p90(seconds) / 86400, 1), None, len(i)) if i else None,
            "permits_within_legal": share(
                sum(r["seconds"] <= r["legal"] * 86400 for r in timed), len(timed)
            )
            if timed
            else None,
            "permits_handoffs_unanswered": (
                sum(r["unanswered"] for r in h),
                sum(r["unanswered"] for r in h),
                len(h),
            ),
            "permits_violations_upheld": (
                sum(r["upheld"] for r in c),
                sum(r["upheld"] for r in c),
                len(c),
            ),
            "permits_reattempts": (n_attempts, n_attempts, None),
        }
    return out


def _triple(value: indicators.Value):
    if not value.available:
        return None
    return (value.value, value.numerator, value.denominator)


AS_OF_DAYS = ["1404-03-31", "1404-02-15", "1403-12-29"]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_permits_indicator_equals_an_independent_computation(seed):
    build(seed)
    for day in AS_OF_DAYS:
        as_of = jalali.end_of_day(day)
        want = expected(as_of)
        result = indicators.compute(as_of)
        assert [a.info.id for a in result.authorities] == list(
            IssuingAuthority.objects.order_by("name_fa", "id").values_list("pk", flat=True)
        )
        for code in PERMIT_CODES:
            assert _triple(result.national[code]) == want[None][code], (day, code)
            for row in result.authorities:
                assert _triple(row.values[code]) == want[row.info.id][code], (
                    day,
                    code,
                    row.info.code,
                )
        # Something was actually measured (the dataset is not empty where it matters).
        if day == "1404-03-31":
            assert result.national["permits_issuing_median"].available
            assert result.national["permits_handoffs_unanswered"].denominator


def test_the_independent_quarter_and_percentile_agree_on_small_cases():
    """The test's own helpers, checked by hand: the quarter ending on a quarter's last day, the
    last complete months mid-month, and the nearest-rank 90th percentile."""
    start, end = report_quarter(jalali.end_of_day("1404-03-31"))
    assert jdatetime.date.fromgregorian(date=start.date()) == jdatetime.date(1404, 1, 1)
    start, _end = report_quarter(jalali.end_of_day("1404-02-15"))
    assert jdatetime.date.fromgregorian(date=start.date()) == jdatetime.date(1403, 11, 1)
    assert p90(list(range(1, 11))) == 9 and p90([5]) == 5 and p90(list(range(1, 21))) == 18
    assert indicators.permits.nearest_rank(list(range(1, 11)), 0.9) == 9
    assert math.isclose(indicators.permits.median([1, 2, 3, 4]), 2.5)


def test_no_permits_rows_is_no_data_not_zero(db):
    result = indicators.compute(jalali.end_of_day("1404-03-31"))
    assert result.authorities == []
    for code in ("permits_electronic", "permits_issuing_median", "permits_within_legal"):
        assert result.national[code].available is False
    assert result.national["permits_reattempts"].value == 0


def test_pages_open_data_and_report_show_the_authorities_figures(seed=4):
    cache.clear()  # the pages keep a result a few minutes
    build(seed)
    result = indicators.compute(jalali.end_of_day("1404-03-31"))
    rows = opendata.permit_rows(result)
    assert [r["authority_code"] for r in rows] == [a.info.code for a in result.authorities]
    first = result.authorities[0]
    assert rows[0]["permits_electronic_pct"] == first.values["permits_electronic"].value
    assert rows[0]["violations_upheld"] == first.values["permits_violations_upheld"].value
    assert not any("user" in k or "applicant" in k or "holder" in k for k in rows[0])
    client = Client()
    page = client.get(reverse("transparency:permits"), {"as_of": "1404-03-31"})
    assert page.status_code == 200
    text = page.content.decode()
    for a in result.authorities:
        assert a.info.name_fa in text
    assert reverse("permits:removed") in text
    csv_text = client.get(reverse("transparency:open_data_permits_csv"), {"as_of": "1404-03-31"})
    assert csv_text.status_code == 200
    header = csv_text.content.decode("utf-8-sig").splitlines()[0]
    assert header.split(",")[0] == "as_of" and "authority_code" in header
    data = client.get(
        reverse("transparency:open_data_permits_json"), {"as_of": "1404-03-31"}
    ).json()
    assert [r["authority_code"] for r in data["authorities"]] == [r["authority_code"] for r in rows]
    package = client.get(reverse("transparency:open_data_package")).json()
    assert any(r["name"] == "permits-authorities" for r in package["resources"])
    # The quarterly report's coverage of business licences reads the same permits figures,
    # the catalogue-card count kept beside it.
    context = reports.quarterly_context(1404, 1)
    licences = context["licences"]
    assert licences["permit_types"] == result.national["permits_electronic"].denominator
    assert licences["electronic"].numerator == result.national["permits_electronic"].numerator
    assert licences["issued_online"].value == result.national["permits_issued_online"].value
    assert "connectable" in context["business"]
    quarterly = client.get(reverse("transparency:quarterly", args=[1404, 1])).content.decode()
    assert 'id="licence-coverage"' in quarterly
    index = client.get(reverse("transparency:index")).content.decode()
    assert reverse("permits:removed") in index and reverse("transparency:permits") in index
