"""Fixtures of the personal app's tests: a citizen holding a certificate, issued through the
services engine with the data a registry would have returned."""

from __future__ import annotations

import pytest

from tests.factories import issue_certificate


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Status lists and rate-limit counters are cached: each test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def holder(db):
    from tests.factories import UserFactory

    return UserFactory(national_code="0012345679", is_staff=False, assurance_level=3)


@pytest.fixture
def other(db):
    from tests.factories import UserFactory

    return UserFactory(national_code="0084575948", is_staff=False, assurance_level=3)


@pytest.fixture
def certificate(holder):
    return issue_certificate(holder)


def make_notice(user, agency, *, subject="اخطاریه آزمایشی", state="opened", n=1):
    """An official notice to ``user`` as the mailbox holds it, signed with ``agency``'s key."""
    from django.utils import timezone

    from panjereh.mailbox.models import Notice, RecipientKind
    from panjereh.mailbox.operations import NOTICE_TYPE
    from panjereh.services import documents

    now = timezone.now()
    reference = f"NTEST{n:08d}"
    claims = {
        "iss": agency.code,
        "iss_fa": agency.name_fa,
        "iss_en": agency.name_en,
        "ref": reference,
        "to": {"person": user.national_code},
        "subject": subject,
        "body": "متن اخطاریه",
        "att": [],
        "iat": int(now.timestamp()),
    }
    token, kid = documents.sign(agency, claims, NOTICE_TYPE)
    return Notice.objects.create(
        reference=reference,
        agency=agency,
        client="test",
        recipient_kind=RecipientKind.PERSON,
        recipient=user.national_code,
        user=user,
        subject=subject,
        body="متن اخطاریه",
        idempotency_key=reference,
        request_hash="0" * 64,
        token=token,
        kid=kid,
        state=state,
        made_available_at=now,
        opened_at=now if state in ("opened", "served") else None,
        served_at=now if state == "served" else None,
    )


def make_bill_receipt(user, agency, *, n=1):
    """A bill the court received, with the judiciary's signed receipt (``pleadings``'s
    claims, signed by ``agency``, the agency whose code is "judiciary")."""
    from django.utils import timezone

    from panjereh.judiciary import pleadings
    from panjereh.judiciary.models import Case, Pleading

    case = Case.objects.create(
        number=f"99{n:014d}",
        kind="civil",
        subject="مطالبه وجه",
        court="دادگاه عمومی تهران",
        stage="hearing",
        opened_at=timezone.now(),
    )
    pleading = Pleading.objects.create(
        reference=f"BILL-{n:08d}",
        user=user,
        case=case,
        template="defence",
        text="متن لایحه",
        state="submitted",
        submitted_at=timezone.now(),
        court_reference="C-1",
        data={"title_fa": "لایحه دفاعیه", "title_en": "Statement of defence"},
    )
    assert pleadings.court_agency() == agency, "the judiciary signs (code 'judiciary')"
    return pleadings.issue_receipt(pleading)
