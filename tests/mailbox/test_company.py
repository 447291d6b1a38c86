"""A company's notices: those who may act for it (read scope) read them; a representative's
opening is the company's, a delegate's is not; no one else reads them."""

from __future__ import annotations

import pytest

from panjereh.identity import businesses
from panjereh.identity.models import LegalPerson
from panjereh.mailbox.models import Notice
from tests.factories import UserFactory

from .conftest import PDF, b64, national_code, national_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def company(db):
    return LegalPerson.objects.create(national_id=national_id(), name="شرکت ساختمانی آزمایشی")


def _person():
    user = UserFactory(national_code=national_code(), is_staff=False)
    user.save()
    return user


def _acting(monkeypatch, authority):
    monkeypatch.setattr(
        businesses,
        "acting_for",
        lambda request, **kw: businesses.Acting(authority) if authority else None,
    )


def _send(sender, company):
    response = sender.post(
        "notices",
        {
            "to": {"national_id": company.national_id},
            "subject": "اخطار مالیاتی",
            "body": "متن",
            "attachments": [{"name": "a.pdf", "content": b64(PDF)}],
        },
    )
    assert response.status_code == 201
    return response.json()["id"]


def test_a_delegate_reads_without_opening_a_representative_opens(
    sender, company, client, monkeypatch
):
    reference = _send(sender, company)
    delegate = _person()
    _acting(monkeypatch, businesses.Authority(company, "delegate", frozenset({"read"}), 7))
    client.force_login(delegate)
    assert "اخطار مالیاتی" in client.get("/mailbox/").content.decode()
    assert client.get(f"/mailbox/{reference}/").status_code == 200
    assert client.get(f"/mailbox/{reference}/files/0/").content == PDF
    assert Notice.objects.get(reference=reference).opened_at is None
    director = _person()
    _acting(monkeypatch, businesses.Authority(company, "ceo", frozenset({"read", "apply"})))
    client.force_login(director)
    assert client.get(f"/mailbox/{reference}/").status_code == 200
    notice = Notice.objects.get(reference=reference)
    assert notice.opened_at is not None and notice.state == "served"


def test_without_the_read_scope_or_as_oneself_nothing_is_shown(
    sender, company, client, monkeypatch
):
    reference = _send(sender, company)
    payer = _person()
    _acting(monkeypatch, businesses.Authority(company, "delegate", frozenset({"pay"}), 8))
    client.force_login(payer)
    assert client.get(f"/mailbox/{reference}/").status_code == 404
    _acting(monkeypatch, None)
    assert client.get(f"/mailbox/{reference}/").status_code == 404
    assert client.get(f"/mailbox/{reference}/files/0/").status_code == 404
    assert Notice.objects.get(reference=reference).opened_at is None
