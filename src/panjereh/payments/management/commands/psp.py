"""``panjereh psp``: run the simulated payment service provider (a bank) as its own process."""

from __future__ import annotations

import signal
import threading
from urllib.parse import urlsplit

from django.core.management.base import BaseCommand

from panjereh.payments import conf
from panjereh.psp.supervisor import PSP


class Command(BaseCommand):
    help = "Run the simulated PSP (bank gateway) at PANJEREH_PAYMENTS_PSP_URL until Ctrl+C."

    def add_arguments(self, parser):
        parser.add_argument("--verify-deadline", type=float, default=None)

    def handle(self, *args, verify_deadline=None, **options):
        address = urlsplit(conf.get("PSP_URL"))
        psp = PSP(
            conf.psp_secret().decode(),
            merchant=conf.get("PSP_MERCHANT"),
            host=address.hostname or "127.0.0.1",
            port=address.port or 8790,
            verify_deadline=verify_deadline or float(conf.get("VERIFY_WINDOW")),
        ).start()
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        self.stdout.write(
            self.style.SUCCESS(f"The simulated PSP listens at {psp.url}. Ctrl+C stops it.")
        )
        try:
            while not stop.wait(1.0):
                if psp.process is None or psp.process.poll() is not None:
                    self.stderr.write("the simulated PSP stopped; starting it again")
                    psp.process = None
                    psp.start()
        finally:
            psp.stop()
