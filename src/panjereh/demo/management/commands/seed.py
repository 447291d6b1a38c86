"""``panjereh seed --profile national|small [--seed N] [--replace]``: load the demo catalogue."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from panjereh.catalogue.models import Agency, Service
from panjereh.demo import dataset


class Command(BaseCommand):
    help = "Load the calibrated demo catalogue (agencies, service cards and their history)."

    def add_arguments(self, parser):
        parser.add_argument("--profile", default="national", choices=dataset.PROFILES)
        parser.add_argument("--seed", type=int, default=dataset.DEFAULT_SEED)
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Delete the current catalogue first (agencies, cards, versions, memberships).",
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
