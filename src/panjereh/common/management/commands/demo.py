"""One command for a laptop: migrate, load the national dataset once, and serve."""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand

from panjereh.catalogue.models import Agency


class Command(BaseCommand):
    help = "Migrate, seed the calibrated national dataset if the database is empty, and serve."

    def add_arguments(self, parser):
        parser.add_argument("--profile", default="national", choices=["national", "small"])
        parser.add_argument("--bind", default="127.0.0.1:8000")
        parser.add_argument("--no-serve", action="store_true", help="Prepare only.")

    def handle(self, *args, profile, bind, no_serve, **options):
        call_command("migrate", verbosity=0, interactive=False)
        if not Agency.objects.exists():
            self.stdout.write(f"Loading the {profile} dataset (first run only)…")
            call_command("seed", profile=profile)
        call_command("demo_accounts")
        host = bind if bind.startswith("http") else f"http://{bind}"
        self.stdout.write(
            self.style.SUCCESS(
                "\nPanjereh is ready.\n"
                f"  Portal (Persian):   {host}/\n"
                f"  Portal (English):   {host}/en/\n"
                f"  Back office:        {host}/admin/  (accounts printed above)\n"
                f"  API schema:         {host}/api/schema/\n"
                "Press Ctrl+C to stop.\n"
            )
        )
        if not no_serve:
            call_command("serve", bind=bind.replace("http://", ""))
