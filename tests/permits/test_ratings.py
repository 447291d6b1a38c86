"""Customers rate permit holders: once per person, permit and quarter (the constraint decides
under concurrency), not their own permit, only valid or suspended permits, a daily limit,
comments cleaned, moderators hide, the holder answers once."""

from __future__ import annotations

import queue
import threading

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connections

from panjereh.catalogue import roles
from panjereh.permits import holding, ratings
from panjereh.permits.models import HolderRating

from .issued_support import citizen

pytestmark = pytest.mark.django_db

pytest_plugins = ["tests.permits.issued_support"]


def test_period_is_the_jalali_quarter():
    import datetime as dt

    assert ratings.period_of(dt.date(2026, 10, 7)) == "1405-3"  # 15 Mehr 1405
    assert ratings.period_of(dt.date(2026, 3, 21)) == "1405-1"  # 1 Farvardin 1405
    assert ratings.period_of(dt.date(2027, 3, 20)) == "1405-4"  # 29 Esfand 1405


def test_rate_once_per_period(issued, customer):
    rating = ratings.rate(customer, issued, stars="۴", comment="نان تازه و برخورد خوب")
    assert rating.stars == 4 and rating.period == ratings.period_of()
    with pytest.raises(ratings.RatingError) as refused:
        ratings.rate(customer, issued, stars=5)
    assert refused.value.code == "already_rated"
    assert HolderRating.objects.filter(issued=issued).count() == 1
    assert HolderRating.objects.get().stars == 4


@pytest.mark.parametrize("stars", ["0", "6", "", "x", None, "3.5"])
def test_stars_from_one_to_five(issued, customer, stars):
    with pytest.raises(ratings.RatingError) as refused:
        ratings.rate(customer, issued, stars=stars)
    assert refused.value.field == "stars"
    assert not HolderRating.objects.exists()


@pytest.mark.parametrize("comment", ["بد\x00", "\u202eبد", "بد\x07", "x" * 1001])
def test_comment_cleaned(issued, customer, comment):
    with pytest.raises(ratings.RatingError) as refused:
        ratings.rate(customer, issued, stars=3, comment=comment)
    assert refused.value.field == "comment"
    assert not HolderRating.objects.exists()


def test_not_signed_in_and_own_permit_refused(issued, holder):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(ratings.RatingError):
        ratings.rate(AnonymousUser(), issued, stars=5)
    with pytest.raises(ratings.RatingError) as refused:
        ratings.rate(holder, issued, stars=5)
    assert refused.value.code == "own_permit"
    assert not HolderRating.objects.exists()


def test_only_valid_or_suspended_permits_take_ratings(issued, customer, admin_staff):
    holding.suspend(admin_staff, issued, "بازرسی")
    ratings.rate(customer, issued, stars=2)
    holding.revoke(admin_staff, issued, "تخلف")
    other = citizen()
    with pytest.raises(ratings.RatingError) as refused:
        ratings.rate(other, issued, stars=5)
    assert refused.value.code == "not_rateable"
    assert HolderRating.objects.filter(issued=issued).count() == 1


def test_daily_limit_across_permits(published, customer, settings):
    from panjereh.permits import issuing

    from .issued_support import make_application

    settings.PANJEREH_PERMITS_RATINGS_PER_DAY = 2
    permits = [issuing.issue(make_application(published, citizen())) for _ in range(3)]
    ratings.rate(customer, permits[0], stars=5)
    ratings.rate(customer, permits[1], stars=5)
    with pytest.raises(ratings.RatingError) as refused:
        ratings.rate(customer, permits[2], stars=5)
    assert refused.value.code == "too_many"
    assert HolderRating.objects.filter(rater=customer).count() == 2


def test_small_numbers_withheld_and_hidden_do_not_count(issued, moderator):
    raters = [citizen() for _ in range(5)]
    for rater, stars in zip(raters[:4], [5, 4, 4, 3], strict=True):
        ratings.rate(rater, issued, stars=stars)
    summary = ratings.summary(issued)
    assert summary.count == 4 and summary.average is None and summary.withheld
    last = ratings.rate(raters[4], issued, stars=1)
    summary = ratings.summary(issued)
    assert summary.count == 5 and summary.average == pytest.approx(17 / 5)
    with pytest.raises(PermissionDenied):
        ratings.hide(raters[0], last)
    ratings.hide(moderator, last)
    summary = ratings.summary(issued)
    assert summary.count == 4 and summary.average is None
    assert last.pk not in [r.pk for r in summary.ratings]


def test_holder_answers_once_and_nobody_else(issued, customer, holder):
    rating = ratings.rate(customer, issued, stars=2, comment="دیر باز می‌کند")
    with pytest.raises(PermissionDenied):
        ratings.answer(customer, rating, "جواب")
    with pytest.raises(ratings.RatingError):
        ratings.answer(holder, rating, "")
    answered = ratings.answer(holder, rating, "از این هفته ساعت ۷ باز می‌کنیم.")
    assert answered.answer.startswith("از این هفته") and answered.answered_by_id == holder.pk
    with pytest.raises(ratings.RatingError) as refused:
        ratings.answer(holder, rating, "دوباره")
    assert refused.value.code == "answered"
    rating.refresh_from_db()
    assert rating.answer.startswith("از این هفته")


def test_system_cannot_rate(issued):
    with pytest.raises(ratings.RatingError):
        ratings.rate(roles.SYSTEM, issued, stars=5)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"),
    reason="concurrency is tested on PostgreSQL (make test)",
)
def test_concurrent_ratings_none_lost_duplicates_refused(published):
    """50 people rate one holder at once, each twice from two threads: 50 ratings stored, 50
    refusals (the unique constraint decides when both attempts pass the first check)."""
    from panjereh.permits import issuing

    from .issued_support import make_application

    issued = issuing.issue(make_application(published, citizen()))
    people = [citizen() for _ in range(50)]
    tasks = queue.Queue()
    for person in people:
        tasks.put(person)
        tasks.put(person)  # the same person again, taken by the next free thread at once
    outcomes: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(20)

    def work():
        barrier.wait(timeout=30)
        try:
            while True:
                try:
                    person = tasks.get_nowait()
                except queue.Empty:
                    return
                try:
                    ratings.rate(person, issued, stars=4)
                    result = "ok"
                except ratings.RatingError as exc:
                    result = exc.code
                with lock:
                    outcomes.append(result)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("ok") == 50, outcomes
    assert outcomes.count("already_rated") == 50, outcomes
    assert HolderRating.objects.filter(issued=issued).count() == 50
    assert set(HolderRating.objects.values_list("rater", flat=True)) == {p.pk for p in people}
