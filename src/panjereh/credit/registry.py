"""Asking the judiciary's Financial Convictions Registry through the exchange.

The national window is the consumer (identity's consumer system ``national-window``, with the
window's purpose service "Transaction-credit check"); the SUBJECT's national code is the
``X-Road-UserId``, the reader's the ``X-Panjereh-For`` and the check's reference the
``X-Road-Issue``, so every read is in both parties' "who read my data" with the deal's
reference (the subject's as a read of their data, the reader's as a read made for them). Only :mod:`.operations` calls
:func:`financial_status`, and only when both parties' consents are valid.

``PANJEREH_CREDIT_EXCHANGE_URL`` (default: the exchange's address) names the gateway.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from . import conf

log = logging.getLogger(__name__)

SUBSYSTEM = "convictions-registry"
# (registry subsystem, service code, data items the window asks for)
STATUS = (SUBSYSTEM, "financial-status", ["convictions.financial_status"])
PURPOSE_TITLE_FA = "سامانه اعتبارسنجی معاملات (استعلام محکومیت مالی طرف معامله با رضایت او)"
PURPOSE_TITLE_EN = "Transaction-credit check (a deal party's financial convictions, with consent)"


class RegistryUnavailable(Exception):
    """The exchange or the registry gave no usable answer; nothing was read."""


@dataclass(frozen=True)
class Status:
    """What the registry says about one person, as the window keeps it."""

    has_open_convictions: bool
    count: int
    total_rials: int
    oldest_date: str  # ISO date or ""
    instalments: bool
    as_of: str
    message_id: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "has_open_convictions": self.has_open_convictions,
            "count": self.count,
            "total_rials": self.total_rials,
            "oldest_date": self.oldest_date,
            "instalments": self.instalments,
        }


def _parse(data: Any, message_id: str) -> Status:
    if not isinstance(data, dict):
        raise RegistryUnavailable("the registry's answer is not a record")
    try:
        count = int(data["count"])
        total = int(data["total_rials"])
        has_open = bool(data["has_open_convictions"])
        oldest = str(data.get("oldest_date") or "")[:10]
        if count < 0 or total < 0 or has_open != (count > 0):
            raise ValueError("inconsistent")
    except (KeyError, TypeError, ValueError) as exc:
        # An incomplete or inconsistent record is never shown as "no convictions".
        raise RegistryUnavailable(f"the registry's answer is incomplete ({exc})") from exc
    return Status(
        has_open_convictions=has_open,
        count=count,
        total_rials=total,
        oldest_date=oldest,
        instalments=bool(data.get("instalments")),
        as_of=str(data.get("as_of") or "")[:40],
        message_id=message_id[:64],
    )


def financial_status(subject_code: str, *, reference: str, reader_code: str = "") -> Status:
    """The subject's status, read through the gateway; :class:`RegistryUnavailable` else.
    ``reader_code``: the party the read is made for (``X-Panjereh-For``), so the same logged
    read shows in the reader's "who read my data" too."""
    from panjereh.common.addresses import exchange_url
    from panjereh.exchange import client as nix_client
    from panjereh.exchange.client import service_address
    from panjereh.exchange.models import ConsumerSystem
    from panjereh.identity import registry_checks

    system = ConsumerSystem.objects.filter(
        subsystem=registry_checks.SUBSYSTEM, enabled=True
    ).first()
    if system is None:
        raise RegistryUnavailable("the national window is not an exchange consumer")
    address = service_address(STATUS[0], STATUS[1])
    if address is None:
        raise RegistryUnavailable("no financial-status service on the exchange")
    client = nix_client.NixClient(
        exchange_url("PANJEREH_CREDIT_EXCHANGE_URL"),
        system.client_id,
        registry_checks.consumer_key(),
        timeout=float(conf.get("TIMEOUT")),
    )
    try:
        reply = client.get(
            f"{address}/{subject_code}",
            user_id=subject_code,
            issue=reference,
            purpose=registry_checks.purpose_service_id(system, PURPOSE_TITLE_EN),
            items=STATUS[2],
            made_for=reader_code,
        )
    except nix_client.ExchangeUnreachable as exc:
        log.warning("credit: registry unreachable (%s)", exc.reason)
        raise RegistryUnavailable(exc.reason) from exc
    except nix_client.AnswerNotJSON as exc:
        raise RegistryUnavailable("the exchange answer is not JSON") from exc
    except nix_client.GatewayRefusal as exc:
        log.warning("credit: exchange refused %s %s", exc.status, exc.code)
        raise RegistryUnavailable(f"exchange answered {exc.status} {exc.code}") from exc
    if not reply.found:
        # The registry holds no such person: the window cannot say "no convictions".
        raise RegistryUnavailable("the registry does not know this national code")
    return _parse(reply.data, reply.message_id)


def provision(agency, *, resolution_number: str, valid_days: int = 365):
    """The national window's grant (``agency``: the platform operator, already a consumer
    through ``identity.registry_checks.provision``) on the registry's ``financial-status``,
    under the window's purpose service "Transaction-credit check". For the demo and tests;
    in production the Interoperability Working Group decides."""
    from panjereh.identity import registry_checks

    return registry_checks.grant_window(
        agency,
        [STATUS],
        purpose=(PURPOSE_TITLE_FA, PURPOSE_TITLE_EN),
        number_base=947_000_000,
        resolution_number=resolution_number,
        valid_days=valid_days,
    )
