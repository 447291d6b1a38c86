"""Register the two sample agency windows as OIDC clients and run them as child processes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand

from panjereh.identity.clients import register_agency_client

WINDOWS = [
    # Clear of the registries' ports (8100 and up in the demo).
    ("a", "پنجره نمونه الف (Sample agency window A)", 8201),
    ("b", "پنجره نمونه ب (Sample agency window B)", 8202),
]


def write_window_configs(issuer: str, ports: dict[str, int] | None = None) -> list[str]:
    """Register (or re-key) the sample windows' clients; write their configs; return the paths."""
    directory = settings.VAR_DIR / "samples"
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, title, default_port in WINDOWS:
        port = (ports or {}).get(name, default_port)
        base = f"http://127.0.0.1:{port}"
        application, secret = register_agency_client(
            title,
            [f"{base}/callback"],
            client_id=f"sample-window-{name}",
            post_logout_redirect_uris=[f"{base}/"],
            backchannel_logout_uri=f"{base}/backchannel-logout",
            initiate_login_uri=f"{base}/initiate-login",
        )
        config = {
            "name": name,
            "title": title,
            "issuer": issuer.rstrip("/"),
            "client_id": application.client_id,
            "client_secret": secret,
            "base_url": base,
            "port": port,
            "scope": "openid profile",
            "service_level": 2,
        }
        path = directory / f"window-{name}.json"
        path.write_text(json.dumps(config, ensure_ascii=False, indent=2))
        path.chmod(0o600)
        paths.append(str(path))
    return paths


class Command(BaseCommand):
    help = "Register the sample agency windows A and B and run them (Ctrl+C stops them)."

    def add_arguments(self, parser):
        parser.add_argument("--issuer", default=settings.PUBLIC_BASE_URL)
        parser.add_argument("--no-run", action="store_true", help="Only write the configs.")

    def handle(self, *args, issuer, no_run, **options):
        paths = write_window_configs(issuer)
        for path in paths:
            self.stdout.write(f"config: {path}")
        if no_run:
            return
        children = [
            subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
                [sys.executable, "-m", "panjereh.samples.agency_window", "--config", path]
            )
            for path in paths
        ]
        for _name, title, port in WINDOWS:
            self.stdout.write(f"{title}: http://127.0.0.1:{port}/")
        try:
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
                    child.wait(timeout=5)
