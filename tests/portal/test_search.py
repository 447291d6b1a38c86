"""The catalogue search engine: Persian spellings, digits, IDs, typos, filters, freshness."""

from __future__ import annotations

import pytest
from django.db.models.signals import post_delete, post_save

from panjereh.catalogue import operations, search
from panjereh.catalogue.models import Agency, Service
from panjereh.catalogue.search import MAX_QUERY_LENGTH, search_services
from panjereh.common.persian import search_key, to_persian_digits
from tests.factories import make_service

pytestmark = pytest.mark.django_db

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def pks(query: str, **filters) -> list[int]:
    return search_services(query, **filters).service_pks


@pytest.mark.parametrize(
    "query",
    [
        "گواهی ولادت",
        "گواهي ولادت",  # Arabic Yeh
        "گواهی‌ولادت",  # ZWNJ
        "گواهیولادت",  # no space
        "  گواهى   ولادت ",  # Alef Maksura, extra spaces
        "گَواهی وِلادت",  # diacritics
        "گواهـی ولادت",  # tatweel
    ],
)
def test_spellings_of_birth_certificate_find_the_same_services(catalogue, query):
    assert pks(query) == pks("گواهی ولادت")
    assert pks(query)[0] == catalogue.birth_certificate.pk


@pytest.mark.parametrize("query", ["کارت ملی", "كارت ملي", "کارت‌ملی", "کارتملی"])
def test_zwnj_space_or_nothing_between_word_parts(catalogue, query):
    assert pks(query) == [catalogue.id_card.pk]


@pytest.mark.parametrize("query", ["فرم 101", "فرم ۱۰۱", "فرم ١٠١", "فرم۱۰۱"])
def test_persian_arabic_and_latin_digits_meet(catalogue, query):
    assert pks(query) == [catalogue.tax_form.pk]


def test_service_id_in_any_digits_and_with_separators_comes_first(catalogue):
    sid = catalogue.company.service_id
    forms = [
        sid,
        to_persian_digits(sid),
        sid.translate(ARABIC_INDIC),
        f"{sid[:3]}-{sid[3:6]}-{sid[6:]}",
        f"{to_persian_digits(sid[:5])} {to_persian_digits(sid[5:])}",
    ]
    for form in forms:
        assert pks(form)[0] == catalogue.company.pk, form


def test_service_id_beats_a_title_that_contains_the_same_digits(catalogue):
    sid = catalogue.exchange.service_id
    decoy = make_service(catalogue.civil, title_fa=f"خدمت شماره {sid}")
    search.invalidate()
    found = pks(sid)
    assert found[0] == catalogue.exchange.pk
    assert decoy.pk in found


@pytest.mark.parametrize(
    "typo",
    [
        "گواهی ولادط",  # substituted letter
        "گواهی ولات",  # dropped letter
        "گواهی ولاادت",  # doubled letter
        "گواهی ولدات",  # swapped letters
    ],
)
def test_small_typos_still_find_the_service(catalogue, typo):
    result = search_services(typo)
    assert result.service_pks[:1] == [catalogue.birth_certificate.pk]
    assert result.fuzzy


def test_two_words_typed_without_a_space(catalogue):
    # Adjacent words squashed together still meet the title (and the description).
    assert pks("ولادتنوزاد") == [catalogue.birth_registration.pk, catalogue.birth_certificate.pk]
    # Not adjacent in the title: «کارتملی» is cut into the title words «کارت» and «ملی».
    reordered = make_service(catalogue.civil, title_fa="صدور کارت هوشمند ملی")
    assert pks("کارتملی") == [catalogue.id_card.pk, reordered.pk]


def test_typo_in_an_english_query(catalogue):
    assert pks("birht certificate")[:1] == [catalogue.birth_certificate.pk]


def test_unrelated_words_find_nothing(catalogue):
    assert pks("هواپیما") == []
    assert pks("zzzzqqq") == []


def test_ranking_prefers_title_over_description_and_agency(catalogue):
    # «ولادت» is in two titles; «ثبت» is in a title and in an agency name.
    found = pks("ثبت")
    assert found.index(catalogue.birth_registration.pk) < found.index(
        catalogue.birth_certificate.pk
    )
    found = pks("نوزاد")
    assert found[0] == catalogue.birth_registration.pk  # title, then description
    assert catalogue.birth_certificate.pk in found


def test_title_prefix_ranks_above_substring(catalogue):
    starts = make_service(catalogue.civil, title_fa="ولادت و ثبت نام")
    search.invalidate()
    assert pks("ولادت")[0] == starts.pk


def test_english_titles_are_searched(catalogue):
    assert pks("birth certificate")[0] == catalogue.birth_certificate.pk
    assert pks("BIRTH") == pks("birth") != []


def test_filter_by_agency_includes_subsidiaries(catalogue):
    found = set(pks("", agency_pk=catalogue.health.pk))
    assert found == {catalogue.exchange.pk, catalogue.exempt.pk, catalogue.hospital_record.pk}
    assert set(pks("", agency_pk=catalogue.university.pk)) == {catalogue.hospital_record.pk}
    assert pks("پرونده", agency_pk=catalogue.civil.pk) == []


def test_filter_by_recipient_smart_and_life_event(catalogue):
    assert set(pks("", recipient="G2B")) == {catalogue.tax_form.pk, catalogue.company.pk}
    assert set(pks("", recipient="G2G")) == {catalogue.exchange.pk}
    assert set(pks("", smart=True)) == {
        catalogue.birth_certificate.pk,
        catalogue.hospital_record.pk,
    }
    assert set(pks("", life_event="birth")) == {
        catalogue.birth_certificate.pk,
        catalogue.birth_registration.pk,
    }
    assert pks("ولادت", smart=True) == [catalogue.birth_certificate.pk]
    assert pks(catalogue.company.service_id, recipient="G2C") == []


def test_agencies_are_found_by_name(catalogue):
    result = search_services("ثبت احوال")
    assert result.agency_pks == [catalogue.civil.pk]
    assert search_services("وزارت بهداشت").agency_pks == [catalogue.health.pk]


def test_index_follows_catalogue_changes(catalogue):
    assert pks("گذرنامه") == []
    passport = make_service(catalogue.civil, title_fa="صدور گذرنامه")
    # No explicit invalidation: the save itself must make the next search see the card.
    assert pks("گذرنامه") == [passport.pk]


def test_index_notices_writes_made_by_other_processes(catalogue, monkeypatch):
    """Another worker's save reaches this process only through the database: with the
    signal receivers out of the way, the signature check must still see the change."""
    monkeypatch.setattr(search, "STALE_CHECK_SECONDS", 0.0)
    search.get_index()
    receivers = [
        (signal, model, f"search-public-{kind}-{model}")
        for signal, kind in ((post_save, "save"), (post_delete, "del"))
        for model in (Service, Agency)
    ]
    for signal, model, uid in receivers:
        assert signal.disconnect(sender=model, dispatch_uid=uid)
    try:
        operations.save_service(
            catalogue.company, {"title_fa": "ثبت موسسه غیرتجاری"}, author=operations.SYSTEM
        )
        assert pks("موسسه غیرتجاری") == [catalogue.company.pk]
        operations.save_agency(
            catalogue.registry, {"name_fa": "سازمان ثبت اسناد"}, author=operations.SYSTEM
        )
        assert search_services("سازمان ثبت اسناد").agency_pks == [catalogue.registry.pk]
    finally:
        for signal, model, uid in receivers:
            signal.connect(search.public_changed, sender=model, dispatch_uid=uid)


def test_index_is_reused_while_the_catalogue_is_unchanged(catalogue, monkeypatch):
    monkeypatch.setattr(search, "STALE_CHECK_SECONDS", 0.0)
    first = search.get_index()
    assert search.get_index() is first
    make_service(catalogue.civil, title_fa="صدور گذرنامه")
    second = search.get_index()
    assert second is not first and second.snapshot != first.snapshot


def test_huge_and_odd_queries_are_safe(catalogue):
    assert isinstance(pks("ولادت " * 1000), list)
    assert pks("\x00<script>") == []
    assert pks("%_*") == []
    long_query = "گواهی ولادت" + "x" * (MAX_QUERY_LENGTH * 5)
    assert search_services(long_query).query == long_query[:MAX_QUERY_LENGTH]


def test_empty_query_lists_everything_in_title_order(catalogue):
    found = pks("")
    titles = list(Service.objects.filter(pk__in=found).values_list("pk", "title_fa"))
    assert len(found) == Service.objects.count() == 8
    assert found == [pk for pk, _t in sorted(titles, key=lambda row: search_key(row[1]))]
    assert search_services("", limit=3).total == 3


@pytest.mark.parametrize(
    ("typed", "official"),
    [("پاسپورت", "گذرنامه"), ("ویزا", "روادید"), ("تمدید پاسپورت", "تمدید گذرنامه")],
)
def test_colloquial_and_foreign_words_find_the_official_titles(typed, official):
    card = make_service(title_fa="تمدید گذرنامه عادی", title_en="Renewal of an ordinary passport")
    visa = make_service(title_fa="صدور روادید ورود", title_en="Entry visa")
    search.invalidate()
    found = pks(typed)
    assert found and found == pks(official)
    assert found[0] in {card.pk, visa.pk}


def test_a_word_the_catalogue_uses_is_never_rewritten():
    assert search.with_synonyms(search_key("صدور گذرنامه")) == search_key("صدور گذرنامه")
    official = {official for _typed, official in search.SYNONYMS}
    typed = {typed for typed, _official in search.SYNONYMS}
    assert not typed & official
