"""Open data of application fees per service and Jalali month: counted from the payment and
refund rows (checked against an independent sum), no personal data, small counts withheld,
listed in the data package, the DCAT entry and the open-data page."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from django.test import Client

from panjereh.catalogue import roles
from panjereh.common.jalali import TEHRAN, Month
from panjereh.oversight import opendata
from panjereh.payments import operations
from panjereh.payments.models import Payment, PaymentState, Refund
from tests.factories import make_agency
from tests.feedback.conftest import make_application, make_citizen, make_definition

pytestmark = pytest.mark.django_db

AZAR = dt.datetime(2025, 12, 10, 10, tzinfo=TEHRAN)  # 1404-09-19
DEY = dt.datetime(2025, 12, 23, 10, tzinfo=TEHRAN)  # 1404-10-02


def _shaba(n: int) -> str:
    bban = f"0170{n:018d}"
    return f"IR{98 - int(bban + '182700') % 97:02d}{bban}"


@pytest.fixture
def fees(monkeypatch):
    """Two services of two agencies; 6 and 2 fees paid in Azar, 5 in Dey, one refund."""
    monkeypatch.setattr(operations, "submit_refund", lambda refund: refund)
    agencies = [make_agency(code="fee-a"), make_agency(code="fee-b")]
    for n, agency in enumerate(agencies, start=1):
        operations.save_treasury_account(
            agency, shaba=_shaba(900 + n), treasury_id="t", title="t", actor=roles.SYSTEM
        )
    definitions = [make_definition(a) for a in agencies]
    payers = [make_citizen() for _ in range(13)]
    made = []

    def pay(definition, payer, amount, when):
        application = make_application(payer, definition)
        payment = operations.create_payment(
            purpose_kind="application",
            purpose_id=application.tracking_code,
            amount=amount,
            agency=definition.agency,
            description="fee",
            payer=payer,
            actor=roles.SYSTEM,
        )
        Payment.objects.filter(pk=payment.pk).update(
            state=PaymentState.CAPTURED, captured_amount=amount, captured_at=when
        )
        made.append(payment)
        return payment

    people = iter(payers)
    for i in range(6):
        pay(definitions[0], next(people), 100_000, AZAR + dt.timedelta(minutes=i))
    for _ in range(2):
        pay(definitions[1], next(people), 70_000, AZAR)
    for i in range(5):
        pay(definitions[0], next(people), 100_000 + i, DEY)
    refunded = Payment.objects.get(pk=made[0].pk)
    refund = operations.request_refund(refunded, amount=100_000, reason="r", actor=roles.SYSTEM)
    # Five refunds would be needed to publish them: make four more small ones in Dey.
    Refund.objects.filter(pk=refund.pk).update(state="refunded", ended_at=DEY)
    for payment in made[1:5]:
        again = Payment.objects.get(pk=payment.pk)
        r = operations.request_refund(again, amount=1_000, reason="r", actor=roles.SYSTEM)
        Refund.objects.filter(pk=r.pk).update(state="refunded", ended_at=DEY)
    # A payment not captured and a bill: neither counts.
    pending = make_application(payers[-1], definitions[0])
    operations.create_payment(
        purpose_kind="application", purpose_id=pending.tracking_code, amount=5,
        agency=agencies[0], description="x", payer=payers[-1], actor=roles.SYSTEM,
    )  # fmt: skip
    return definitions, payers


def test_fees_per_service_and_month_add_up_from_the_rows(fees):
    definitions, _payers = fees
    rows = opendata.fee_rows(DEY + dt.timedelta(days=1))
    # Independently, from the rows: captured fees of applications, by card and Jalali month.
    expected: dict[tuple[str, str], list[int]] = {}
    for p in Payment.objects.filter(state=PaymentState.CAPTURED, purpose_kind="application"):
        card = definitions[0].service if p.agency_id == definitions[0].agency_id else None
        card = card or definitions[1].service
        slot = expected.setdefault((str(Month.of(p.captured_at)), card.service_id), [0] * 4)
        slot[0] += 1
        slot[1] += p.captured_amount
    for r in Refund.objects.filter(state="refunded"):
        slot = expected.setdefault(
            (str(Month.of(r.ended_at)), definitions[0].service.service_id), [0] * 4
        )
        slot[2] += 1
        slot[3] += r.amount
    got = {(r["month"], r["service_id"]): r for r in rows}
    assert (
        set(got)
        == set(expected)
        == {
            ("1404-09", definitions[0].service.service_id),
            ("1404-09", definitions[1].service.service_id),
            ("1404-10", definitions[0].service.service_id),
        }
    )
    azar = got[("1404-09", definitions[0].service.service_id)]
    assert (azar["payments_captured"], azar["collected_rials"], azar["fee_data"]) == (
        6,
        600_000,
        "ok",
    )
    assert azar["refunds"] == 0 and azar["net_rials"] == 600_000
    dey = got[("1404-10", definitions[0].service.service_id)]
    n, collected, refunds, refunded = expected[("1404-10", definitions[0].service.service_id)]
    assert (dey["payments_captured"], dey["collected_rials"]) == (n, collected) == (5, 500_010)
    assert (dey["refunds"], dey["refunded_rials"]) == (refunds, refunded) == (5, 104_000)
    assert dey["net_rials"] == collected - refunded
    assert dey["agency_code"] == "fee-a"
    # Two payments in a month: withheld, so no one's payment can be read.
    few = got[("1404-09", definitions[1].service.service_id)]
    assert few["fee_data"] == "too_few_payments"
    assert few["payments_captured"] is None and few["collected_rials"] is None
    # As of the end of Azar, Dey's payments and refunds are not there yet.
    earlier = opendata.fee_rows(AZAR + dt.timedelta(days=1))
    assert {r["month"] for r in earlier} == {"1404-09"}


def test_the_files_have_no_personal_data_and_are_listed(fees, client: Client):
    _definitions, payers = fees
    answer = client.get("/transparency/open-data/fees.csv")
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/csv")
    text = answer.content.decode("utf-8-sig")
    table = list(csv.DictReader(io.StringIO(text)))
    assert list(table[0]) == [f[0] for f in opendata.FEE_FIELDS]
    data = client.get("/transparency/open-data/fees.json").json()
    assert len(data["fees"]) == len(table) == 3 and data["basis"] == "observed"
    blob = text + json.dumps(data, ensure_ascii=False)
    for payment in Payment.objects.all():
        assert payment.reference not in blob and payment.purpose_id not in blob
    for person in payers:
        assert person.national_code not in blob and person.last_name not in blob
    package = client.get("/transparency/open-data/datapackage.json").json()
    names = {r["name"] for r in package["resources"]}
    assert {"fees", "fees-json"} <= names
    dcat = json.loads(client.get("/transparency/open-data/dcat.jsonld").content)
    urls = [d["dcat:downloadURL"]["@id"] for d in dcat["dcat:distribution"]]
    assert any(u.endswith("fees.csv") for u in urls)
    page = client.get("/transparency/open-data/").content.decode()
    assert "fees.csv" in page and "fees.json" in page
    assert client.get("/transparency/open-data/fees.csv?as_of=bad").status_code == 400


def test_an_empty_window_gives_a_header_only(db, client: Client):
    text = client.get("/transparency/open-data/fees.csv").content.decode("utf-8-sig")
    assert text.strip().split(",")[0] == "month" and len(text.strip().splitlines()) == 1
