"""The national profile counts to the supervisory report's figures, now and as of Khordad 1404,
and tells a history: fewer agencies and services were connected in earlier years.

The national dataset is seeded once for this module inside a transaction that is rolled back at
the end, so no other test sees it.
"""

from __future__ import annotations

import io
import json
import time

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, F, Min, Q

from panjereh.catalogue import lint, queries
from panjereh.catalogue.models import Agency, AgencyVersion, Service, ServiceVersion
from panjereh.catalogue.rules import check_service, is_valid_service_id
from panjereh.common import jalali
from panjereh.demo import dataset

pytestmark = pytest.mark.django_db

# The 35 agencies the report lists as "not applicable" (footnote 2 of the Art. 5 section), with
# the ZWNJs the source text lost put back.
NOT_APPLICABLE_FA = {
    "حوزه هنری سازمان تبلیغات اسلامی",
    "سازمان پزشکی قانونی",
    "سازمان قضایی نیروهای مسلح",
    "سازمان زندان‌ها و اقدامات تأمینی و تربیتی کشور",
    "سازمان جمع‌آوری و فروش اموال تملیکی",
    "سازمان سرمایه‌گذاری و کمک‌های اقتصادی و فنی ایران",
    "شرکت مادر تخصصی سرمایه‌گذاری‌های خارجی ایران",
    "سازمان حسابرسی",
    "سازمان نوسازی، توسعه و تجهیز مدارس کشور",
    "شرکت مادر تخصصی ساخت و توسعه زیربناهای حمل‌ونقل کشور",
    "شرکت فرودگاه‌ها و ناوبری هوایی ایران",
    "سازمان مجری ساختمان‌ها و تأسیسات دولتی و عمومی",
    "سازمان ملی زمین و مسکن",
    "سازمان گسترش و نوسازی صنایع ایران",
    "مؤسسه پژوهش و برنامه‌ریزی آموزش عالی",
    "سازمان خبرگزاری جمهوری اسلامی",
    "سازمان فرهنگ و ارتباطات اسلامی",
    "شرکت ملی نفت",
    "شرکت مهندسی و توسعه گاز ایران",
    "شرکت نفت خزر",
    "شرکت نفت فلات قاره ایران",
    "شرکت نفت و گاز پارس",
    "شرکت مهندسی و توسعه نفت",
    "شرکت خطوط لوله و مخابرات نفت ایران",
    "شرکت نفت و گاز اروندان",
    "شرکت پالایشگاه گاز",
    "شرکت ملی مهندسی و ساختمان نفت ایران",
    "شرکت ملی حفاری ایران",
    "شرکت نفت مناطق مرکزی ایران",
    "شرکت انتقال گاز",
    "شرکت بازرگانی گاز ایران",
    "شرکت پایانه‌های نفتی ایران",
    "شرکت ملی مناطق نفت‌خیز جنوب",
    "شرکت تولید نیروی برق حرارتی",
    "سازمان مدیریت بحران کشور",
}

REPORT = {
    "agencies": {
        "in_scope": 186,
        "connected": 149,
        "not_connected": 2,
        "not_applicable": 35,
        "applicable": 151,
        "connected_with_own_agency_window": 127,
    },
    "services": {
        "with_service_id": 4715,
        "connectable": 3505,
        "connected": 2127,
        "smart_approved": 780,
    },
    "connection_buckets": {
        "of_connected_agencies": 149,
        "all_connectable_services_connected_100pct": 86,
        "under_20pct_connected": 13,
    },
    "smart_buckets": {
        "all_services_smart_100pct": 19,
        "above_0_under_20pct_smart": 8,
        "zero_smart": 28,
        "under_20pct_smart_total": 36,
    },
    "other_connected_entities": {
        "municipalities": 47,
        "agent_banks": 10,
        "universities": 235,
        "hospital_centres": 188,
    },
}


@pytest.fixture(scope="module")
def national(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        with transaction.atomic():
            started = time.perf_counter()
            result = dataset.seed("national")
            seconds = time.perf_counter() - started
            yield {"result": result, "seconds": seconds}
            transaction.set_rollback(True)


def _subset(figures: dict, expected: dict) -> dict:
    return {section: {k: figures[section][k] for k in keys} for section, keys in expected.items()}


def test_seeds_quickly(national):
    assert national["seconds"] < 60, national["seconds"]
    assert national["result"].services == 6067


def test_stats_equal_the_report_now_and_at_the_end_of_khordad_1404(national):
    now = queries.stats().as_dict()
    assert _subset(now, REPORT) == REPORT
    at_report = queries.stats(jalali.end_of_day("1404-03-31"), "1404-03-31").as_dict()
    assert _subset(at_report, REPORT) == REPORT
    # The shares the report prints (61 % and 22 %) follow from the counts.
    assert round(now["services"]["connected_share_pct"]) == 61
    assert round(now["services"]["smart_share_pct"]) == 22


def test_independent_raw_counts(national):
    """Counted straight from the tables, without queries.py."""
    in_scope = Agency.objects.filter(in_scope=True)
    assert in_scope.count() == 186
    connected = in_scope.filter(connection_status="connected")
    assert connected.count() == 149
    assert connected.exclude(own_window_url="").count() == 127
    assert set(
        in_scope.filter(connection_status="not_connected").values_list("name_fa", flat=True)
    ) == {"شرکت هواپیمایی خدمات ویژه", "ستاد وزارت امور خارجه"}
    airline = Agency.objects.get(name_fa="شرکت هواپیمایی خدمات ویژه")
    assert airline.parent.name_fa == "وزارت جهاد کشاورزی"
    not_applicable = in_scope.filter(connection_status="not_applicable")
    assert set(not_applicable.values_list("name_fa", flat=True)) == NOT_APPLICABLE_FA
    assert not not_applicable.filter(connection_reason="").exists()
    assert not not_applicable.filter(parent=None).exists()

    cards = Service.objects.filter(agency__in_scope=True).exclude(service_id=None)
    assert cards.count() == 4715
    assert cards.filter(scope="connectable").count() == 3505
    assert cards.filter(scope="connectable", connected=True).count() == 2127
    assert cards.filter(scope="connectable", smart_status="approved").count() == 780
    assert Service.objects.count() > 4715  # and some listed cards have no ID yet
    assert not Service.objects.filter(smart_status="approved", connected=False).exists()
    assert (
        not Service.objects.filter(connected=True)
        .exclude(agency__connection_status="connected")
        .exists()
    )

    per_agency = connected.annotate(
        n=Count("services", filter=Q(services__scope="connectable", services__service_id__gt="")),
        c=Count(
            "services",
            filter=Q(
                services__scope="connectable",
                services__service_id__gt="",
                services__connected=True,
            ),
        ),
        s=Count(
            "services",
            filter=Q(
                services__scope="connectable",
                services__service_id__gt="",
                services__smart_status="approved",
            ),
        ),
    ).values_list("n", "c", "s")
    rows = list(per_agency)
    assert min(n for n, _, _ in rows) >= 1
    assert sum(1 for n, c, _ in rows if c == n) == 86
    assert sum(1 for n, c, _ in rows if 5 * c < n) == 13
    assert sum(1 for n, _, s in rows if s == n) == 19
    assert sum(1 for n, _, s in rows if 0 < s and 5 * s < n) == 8
    assert sum(1 for n, _, s in rows if s == 0) == 28

    others = Agency.objects.filter(in_scope=False, connection_status="connected")
    counts = dict(others.values_list("kind").annotate(k=Count("id")))
    assert counts == {"municipality": 47, "agent_bank": 10, "university": 235, "hospital": 188}
    assert Agency.objects.filter(name_fa="شهرداری تبریز", kind="municipality").exists()
    assert Agency.objects.filter(name_fa="بانک ملی ایران", kind="agent_bank").exists()
    assert Agency.objects.filter(name_fa="دانشگاه تهران", kind="university").exists()
    # Every agency has a unique exchange address.
    members = list(Agency.objects.values_list("member_class", "member_code"))
    assert len(members) == len(set(members)) and all(code for _, code in members)


def test_ministries_group_their_subsidiaries(national):
    ministries = Agency.objects.filter(kind="ministry", parent=None)
    assert ministries.count() >= 17
    assert not ministries.filter(in_scope=True).exists()
    petroleum = Agency.objects.get(name_fa="وزارت نفت")
    assert petroleum.name_en == "Ministry of Petroleum"
    assert petroleum.children.filter(connection_status="not_applicable").count() == 16


def test_every_card_passes_the_rules_and_lint_finds_nothing(national):
    assert lint.lint() == []
    sample = Service.objects.filter(smart_status="approved")[:200]
    for service in sample:
        assert check_service(service) == []
        assert is_valid_service_id(service.service_id)
        assert not service.documents_required and not service.in_person_steps


def test_versions_match_the_current_rows(national):
    """The last version of every card is a snapshot of the card, as operations would write."""
    latest = dict(
        ServiceVersion.objects.filter(version=F("service__version")).values_list(
            "service_id", "data"
        )
    )
    cards = Service.objects.values_list(
        "pk", "service_id", "connected", "smart_status", "agency__code", "title_fa"
    )
    assert len(latest) == len(cards)
    for pk, service_id, connected, smart, agency, title in cards:
        data = latest[pk]
        assert (data["service_id"], data["connected"], data["smart_status"]) == (
            service_id,
            connected,
            smart,
        )
        assert (data["agency"], data["title_fa"]) == (agency, title)
    agency_versions = AgencyVersion.objects.values("agency_id").annotate(n=Count("id"))
    assert {a["agency_id"]: a["n"] for a in agency_versions} == dict(
        Agency.objects.values_list("id", "version")
    )


def test_no_card_was_connected_before_its_agency(national):
    agency_connected = dict(
        AgencyVersion.objects.filter(connection_status="connected")
        .values("agency_id")
        .annotate(first=Min("valid_from"))
        .values_list("agency_id", "first")
    )
    card_connected = (
        ServiceVersion.objects.filter(connected=True)
        .values("agency_id")
        .annotate(first=Min("valid_from"))
        .values_list("agency_id", "first")
    )
    for agency_id, first in card_connected:
        assert agency_connected[agency_id] <= first


def test_earlier_moments_show_fewer_connections(national):
    at_1402 = queries.stats(jalali.end_of_day("1402-06-31"), "1402-06-31").as_dict()
    at_1403 = queries.stats(jalali.end_of_day("1403-06-31"), "1403-06-31").as_dict()
    assert at_1402["agencies"]["connected"] < at_1403["agencies"]["connected"] < 149
    assert at_1402["services"]["connected"] < at_1403["services"]["connected"] < 2127
    assert at_1402["services"]["smart_approved"] < at_1403["services"]["smart_approved"] < 780
    # The not-applicable list was settled with the 7th Plan bylaw (Dey 1403).
    assert at_1402["agencies"]["not_applicable"] == 0
    # Shahrivar 1401: the Industries and Mines Commission counted 29 connected agencies.
    at_1401 = queries.stats(jalali.end_of_day("1401-06-29")).as_dict()
    assert at_1401["agencies"]["connected"] == 29
    # Reproducible: the same question gives the same answer.
    again = queries.stats(jalali.end_of_day("1402-06-31"), "1402-06-31").as_dict()
    assert again == at_1402


def test_flagship_history(national):
    card = Service.objects.get(title_fa="صدور گواهی ولادت نوزاد")
    history = list(card.versions.order_by("version"))
    assert [v.connected for v in history][:2] == [False, True]
    assert history[-1].smart_status == "approved"
    assert jalali.iso(history[0].valid_from) == "1402-05-17"
    assert queries.stats(jalali.end_of_day("1403-01-01")).as_dict()["services"]["connected"] > 0
    before = (
        Service.objects.filter(pk=card.pk)
        .get()
        .versions.filter(valid_from__lte=jalali.end_of_day("1403-06-31"))
    )
    assert [v.smart_status for v in before] == ["none"]


def test_stats_command_prints_the_same_figures(national):
    out = io.StringIO()
    call_command("catalogue", "stats", "--format", "json", stdout=out)
    assert json.loads(out.getvalue()) == queries.stats().as_dict()
    out = io.StringIO()
    call_command("catalogue", "stats", "--format", "json", "--as-of", "۱۴۰۲/۰۶/۳۱", stdout=out)
    printed = json.loads(out.getvalue())
    assert printed["as_of"] == "1402-06-31"
    assert printed == queries.stats(jalali.end_of_day("1402-06-31"), "1402-06-31").as_dict()
