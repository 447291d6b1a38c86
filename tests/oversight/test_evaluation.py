"""Six-monthly evaluation rounds, stored scores and a reproducible annual ranking; the
supervisors' obligation page."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from panjereh.catalogue import roles
from panjereh.common import jalali
from panjereh.oversight import evaluation, obligations
from panjereh.oversight.models import DueInstance, RankingConfig
from tests.factories import UserFactory, make_agency

pytestmark = pytest.mark.django_db


def member_of(role: str):
    roles.ensure_groups()
    user = UserFactory()
    user.groups.add(Group.objects.get(name=role))
    return user


def test_rounds_scores_and_a_ranking_reproducible_from_stored_scores():
    ito, evaluator = member_of(roles.ITO), member_of(roles.EVALUATOR)
    a, b = make_agency(code="eval-a"), make_agency(code="eval-b")
    with pytest.raises(ValidationError):
        evaluation.open_round(1404, 1, ["invented"], author=ito)
    with pytest.raises(PermissionDenied):
        evaluation.open_round(1404, 1, ["smart_rate"], author=evaluator)
    h1 = evaluation.open_round(1404, 1, ["smart_rate", "satisfaction"], author=ito)
    h2 = evaluation.open_round(1404, 2, ["smart_rate", "satisfaction"], author=ito)
    with pytest.raises(PermissionDenied):
        evaluation.record_score(h1, a, "smart_rate", 50, evaluator=ito)
    with pytest.raises(ValidationError):
        evaluation.record_score(h1, a, "smart_rate", 101, evaluator=evaluator)
    for rnd, scores in [
        (h1, {"a": (80, 40), "b": (60, 90)}),
        (h2, {"a": (100, 40), "b": (60, 90)}),
    ]:
        for code, (smart, sat) in scores.items():
            agency = a if code == "a" else b
            evaluation.record_score(rnd, agency, "smart_rate", smart, evaluator=evaluator)
            evaluation.record_score(rnd, agency, "satisfaction", sat, evaluator=evaluator)
    assert evaluation.annual_ranking(1404) is None  # no weights configured
    RankingConfig.objects.create(year=1404, weights={"smart_rate": 3, "satisfaction": 1})
    ranking = evaluation.annual_ranking(1404)
    # a: (90*3 + 40)/4 = 77.5; b: (60*3 + 90)/4 = 67.5
    assert [(r["code"], float(r["score"]), r["rank"]) for r in ranking] == [
        ("eval-a", 77.5, 1),
        ("eval-b", 67.5, 2),
    ]
    RankingConfig.objects.filter(year=1404).update(weights={"smart_rate": 1, "satisfaction": 3})
    assert [r["code"] for r in evaluation.annual_ranking(1404)] == ["eval-b", "eval-a"]
    assert evaluation.annual_ranking(1404) == evaluation.annual_ranking(1404)


def test_supervisors_record_obligation_status_with_evidence(client):
    obligations.seed()
    obligations.generate_due(jalali.to_gregorian("1404-03-31"))
    instance = DueInstance.objects.get(obligation__key="bylaw-107c/row-5")
    client.force_login(UserFactory())
    assert client.get(reverse("oversight:obligations")).status_code == 403
    client.force_login(member_of(roles.STEERING_WG))
    url = reverse("oversight:obligations")
    assert client.get(url).status_code == 200
    refused = client.post(url, {"instance": instance.pk, "to": "met", "evidence": ""})
    assert refused.status_code == 400
    done = client.post(url, {"instance": instance.pk, "to": "met", "evidence": "Standard no. 12"})
    assert done.status_code == 302
    instance.refresh_from_db()
    assert instance.status == "met" and instance.evidence == "Standard no. 12"
    assert instance.events.get().actor is not None


def test_evaluation_page_saves_scores_for_the_evaluator_only(client):
    make_agency(code="ev-page")
    ito = member_of(roles.ITO)
    client.force_login(ito)
    url = reverse("oversight:evaluation")
    opened = client.post(
        url, {"open": "1", "year": "1404", "half": "1", "indicators": ["smart_rate"]}
    )
    assert opened.status_code == 302
    refused = client.post(opened.url, {"score:ev-page:smart_rate": "70"})
    assert refused.status_code == 403  # ITO does not score
    client.force_login(member_of(roles.EVALUATOR))
    saved = client.post(opened.url, {"score:ev-page:smart_rate": "70"})
    assert saved.status_code == 302
    page = client.get(saved.url)
    assert page.context["scores"] == {"ev-page:smart_rate": 70}
