"""``panjereh demo_accounts``: the back-office accounts of the demo, one per platform role.

The password comes from ``PANJEREH_DEMO_PASSWORD``; without it one is generated on the first run
and kept in ``var/demo-accounts.txt`` (readable by the owner only), so later runs reuse it. The
command prints the accounts and where the password is, never the password itself. Running it
again changes nothing but the password, if the environment now gives another one.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from panjereh.catalogue import roles
from panjereh.catalogue.models import Agency, AgencyMembership
from panjereh.common.conf import setting
from panjereh.identity.models import User

ROLE_ACCOUNTS = [
    # username, role, first name, last name
    ("aeo-officer", roles.AEO, "کارشناس", "سازمان اداری و استخدامی"),
    ("ito-operator", roles.ITO, "راهبر", "سازمان فناوری اطلاعات"),
    ("steering-member", roles.STEERING_WG, "عضو", "کارگروه راهبری و نظارت"),
    ("interop-member", roles.INTEROP_WG, "عضو", "کارگروه تعامل‌پذیری"),
]
AGENCY_ACCOUNTS = [
    # username, agency code (real agencies of the demo dataset)
    ("nocr-admin", "nocr"),
    ("ssi-admin", "ssi"),
    # The agencies of the smart-service definitions (they answer their applicants' ratings),
    # present once `panjereh services load-definitions` has run.
    ("msrt-admin", "msrt-hq"),
    ("martyrs-admin", "martyrs"),
    ("judiciary-admin", "judiciary"),
]
ACCOUNTS_FILE = "demo-accounts.txt"


def password_file() -> Path:
    return Path(settings.VAR_DIR) / ACCOUNTS_FILE


def demo_password() -> tuple[str, str]:
    """(password, where it comes from)."""
    from_env = str(setting("PANJEREH_DEMO_PASSWORD", "")).strip()
    if from_env:
        return from_env, "PANJEREH_DEMO_PASSWORD"
    path = password_file()
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("password:"):
                return line.split(":", 1)[1].strip(), str(path)
    password = secrets.token_urlsafe(12)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"Panjereh demo back-office accounts (same password for all).\npassword: {password}\n",
        encoding="utf-8",
    )
    path.chmod(0o600)
    return password, str(path)


class Command(BaseCommand):
    help = "Create (or refresh) the demo back-office accounts, one per platform role."

    @transaction.atomic
    def handle(self, *args, **options):
        roles.ensure_groups()
        password, source = demo_password()
        lines = []
        for username, role, first, last in ROLE_ACCOUNTS:
            user = self._user(username, password, first, last)
            user.groups.add(roles.Group.objects.get(name=role))
            lines.append(f"  {username:18} {role}")
        for username, code in AGENCY_ACCOUNTS:
            agency = Agency.objects.filter(code=code).first()
            if agency is None:
                self.stderr.write(f"  {username}: agency {code!r} is not in the catalogue; skipped")
                continue
            user = self._user(username, password, "مدیر", agency.name_fa)
            AgencyMembership.objects.update_or_create(
                user=user, agency=agency, defaults={"role": "admin"}
            )
            lines.append(f"  {username:18} agency admin of {agency.name_fa} ({code})")
        # A judge of the judiciary (the group Judge and a membership there): asset inquiries.
        judiciary = Agency.objects.filter(code="judiciary").first()
        if judiciary is not None:
            judge = self._user("judge", password, "قاضی", judiciary.name_fa)
            judge.groups.add(roles.Group.objects.get_or_create(name=roles.JUDGE)[0])
            AgencyMembership.objects.update_or_create(
                user=judge, agency=judiciary, defaults={"role": "viewer"}
            )
            lines.append(f"  {'judge':18} judge of {judiciary.name_fa}: asset inquiries, /assets/")
        self.stdout.write("Demo back-office accounts:")
        for line in lines:
            self.stdout.write(line)
        self.stdout.write(f"Password: see {source}")

    def _user(self, username: str, password: str, first: str, last: str) -> User:
        user, _created = User.objects.get_or_create(
            username=username, defaults={"first_name": first, "last_name": last}
        )
        user.is_staff = True
        user.is_active = True
        if not user.check_password(password):
            user.set_password(password)
        user.save()
        return user
