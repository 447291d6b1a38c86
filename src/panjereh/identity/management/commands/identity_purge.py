"""Delete identity rows that are evidence of nothing any more (run daily)."""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from panjereh.identity import otp
from panjereh.identity.models import CodeSession, RedeemedCode, SsoSession


class Command(BaseCommand):
    help = (
        "Delete used or expired one-time codes, code-to-session links, old sessions and old "
        "redeemed authorization codes."
    )

    def handle(self, *args, **options):
        now = timezone.now()
        codes = otp.purge_expired()
        # A code lives one minute; its link to the sign-on session is useless after that.
        links, _ = CodeSession.objects.filter(created_at__lt=now - timedelta(hours=1)).delete()
        # Ended sessions are kept a while for support questions; the audit trail keeps the rest.
        sessions, _ = SsoSession.objects.filter(ended_at__lt=now - timedelta(days=30)).delete()
        # A redeemed code is kept so that a replay revokes what its first use gave; after as long
        # as the sign-on sessions those tokens belong to are kept, there is nothing left to revoke.
        redeemed, _ = RedeemedCode.objects.filter(redeemed_at__lt=now - timedelta(days=30)).delete()
        self.stdout.write(
            f"one-time codes: {codes}, code links: {links}, sessions: {sessions}, "
            f"redeemed codes: {redeemed}"
        )
