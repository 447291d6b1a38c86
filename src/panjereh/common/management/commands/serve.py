"""Serve Panjereh over HTTP: Granian (default) or gunicorn, several worker processes with
threads, on loopback by default.

Granian (a Rust HTTP server running the WSGI application in Python threads) is the default:
its HTTP parsing and connection handling run in Rust, where gunicorn's threaded workers run
them in Python (docs/benchmarks.md compares the two). ``--server gunicorn`` (or ``PANJEREH_SERVER=gunicorn``) runs the same
application under gunicorn instead.

``--app portal`` (the default) serves the portal, ``panjereh.conf.wsgi:application``: the whole
site, the gateway's and programs' endpoints included (the demo is one process). ``--app
gateway`` serves only the endpoints programs call (the exchange gateway ``/r1/`` and the OpenID
Connect token, revocation, introspection, userinfo and JWKS endpoints) as a process of their own
with their own settings (``panjereh.conf.gateway_settings``: a short middleware stack, the same
transport rules as the portal), ``panjereh.conf.gateway_wsgi:application``.
"""

from __future__ import annotations

import os
import sys

from django.core.management.base import BaseCommand, CommandError

WSGI_TARGETS = {
    "portal": "panjereh.conf.wsgi:application",
    "gateway": "panjereh.conf.gateway_wsgi:application",
}
GATEWAY_SETTINGS = "panjereh.conf.gateway_settings"


class Command(BaseCommand):
    help = "Serve Panjereh over HTTP (Granian or gunicorn)."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.environ.get("PANJEREH_BIND", "127.0.0.1:8000"))
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("PANJEREH_WORKERS", "2"))
        )
        parser.add_argument(
            "--threads", type=int, default=int(os.environ.get("PANJEREH_THREADS", "8"))
        )
        parser.add_argument(
            "--server",
            choices=["granian", "gunicorn"],
            default=os.environ.get("PANJEREH_SERVER", "granian"),
        )
        parser.add_argument(
            "--app", choices=sorted(WSGI_TARGETS), default=os.environ.get("PANJEREH_APP", "portal")
        )

    def handle(self, *args, bind, workers, threads, server, app, **options):
        host, _sep, port = bind.rpartition(":")
        if not host or not port.isdigit():
            raise CommandError(f"--bind must be host:port, not {bind!r}")
        if app == "gateway" and os.environ.get("DJANGO_SETTINGS_MODULE") != GATEWAY_SETTINGS:
            # This process has the portal's settings loaded (and its server workers would fork
            # with them): the gateway starts afresh under its own.
            argv = ["--bind", bind, "--workers", str(workers), "--threads", str(threads)]
            argv += ["--server", server, "--app", "gateway"]
            env = {**os.environ, "DJANGO_SETTINGS_MODULE": GATEWAY_SETTINGS}
            sys.stdout.flush()
            os.execve(sys.executable, [sys.executable, "-m", "panjereh", "serve", *argv], env)  # noqa: S606
        # Worker processes import the application themselves: they must find the same settings.
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "panjereh.conf.settings")
        if server == "gunicorn":
            self._gunicorn(bind, workers, threads, app)
        else:
            self._granian(host.strip("[]"), int(port), workers, threads, app)

    def _granian(self, host: str, port: int, workers: int, threads: int, app: str) -> None:
        from granian import Granian
        from granian.constants import Interfaces

        Granian(
            WSGI_TARGETS[app],
            address=host,
            port=port,
            interface=Interfaces.WSGI,
            workers=workers,
            blocking_threads=threads,
            websockets=False,
            log_access=bool(os.environ.get("PANJEREH_ACCESS_LOG")),
            respawn_failed_workers=True,
        ).serve()

    def _gunicorn(self, bind: str, workers: int, threads: int, app: str) -> None:
        from django.utils.module_loading import import_string
        from gunicorn.app.base import BaseApplication

        application = import_string(WSGI_TARGETS[app].replace(":", "."))

        class _App(BaseApplication):
            def load_config(self):
                self.cfg.set("bind", bind)
                self.cfg.set("workers", workers)
                self.cfg.set("threads", threads)
                self.cfg.set("worker_class", "gthread")
                self.cfg.set("accesslog", os.environ.get("PANJEREH_ACCESS_LOG") or None)
                self.cfg.set("timeout", 60)

            def load(self):
                return application

        _App().run()
