"""Reports: the Working Group's quarterly report (HTML and Persian PDF) and the figures that
prefill an agency's monthly progress report.

The quarterly report has the four contents the 1402 budget law requires: the scope of smart
services, the coverage of business licences (from the permits' rows: permit types fully
electronic and issued through the window, with the old count of business service cards kept
beside it, labelled), online inquiries through NIX, and the agencies behind schedule. Every
figure is computed as of the quarter's end.
"""

from __future__ import annotations

from pathlib import Path

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from panjereh.catalogue import queries as catalogue
from panjereh.catalogue.vocab import ConnectionStatus, Scope, SmartStatus
from panjereh.common import jalali

from . import charts, indicators, series, sources

FONT_DIR = Path(__file__).resolve().parent.parent / "portal" / "static" / "portal" / "fonts"
BUSINESS = "business"
# The report's official title: a Persian document addressed to the Cabinet and Parliament.
TITLE_FA = "گزارش فصلی کارگروه راهبری و نظارت درباره هوشمندسازی خدمات دولت"


def business_coverage(as_of) -> dict:
    """Services for businesses (category or life event "business") as of a moment: the
    coverage of business licences, read from each card's latest version."""
    total = connected = smart = 0
    for row in catalogue.service_topic_rows(as_of):
        _sid, has_id, scope, conn, smart_status, category, events = row
        if not has_id or scope != Scope.CONNECTABLE:
            continue
        if category != BUSINESS and BUSINESS not in (events or []):
            continue
        total += 1
        connected += bool(conn)
        smart += smart_status == SmartStatus.APPROVED
    return {
        "connectable": total,
        "connected": connected,
        "smart": smart,
        "connected_pct": indicators.ratio(connected, total).value,
        "smart_pct": indicators.ratio(smart, total).value,
    }


def licence_coverage(result: indicators.Result) -> dict | None:
    """The coverage of business licences from the permits' rows (issue 16, part 7): how many
    permit types are published, how many are fully electronic (declared) and how many had a
    permit issued through the window in the quarter (observed), with the national issuing
    figures; None without the permits app. The catalogue-card count
    (:func:`business_coverage`) stays beside it, labelled as what it is."""
    facts = indicators.permit_facts(result.snapshot)
    if facts is None:
        return None
    n = result.national
    electronic, online = n["permits_electronic"], n["permits_issued_online"]
    return {
        "first_month": facts.first_month,
        "last_month": facts.last_month,
        "permit_types": electronic.denominator or 0,
        "electronic": electronic,
        "issued_online": online,
        "registration_based": n["permits_registration_based"],
        "median": n["permits_issuing_median"],
        "p90": n["permits_issuing_p90"],
        "within_legal": n["permits_within_legal"],
        "unanswered": n["permits_handoffs_unanswered"],
        "violations": n["permits_violations_upheld"],
        "attempts": n["permits_reattempts"],
    }


def behind_schedule(result: indicators.Result) -> list[dict]:
    """Agencies in scope not connected, or whose own smart rate is below the required share."""
    rows = []
    for a in result.agencies:
        compliance = a.values["smart_compliance"]
        reasons = []
        if a.info.connection_status == ConnectionStatus.NOT_CONNECTED:
            reasons.append(_("not connected to the national window"))
        if compliance.available and compliance.value is False:
            reasons.append(_("smart share below the required share"))
        if reasons:
            rows.append({"agency": a, "reasons": reasons})
    rows.sort(key=lambda r: (r["agency"].values["smart_rate"].value or 0, r["agency"].info.name_fa))
    return rows


def observed_rows(result: indicators.Result) -> list[dict]:
    """Declared next to observed for each agency in scope that declares a smart service, has
    a certified or an observed one, or is connected either way (the report's section 5)."""
    rows = []
    for a in result.agencies:
        cmp = indicators.comparison(result.snapshot, a.info.id)
        if (
            cmp.declared_smart
            or cmp.certified_smart
            or cmp.observed_smart
            or cmp.observed_connected
        ):
            rows.append({"agency": a, "cmp": cmp})
    return rows


def quarterly_context(year: int, quarter: int) -> dict:
    end = series.quarter_end(year, quarter)
    start_prev = (
        series.quarter_end(year - 1, 4) if quarter == 1 else series.quarter_end(year, quarter - 1)
    )
    as_of = jalali.end_of_day(end)
    result = indicators.compute(as_of)
    previous = indicators.compute(jalali.end_of_day(start_prev))
    trend = [p for p in series.national(end)]
    n = result.national
    months = sources.exchange_totals(
        [f"{year:04d}-{m:02d}" for m in range(3 * quarter - 2, 3 * quarter + 1)]
    )
    buckets = [
        charts.Bar(_("All connectable services smart"), n["smart_full"].numerator or 0,
                   number_text(n["smart_full"].numerator)),
        # xgettext:no-python-format
        charts.Bar(_("Some but under 20% smart"), n["smart_low_nonzero"].numerator or 0,
                   number_text(n["smart_low_nonzero"].numerator)),
        charts.Bar(_("No smart service"), n["smart_zero"].numerator or 0,
                   number_text(n["smart_zero"].numerator)),
    ]  # fmt: skip
    return {
        "title_fa": TITLE_FA,
        "year": year,
        "quarter": quarter,
        "as_of": end,
        "result": result,
        "previous": previous,
        "national": n,
        "prev_national": previous.national,
        "business": business_coverage(as_of),
        "licences": licence_coverage(result),
        "exchange_available": result.snapshot.exchange is not None or months is not None,
        "exchange_months": months,
        "exchange_quality": n["exchange_quality"],
        "exchange_activity": n["exchange_activity"],
        "behind": behind_schedule(result),
        "comparison": indicators.comparison(result.snapshot),
        "observed_rows": observed_rows(result),
        "trend": trend,
        "trend_chart": charts.line_chart(
            _("Connected and smart services over time"),
            _("Share of connectable services connected and smart at the end of each quarter."),
            trend_labels(trend),
            [
                (_("Connected"), [p.connection_pct for p in trend]),
                (_("Smart"), [p.smart_pct for p in trend]),
            ],
        ),
        "smart_chart": charts.bar_chart(
            _("Connected agencies by smart share"),
            _("Number of connected agencies in each band of smart share."),
            buckets,
        ),
    }


def trend_labels(points: list) -> list[str]:
    """The year under each first quarter, nothing under the others (digits only)."""
    return [_digits(p.label[:4]) if p.label.endswith("Q1") else "" for p in points]


def _digits(text) -> str:
    from panjereh.common.persian import to_persian_digits

    return to_persian_digits(text) if translation.get_language_bidi() else str(text)


def number_text(value) -> str:
    return _digits(
        "—"
        if value is None
        else f"{value:,}".replace(",", "٬" if translation.get_language_bidi() else ",")
    )


def quarterly_html(year: int, quarter: int, *, standalone: bool = True) -> str:
    context = quarterly_context(year, quarter)
    context["font_dir"] = FONT_DIR.as_uri()
    return render_to_string("oversight/report_pdf.html", context)


def quarterly_pdf(year: int, quarter: int, language: str = "fa") -> bytes:
    from weasyprint import HTML

    with translation.override(language):
        html = quarterly_html(year, quarter)
    return HTML(string=html, base_url=str(FONT_DIR)).write_pdf()


def monthly_figures(agency_id: int, result: indicators.Result) -> dict:
    """The computed figures that prefill an agency's monthly progress report."""
    row = next((a for a in result.agencies if a.info.id == agency_id), None)
    if row is None:
        return {}
    v = row.values
    return {
        "as_of": result.as_of,
        "catalogue_version": result.snapshot.catalogue_version["label"],
        "connectable": row.counts.connectable,
        "connected": row.counts.connected,
        "smart": row.counts.smart,
        "connection_rate_pct": v["connection_rate"].value,
        "smart_rate_pct": v["smart_rate"].value,
        "smart_target_met": v["smart_compliance"].value
        if v["smart_compliance"].available
        else None,
        "own_window": row.info.has_own_window,
        "sso": row.info.sso_integrated,
    }
