"""The small profile: fast, deterministic, with the flagship cards, and every card lawful."""

from __future__ import annotations

import io
import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from panjereh.catalogue import lint, operations, queries, transfer
from panjereh.catalogue.models import Agency, Service
from panjereh.catalogue.vocab import SmartStatus
from panjereh.common import jalali
from panjereh.common.persian import search_key
from panjereh.demo import dataset

pytestmark = pytest.mark.django_db


def test_small_profile_is_fast_and_has_the_flagships():
    started = time.perf_counter()
    result = dataset.seed("small")
    assert time.perf_counter() - started < 3
    assert 15 <= Agency.objects.filter(in_scope=True).count() <= 25
    assert 150 <= result.services <= 250

    birth = Service.objects.get(title_fa="صدور گواهی ولادت نوزاد")
    assert birth.agency.code == "nocr"
    assert [i["item"] for i in birth.inputs] == ["health.birth_record", "civil.identity"]
    assert birth.is_smart and birth.connected
    for title, agency in [
        ("گواهی عدم سوء پیشینه", "judiciary"),
        ("گواهی اشتغال به تحصیل", "msrt-hq"),
        ("گواهی وضعیت ایثارگری", "martyrs"),
    ]:
        card = Service.objects.get(title_fa=title)
        assert card.agency.code == agency and card.is_smart
    manual = Service.objects.get(agency__code="relief", title_en__contains="case worker")
    assert manual.smart_status == SmartStatus.NONE and manual.in_person_steps
    assert lint.lint() == []


def test_rows_are_what_operations_would_write():
    dataset.seed("small")
    for service in Service.objects.select_related("agency", "parent"):
        service.full_clean(exclude=["search_key"])
        assert service.search_key == operations.service_search_key(service)
        assert service.versions.order_by("version").last().data == operations.service_snapshot(
            service
        )
        assert service.versions.count() == service.version
    for agency in Agency.objects.select_related("parent"):
        agency.full_clean(exclude=["search_key"])
        assert agency.search_key == search_key(f"{agency.name_fa} {agency.name_en} {agency.code}")
        assert agency.versions.order_by("version").last().data == operations.agency_snapshot(agency)
    # A later write through operations continues the version numbers.
    service = Service.objects.exclude(service_id=None).first()
    version = service.version
    operations.save_service(service, {"title_en": "Renamed"}, author=operations.SYSTEM)
    assert service.versions.count() == version + 1


def test_same_seed_same_rows_other_seed_other_rows():
    dataset.seed("small", seed=7)
    first = transfer.export("services", "json")
    first_stats = queries.stats(jalali.end_of_day("1402-12-29")).as_dict()
    dataset.clear_catalogue()
    dataset.seed("small", seed=7)
    assert transfer.export("services", "json") == first
    assert queries.stats(jalali.end_of_day("1402-12-29")).as_dict() == first_stats
    dataset.clear_catalogue()
    dataset.seed("small", seed=8)
    assert transfer.export("services", "json") != first


def test_seed_command_refuses_a_full_catalogue_unless_replacing():
    out = io.StringIO()
    call_command("seed", "--profile", "small", stdout=out)
    assert "small" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("seed", "--profile", "small", stdout=io.StringIO())
    call_command("seed", "--profile", "small", "--replace", "--seed", "3", stdout=io.StringIO())
    assert Service.objects.filter(title_fa="صدور گواهی ولادت نوزاد").count() == 1
