"""The daily purge deletes identity rows that are evidence of nothing any more, and keeps the
rest."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from panjereh.identity.models import RedeemedCode

pytestmark = pytest.mark.django_db


def _redeemed(code: str, days_ago: float) -> RedeemedCode:
    return RedeemedCode.objects.create(
        code_hash=code * 64,
        application_id=1,
        redeemed_at=timezone.now() - dt.timedelta(days=days_ago),
    )


def test_redeemed_codes_older_than_thirty_days_are_deleted_and_newer_ones_kept():
    _redeemed("a", 31)
    kept = _redeemed("b", 29)
    out = io.StringIO()
    call_command("identity_purge", stdout=out)
    assert list(RedeemedCode.objects.values_list("pk", flat=True)) == [kept.pk]
    assert "redeemed codes: 1" in out.getvalue()
