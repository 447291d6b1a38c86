"""The demo accounts: one per platform role plus two agency admins; idempotent; the password
comes from the environment or is generated once and kept in var/, never printed."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from panjereh.catalogue import roles
from panjereh.catalogue.models import Agency, AgencyMembership
from panjereh.demo import dataset
from panjereh.identity.models import User

pytestmark = pytest.mark.django_db


def _run() -> str:
    out = io.StringIO()
    call_command("demo_accounts", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_generated_password_is_kept_and_reused(settings, tmp_path, monkeypatch):
    monkeypatch.delenv("PANJEREH_DEMO_PASSWORD", raising=False)
    settings.VAR_DIR = tmp_path
    dataset.seed("small")
    printed = _run()
    stored = (tmp_path / "demo-accounts.txt").read_text(encoding="utf-8")
    password = stored.split("password:")[1].strip()
    assert password not in printed and str(tmp_path / "demo-accounts.txt") in printed
    assert (tmp_path / "demo-accounts.txt").stat().st_mode & 0o077 == 0

    aeo = User.objects.get(username="aeo-officer")
    assert roles.has_role(aeo, roles.AEO) and aeo.is_staff and aeo.check_password(password)
    assert roles.has_role(User.objects.get(username="ito-operator"), roles.ITO)
    assert roles.has_role(User.objects.get(username="steering-member"), roles.STEERING_WG)
    assert roles.has_role(User.objects.get(username="interop-member"), roles.INTEROP_WG)
    admins = AgencyMembership.objects.filter(role="admin")
    # Every agency account whose agency the small dataset has (the flagships' agencies are in it).
    expected = {"nocr", "ssi", "msrt-hq", "martyrs", "judiciary"} & set(
        Agency.objects.values_list("code", flat=True)
    )
    assert {"nocr", "ssi"} <= expected
    assert set(admins.values_list("agency__code", flat=True)) == expected

    _run()  # a second run changes nothing
    assert User.objects.filter(username__in=["aeo-officer", "nocr-admin"]).count() == 2
    # The agency admins, and the judge's membership of the judiciary (asset inquiries).
    assert AgencyMembership.objects.count() == len(expected) + ("judiciary" in expected)
    if "judiciary" in expected:
        judge = User.objects.get(username="judge")
        assert roles.judge_agencies(judge) == {Agency.objects.get(code="judiciary").pk}
        assert judge.check_password(password)
    assert (tmp_path / "demo-accounts.txt").read_text(encoding="utf-8") == stored
    assert User.objects.get(username="nocr-admin").check_password(password)


def test_password_from_the_environment(settings, tmp_path, monkeypatch):
    settings.VAR_DIR = tmp_path
    monkeypatch.setenv("PANJEREH_DEMO_PASSWORD", "a long demo passphrase")
    printed = _run()
    assert "PANJEREH_DEMO_PASSWORD" in printed
    assert User.objects.get(username="ito-operator").check_password("a long demo passphrase")
    assert not (tmp_path / "demo-accounts.txt").exists()
    # Without the catalogue there is no agency to administer: the role accounts still exist.
    assert not AgencyMembership.objects.exists()
