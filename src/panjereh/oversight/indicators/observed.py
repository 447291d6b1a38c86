"""Observed indicators: what the window's own activity shows, next to what is declared.

A service is *smart (declared)* when its catalogue card's smart status is approved (the
report's figures, :mod:`.catalogue`), *smart (certified)* when a published definition of it
validates as smart (:func:`panjereh.services.queries.certified_smart_service_ids`), and *smart
(observed)* when, in the report month, at least one of its applications through the window
completed (issued, or rejected with a reason) and none of its applications of the month had a
human step (sent to an officer, or assigned to one) or an upload. An agency is *connected
(observed)* when one of its windows signed a person in through the national window's single
sign-on, or one of its services took an application in the window, in the month.

The rows are read once per snapshot (:func:`observed`, kept in the snapshot's cache), through
``services.queries`` and ``identity.queries``; :func:`comparison` puts declared, certified and
observed side by side for the nation or one agency, with the difference explained in a
sentence computed from the numbers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.apps import apps
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from panjereh.catalogue import queries as catalogue
from panjereh.catalogue.vocab import Scope, SmartStatus
from panjereh.common import jalali
from panjereh.common.persian import to_persian_digits

from .. import sources
from .core import COUNT, OBSERVED, PERCENT, Value, ratio, registry
from .snapshots import Snapshot

ACTIVITY = _("Applications and their journey log in the window, in the report month")
SIGN_INS = _(
    "Sign-ins through the national window's single sign-on, and applications in the window, "
    "in the report month"
)


@dataclass
class Observed:
    """The activity of the report month, read once per snapshot."""

    month: str
    start: dt.datetime
    end: dt.datetime
    services: dict[int, dict]  # services.queries.observed_smartness
    sign_ins: dict[int, int]  # identity.queries.sso_sign_ins_by_agency
    certified: dict[int, int]  # certified service pk -> agency pk
    declared_active: set[int] = field(default_factory=set)  # declared smart with applications

    def smart_ids(self, agency_id: int | None = None) -> set[int]:
        return {
            pk
            for pk, s in self.services.items()
            if s["completed"] and not s["manual"] and agency_id in (None, s["agency_id"])
        }

    def active_ids(self, agency_id: int | None = None) -> set[int]:
        return {pk for pk, s in self.services.items() if agency_id in (None, s["agency_id"])}

    def applications(self, agency_id: int | None = None) -> tuple[int, int]:
        """(completed with no human step and no upload, completed) in the month."""
        rows = [s for s in self.services.values() if agency_id in (None, s["agency_id"])]
        return sum(s["automatic"] for s in rows), sum(s["completed"] for s in rows)

    def connected_agency_ids(self) -> set[int]:
        took = {s["agency_id"] for s in self.services.values() if s["submitted"]}
        return took | {a for a, n in self.sign_ins.items() if n}


def period(as_of: dt.datetime) -> tuple[str, dt.datetime, dt.datetime]:
    """The report month of ``as_of`` and its Tehran instants [start, end), end no later than
    just after ``as_of``."""
    month = sources.report_month(as_of)
    start, end = jalali.Month.parse(month).bounds()
    return month, start, min(end, as_of + dt.timedelta(microseconds=1))


def observed(snap: Snapshot) -> Observed:
    """The month's activity for ``snap`` (read once, then from the snapshot's cache)."""
    if "observed" in snap._cache:
        return snap._cache["observed"]
    month, start, end = period(snap.as_of)
    services: dict[int, dict] = {}
    certified: dict[int, int] = {}
    sign_ins: dict[int, int] = {}
    if apps.is_installed("panjereh.services"):
        from panjereh.services import queries as services_queries

        services = services_queries.observed_smartness(start, end)
        ids = services_queries.certified_smart_service_ids(snap.as_of)
        certified = {c["pk"]: c["agency_id"] for c in catalogue.service_cards(ids)}
    if apps.is_installed("panjereh.identity"):
        from panjereh.identity import queries as identity_queries

        sign_ins = identity_queries.sso_sign_ins_by_agency(start, end)
    # Which of the services that took applications are declared smart (their card now).
    declared_active = {
        pk
        for pk, status, scope, sid in catalogue.services()
        .filter(pk__in=list(services))
        .values_list("pk", "smart_status", "scope", "service_id")
        if status == SmartStatus.APPROVED and scope == Scope.CONNECTABLE and sid
    }
    result = Observed(month, start, end, services, sign_ins, certified, declared_active)
    snap._cache["observed"] = result
    return result


# --- the indicators ------------------------------------------------------------------------


@registry.register(
    "smart_certified",
    name_fa="خدمات هوشمند (گواهی‌شده)",
    name_en=_("Smart services (certified)"),
    definition_fa=(
        "تعداد خدماتی که تعریف منتشرشده آن‌ها در پنجره ملی به‌عنوان هوشمند اعتبارسنجی شده و "
        "فعال است، تقسیم بر تعداد خدماتی که هوشمند اعلام شده‌اند (مصوب در شناسنامه خدمات)."
    ),
    definition_en=_(
        "Services with a published (active) definition in the national window that validates "
        "as smart, over the services declared smart (approved in the catalogue)."
    ),
    numerator=_("Services with a published definition that validates as smart"),
    denominator=_("Connectable services whose smart status is approved (declared)"),
    unit=COUNT,
    source=_("Published service definitions of the national window"),
)
def smart_certified(snap: Snapshot, agency_id: int | None) -> Value:
    obs = observed(snap)
    certified = [a for a in obs.certified.values() if agency_id in (None, a)]
    declared = (
        snap.stats.services["smart_approved"] if agency_id is None else snap.count(agency_id).smart
    )
    return Value(len(certified), len(certified), declared)


@registry.register(
    "smart_observed",
    name_fa="خدمات هوشمند (مشاهده‌شده)",
    name_en=_("Smart services (observed)"),
    definition_fa=(
        "تعداد خدماتی که در ماه گزارش دست‌کم یک درخواستشان در پنجره به نتیجه رسیده (صدور سند، "
        "یا رد با دلیل) و هیچ درخواستشان در آن ماه گام انسانی (ارجاع به کارشناس) یا بارگذاری "
        "مدرک نداشته است، تقسیم بر تعداد خدماتی که در آن ماه درخواست داشته‌اند."
    ),
    definition_en=_(
        "Services that in the report month completed at least one application in the window "
        "(document issued, or rejected with a reason) and had no application that month with "
        "a human step (sent to or assigned to an officer) or an upload, over the services "
        "with applications in the month."
    ),
    numerator=_("Services completing applications with no human step and no upload"),
    denominator=_("Services with applications in the window in the month"),
    unit=PERCENT,
    source=ACTIVITY,
    basis=OBSERVED,
)
def smart_observed(snap: Snapshot, agency_id: int | None) -> Value:
    obs = observed(snap)
    value = ratio(len(obs.smart_ids(agency_id)), len(obs.active_ids(agency_id)))
    if not value.available:
        value.note = str(_("No application in the window in the month."))
    return value


@registry.register(
    "automatic_completion",
    name_fa="درخواست‌های تکمیل‌شده بدون دخالت انسانی",
    name_en=_("Applications completed with no person and no upload"),
    definition_fa=(
        "تعداد درخواست‌هایی که در ماه گزارش در پنجره به نتیجه رسیده‌اند (صدور سند، یا رد با "
        "دلیل) بی‌آنکه به کارشناس ارجاع شوند یا مدرکی بارگذاری شود، تقسیم بر همه درخواست‌های "
        "به نتیجه رسیده در آن ماه."
    ),
    definition_en=_(
        "Applications completed in the window in the report month (document issued, or "
        "rejected with a reason) with no human step and no upload, over all applications "
        "completed in the month."
    ),
    numerator=_("Applications completed with no human step and no upload"),
    denominator=_("Applications completed in the window in the month"),
    unit=PERCENT,
    source=ACTIVITY,
    basis=OBSERVED,
)
def automatic_completion(snap: Snapshot, agency_id: int | None) -> Value:
    automatic, completed = observed(snap).applications(agency_id)
    value = ratio(automatic, completed)
    if not value.available:
        value.note = str(_("No application was completed in the window in the month."))
    return value


@registry.register(
    "connected_observed",
    name_fa="دستگاه‌های متصل (مشاهده‌شده)",
    name_en=_("Agencies connected (observed)"),
    definition_fa=(
        "تعداد دستگاه‌های مشمولی که در ماه گزارش پنجره‌شان کاربری را با ورود یکپارچه پنجره ملی "
        "وارد کرده یا خدماتشان در پنجره درخواست گرفته‌اند، تقسیم بر دستگاه‌های مشمول منهای "
        "«عدم مصداق»؛ در سطح دستگاه، بله یا خیر."
    ),
    definition_en=_(
        "Agencies in scope whose window signed a person in through the national window's "
        "single sign-on, or whose services took applications in the window, in the report "
        "month, over the agencies in scope less those not applicable; for an agency, yes or no."
    ),
    numerator=_("Agencies in scope with a sign-on through the window or an application"),
    denominator=_("Agencies in scope, less those found not applicable"),
    unit=PERCENT,
    source=SIGN_INS,
    basis=OBSERVED,
)
def connected_observed(snap: Snapshot, agency_id: int | None) -> Value:
    obs = observed(snap)
    active = obs.connected_agency_ids()
    if agency_id is not None:
        return Value(
            agency_id in active,
            obs.sign_ins.get(agency_id, 0),
            sum(s["submitted"] for s in obs.services.values() if s["agency_id"] == agency_id),
        )
    in_scope = {a.id for a in snap.agencies.values() if a.in_scope}
    return ratio(len(active & in_scope), snap.stats.agencies["applicable"])


# --- side by side ------------------------------------------------------------------------


def _n(value: int) -> str:
    text = f"{value:,}"
    if translation.get_language_bidi():
        return to_persian_digits(text.replace(",", "٬"))
    return text


@dataclass
class Comparison:
    """Declared, certified and observed figures for the nation (``agency_id`` None) or one
    agency, and the parts of the difference; the sentences are rendered in the active
    language."""

    month: str
    declared_smart: int
    certified_smart: int
    observed_smart: int
    services_active: int
    declared_active: int  # declared smart services that took applications in the month
    declared_observed: int  # declared smart services observed smart
    automatic: int
    completed: int
    declared_connected: int  # agencies (national) or 1/0
    observed_connected: int
    declared_not_active: int  # declared connected with no sign-in and no application
    active_not_declared: int

    @property
    def month_label(self) -> str:
        m = jalali.Month.parse(self.month)
        return m.name_fa if translation.get_language_bidi() else m.name_en

    @property
    def smart_no_application(self) -> int:
        return self.declared_smart - self.declared_active

    @property
    def smart_manual(self) -> int:
        return self.declared_active - self.declared_observed

    @property
    def smart_undeclared(self) -> int:
        return self.observed_smart - self.declared_observed

    def as_dict(self) -> dict:
        return {
            "month": self.month,
            "declared_smart": self.declared_smart,
            "certified_smart": self.certified_smart,
            "observed_smart": self.observed_smart,
            "services_with_applications": self.services_active,
            "declared_smart_without_applications": self.smart_no_application,
            "declared_smart_with_a_person_or_upload": self.smart_manual,
            "observed_smart_not_declared": self.smart_undeclared,
            "applications_completed": self.completed,
            "applications_automatic": self.automatic,
            "declared_connected": self.declared_connected,
            "observed_connected": self.observed_connected,
            "declared_connected_without_activity": self.declared_not_active,
            "active_not_declared_connected": self.active_not_declared,
        }

    def smart_sentence(self) -> str:
        text = gettext(
            "Declared: %(declared)s smart services; certified (a published smart definition): "
            "%(certified)s; observed: %(observed)s completing applications with no person and "
            "no upload in %(month)s. Of the declared, %(none)s took no application in the "
            "window and %(manual)s needed a person or an upload, or completed none."
        ) % {
            "declared": _n(self.declared_smart),
            "certified": _n(self.certified_smart),
            "observed": _n(self.observed_smart),
            "month": self.month_label,
            "none": _n(self.smart_no_application),
            "manual": _n(self.smart_manual),
        }
        if self.smart_undeclared:
            text += " " + gettext("%(n)s services observed smart are not declared smart.") % {
                "n": _n(self.smart_undeclared)
            }
        return text

    def connected_sentence(self) -> str:
        text = gettext(
            "Declared connected: %(declared)s; observed (a sign-in through the window's single "
            "sign-on or an application in the window in %(month)s): %(observed)s. "
            "%(idle)s declared connected showed no such activity."
        ) % {
            "declared": _n(self.declared_connected),
            "observed": _n(self.observed_connected),
            "month": self.month_label,
            "idle": _n(self.declared_not_active),
        }
        if self.active_not_declared:
            text += " " + gettext("%(n)s with such activity are not declared connected.") % {
                "n": _n(self.active_not_declared)
            }
        return text


def comparison(snap: Snapshot, agency_id: int | None = None) -> Comparison:
    """Declared next to observed for the nation or one agency, from the snapshot's rows."""
    from panjereh.catalogue.vocab import ConnectionStatus

    obs = observed(snap)
    smart = obs.smart_ids(agency_id)
    active = obs.active_ids(agency_id)
    declared_active = obs.declared_active & active
    automatic, completed = obs.applications(agency_id)
    connected_now = obs.connected_agency_ids()
    if agency_id is None:
        declared_smart = snap.stats.services["smart_approved"]
        declared = set(snap.connected_ids)
        in_scope = {a.id for a in snap.agencies.values() if a.in_scope}
        observed_conn = connected_now & in_scope
    else:
        declared_smart = snap.count(agency_id).smart
        info = snap.agencies.get(agency_id)
        declared = (
            {agency_id} if info and info.connection_status == ConnectionStatus.CONNECTED else set()
        )
        observed_conn = connected_now & {agency_id}
    return Comparison(
        month=obs.month,
        declared_smart=declared_smart,
        certified_smart=sum(1 for a in obs.certified.values() if agency_id in (None, a)),
        observed_smart=len(smart),
        services_active=len(active),
        declared_active=len(declared_active),
        declared_observed=len(declared_active & smart),
        automatic=automatic,
        completed=completed,
        declared_connected=len(declared),
        observed_connected=len(observed_conn),
        declared_not_active=len(declared - observed_conn),
        active_not_declared=len(observed_conn - declared),
    )
