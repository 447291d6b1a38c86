"""The demo's watch over the other organisations' systems it started: a registry, the
simulated bank or the simulated permit portals that die are started again on the port they had
(as ``panjereh registries run``, ``panjereh psp`` and ``panjereh portals run`` do), so the
window keeps reaching them at the addresses it knows."""

from __future__ import annotations

import threading

from panjereh.portals.supervisor import Portals, PortalsStartError
from panjereh.psp.supervisor import PSP, PSPStartError
from panjereh.registries.supervisor import Cluster, RegistryStartError


class Watchdog(threading.Thread):
    """Checks the children every ``every`` seconds until :meth:`stop` (which the demo calls
    before stopping them, so a child being stopped is not started again)."""

    def __init__(
        self,
        cluster: Cluster,
        bank: PSP,
        write=print,
        every: float = 2.0,
        *,
        portals: Portals | None = None,
    ) -> None:
        super().__init__(name="demo-watchdog", daemon=True)
        self.cluster, self.bank, self.write, self.every = cluster, bank, write, every
        self.portals = portals
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
        started += self._check_portals()
        self.restarts += started
        return started

    def _check_portals(self) -> int:
        portals = self.portals
        process = portals.process if portals is not None else None
        if process is None or process.poll() is None or self.stopping.is_set():
            return 0
        self.write("the simulated permit portals stopped; starting them again")
        portals.process = None
        try:
            portals.start()
        except PortalsStartError as exc:
            portals.process = process  # seen dead again at the next check
            self.write(f"the simulated permit portals did not start again: {exc}")
            return 0
        return 1

    def stop(self) -> None:
        self.stopping.set()
        if self.is_alive():
            self.join(timeout=30)
