"""Legal obligations: seeding from the shipped data, Jalali deadlines, due instances of
recurring duties, the status state machine and overdue lists per responsible body."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache

import jdatetime
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, TextChoices
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from panjereh.catalogue import roles
from panjereh.common import jalali, statemachine
from panjereh.common.persian import to_persian_digits

from . import data
from .models import (
    DUE_TRANSITIONS,
    RECURRENCE_MONTHS,
    DeadlineKind,
    DueEvent,
    DueInstance,
    DueStatus,
    Instrument,
    Obligation,
    Recurrence,
    Trigger,
)

BODY_FA = {
    "AEO": "سازمان اداری و استخدامی کشور",
    "MICT": "وزارت ارتباطات و فناوری اطلاعات",
    "ITO": "سازمان فناوری اطلاعات ایران",
    "Steering WG": "کارگروه راهبری و نظارت",
    "IRIB": "سازمان صداوسیما",
    "agencies": "دستگاه‌های اجرایی",
    "base-registry agencies": "متولیان پایگاه‌های پایه",
    "Interoperability WG": "کارگروه تعامل‌پذیری دولت الکترونیکی",
    "Civil Registration": "سازمان ثبت احوال کشور",
    "PBO": "سازمان برنامه و بودجه کشور",
    "ministries": "وزارتخانه‌ها",
    "National Permits Portal": "درگاه ملی مجوزها",
}
BODY_EN = {
    "AEO": "Administrative and Employment Organization",
    "MICT": "Ministry of ICT",
    "ITO": "Information Technology Organization",
    "Steering WG": "Steering and Supervision WG",
    "IRIB": "IRIB",
    "agencies": "Every executive agency",
    "base-registry agencies": "Base-registry custodians",
    "Interoperability WG": "E-Government Interoperability WG",
    "Civil Registration": "National Organization for Civil Registration",
    "PBO": "Plan and Budget Organization",
    "ministries": "Every ministry",
    "National Permits Portal": "National Permits Portal",
}
# Bodies named in the law that are themselves agencies of the catalogue (by agency code), so
# that their own duties appear in their compliance export.
BODY_AGENCIES = {
    "AEO": {"aeo"},
    "MICT": {"mict", "mict-hq"},
    "ITO": {"ito"},
    "Civil Registration": {"nocr"},
    "PBO": {"pbo"},
}
_RECURRENCE = {
    "monthly": Recurrence.MONTHLY,
    "quarterly": Recurrence.QUARTERLY,
    "every 6 months": Recurrence.SIX_MONTHLY,
    "six-monthly": Recurrence.SIX_MONTHLY,
    "yearly": Recurrence.YEARLY,
}


def _date(text: str | None) -> dt.date | None:
    return jalali.to_gregorian(text) if text else None


_REFERENCE_FA = {"part": "جزء", "row": "ردیف", "clause": "بند", "resolution": "مصوبه"}


def _reference(item: dict) -> tuple[str, str, str]:
    """(key suffix, English reference, Persian reference) from whichever of part, row, clause
    or resolution is given, with the article when there is one."""
    for name in ("part", "row", "clause", "resolution"):
        if name in item:
            label = f"{name} {item[name]}"
            label_fa = f"{_REFERENCE_FA[name]} {item[name]}"
            if item.get("article"):
                article = str(item["article"])
                label = f"art. {article}, {label}"
                article_fa = article.replace(" note ", " تبصره ").replace(" note", " تبصره")
                label_fa = f"ماده {article_fa}، {label_fa}"
            return f"{name}-{item[name]}", label, to_persian_digits(label_fa)
    raise ValueError(f"obligation without a reference: {item}")


@transaction.atomic
def seed() -> dict[str, int]:
    """Create or update instruments, triggers and obligations from ``data/obligations.json``.
    Running it again changes nothing (statuses and events of instances are kept)."""
    source = data.obligations()
    created = {"instruments": 0, "triggers": 0, "obligations": 0}
    for code, day in source["triggers"].items():
        _obj, new = Trigger.objects.get_or_create(code=code, defaults={"occurred_on": _date(day)})
        created["triggers"] += new
    instruments = {}
    for item in source["instruments"]:
        obj, new = Instrument.objects.update_or_create(
            code=item["id"],
            defaults={
                "title_fa": item["title_fa"],
                "authority": item["authority"],
                "notified": _date(item.get("notified")),
            },
        )
        instruments[obj.code] = obj
        created["instruments"] += new
    for order, item in enumerate(source["obligations"], start=1):
        suffix, reference, reference_fa = _reference(item)
        suffix = item.get("key", suffix)  # two duties under one clause need their own key
        spec = item.get("deadline") or {}
        fields = {
            "instrument": instruments[item["instrument"]],
            "reference": reference,
            "reference_fa": reference_fa,
            "duty_fa": item["duty_fa"],
            "duty_en": item["duty_en"],
            "responsible": [b.strip() for b in item["responsible"].split(",")],
            "deadline": _date(spec.get("date")),
            "relative_months": spec.get("relative_months"),
            "relative_days": spec.get("relative_days"),
            "trigger": None,
            "trigger_event": "",
            "recurrence": _RECURRENCE.get(item.get("recurring", ""), ""),
            "target": item.get("target", {}),
            "order": order,
        }
        origin = spec.get("from")
        if origin and origin in source["triggers"]:
            fields["trigger"] = Trigger.objects.get(code=origin)
        elif origin:
            fields["trigger_event"] = origin  # counted from each case, e.g. a proposal
        if fields["recurrence"]:
            fields["deadline_kind"] = DeadlineKind.RECURRING
        elif fields["trigger_event"]:
            fields["deadline_kind"] = DeadlineKind.PER_CASE
        elif fields["trigger"]:
            fields["deadline_kind"] = DeadlineKind.RELATIVE
        elif fields["deadline"]:
            fields["deadline_kind"] = DeadlineKind.ABSOLUTE
        else:
            fields["deadline_kind"] = DeadlineKind.NONE
        _obj, new = Obligation.objects.update_or_create(
            key=f"{item['instrument']}/{suffix}", defaults=fields
        )
        created["obligations"] += new
    return created


def _add(day: dt.date, months: int = 0, days: int = 0) -> dt.date:
    jday = jalali.add_months(jalali.from_gregorian(day), months) if months else None
    result = jday.togregorian() if jday else day
    return result + dt.timedelta(days=days)


def relative_deadline(obligation: Obligation) -> dt.date | None:
    """A relative deadline in calendar months (Jalali) or days of its trigger; None while the
    trigger has not happened."""
    if obligation.trigger is None or obligation.trigger.occurred_on is None:
        return None
    return _add(
        obligation.trigger.occurred_on,
        months=obligation.relative_months or 0,
        days=obligation.relative_days or 0,
    )


def first_due(obligation: Obligation) -> dt.date | None:
    """When a recurring duty first falls due: its stated date, else one period after its
    trigger or its instrument's notification, else the stated start in the targets data."""
    if obligation.deadline:
        return obligation.deadline
    if obligation.trigger_id:
        base = relative_deadline(obligation)
        return base
    months = RECURRENCE_MONTHS[obligation.recurrence]
    if obligation.instrument.notified:
        return _add(obligation.instrument.notified, months=months)
    stated = data.targets()["first_due_when_unstated"].get(obligation.instrument.code)
    return _date(stated)


def due_dates(obligation: Obligation, until: dt.date) -> list[tuple[str, dt.date | None]]:
    """(period label, due date) of each instance due on or before ``until``."""
    kind = obligation.deadline_kind
    if kind == DeadlineKind.ABSOLUTE:
        return [("once", obligation.deadline)]
    if kind == DeadlineKind.RELATIVE:
        return [("once", relative_deadline(obligation))]
    if kind in (DeadlineKind.NONE, DeadlineKind.PER_CASE):
        # No date of its own: per-case duties are timed on each case (see the cycle).
        return [("once", None)]
    start = first_due(obligation)
    if start is None:
        return [("once", None)]
    months = RECURRENCE_MONTHS[obligation.recurrence]
    first = jalali.from_gregorian(start)
    result = []
    k = 0
    while True:
        # Each due date counts from the first, so a clamped month end does not drift.
        due = jalali.add_months(first, k * months).togregorian()
        if due > until and k > 0:
            break
        result.append((jalali.iso(due), due))
        if due > until:
            break
        k += 1
    return result


@transaction.atomic
def generate_due(until: dt.date) -> int:
    """Create the due instances of every obligation up to ``until``; give a date to
    undated instances whose trigger has since happened. Returns how many were created."""
    made = 0
    for obligation in Obligation.objects.select_related("instrument", "trigger"):
        periods = due_dates(obligation, until)
        dated = [p for p in periods if p[1] is not None]
        if dated:
            # A trigger that has happened replaces the undated placeholder.
            obligation.instances.filter(period="once", due_on__isnull=True).exclude(
                period__in=[p for p, _d in dated]
            ).filter(status=DueStatus.OPEN, events__isnull=True).delete()
        for period, due in periods:
            instance, new = DueInstance.objects.get_or_create(
                obligation=obligation, period=period, defaults={"due_on": due}
            )
            made += new
            if not new and instance.due_on != due and instance.status == DueStatus.OPEN:
                instance.due_on = due
                instance.save(update_fields=["due_on"])
    return made


def _event(instance: DueInstance, from_status, to_status, *, by, at, note, **_context) -> None:
    DueEvent.objects.create(
        instance=instance,
        at=at,
        actor=roles.person(by),
        from_status=from_status,
        to_status=to_status,
        note=note,
    )


MACHINE = statemachine.Machine(
    DUE_TRANSITIONS,
    field="status",
    record=_event,
    message=lambda instance, to: (
        _("An obligation cannot go from %(from)s to %(to)s.")
        % {"from": DueStatus(instance.status).label, "to": DueStatus(to).label}
    ),
)


def transition(
    instance: DueInstance,
    to: str,
    *,
    actor,
    evidence: str = "",
    reason: str = "",
    at: dt.datetime | None = None,
) -> DueInstance:
    """Move an instance along the state machine, recording an event. The supervisors record
    it (the legal obligations are theirs to follow); ``roles.SYSTEM`` marks missed ones."""
    roles.require(
        actor, roles.SUPERVISE, message=_("Only the supervisors record obligations' status.")
    )
    if to not in DueStatus.values:
        raise ValidationError(_("Unknown obligation status."))

    def with_evidence_or_reason(_locked, _changes, _event) -> None:
        if to == DueStatus.MET and not evidence.strip():
            raise ValidationError(_("Marking an obligation as met needs evidence."))
        if to == DueStatus.WAIVED and not reason.strip():
            raise ValidationError(_("Waiving an obligation needs a reason."))

    moment = at or timezone.now()
    changes = {"evidence": evidence} if evidence else {}
    if reason:
        changes["reason"] = reason
    if to in (DueStatus.MET, DueStatus.WAIVED):
        changes["closed_at"] = moment
    return MACHINE.move(
        instance,
        to,
        by=actor,
        check=with_evidence_or_reason,
        event={"at": moment, "note": evidence or reason},
        **changes,
    )


def mark_missed(on: dt.date, *, actor=roles.SYSTEM) -> int:
    """Record as missed every open instance whose deadline passed before ``on``."""
    count = 0
    for instance in DueInstance.objects.filter(status=DueStatus.OPEN, due_on__lt=on):
        transition(instance, DueStatus.MISSED, actor=actor)
        count += 1
    return count


def overdue(on: dt.date) -> list[DueInstance]:
    """Instances past their deadline on ``on`` and not met or waived."""
    return list(
        DueInstance.objects.filter(
            Q(status=DueStatus.MISSED) | Q(status=DueStatus.OPEN, due_on__lt=on)
        )
        .select_related("obligation", "obligation__instrument")
        .order_by("due_on", "obligation__order")
    )


def overdue_by_body(on: dt.date) -> dict[str, list[DueInstance]]:
    """Overdue instances per responsible body; a duty shared by two bodies is on both lists."""
    result: dict[str, list[DueInstance]] = defaultdict(list)
    for instance in overdue(on):
        for body in instance.obligation.responsible:
            result[body].append(instance)
    return dict(sorted(result.items()))


def upcoming(on: dt.date, limit: int = 20) -> list[DueInstance]:
    return list(
        DueInstance.objects.filter(status=DueStatus.OPEN, due_on__gte=on)
        .select_related("obligation", "obligation__instrument")
        .order_by("due_on", "obligation__order")[:limit]
    )


def days_late(instance: DueInstance, on: dt.date) -> int | None:
    return (on - instance.due_on).days if instance.due_on and instance.due_on < on else None


def jalali_today() -> jdatetime.date:
    return jalali.from_gregorian(timezone.now())


# --- provenance of each duty, and per-agency compliance -----------------------------------
#
# The report recommends making support for agencies depend on how far they carry out their
# smartening duties (a prerequisite for budget allocations, hiring permits, restructuring and
# development projects: recommendation 2 of Table 5). The export below is that input.


@cache
def _keyed_items() -> dict[str, dict]:
    """{obligation key: its item in the shipped data} (the data is read once a process)."""
    source = data.obligations()
    result = {}
    for item in source["obligations"]:
        suffix = item.get("key", _reference(item)[0])
        result[f"{item['instrument']}/{suffix}"] = item
    return result


def details(obligation: Obligation) -> dict:
    """What the shipped data says of a duty beyond the model's fields: ``source`` (the seed
    file and lines), ``evidence`` (what shows it done), ``deadline_note`` (said when the seeds
    give no date) and ``exempt`` (bodies the law exempts)."""
    return _keyed_items().get(obligation.key, {})


@cache
def instrument_titles() -> dict[str, tuple[str, str]]:
    """{instrument code: (Persian title, English title)}."""
    return {
        item["id"]: (item["title_fa"], item.get("title_en", item["title_fa"]))
        for item in data.obligations()["instruments"]
    }


def basis(obligation: Obligation, persian: bool) -> str:
    """The legal basis: the instrument's title and the article, clause or row."""
    title_fa, title_en = instrument_titles().get(
        obligation.instrument.code, (obligation.instrument.title_fa,) * 2
    )
    if persian:
        return f"{title_fa}، {obligation.reference_fa}"
    return f"{title_en}, {obligation.reference}"


def body_label(body: str, persian: bool) -> str:
    return (BODY_FA if persian else BODY_EN).get(body, body)


class Standing(TextChoices):
    """Where one due instance stands for the compliance export."""

    MET_ON_TIME = "met_on_time", gettext_lazy("Met on time")
    MET_LATE = "met_late", gettext_lazy("Met late")
    OVERDUE = "overdue", gettext_lazy("Overdue")
    NOT_YET_DUE = "not_yet_due", gettext_lazy("Not yet due")
    EXEMPT = "exempt", gettext_lazy("Exempt")


# Bodies that stand for many agencies at once: their duty's status is recorded once for all.
COLLECTIVE = {"agencies", "ministries"}


def standing(instance: DueInstance, on: dt.date) -> tuple[str, int | None]:
    """(standing, days late) of an instance on day ``on``. Met late counts the days from the
    deadline to the day it was recorded as met; overdue counts them up to ``on``."""
    if instance.status == DueStatus.WAIVED:
        return Standing.EXEMPT, None
    if instance.status == DueStatus.MET:
        done = timezone.localdate(instance.closed_at) if instance.closed_at else None
        if done and instance.due_on and done > instance.due_on:
            return Standing.MET_LATE, (done - instance.due_on).days
        return Standing.MET_ON_TIME, 0
    if instance.due_on and (instance.status == DueStatus.MISSED or instance.due_on < on):
        return Standing.OVERDUE, max((on - instance.due_on).days, 0)
    if instance.status == DueStatus.MISSED:
        return Standing.OVERDUE, None
    return Standing.NOT_YET_DUE, None


def binds(obligation: Obligation, agency) -> bool:
    """Whether the duty binds the agency: every agency in scope for "agencies", every ministry
    for "ministries", and the agencies that are the named body (AEO, MICT, ITO...)."""
    for body in obligation.responsible:
        if body == "agencies" and agency.in_scope:
            return True
        if body == "ministries" and agency.kind == "ministry":
            return True
        if agency.code in BODY_AGENCIES.get(body, ()):
            return True
    return False


@dataclass
class ComplianceRow:
    agency: object
    instance: DueInstance
    standing: str
    days_late: int | None

    @property
    def obligation(self) -> Obligation:
        return self.instance.obligation

    @property
    def collective(self) -> bool:
        """Recorded once for every agency the duty binds (not for this agency alone)."""
        own = BODY_AGENCIES.get
        return not any(self.agency.code in own(b, ()) for b in self.obligation.responsible)


@dataclass
class AgencyCompliance:
    agency: object
    rows: list[ComplianceRow] = field(default_factory=list)

    def count(self, which: str) -> int:
        return sum(1 for r in self.rows if r.standing == which)

    @property
    def fallen_due(self) -> int:
        """Instances whose deadline has come: met (on time or late) or overdue."""
        return sum(
            self.count(s) for s in (Standing.MET_ON_TIME, Standing.MET_LATE, Standing.OVERDUE)
        )

    @property
    def share_on_time(self) -> float | None:
        """Met on time ÷ fallen due, in percent (None while nothing has fallen due)."""
        due = self.fallen_due
        return round(100 * self.count(Standing.MET_ON_TIME) / due, 1) if due else None


def compliance(agencies, on: dt.date) -> list[AgencyCompliance]:
    """Per agency, each due instance of each duty that binds it, with its standing on ``on``."""
    instances = sorted(
        DueInstance.objects.select_related("obligation", "obligation__instrument"),
        key=lambda i: (i.obligation.order, i.due_on or dt.date.max, i.period),
    )
    result = []
    for agency in agencies:
        entry = AgencyCompliance(agency)
        for instance in instances:
            if binds(instance.obligation, agency):
                entry.rows.append(ComplianceRow(agency, instance, *standing(instance, on)))
        result.append(entry)
    return result
