"""Payment service providers: one module per provider, registered under an identifier.

Like Open Forms' payment plugins: a module decorates its class with :func:`register`, the
registry checks the identifier, and the setting ``PANJEREH_PAYMENTS_PROVIDER`` picks the one
that takes new payments (a payment remembers its own provider, so switching leaves earlier
payments with theirs). ``PANJEREH_PAYMENTS_PROVIDER_MODULES`` lists the modules loaded when
the app starts; a real PSP is one more module, not a change here.

A provider turns the window's questions into its own protocol and answers in the plain terms
below. It never changes a payment: the operations do, from what it answers. A transport
failure (down, timeout, a 5xx) raises :class:`ProviderUnavailable`; the operations retry later.
"""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from .. import conf


class ProviderUnavailable(Exception):
    """The provider could not be reached or did not answer in time."""


class BadCallback(Exception):
    """A callback that is not the provider's: a missing field or a signature that fails."""


class ProviderRefused(Exception):
    """The provider answered and said no (e.g. a refund larger than the payment)."""

    def __init__(self, code: str, detail: Mapping[str, Any] | None = None) -> None:
        super().__init__(code)
        self.code, self.detail = code, dict(detail or {})


# What a provider says a transaction is (its own words mapped onto these).
ISSUED, PAID, VERIFIED, FAILED, CANCELLED, EXPIRED, REVERSED = (
    "issued",
    "paid",
    "verified",
    "failed",
    "cancelled",
    "expired",
    "reversed",
)
UNKNOWN = "unknown"  # the provider has no such transaction


@dataclass(frozen=True)
class Started:
    token: str
    redirect_url: str


@dataclass(frozen=True)
class Status:
    state: str
    amount: int | None = None
    ref: str = ""
    card: str = ""
    code: str = ""
    verify_by: dt.datetime | None = None


@dataclass(frozen=True)
class Callback:
    token: str
    order_id: str
    state: str  # PAID, FAILED or CANCELLED
    amount: int
    ref: str
    card: str
    code: str
    signed_at: dt.datetime


@dataclass(frozen=True)
class RefundDone:
    ref: str


@dataclass(frozen=True)
class SettlementLine:
    number: int  # 1-based, after the header
    kind: str  # "payment" or "refund"
    token: str
    order_id: str
    ref: str
    amount: int | None  # None when the line's amount is not a whole number


class Provider(ABC):
    """What every provider answers. ``payment`` and ``refund`` are the models' rows. Every
    method is abstract: a provider module that leaves one out cannot be registered."""

    identifier: ClassVar[str] = ""
    label: ClassVar[str] = ""

    @abstractmethod
    def start(self, payment: Any, callback_url: str) -> Started: ...

    @abstractmethod
    def read_callback(self, data: Mapping[str, str]) -> Callback: ...

    @abstractmethod
    def verify(self, payment: Any) -> Status: ...

    @abstractmethod
    def reverse(self, payment: Any) -> Status: ...

    @abstractmethod
    def inquire(self, payment: Any) -> Status: ...

    @abstractmethod
    def refund(self, refund: Any) -> RefundDone: ...

    @abstractmethod
    def settlement(self, day: dt.date) -> tuple[bytes, Iterable[SettlementLine]]:
        """The day's settlement file as sent, and its lines."""

    def settlement_csv(self, body: bytes) -> dict[str, str] | None:
        """If the file (as :meth:`settlement` returned it) is UTF-8 CSV with a header row: which
        header names hold ``kind``, ``token``, ``order_id``, ``ref`` and ``amount``, so that
        the database can load it whole (PostgreSQL's ``COPY``) instead of line by line.
        ``None`` (the default) when it is not; the lines are then read one by one."""
        return None


_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_-]{1,39}$")
_registry: dict[str, type[Provider]] = {}


def register(identifier: str) -> Callable[[type[Provider]], type[Provider]]:
    """Class decorator: register a provider under ``identifier`` (lower-case, unique)."""
    if not _IDENTIFIER.match(identifier):
        raise ValueError(f"not a provider identifier: {identifier!r}")

    def decorate(cls: type[Provider]) -> type[Provider]:
        known = _registry.get(identifier)
        if known is not None and known is not cls:
            raise ValueError(f"provider {identifier!r} is already registered by {known!r}")
        if inspect.isabstract(cls):
            missing = ", ".join(sorted(cls.__abstractmethods__))
            raise TypeError(f"provider {identifier!r} does not answer: {missing}")
        cls.identifier = identifier
        _registry[identifier] = cls
        return cls

    return decorate


def load() -> None:
    """Import the provider modules named by the setting (each registers itself)."""
    for module in conf.get("PROVIDER_MODULES"):
        importlib.import_module(module)


def identifiers() -> list[str]:
    return sorted(_registry)


def get(identifier: str | None = None) -> Provider:
    """The provider ``identifier`` (by default the one that takes new payments)."""
    name = identifier or conf.get("PROVIDER")
    try:
        return _registry[name]()
    except KeyError:
        raise LookupError(f"no payment provider {name!r}; known: {identifiers()}") from None
