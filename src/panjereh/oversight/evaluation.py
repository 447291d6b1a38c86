"""Independent evaluation: six-monthly rounds in which an Evaluator scores agencies on the
configured indicators, and an annual ranking with configurable weights that anyone can
recompute from the stored scores."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from panjereh.catalogue import queries as catalogue
from panjereh.catalogue import roles

from .indicators import registry
from .models import EvaluationRound, RankingConfig, Score


def open_round(year: int, half: int, indicator_codes: list[str], *, author) -> EvaluationRound:
    roles.require(author, roles.OPERATE, message=_("Only ITO opens an evaluation round."))
    known = {i.code for i in registry}
    unknown = [c for c in indicator_codes if c not in known]
    if unknown or not indicator_codes:
        raise ValidationError(_("An evaluation round scores defined indicators only."))
    return EvaluationRound.objects.create(
        label=f"{year}-H{half}", year=year, half=half, indicators=indicator_codes
    )


@transaction.atomic
def record_score(
    round_: EvaluationRound, agency, indicator: str, score: float, *, evaluator, note=""
) -> Score:
    roles.require(
        evaluator, roles.EVALUATE, message=_("Only the independent evaluator records scores.")
    )
    if round_.closed:
        raise ValidationError(_("This evaluation round is closed."))
    if indicator not in round_.indicators:
        raise ValidationError(_("This indicator is not scored in this round."))
    if not 0 <= score <= 100:
        raise ValidationError(_("A score is between 0 and 100."))
    obj, _created = Score.objects.update_or_create(
        round=round_,
        agency=agency,
        indicator=indicator,
        defaults={"score": Decimal(str(score)), "evaluator": roles.person(evaluator), "note": note},
    )
    return obj


def annual_ranking(year: int) -> list[dict] | None:
    """Agencies ranked by the weighted mean of their scores over the year's rounds; None when
    no weights are configured for the year."""
    config = RankingConfig.objects.filter(year=year).first()
    if config is None:
        return None
    weights = {k: Decimal(str(v)) for k, v in config.weights.items() if Decimal(str(v)) > 0}
    sums: dict[tuple[int, str], list[Decimal]] = defaultdict(list)
    for agency_id, indicator, score in Score.objects.filter(round__year=year).values_list(
        "agency_id", "indicator", "score"
    ):
        sums[(agency_id, indicator)].append(score)
    totals: dict[int, tuple[Decimal, Decimal]] = {}
    for (agency_id, indicator), scores in sums.items():
        if indicator not in weights:
            continue
        mean = sum(scores) / len(scores)
        total, weight = totals.get(agency_id, (Decimal(0), Decimal(0)))
        totals[agency_id] = (total + mean * weights[indicator], weight + weights[indicator])
    agencies = catalogue.agency_directory(totals)
    rows = [
        {
            "agency_id": a,
            "code": agencies[a]["code"],
            "name_fa": agencies[a]["name_fa"],
            "score": round(t / w, 2),
        }
        for a, (t, w) in totals.items()
        if w
    ]
    rows.sort(key=lambda r: (-r["score"], r["name_fa"]))
    for rank, row in enumerate(rows, start=1):
        row["rank"] = rank
    return rows


def ranked_years() -> list[int]:
    return list(RankingConfig.objects.order_by("-year").values_list("year", flat=True))
