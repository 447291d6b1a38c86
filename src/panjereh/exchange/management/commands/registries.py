"""``panjereh registries run | control``: the simulated base registries."""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from panjereh.registries import PROFILES, REGISTRIES
from panjereh.registries.supervisor import Cluster, control, read_addresses

ADDRESSES_FILE = "registries.json"


def addresses_path() -> Path:
    return Path(settings.VAR_DIR) / ADDRESSES_FILE


class Command(BaseCommand):
    help = "Run the simulated base registries (each its own process) or switch their faults."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("run", help="Start every registry and serve until Ctrl+C or SIGTERM.")
        run.add_argument("--profile", choices=sorted(PROFILES), default="small")
        run.add_argument("--port-base", type=int, default=0, help="First port; 0 = any free ports.")
        run.add_argument("--seed", type=int, default=1404)
        run.add_argument("--register", action="store_true", help="Register them as providers.")
        ctl = sub.add_parser("control", help="Make a running registry slow, fail or incomplete.")
        ctl.add_argument("registry", choices=REGISTRIES)
        ctl.add_argument(
            "--mode", choices=["normal", "slow", "fail", "drop", "incomplete"], default=None
        )
        ctl.add_argument("--delay-ms", type=int, default=2000)
        ctl.add_argument("--status", type=int, default=503)
        ctl.add_argument("--rate", type=float, default=1.0)

    def handle(self, *args, action, **options):
        if action == "run":
            self._run(
                options["profile"], options["port_base"], options["seed"], options["register"]
            )
        else:
            self._control(options)

    def _run(self, profile: str, port_base: int, seed: int, register: bool) -> None:
        cluster = Cluster(profile, seed=seed, port_base=port_base).start()
        stop = threading.Event()
        previous = {
            sig: signal.signal(sig, lambda *_: stop.set())
            for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            cluster.write(addresses_path())
            if register:
                from panjereh.exchange.provision import register_registries

                register_registries(cluster.addresses())
            for name, url in cluster.addresses().items():
                self.stdout.write(f"  {name:10s} {url}")
            self.stdout.write(
                self.style.SUCCESS(
                    f"{len(cluster.processes)} registries of {cluster.size:,} people are up; "
                    f"addresses in {addresses_path()}. Ctrl+C stops them."
                )
            )
            while not stop.wait(1.0):
                dead = [n for n, p in cluster.processes.items() if p.poll() is not None]
                for name in dead:  # a registry that crashed is restarted on its port
                    self.stderr.write(f"registry {name} stopped; restarting")
                    cluster.processes.pop(name)
                    cluster.start_one(name)
        finally:
            cluster.stop()
            addresses_path().unlink(missing_ok=True)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.stdout.write("registries stopped")

    def _control(self, options) -> None:
        path = addresses_path()
        if not path.exists():
            raise CommandError(f"No registries are running ({path} is missing).")
        url = read_addresses(path)[options["registry"]]
        if options["mode"] is None:
            state = control(url)
        else:
            state = control(
                url,
                mode=options["mode"],
                delay_ms=options["delay_ms"],
                status=options["status"],
                rate=options["rate"],
            )
        self.stdout.write(json.dumps(state))
