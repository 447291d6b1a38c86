"""Obligations: seeding, Jalali deadlines, recurring due instances, the state machine, overdue."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from panjereh.catalogue.roles import SYSTEM
from panjereh.common import jalali
from panjereh.oversight import data, obligations
from panjereh.oversight.models import DueInstance, DueStatus, Obligation, Trigger

pytestmark = pytest.mark.django_db


def g(text: str) -> dt.date:
    return jalali.to_gregorian(text)


def test_one_month_after_1403_10_08_is_1403_11_08():
    assert jalali.iso(jalali.add_months(jalali.parse("1403-10-08"), 1)) == "1403-11-08"


def test_seeding_is_idempotent_and_covers_every_duty():
    first = obligations.seed()
    assert first["obligations"] == len(data.obligations()["obligations"])
    obligations.generate_due(g("1404-03-31"))
    count = DueInstance.objects.count()
    again = obligations.seed()
    assert again == {"instruments": 0, "triggers": 0, "obligations": 0}
    assert obligations.generate_due(g("1404-03-31")) == 0
    assert DueInstance.objects.count() == count
    duties = list(Obligation.objects.values_list("duty_fa", flat=True))
    assert all(duties) and any("\u200c" in d for d in duties)  # Persian, with ZWNJ


def test_relative_absolute_and_recurring_deadlines():
    obligations.seed()
    obligations.generate_due(g("1404-03-31"))
    # 107(c) bylaw row 5: ITO's standards within one month of 1403-10-08.
    standards = DueInstance.objects.get(obligation__key="bylaw-107c/row-5")
    assert jalali.iso(standards.due_on) == "1403-11-08"
    # Row 4: within three months.
    assert (
        jalali.iso(DueInstance.objects.get(obligation__key="bylaw-107c/row-4").due_on)
        == "1404-01-08"
    )
    # Absolute: 1402 bylaw row 1, end of Aban 1402.
    assert (
        jalali.iso(DueInstance.objects.get(obligation__key="bylaw-1402-7-jim/row-1").due_on)
        == "1402-08-30"
    )
    # Monthly agency reports from the 107(c) bylaw: 1403-11-08, 1403-12-08, ... up to 1404-03-08.
    monthly = DueInstance.objects.filter(obligation__key="bylaw-107c/row-15").order_by("due_on")
    dates = [jalali.iso(i.due_on) for i in monthly]
    assert dates[:5] == ["1403-11-08", "1403-12-08", "1404-01-08", "1404-02-08", "1404-03-08"]
    assert dates[-1] == "1404-03-08"  # up to the date asked for, not beyond
    # Six-monthly evaluation: 1404-04-08, then 1404-10-08.
    six = [
        jalali.iso(i.due_on)
        for i in DueInstance.objects.filter(obligation__key="bylaw-107c/row-13").order_by("due_on")
    ]
    assert six == ["1404-04-08"]
    # Quarterly reports of the 1401 budget law start on their stated date.
    quarterly = DueInstance.objects.filter(obligation__key="budget-1401-7-vav/part-4").order_by(
        "due_on"
    )
    assert [jalali.iso(i.due_on) for i in quarterly][:3] == [
        "1401-10-30",
        "1402-01-30",
        "1402-04-30",
    ]
    # A trigger that has not happened leaves the duty undated, not invented.
    proposal = DueInstance.objects.get(obligation__key="bylaw-107c/row-8")
    assert proposal.due_on is None


def test_an_undated_duty_gets_its_dates_when_its_trigger_happens():
    obligations.seed()
    obligations.generate_due(g("1404-06-31"))
    Trigger.objects.filter(code="smartening_cycle_requirements_notified").update(
        occurred_on=g("1404-02-10")
    )
    obligations.generate_due(g("1404-06-31"))

    def dates():
        rows = DueInstance.objects.filter(obligation__key="bylaw-107c/row-8").order_by("due_on")
        return [jalali.iso(i.due_on) for i in rows]

    assert dates() == ["1404-04-10"]
    obligations.generate_due(g("1405-05-01"))
    assert dates() == ["1404-04-10", "1405-04-10"]


def test_state_machine_records_events_and_refuses_bad_moves(django_user_model):
    obligations.seed()
    obligations.generate_due(g("1404-03-31"))
    standards = DueInstance.objects.get(obligation__key="bylaw-107c/row-5")
    with pytest.raises(ValidationError):
        obligations.transition(standards, DueStatus.MET, actor=SYSTEM)  # no evidence
    with pytest.raises(ValidationError):
        obligations.transition(standards, DueStatus.WAIVED, actor=SYSTEM)  # no reason
    obligations.transition(standards, DueStatus.MISSED, actor=SYSTEM)
    done = obligations.transition(
        standards, DueStatus.MET, evidence="Circular 1404/123", actor=SYSTEM
    )
    assert done.status == DueStatus.MET and done.closed_at is not None
    assert list(done.events.values_list("from_status", "to_status")) == [
        ("open", "missed"),
        ("missed", "met"),
    ]
    with pytest.raises(ValidationError):
        obligations.transition(done, DueStatus.OPEN, actor=SYSTEM)


def test_overdue_obligations_list_per_responsible_body():
    obligations.seed()
    obligations.generate_due(g("1404-03-31"))
    on = g("1404-03-31")
    by_body = obligations.overdue_by_body(on)
    ito = {i.obligation.key for i in by_body["ITO"]}
    assert ito == {"bylaw-107c/row-5"}
    assert "bylaw-107c/row-4" in {i.obligation.key for i in by_body["MICT"]}
    assert "bylaw-107c/row-4" in {i.obligation.key for i in by_body["Steering WG"]}
    # Meeting a duty takes it off every body's list.
    obligations.transition(
        by_body["ITO"][0], DueStatus.MET, evidence="Standard published", actor=SYSTEM
    )
    assert "ITO" not in obligations.overdue_by_body(on)
    # Nothing dated after the day is overdue; undated duties never are.
    for items in obligations.overdue_by_body(on).values():
        assert all(i.due_on is not None and i.due_on < on for i in items if i.status == "open")
    # The same duty is not overdue the day before its deadline.
    assert "bylaw-107c/row-5" not in {
        i.obligation.key for i in obligations.overdue(g("1403-11-07"))
    }


def test_commands_seed_and_list_overdue():
    out = StringIO()
    call_command("oversight", "seed-obligations", "--until", "1404-03-31", stdout=out)
    assert "obligations +" in out.getvalue()
    call_command("oversight", "seed-obligations", "--until", "1404-03-31", stdout=out)
    out = StringIO()
    call_command("oversight", "overdue", "--as-of", "1404-03-31", stdout=out)
    assert "ITO: 1" in out.getvalue()


def test_the_tracker_holds_every_duty_the_seeds_name_with_basis_and_source():
    source = data.obligations()
    items = source["obligations"]
    assert len(items) == 60  # 39 from Tables 2-3 and the laws, 21 added from the seeds
    instruments = {i["id"]: i for i in source["instruments"]}
    assert all(i.get("title_fa") and i.get("title_en") for i in instruments.values())
    keys = set()
    for item in items:
        assert item["instrument"] in instruments, item
        suffix, reference, reference_fa = obligations._reference(item)
        keys.add(f"{item['instrument']}/{item.get('key', suffix)}")
        assert reference and reference_fa, item  # the legal basis: instrument + article
        assert item["source"].startswith(("seed001.md", "seed002.md")), item
        assert item["duty_fa"] and item["duty_en"] and item["responsible"], item
        # A date, a period of a trigger, a recurrence, or an honest "not stated".
        spec = item.get("deadline") or {}
        assert (
            spec
            or item.get("recurring")
            or item.get("deadline_note")
            or (
                item["instrument"] == "bylaw-107c"  # the report's Table 3 says "—" for these
            )
        ), item
    assert len(keys) == len(items)  # every duty has its own key
    clauses = {i.get("clause") for i in items if i["instrument"] == "plan7-107"}
    assert {"الف", "ب", "پ", "ت", "ث", "ج", "چ", "ح", "خ"} <= clauses
    assert {"itec-25", "budget-1402", "principle44-7", "npp-center"} <= {
        i["instrument"] for i in items
    }


def test_the_added_duties_are_seeded_with_their_deadlines():
    assert obligations.seed()["obligations"] == 60
    obligations.generate_due(g("1404-03-31"))
    assert jalali.iso(Obligation.objects.get(key="plan7-107/clause-پ").deadline) == "1403-12-30"
    assert jalali.iso(Obligation.objects.get(key="itec-25/resolution-2").deadline) == "1401-11-30"
    permits = Obligation.objects.get(key="principle44-7/clause-notes 3-4")
    assert jalali.iso(permits.deadline) == "1401-01-01"
    # No date in the seeds: no date invented.
    for key in ("plan7-107/clause-ت", "itec-26/resolution-1-art-9", "npp-center/clause-QR"):
        obligation = Obligation.objects.get(key=key)
        assert obligation.deadline_kind == "none" and obligation.deadline is None
        assert DueInstance.objects.get(obligation=obligation).due_on is None
        assert "no deadline stated" in obligations.details(obligation)["deadline_note"].lower()
    # A yearly report of Art. 107 falls due at the end of each plan year, as the plan's other
    # yearly duty does (the seeds give no date of their own; the data says so).
    report = Obligation.objects.get(key="plan7-107/clause-خ report")
    assert report.recurrence == "yearly"
    dates = [jalali.iso(d) for d in report.instances.values_list("due_on", flat=True)]
    assert dates == ["1403-12-30"]  # the next one falls after 1404-03-31
    # A quarterly report with no start anywhere waits undated rather than invent one.
    quarterly = Obligation.objects.get(key="budget-1402/clause-quarterly report")
    assert list(quarterly.instances.values_list("due_on", flat=True)) == [None]
