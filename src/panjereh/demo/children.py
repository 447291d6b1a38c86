"""The demo's watch over the other organisations' systems it started: a registry or the
simulated bank that dies is started again on the port it had (as ``panjereh registries run``
and ``panjereh psp`` do), so the portal keeps reaching them at the addresses it knows."""

from __future__ import annotations

import threading

from panjereh.psp.supervisor import PSP, PSPStartError
from panjereh.registries.supervisor import Cluster, RegistryStartError


class Watchdog(threading.Thread):
    """Checks the children every ``every`` seconds until :meth:`stop` (which the demo calls
    before stopping them, so a child being stopped is not started again)."""

    def __init__(self, cluster: Cluster, bank: PSP, write=print, every: float = 2.0) -> None:
        super().__init__(name="demo-watchdog", daemon=True)
        self.cluster, self.bank, self.write, self.every = cluster, bank, write, every
        self.stopping = threading.Event()
        self.restarts = 0

    def run(self) -> None:
        while not self.stopping.wait(self.every):
            self.check()

    def check(self) -> int:
        """Start again what died; the number of children started again."""
        started = 0
        dead = {n: p for n, p in self.cluster.processes.items() if p.poll() is not None}
        for name, process in dead.items():
            if self.stopping.is_set():
                return started
            self.write(f"registry {name} stopped; starting it again")
            try:
                self.cluster.start_one(name)
                started += 1
            except RegistryStartError as exc:
                self.cluster.processes[name] = process  # seen dead again at the next check
                self.write(f"registry {name} did not start again: {exc}")
        process = self.bank.process
        if process is not None and process.poll() is not None and not self.stopping.is_set():
            self.write("the simulated payment provider stopped; starting it again")
            self.bank.process = None
            try:
                self.bank.start()
                started += 1
            except PSPStartError as exc:
                self.bank.process = process  # seen dead again at the next check
                self.write(f"the simulated payment provider did not start again: {exc}")
        self.restarts += started
        return started

    def stop(self) -> None:
        self.stopping.set()
        if self.is_alive():
            self.join(timeout=30)
