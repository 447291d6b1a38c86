"""Serve the portal with gunicorn (threads, several workers) on loopback by default."""

from __future__ import annotations

import os

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve Panjereh over HTTP with gunicorn."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.environ.get("PANJEREH_BIND", "127.0.0.1:8000"))
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("PANJEREH_WORKERS", "2"))
        )
        parser.add_argument(
            "--threads", type=int, default=int(os.environ.get("PANJEREH_THREADS", "8"))
        )

    def handle(self, *args, bind, workers, threads, **options):
        from gunicorn.app.base import BaseApplication

        from panjereh.conf.wsgi import application

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
