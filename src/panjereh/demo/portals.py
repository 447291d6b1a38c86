"""The permits' part of ``panjereh demo``: the simulated specialised permit portals
(``panjereh.portals``) as a child process, reached by the window over HTTP.

The window's secret at each portal is never in the code: ``permits.conf.secret()`` reads
``PANJEREH_PORTAL_SECRET_<PORTAL>`` or, outside production, ``VAR_DIR/portals/window-secret-
<portal>``, made on first use. The demo hands the same secrets to the portals' process (on its
standard input) and the server and the worker read them the same way, so all agree without a
secret being passed around. The portals keep their state in ``VAR_DIR/portals/``.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from panjereh.portals.supervisor import Portals, PortalsStartError

DEFAULT_PORT = 8792


def start_portals(write=print) -> Portals:
    """Start the simulated portals where ``PANJEREH_PORTAL_URL_<PORTAL>`` points (another port
    if it is taken) and point this process and its children (the server, the worker) at them."""
    from django.conf import settings

    from panjereh.permits import conf

    first = urlsplit(conf.url(conf.PORTAL_NAMES[0]))
    host = first.hostname or "127.0.0.1"
    secrets = {name: conf.secret(name).decode() for name in conf.PORTAL_NAMES}
    state = Path(settings.VAR_DIR) / "portals"

    def portals(port: int) -> Portals:
        return Portals(
            secrets, state, host=host, port=port, keys={n: conf.get("KEY") for n in secrets}
        )

    try:
        running = portals(first.port or DEFAULT_PORT).start()
    except PortalsStartError:
        running = portals(0).start()  # the usual port is taken (another demo, a test run)
    for name, url in running.urls.items():
        os.environ[f"PANJEREH_PORTAL_URL_{name.upper()}"] = url
    conf.SECTION.clear()  # this process may have read the old addresses already
    write(f"Simulated specialised permit portals: {running.url}/ ({', '.join(running.urls)})")
    return running
