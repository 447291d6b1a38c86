"""Open data of the Art. 9 system: the per-agency figures as CSV and JSON, a Frictionless-style
``datapackage.json`` describing them, and a DCAT catalogue entry (JSON-LD).

Rows come from :func:`indicators.compute`, the same result the portal pages render, so the
files and the pages cannot disagree.
"""

from __future__ import annotations

import io

from django.conf import settings
from django.utils import timezone

from panjereh.catalogue import queries as catalogue
from panjereh.common import csvsafe
from panjereh.common.jalali import Month
from panjereh.payments import queries as payments
from panjereh.services import queries as services

from . import indicators
from .indicators import Result

# Satisfaction of the current period against the baseline (from the feedback app's ratings),
# in both the agency and the service files. Shares of a period with fewer than 5 ratings are
# empty and ``satisfaction_data`` says ``too_few_ratings``, so no one's score can be read.
SATISFACTION_FIELDS: list[tuple[str, str, str]] = [
    (
        "satisfaction_data",
        "string",
        "ok; too_few_ratings (a period has 1-4 ratings: its share, the change and the target "
        "are withheld); no_ratings; empty when no satisfaction source exists",
    ),
    ("satisfaction_ratings", "integer", "Ratings in the current period (feedback app)"),
    (
        "satisfaction_pct",
        "number",
        "Ratings of 4 or 5 (high, very high) / ratings in the current period × 100, one "
        "decimal; empty with fewer than 5 ratings",
    ),
    ("satisfaction_baseline_ratings", "integer", "Ratings in the baseline period"),
    (
        "satisfaction_baseline_pct",
        "number",
        "The same share in the baseline period; empty with fewer than 5 ratings",
    ),
    (
        "satisfaction_change_points",
        "number",
        "satisfaction_pct - satisfaction_baseline_pct, in percentage points",
    ),
    (
        "satisfaction_change_pct",
        "number",
        "Relative change: (satisfaction_pct / satisfaction_baseline_pct - 1) × 100",
    ),
    (
        "satisfaction_target_pct",
        "number",
        "Target share: satisfaction_baseline_pct × (1 + target rise, 0.20), at most 100",
    ),
    (
        "satisfaction_target_met",
        "boolean",
        "satisfaction_pct reaches satisfaction_target_pct (the +20% rise target)",
    ),
]

# Declared next to observed (indicators.observed): what the catalogue declares (``smart``,
# ``connection_status``) beside what the window's activity in the report month shows.
OBSERVED_FIELDS: list[tuple[str, str, str]] = [
    ("observed_month", "string", "Jalali month (YYYY-MM) the observed columns are about"),
    (
        "certified_smart",
        "integer",
        "Services with a published (active) definition in the window that validates as smart",
    ),
    (
        "observed_smart",
        "integer",
        "Services that in the month completed at least one application (issued, or rejected "
        "with a reason) and had no application with a human step (sent to or assigned to an "
        "officer) or an upload",
    ),
    ("services_with_applications", "integer", "Services with applications in the month"),
    (
        "observed_smart_pct",
        "number",
        "observed_smart / services_with_applications × 100, one decimal",
    ),
    ("applications_completed", "integer", "Applications completed in the window in the month"),
    ("applications_automatic", "integer", "Of those, completed with no human step and no upload"),
    (
        "declared_smart_without_applications",
        "integer",
        "Services declared smart (smart) that took no application in the window in the month",
    ),
    (
        "declared_smart_with_a_person_or_upload",
        "integer",
        "Services declared smart with applications in the month that needed a person or an "
        "upload, or completed none",
    ),
    (
        "sso_sign_ins",
        "integer",
        "Sign-on sessions in the month in which one of the agency's windows signed a person "
        "in through the national window's single sign-on",
    ),
    ("applications_submitted", "integer", "Applications submitted to the agency's services"),
    (
        "connected_observed",
        "boolean",
        "sso_sign_ins > 0 or applications_submitted > 0: connected (observed), beside "
        "connection_status (declared)",
    ),
]

FIELDS: list[tuple[str, str, str]] = [
    # name, Frictionless type, description
    ("as_of", "string", "Jalali date (YYYY-MM-DD) the figures are as of, end of day in Tehran"),
    ("catalogue_version", "string", "Newest service and agency version rows read (sN.aM)"),
    ("agency_code", "string", "Stable code of the agency"),
    ("agency_name_fa", "string", "Persian name of the agency"),
    ("agency_name_en", "string", "English name of the agency"),
    ("connection_status", "string", "connected, not_connected or not_applicable"),
    ("connectable", "integer", "Connectable (not exempt) services with a service ID"),
    ("connected", "integer", "Of those, connected to the national window"),
    ("smart", "integer", "Of those, approved as smart"),
    ("exempt", "integer", "Exempt services with a service ID"),
    ("connection_rate_pct", "number", "connected / connectable × 100, one decimal"),
    ("smart_rate_pct", "number", "smart / connectable × 100, one decimal"),
    ("connection_bucket", "string", "full (100%), low (under 20%) or middle"),
    ("smart_bucket", "string", "full (100%), zero, low (above 0, under 20%) or middle"),
    ("smart_target_met", "boolean", "Own smart rate reaches the share required on the date"),
    ("own_window", "boolean", "Has its own agency window"),
    ("sso", "boolean", "Uses national single sign-on"),
    *SATISFACTION_FIELDS,
    *OBSERVED_FIELDS,
    (
        "payment_demands_reported",
        "integer",
        "Complaints filed in the window that the agency demanded a fee be paid outside the "
        "window, received up to as_of (citizens' reports, observed by the window)",
    ),
    (
        "payment_demands_upheld",
        "integer",
        "Of those, upheld by the supervising body by as_of",
    ),
]


SERVICE_FIELDS: list[tuple[str, str, str]] = [
    ("as_of", "string", "Jalali date (YYYY-MM-DD) the figures are as of, end of day in Tehran"),
    ("month", "string", "Jalali month (YYYY-MM) the figures are about (the report month)"),
    ("service_id", "string", "Service ID of the catalogue card"),
    ("service_title_fa", "string", "Persian title of the service"),
    ("service_title_en", "string", "English title of the service"),
    ("agency_code", "string", "Stable code of the agency"),
    ("started", "integer", "Applications started through the national window in the month"),
    ("completed", "integer", "Of those, reaching a final outcome (issued or rejected) by the date"),
    ("completion_rate_pct", "number", "completed / started × 100, one decimal"),
    ("ratings", "integer", "Ratings given in the month (1-5)"),
    ("satisfied", "integer", "Of those, 4 or 5 (satisfied, very satisfied)"),
    ("user_satisfaction_pct", "number", "satisfied / ratings × 100, one decimal"),
    ("offline_transactions", "integer", "Transactions outside the window entered by the agency"),
    ("digital_takeup_pct", "number", "started / (started + offline_transactions) × 100"),
    ("cost_rials", "integer", "Total cost of the service in the month entered by the agency"),
    (
        "cost_per_transaction_rials",
        "integer",
        "cost_rials / (started + offline_transactions); empty where no cost is entered",
    ),
    *SATISFACTION_FIELDS,
]


FEE_FIELDS: list[tuple[str, str, str]] = [
    ("month", "string", "Jalali month (YYYY-MM), Tehran time"),
    ("service_id", "string", "Service ID of the catalogue card the fee was paid for"),
    ("service_title_fa", "string", "Persian title of the service"),
    ("service_title_en", "string", "English title of the service"),
    ("agency_code", "string", "Stable code of the agency the fee was collected for"),
    (
        "fee_data",
        "string",
        "ok; too_few_payments (1-4 payments captured in the month: the counts and amounts "
        "of the row are withheld, so no one's payment can be read)",
    ),
    (
        "payments_captured",
        "integer",
        "Application fees paid through the window (captured by the payment provider) in the month",
    ),
    ("collected_rials", "integer", "Sum of those payments, rials"),
    ("refunds", "integer", "Refunds of application fees done in the month (any month's fee)"),
    ("refunded_rials", "integer", "Sum of those refunds, rials"),
    ("net_rials", "integer", "collected_rials - refunded_rials"),
]


def fee_rows(as_of=None) -> list[dict]:
    """Application fees per service and Jalali month up to ``as_of`` (None: now), counted
    from the payment and refund rows as the window observed them; a service-month with 1 to
    :func:`indicators.min_ratings` - 1 payments captured has its figures withheld."""
    days = payments.money_by_purpose("application", until=as_of or timezone.now())
    service_of = services.services_of_applications(r.purpose_id for r in days)
    cards = {c["pk"]: c for c in catalogue.service_cards(set(service_of.values()))}
    agency_codes = {
        pk: meta["code"]
        for pk, meta in catalogue.agency_directory({c["agency_id"] for c in cards.values()}).items()
    }
    sums: dict[tuple[str, int], list[int]] = {}
    for r in days:
        service = service_of.get(r.purpose_id)
        if service not in cards:
            continue  # an application no longer known: nothing to name it by
        slot = sums.setdefault((str(Month.of(r.day)), service), [0, 0, 0, 0])
        slot[0] += r.captured
        slot[1] += r.collected
        slot[2] += r.refunds
        slot[3] += r.refunded
    least = indicators.min_ratings()
    out = []
    for (month, service), (captured, collected, refunds, refunded) in sorted(
        sums.items(), key=lambda kv: (kv[0][0], cards[kv[0][1]]["service_id"] or "")
    ):
        card = cards[service]
        shown = captured == 0 or captured >= least
        if refunds and refunds < least:
            shown = False
        out.append(
            {
                "month": month,
                "service_id": card["service_id"] or "",
                "service_title_fa": card["title_fa"],
                "service_title_en": card["title_en"],
                "agency_code": agency_codes.get(card["agency_id"], ""),
                "fee_data": "ok" if shown else "too_few_payments",
                "payments_captured": captured if shown else None,
                "collected_rials": collected if shown else None,
                "refunds": refunds if shown else None,
                "refunded_rials": refunded if shown else None,
                "net_rials": collected - refunded if shown else None,
            }
        )
    return out


def fees_csv(rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csvsafe.DictWriter(
        buffer, fieldnames=[f[0] for f in FEE_FIELDS], lineterminator="\r\n"
    )
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(val) for k, val in row.items()})
    return buffer.getvalue()


def fees_json(rows: list[dict], as_of_label: str) -> dict:
    return {
        "as_of": as_of_label,
        "basis": "observed",
        "min_payments": indicators.min_ratings(),
        "fees": rows,
    }


def _cell(value):
    if value is None:
        return ""
    return str(value).lower() if isinstance(value, bool) else value


def satisfaction_periods(table) -> dict | None:
    """The two periods compared (ISO instants; the current period's end and the baseline's
    start are inclusive, the baseline's end exclusive), the target rise and the threshold."""
    if table is None:
        return None
    from panjereh.feedback.queries import target_rise

    return {
        "current": [t.isoformat() for t in table.current_period],
        "baseline": [t.isoformat() for t in table.baseline_period],
        "target_rise": target_rise(),
        "min_ratings": indicators.min_ratings(),
    }


def service_rows(perf, satisfaction=None) -> list[dict]:
    """One row per service; ``satisfaction`` is the feedback app's ``ProgressTable`` per
    service (``sources.satisfaction_progress(as_of, "service_id")``) or None."""
    out = []
    for r in perf.services:
        v = r.values
        sat = indicators.satisfaction_figures(satisfaction, r.service_pk).row()
        out.append(
            {
                "as_of": perf.as_of_label,
                "month": perf.month,
                "service_id": r.service_id,
                "service_title_fa": r.title_fa,
                "service_title_en": r.title_en,
                "agency_code": r.agency_code,
                "started": r.facts.started,
                "completed": r.facts.completed,
                "completion_rate_pct": v["completion_rate"].value,
                "ratings": r.facts.ratings,
                "satisfied": r.facts.favourable,
                "user_satisfaction_pct": v["user_satisfaction"].value,
                "offline_transactions": r.facts.offline,
                "digital_takeup_pct": v["digital_takeup"].value,
                "cost_rials": r.facts.cost,
                "cost_per_transaction_rials": v["cost_per_transaction"].value,
                **sat,
            }
        )
    return out


def services_csv(perf, satisfaction=None) -> str:
    buffer = io.StringIO()
    writer = csvsafe.DictWriter(
        buffer, fieldnames=[f[0] for f in SERVICE_FIELDS], lineterminator="\r\n"
    )
    writer.writeheader()
    for row in service_rows(perf, satisfaction):
        writer.writerow({k: _cell(val) for k, val in row.items()})
    return buffer.getvalue()


def services_json(perf, satisfaction=None) -> dict:
    return {
        "as_of": perf.as_of_label,
        "month": perf.month,
        "satisfaction_periods": satisfaction_periods(satisfaction),
        "national": {k: v.as_dict() for k, v in perf.national.values().items()},
        "services": service_rows(perf, satisfaction),
    }


# Permits indicators per issuing authority (indicators.permits): counts and shares only, no
# application, holder or complainant.
PERMIT_FIELDS: list[tuple[str, str, str]] = [
    ("as_of", "string", "Jalali date (YYYY-MM-DD) the figures are as of, end of day in Tehran"),
    (
        "quarter",
        "string",
        "Jalali months (YYYY-MM..YYYY-MM) of the report quarter the issuing columns are about",
    ),
    ("authority_code", "string", "Stable code of the issuing authority"),
    ("authority_name_fa", "string", "Persian name of the issuing authority"),
    ("authority_name_en", "string", "English name of the issuing authority"),
    ("agency_code", "string", "The authority's agency in the service catalogue; empty if none"),
    ("permit_types", "integer", "Permit types published by as_of (declared)"),
    (
        "permits_electronic",
        "integer",
        "Of those, fully electronic: no inspection condition in the version in force, or "
        "registration-based (declared)",
    ),
    ("permits_electronic_pct", "number", "permits_electronic / permit_types × 100, one decimal"),
    (
        "permit_types_issued_online",
        "integer",
        "Permit types with a permit issued from an application in the window in the quarter "
        "(observed)",
    ),
    (
        "permit_types_issued_online_pct",
        "number",
        "permit_types_issued_online / permit_types × 100, one decimal",
    ),
    ("registration_based", "integer", "Permit types that are registration-based (declared)"),
    ("registration_based_pct", "number", "registration_based / permit_types × 100"),
    (
        "legal_days_median",
        "number",
        "Median legal time to issue, days, of the permit types with one (declared)",
    ),
    (
        "permits_issued",
        "integer",
        "Permits issued from an application in the window in the quarter",
    ),
    (
        "issuing_days_median",
        "number",
        "Median days from registration in the window to issue, one decimal (observed)",
    ),
    (
        "issuing_days_p90",
        "number",
        "90th percentile (nearest rank) of the same, days, one decimal (observed)",
    ),
    ("issued_with_legal_time", "integer", "Permits issued in the quarter that have a legal time"),
    ("issued_within_legal_time", "integer", "Of those, issued within it (observed)"),
    (
        "within_legal_time_pct",
        "number",
        "issued_within_legal_time / issued_with_legal_time × 100, one decimal",
    ),
    ("handoffs_open", "integer", "Applications open with the authority on as_of"),
    (
        "handoffs_unanswered",
        "integer",
        "Of those, past their legal time or not delivered to the specialised portal (observed)",
    ),
    ("violations_received", "integer", "Violation reports filed from permit applications"),
    ("violations_upheld", "integer", "Of those, upheld by the supervising body by as_of"),
    (
        "reintroduction_attempts",
        "integer",
        "Refused attempts to bring back a removed condition, by as_of",
    ),
]


def permit_rows(result: Result) -> list[dict]:
    """One row per issuing authority (:data:`PERMIT_FIELDS`), from the same result the pages
    render."""
    facts = indicators.permit_facts(result.snapshot)
    if facts is None:
        return []
    agency_codes = {
        pk: meta["code"]
        for pk, meta in catalogue.agency_directory(
            {a.info.agency_id for a in result.authorities if a.info.agency_id}
        ).items()
    }
    out = []
    for a in result.authorities:
        v = a.values
        electronic, issued_online = v["permits_electronic"], v["permits_issued_online"]
        within, median = v["permits_within_legal"], v["permits_issuing_median"]
        out.append(
            {
                "as_of": result.as_of,
                "quarter": facts.label,
                "authority_code": a.info.code,
                "authority_name_fa": a.info.name_fa,
                "authority_name_en": a.info.name_en,
                "agency_code": agency_codes.get(a.info.agency_id, ""),
                "permit_types": electronic.denominator or 0,
                "permits_electronic": electronic.numerator or 0,
                "permits_electronic_pct": electronic.value,
                "permit_types_issued_online": issued_online.numerator or 0,
                "permit_types_issued_online_pct": issued_online.value,
                "registration_based": v["permits_registration_based"].numerator or 0,
                "registration_based_pct": v["permits_registration_based"].value,
                "legal_days_median": v["permits_legal_days"].value,
                "permits_issued": median.denominator or 0,
                "issuing_days_median": median.value,
                "issuing_days_p90": v["permits_issuing_p90"].value,
                "issued_with_legal_time": within.denominator or 0,
                "issued_within_legal_time": within.numerator or 0,
                "within_legal_time_pct": within.value,
                "handoffs_open": v["permits_handoffs_unanswered"].denominator,
                "handoffs_unanswered": v["permits_handoffs_unanswered"].value,
                "violations_received": v["permits_violations_upheld"].denominator,
                "violations_upheld": v["permits_violations_upheld"].value,
                "reintroduction_attempts": v["permits_reattempts"].value,
            }
        )
    return out


def permits_csv(result: Result) -> str:
    buffer = io.StringIO()
    writer = csvsafe.DictWriter(
        buffer, fieldnames=[f[0] for f in PERMIT_FIELDS], lineterminator="\r\n"
    )
    writer.writeheader()
    for row in permit_rows(result):
        writer.writerow({k: _cell(val) for k, val in row.items()})
    return buffer.getvalue()


def permits_json(result: Result) -> dict:
    facts = indicators.permit_facts(result.snapshot)
    codes = [i.code for i in indicators.registry.for_level("authority")]
    return {
        "as_of": result.as_of,
        "quarter": facts.label if facts else None,
        "national": {k: result.national[k].as_dict() for k in codes if k in result.national},
        "authorities": permit_rows(result),
    }


def rows(result: Result) -> list[dict]:
    version = result.snapshot.catalogue_version["label"]
    out = []
    for a in result.agencies:
        v = a.values
        compliance = v["smart_compliance"]
        out.append(
            {
                "as_of": result.as_of,
                "catalogue_version": version,
                "agency_code": a.info.code,
                "agency_name_fa": a.info.name_fa,
                "agency_name_en": a.info.name_en,
                "connection_status": a.info.connection_status,
                "connectable": a.counts.connectable,
                "connected": a.counts.connected,
                "smart": a.counts.smart,
                "exempt": a.counts.exempt,
                "connection_rate_pct": v["connection_rate"].value,
                "smart_rate_pct": v["smart_rate"].value,
                "connection_bucket": a.connection_bucket,
                "smart_bucket": a.smart_bucket,
                "smart_target_met": compliance.value if compliance.available else None,
                "own_window": a.info.has_own_window,
                "sso": a.info.sso_integrated,
                **indicators.satisfaction_of(result.snapshot, a.info.id).row(),
                **observed_row(result, a.info.id),
                "payment_demands_reported": v["payment_demands_reported"].value,
                "payment_demands_upheld": v["payment_demands_upheld"].value,
            }
        )
    return out


def observed_row(result: Result, agency_id: int) -> dict:
    """The agency's observed columns (:data:`OBSERVED_FIELDS`)."""
    cmp = indicators.comparison(result.snapshot, agency_id)
    connected = indicators.connected_observed(result.snapshot, agency_id)
    return {
        "observed_month": cmp.month,
        "certified_smart": cmp.certified_smart,
        "observed_smart": cmp.observed_smart,
        "services_with_applications": cmp.services_active,
        "observed_smart_pct": indicators.smart_observed(result.snapshot, agency_id).value,
        "applications_completed": cmp.completed,
        "applications_automatic": cmp.automatic,
        "declared_smart_without_applications": cmp.smart_no_application,
        "declared_smart_with_a_person_or_upload": cmp.smart_manual,
        "sso_sign_ins": connected.numerator,
        "applications_submitted": connected.denominator,
        "connected_observed": connected.value,
    }


def to_csv(result: Result) -> str:
    buffer = io.StringIO()
    writer = csvsafe.DictWriter(buffer, fieldnames=[f[0] for f in FIELDS], lineterminator="\r\n")
    writer.writeheader()
    for row in rows(result):
        writer.writerow({k: _cell(val) for k, val in row.items()})
    return buffer.getvalue()


def to_json(result: Result) -> dict:
    return {
        "as_of": result.as_of,
        "catalogue_version": result.snapshot.catalogue_version,
        "satisfaction_periods": satisfaction_periods(result.snapshot.satisfaction_progress),
        "national": {k: v.as_dict() for k, v in result.national.items()},
        "declared_and_observed": indicators.comparison(result.snapshot).as_dict(),
        "agencies": rows(result),
    }


def _tabular(name: str, path: str, fields, key: list[str], **extra) -> list[dict]:
    """A CSV resource of the data package (with its schema) and its JSON twin."""
    return [
        {
            "name": name,
            **extra,
            "path": f"{path}.csv",
            "profile": "tabular-data-resource",
            "format": "csv",
            "mediatype": "text/csv",
            "encoding": "utf-8",
            "schema": {
                "fields": [{"name": n, "type": t, "description": d} for n, t, d in fields],
                "primaryKey": key,
            },
        },
        {
            "name": f"{name}-json",
            "path": f"{path}.json",
            "format": "json",
            "mediatype": "application/json",
        },
    ]


def datapackage(base_url: str) -> dict:
    return {
        "profile": "tabular-data-package",
        "name": "panjereh-smartening-status",
        "title": "Smartening status of executive agencies (Art. 9, 107(c) bylaw)",
        "licenses": [{"name": "CC-BY-4.0", "path": "https://creativecommons.org/licenses/by/4.0/"}],
        "resources": [
            *_tabular("agencies", f"{base_url}agencies", FIELDS, ["as_of", "agency_code"]),
            *_tabular(
                "service-performance",
                f"{base_url}services",
                SERVICE_FIELDS,
                ["as_of", "service_id"],
            ),
            *_tabular(
                "fees",
                f"{base_url}fees",
                FEE_FIELDS,
                ["month", "service_id"],
                title="Application fees collected and refunded per service and month",
            ),
            *_tabular(
                "permits-authorities",
                f"{base_url}permits",
                PERMIT_FIELDS,
                ["as_of", "authority_code"],
                title="Permits indicators per issuing authority",
            ),
        ],
    }


def dcat(base_url: str, result: Result) -> dict:
    publisher = getattr(settings, "PUBLIC_BASE_URL", "")
    return {
        "@context": {
            "dcat": "http://www.w3.org/ns/dcat#",
            "dct": "http://purl.org/dc/terms/",
            "foaf": "http://xmlns.com/foaf/0.1/",
        },
        "@id": f"{base_url}dcat.jsonld",
        "@type": "dcat:Dataset",
        "dct:title": [
            {"@language": "fa", "@value": "وضعیت هوشمندسازی دستگاه‌های اجرایی"},
            {"@language": "en", "@value": "Smartening status of executive agencies"},
        ],
        "dct:description": {
            "@language": "en",
            "@value": "Per-agency connection and smart-service figures computed from the "
            "service catalogue as of a date (Art. 9 of the bylaw of Art. 107(c)).",
        },
        "dct:publisher": {"@type": "foaf:Organization", "foaf:homepage": publisher},
        "dct:modified": result.as_of,
        "dct:accrualPeriodicity": {"@id": "http://purl.org/cld/freq/continuous"},
        "dct:license": {"@id": "https://creativecommons.org/licenses/by/4.0/"},
        "dcat:keyword": ["smart government", "national window", "open data"],
        "dcat:distribution": [
            {
                "@type": "dcat:Distribution",
                "dcat:downloadURL": {"@id": f"{base_url}agencies.csv"},
                "dcat:mediaType": "text/csv",
                "dct:conformsTo": {"@id": f"{base_url}datapackage.json"},
            },
            {
                "@type": "dcat:Distribution",
                "dcat:downloadURL": {"@id": f"{base_url}agencies.json"},
                "dcat:mediaType": "application/json",
            },
            {
                "@type": "dcat:Distribution",
                "dcat:downloadURL": {"@id": f"{base_url}services.csv"},
                "dcat:mediaType": "text/csv",
                "dct:conformsTo": {"@id": f"{base_url}datapackage.json"},
            },
            {
                "@type": "dcat:Distribution",
                "dct:title": "Application fees per service and month",
                "dcat:downloadURL": {"@id": f"{base_url}fees.csv"},
                "dcat:mediaType": "text/csv",
                "dct:conformsTo": {"@id": f"{base_url}datapackage.json"},
            },
            {
                "@type": "dcat:Distribution",
                "dct:title": "Application fees per service and month (JSON)",
                "dcat:downloadURL": {"@id": f"{base_url}fees.json"},
                "dcat:mediaType": "application/json",
            },
            {
                "@type": "dcat:Distribution",
                "dct:title": "Permits indicators per issuing authority",
                "dcat:downloadURL": {"@id": f"{base_url}permits.csv"},
                "dcat:mediaType": "text/csv",
                "dct:conformsTo": {"@id": f"{base_url}datapackage.json"},
            },
            {
                "@type": "dcat:Distribution",
                "dct:title": "Permits indicators per issuing authority (JSON)",
                "dcat:downloadURL": {"@id": f"{base_url}permits.json"},
                "dcat:mediaType": "application/json",
            },
        ],
    }
