"""The disk cache shared by the processes of one host when there is no Redis (see settings)."""

from __future__ import annotations

from diskcache import DjangoCache


class SharedDiskCache(DjangoCache):
    """diskcache's Django backend, keeping each thread's SQLite connections between requests.

    Django closes every cache at the end of each request (``request_finished``), which for
    diskcache means closing the thread's SQLite connections and re-opening (and re-configuring)
    them on the next request: most of the cost of a cache call under load. The connections are
    per thread and cheap to keep, so closing is left to the process's exit."""

    def close(self, **_kwargs) -> None:
        pass
