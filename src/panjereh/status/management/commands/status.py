"""``panjereh status probe|sync|rollup``: run the status monitor's work once, by hand.

The repeated rounds are jobs of the one table (``panjereh.common.periodic``), run by Celery
beat in production and by the embedded worker (``panjereh worker``) in the demo."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "The status page's monitor: probe the systems, sync the list, roll up old checks."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        probe = sub.add_parser(
            "probe",
            help="Check every system once and print each result (the rounds that repeat are "
            "the job status-probe of the worker or of beat).",
        )
        probe.add_argument(
            "--once", action="store_true", help="One round (the only kind; kept for scripts)."
        )
        probe.add_argument("--no-sync", action="store_true", help="Do not refresh the list.")
        sub.add_parser("sync", help="Refresh the list of watched systems.")
        sub.add_parser("rollup", help="Roll finished days up; prune old raw checks.")

    def handle(self, *args, action, **options):
        from panjereh.status import monitor

        if action == "sync":
            self.stdout.write(str(monitor.sync_systems()))
        elif action == "rollup":
            self.stdout.write(str(monitor.rollup()))
        elif action == "probe":
            if not options["no_sync"]:
                monitor.sync_systems()
            for system, result in monitor.probe_round(
                on_incident=lambda incident: self.stdout.write(monitor.describe_incident(incident))
            ):
                state = "ok" if result.ok else f"FAILED ({result.error})"
                self.stdout.write(f"{system.key}: {state} {result.latency_ms} ms")
        else:  # pragma: no cover - argparse refuses other actions
            raise CommandError(action)
