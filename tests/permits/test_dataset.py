"""The generated national permits catalogue reproduces the seed's figures."""

from __future__ import annotations

import pytest

from panjereh.catalogue import roles
from panjereh.permits import dataset, operations, queries
from panjereh.permits.models import Condition, PermitType, RemovedCondition
from panjereh.permits.search import search_permits

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        report = dataset.seed_permits_catalogue(replace=True)
    yield report
    with django_db_blocker.unblock():
        dataset.clear()


def test_counts_are_the_seeds(seeded):
    counts = queries.counts()
    assert counts.by_kind == {"home_business": 520, "guild": 3000, "agency": 1600}
    assert counts.by_kind["guild"] + counts.by_kind["agency"] == 4600
    assert counts.registration_based == 518
    first_versions = Condition.objects.filter(version__number=1).count()
    assert first_versions == 33_000
    assert counts.removals == 1_000
    assert counts.conditions_published == 32_000
    assert counts.removed_conditions == 25
    # Every removed condition row of a first version is in the register, and none is live.
    assert Condition.objects.exclude(register_key="").count() == 1_000
    assert (
        not Condition.objects.filter(version__state="published").exclude(register_key="").exists()
    )


def test_it_is_deterministic(seeded):
    first = PermitType.objects.order_by("public_id").values_list("title_fa", flat=True)[:5]
    specs = dataset.build_specs()
    assert list(first) == [spec.title_fa for spec in specs[:5]]


def test_every_permit_has_one_published_version(seeded):
    assert not PermitType.objects.filter(published_version__isnull=True).exists()
    assert PermitType.objects.filter(published_version__state="published").count() == 5120


def test_search_over_the_national_catalogue(seeded):
    found = search_permits("داروخانه")
    titles = list(
        PermitType.objects.filter(pk__in=found.service_pks[:3]).values_list("title_fa", flat=True)
    )
    assert found.total >= 13 and all("داروخانه" in title for title in titles)
    assert search_permits("", registration_based=True).total == 518


def test_a_removed_condition_cannot_come_back_to_a_generated_permit(seeded):
    removal = RemovedCondition.objects.get(key="notarised-lease")
    permit = removal.permit_types.first()
    draft = operations.start_version(roles.SYSTEM, permit)
    rows = [
        {"kind": c.kind, "text_fa": c.text_fa, "basis_fa": c.basis_fa}
        for c in draft.conditions.all()
    ]
    with pytest.raises(operations.Reintroduced) as refused:
        operations.update_draft(
            roles.SYSTEM,
            draft,
            fields={"title_fa": draft.title_fa, "legal_days": draft.legal_days},
            conditions=[
                *rows,
                {"kind": "document", "text_fa": "قرارداد اجاره محضری", "basis_fa": "x"},
            ],
        )
    assert refused.value.removed == removal
