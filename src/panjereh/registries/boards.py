"""The company registry's directors and signatories, and the tests' way to change them.

A company's representatives are derived from the seeded population
(:meth:`.population.Population.company_representatives`) until a control request changes them
(``POST /_control`` with ``representatives``), as a new notice in the official gazette would:
a director removed here is no longer named to anyone who asks from then on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from .population import Population

ROLES = ("ceo", "board", "signatory")
Answer = tuple[int, dict[str, Any]]


class Boards:
    """Changes to companies' representatives; shared by the request threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.changed: dict[str, list[dict[str, Any]]] = {}

    def set(self, data: Any) -> None:
        """``{national ID: [{"national_code", "role", "since"}, ...] | None}``; None returns the
        company to its seeded representatives. A bad body changes nothing (ValueError)."""
        if not isinstance(data, dict):
            raise ValueError("representatives is an object keyed by national ID")
        checked: dict[str, list[dict[str, Any]] | None] = {}
        for national_id, rows in data.items():
            if rows is None:
                checked[str(national_id)] = None
                continue
            if not isinstance(rows, list) or not all(
                isinstance(r, dict)
                and isinstance(r.get("national_code"), str)
                and r.get("role") in ROLES
                for r in rows
            ):
                raise ValueError("each representative has a national_code and a known role")
            checked[str(national_id)] = [
                {
                    "national_code": r["national_code"],
                    "role": r["role"],
                    "since": str(r.get("since") or "2025-03-20"),
                }
                for r in rows
            ]
        with self.lock:
            for national_id, rows in checked.items():
                if rows is None:
                    self.changed.pop(national_id, None)
                else:
                    self.changed[national_id] = rows

    def of(self, national_id: str) -> list[dict[str, Any]] | None:
        with self.lock:
            rows = self.changed.get(national_id)
            return [dict(r) for r in rows] if rows is not None else None


def representatives_handler(
    pop: Population, boards: Boards
) -> Callable[[str, dict[str, str]], Answer]:
    """The ``representatives`` data service: the company's name, status and representatives."""

    def answer(param: str, query: dict[str, str]) -> Answer:
        j = pop.company_of_id(param)
        if j is None:
            return 404, {"found": False, "detail": "no legal person"}
        record = pop.company(j)
        rows = boards.of(record["national_id"])
        return 200, {
            "national_id": record["national_id"],
            "name": record["name"],
            "status": record["status"],
            "representatives": rows if rows is not None else pop.company_representatives(j),
        }

    return answer
