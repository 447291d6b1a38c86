"""Start the bare forwarder on Granian exactly as ``panjereh serve`` starts a server
(WSGI interface, the same workers and blocking threads): ``serve.py HOST PORT WORKERS THREADS``."""

import sys

from granian import Granian
from granian.constants import Interfaces

if __name__ == "__main__":
    host, port, workers, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    Granian(
        "bare.wsgi:application",
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=workers,
        blocking_threads=threads,
        websockets=False,
        log_access=False,
        respawn_failed_workers=True,
    ).serve()
