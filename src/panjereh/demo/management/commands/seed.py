"""``panjereh seed --profile national|small [--seed N] [--replace] [--no-definitions]``: load
the demo catalogue, then the service definitions of its smart and connected cards."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from panjereh.catalogue.models import Agency, Service
from panjereh.demo import dataset


class Command(BaseCommand):
    help = (
        "Load the calibrated demo catalogue (agencies, service cards and their history) and "
        "the service definitions of its smart and connected cards."
    )

    def add_arguments(self, parser):
        parser.add_argument("--profile", default="national", choices=dataset.PROFILES)
        parser.add_argument("--seed", type=int, default=dataset.DEFAULT_SEED)
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Delete the current catalogue first (agencies, cards, versions, memberships).",
        )
        parser.add_argument(
            "--no-definitions",
            action="store_true",
            help="Only the catalogue: no service definitions for its cards (the smart cards "
            "then have no definition the engine can run).",
        )

    def handle(self, *args, profile: str, seed: int, replace: bool, **options):
        if Agency.objects.exists() or Service.objects.exists():
            if not replace:
                raise CommandError(
                    "The catalogue is not empty; pass --replace to delete it and load again."
                )
            dataset.clear_catalogue()
        started = time.perf_counter()
        result = dataset.seed(profile, seed)
        elapsed = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded the {result.profile} profile (seed {result.seed}): "
                f"{result.agencies} agencies, {result.services} service cards, "
                f"{result.versions} version rows in {elapsed:.1f} s."
            )
        )
        if not options.get("no_definitions"):
            seed_definitions(self.stdout.write, self.style)


def seed_definitions(write, style) -> None:
    """The cards' definitions (``panjereh.demo.definitions``), then the check that the smart
    flag and the definitions agree."""
    from panjereh.demo import definitions
    from panjereh.services.queries import smart_flag_disagreements

    started = time.perf_counter()
    done = definitions.seed()
    if not done.skipped:
        write(
            style.SUCCESS(
                f"Service definitions (SIMULATED, certified by the system): {done.smart} smart, "
                f"{done.human} with an officer's review, {done.events} lifecycle events, "
                f"shipped files {', '.join(done.shipped) or 'none'}, in "
                f"{time.perf_counter() - started:.1f} s."
            )
        )
    disagree = smart_flag_disagreements()
    if disagree["marked_without_definition"] or disagree["definition_without_mark"]:
        write(
            style.WARNING(
                "The smart flag and the definitions disagree: marked smart without a certified "
                f"smart definition {disagree['marked_without_definition'][:10]}, a certified "
                f"smart definition but not marked smart {disagree['definition_without_mark'][:10]}"
            )
        )
