"""SANA and judicial notices in the demo: the national window's grant on the judiciary's SANA
services (``judiciary.sana.provision``, idempotent) and the judiciary's ``court-notices`` system
as a sender of the official mailbox (``judiciary.sana.join_mailbox``, with the judiciary's
exchange key in the window's key store), once the registries are registered and the window is a
consumer (the identity part registers it)."""

from __future__ import annotations


def sana_setup(write=print) -> bool:
    """Whether people can register for SANA in this run."""
    from panjereh.catalogue.models import Agency
    from panjereh.identity.management.commands.identity_exchange import PLATFORM_AGENCY
    from panjereh.judiciary import sana

    operator = Agency.objects.filter(code=PLATFORM_AGENCY["code"]).first()
    if operator is None:
        return False
    sana.provision(operator, resolution_number="1404/demo")
    system = sana.join_mailbox()
    write(
        "SANA registration at /judiciary/sana/ (assurance level 2: register, then the photo "
        f"check); the judiciary's courts send notices through /api/mailbox/v1/ as "
        f"{system.client_id}."
    )
    return True
