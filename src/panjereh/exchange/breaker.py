"""Per-provider circuit breakers (per gateway process).

Closed: calls go through and consecutive failures are counted. After ``BREAKER_THRESHOLD``
failures the circuit opens: calls fail at once, sparing the provider and the consumer's time.
After ``BREAKER_COOLDOWN`` seconds it is half-open: one trial call goes through; success closes
it, failure opens it again.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from . import conf

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


@dataclass
class _Circuit:
    state: str = CLOSED
    failures: int = 0
    opened_at: float = 0.0
    trial_running: bool = False


_lock = threading.Lock()
_circuits: dict[int, _Circuit] = {}


def allow(provider_id: int) -> bool:
    """May a call to this provider go through now?"""
    with _lock:
        circuit = _circuits.setdefault(provider_id, _Circuit())
        if circuit.state == CLOSED:
            return True
        if circuit.state == OPEN:
            if time.monotonic() - circuit.opened_at < float(conf.get("BREAKER_COOLDOWN")):
                return False
            circuit.state = HALF_OPEN
            circuit.trial_running = False
        if circuit.trial_running:
            return False
        circuit.trial_running = True
        return True


def record_success(provider_id: int) -> None:
    with _lock:
        _circuits[provider_id] = _Circuit()


def record_failure(provider_id: int) -> None:
    with _lock:
        circuit = _circuits.setdefault(provider_id, _Circuit())
        circuit.failures += 1
        if circuit.state == HALF_OPEN or circuit.failures >= int(conf.get("BREAKER_THRESHOLD")):
            circuit.state = OPEN
            circuit.opened_at = time.monotonic()
            circuit.trial_running = False


def state(provider_id: int) -> str:
    with _lock:
        circuit = _circuits.get(provider_id)
        return circuit.state if circuit else CLOSED


def reset() -> None:
    with _lock:
        _circuits.clear()
