"""Votes are never lost or doubled under concurrency: threads on PostgreSQL, each with its own
connection, vote at once (and each twice); rows and the weekly tally must be exact."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from panjereh.participation import operations, queries, weeks
from panjereh.participation.models import Vote, WeeklyTally

from .conftest import make_citizen

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="concurrency is tested on PostgreSQL"
    ),
]

PEOPLE = 40


def test_parallel_votes_add_up_exactly(cards):
    people = [make_citizen() for _ in range(PEOPLE)]
    hot = operations.catalogue_suggestion(cards["offline"])
    cold = operations.catalogue_suggestion(cards["not_smart"])
    barrier = threading.Barrier(PEOPLE * 2)
    outcomes: list[str] = []
    lock = threading.Lock()

    def cast(person, suggestion):
        from django.db import connection as thread_connection

        try:
            barrier.wait()
            try:
                operations.vote(person, suggestion)
                result = "ok"
            except operations.AlreadyVoted:
                result = "again"
            with lock:
                outcomes.append(result)
        finally:
            thread_connection.close()

    threads = []
    for person in people:
        # Everyone votes for the hot item twice at once, and half also for the cold one.
        threads.append(threading.Thread(target=cast, args=(person, hot)))
        second = hot if people.index(person) % 2 else cold
        threads.append(threading.Thread(target=cast, args=(person, second)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    week = weeks.current_week()
    assert len(outcomes) == PEOPLE * 2
    assert outcomes.count("again") == PEOPLE // 2
    assert Vote.objects.filter(suggestion=hot, jalali_week=week).count() == PEOPLE
    assert Vote.objects.filter(suggestion=cold, jalali_week=week).count() == PEOPLE // 2
    assert WeeklyTally.objects.get(jalali_week=week, suggestion=hot).votes == PEOPLE
    assert WeeklyTally.objects.get(jalali_week=week, suggestion=cold).votes == PEOPLE // 2
    assert [(s.suggestion, s.votes) for s in queries.standings(week)] == [
        (hot, PEOPLE),
        (cold, PEOPLE // 2),
    ]
    assert queries.standings(week) == queries.standings_from_votes(week)
