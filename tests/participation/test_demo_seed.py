"""The demo seed is idempotent and leaves every public page with something to show."""

from __future__ import annotations

import pytest

from panjereh.demo import participation as demo
from panjereh.participation import weeks
from panjereh.participation.models import Consultation, Suggestion, Vote, WeeklyList

from .conftest import make_citizen

pytestmark = pytest.mark.django_db


def test_seed_twice_gives_the_same_rows_and_pages_work(client, cards):
    for _ in range(3):
        make_citizen()
    demo.seed(write=lambda *_: None)
    counts = (Suggestion.objects.count(), Consultation.objects.count(), Vote.objects.count())
    demo.seed(write=lambda *_: None)
    assert (
        Suggestion.objects.count(),
        Consultation.objects.count(),
        Vote.objects.count(),
    ) == counts
    assert Vote.objects.filter(jalali_week=weeks.last_completed_week()).exists()
    assert set(Consultation.objects.values_list("state", flat=True)) == {"open", "summary"}
    for url in (
        "/participate/",
        "/en/participate/",
        "/participate/services/",
        "/participate/proposals/",
        "/participate/weekly/",
        "/participate/consultations/",
        f"/participate/consultations/{Consultation.objects.first().pk}/",
    ):
        assert client.get(url).status_code == 200, url
    weekly = WeeklyList.objects.get()  # published on the first visit
    assert weekly.entries.exists()
    assert client.get(f"/participate/weekly/{weekly.label}/").status_code == 200
