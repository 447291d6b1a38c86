"""One command for a laptop: migrate, load the national dataset once, start the other
organisations' systems and the background worker, and serve.

Everything it starts (registries, sample agency windows, the worker) is a child process that
stops when the demo stops (Ctrl+C or SIGTERM).
"""

from __future__ import annotations

import contextlib
import os

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from panjereh.catalogue.models import Agency


def sample_citizens(profile: str, count: int = 3) -> list[dict]:
    """A few adults of the simulated population with a mobile, for trying registration."""
    from panjereh.registries import PROFILES
    from panjereh.registries.population import Population, jalali

    population = Population(size=PROFILES[profile])
    found = []
    for i in range(0, population.size, 4):  # household heads: adults
        person = population.person(i)
        mobile = population.mobile(i)
        if person["alive"] and 20 <= person["age"] <= 65 and mobile:
            found.append(
                {
                    "name": f"{person['first_name']} {person['last_name']}",
                    "national_code": population.national_code(i),
                    "birth_date": jalali(person["birth_date"]),
                    "mobile": mobile,
                }
            )
        if len(found) == count:
            break
    return found


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
        call_command("services", "load-definitions")
        call_command("oversight", "seed-obligations")
        if no_serve:
            return
        host = bind if bind.startswith("http") else f"http://{bind}"
        # Links, QR codes and the exchange address follow the address actually served; child
        # processes read it from the environment, forked server workers from settings.
        os.environ["PANJEREH_PUBLIC_URL"] = settings.PUBLIC_BASE_URL = host

        from panjereh.exchange.demo import start_registries
        from panjereh.identity.demo import start_identity_demo
        from panjereh.services.worker import start_child

        with contextlib.ExitStack() as children:
            registries = start_registries(profile, self.stdout.write)
            children.callback(registries.stop)
            windows = start_identity_demo(host, self.stdout.write)
            children.callback(windows.stop)
            call_command("services", "provision")
            worker = start_child()
            children.callback(worker.stop)
            self._print_ready(host, profile)
            call_command("serve", bind=bind.replace("http://", ""))

    def _print_ready(self, host: str, profile: str) -> None:
        people = "\n".join(
            f"    {p['national_code']}  born {p['birth_date']}  mobile {p['mobile']}  ({p['name']})"
            for p in sample_citizens(profile)
        )
        self.stdout.write(
            self.style.SUCCESS(
                "\nPanjereh is ready.\n"
                f"  Portal (Persian):      {host}/\n"
                f"  Portal (English):      {host}/en/\n"
                f"  Register / sign in:    {host}/account/register/  (one-time codes are printed here)\n"
                f"  Transparency portal:   {host}/transparency/\n"
                f"  Verify a document:     {host}/services/verify/\n"
                f"  Back office:           {host}/admin/  (accounts printed above)\n"
                f"  API schema (OpenAPI):  {host}/api/schema/\n"
                "  People of the simulated civil registry you can register as:\n"
                f"{people}\n"
                "Press Ctrl+C to stop.\n"
            )
        )
