"""Every page that names an assurance level says what that level needs, from the one
definition of the levels that computes them (``identity.assurance.STEPS``)."""

from __future__ import annotations

import re

import pytest
from django.utils import translation

from panjereh.identity import assurance
from tests.factories import make_service

from .conftest import make_citizen


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.parametrize("level", [1, 2, 3, 4])
def test_a_service_page_names_the_steps_its_level_needs(client, db, level):
    service = make_service(min_assurance_level=level)
    with translation.override("en"):
        page = _text(client.get(f"/en/services/{service.service_id}/").content.decode())
        label = assurance.level_label(level)
        for step in assurance.level_steps(level):
            assert str(step.title) in label
    assert label in page
    if level == 2:
        assert "photo" in label.lower()
        assert "registered to your national code" not in page


def test_the_label_of_a_level_is_what_computing_the_level_asks_for(db):
    user = make_citizen()  # level 1: registry match and mobile
    assert assurance.compute_level(user) == 1
    missing = assurance.missing_steps(user, 2)
    assert missing == assurance.level_steps(2)
    with translation.override("en"):
        assert all(str(step.title) in assurance.level_label(2) for step in missing)


def test_the_persian_label_is_persian(db):
    with translation.override("fa"):
        label = assurance.level_label(2)
    assert re.search("[\u0600-\u06ff]", label)
    assert "level" not in label
