"""``panjereh status probe|sync|rollup``: run the status monitor."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "The status page's monitor: probe the systems, sync the list, roll up old checks."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        probe = sub.add_parser("probe", help="Check every system (repeatedly unless --once).")
        probe.add_argument("--once", action="store_true", help="One round, then exit.")
        probe.add_argument("--interval", type=float, help="Seconds between rounds.")
        probe.add_argument("--start-delay", type=float, default=0.0)
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
            if options["once"]:
                if not options["no_sync"]:
                    monitor.sync_systems()
                for system, result in monitor.probe_round():
                    state = "ok" if result.ok else f"FAILED ({result.error})"
                    self.stdout.write(f"{system.key}: {state} {result.latency_ms} ms")
                return
            monitor.run(
                interval=options["interval"],
                start_delay=options["start_delay"],
                sync_every=None if options["no_sync"] else monitor.SYNC_EVERY,
                write=self.stdout.write,
            )
        else:  # pragma: no cover - argparse refuses other actions
            raise CommandError(action)
