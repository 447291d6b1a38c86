"""``panjereh worker``: the embedded background worker (see ``panjereh.services.worker``)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from panjereh.services import worker


class Command(BaseCommand):
    help = "Run the in-process background worker: applications, notifications, registry events."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=0.2)
        parser.add_argument("--events-every", type=float, default=30.0)
        parser.add_argument("--once", action="store_true")

    def handle(self, *args, interval, events_every, once, **options):
        worker.run(
            interval=interval,
            events_every=events_every,
            once=once,
            write=lambda text: self.stdout.write(text) or self.stdout.flush(),
        )
