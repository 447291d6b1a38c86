"""The transaction-credit check in the demo: the national window's grant on the judiciary's
Financial Convictions Registry (``credit.registry.provision``, idempotent), once the registry is
registered and the window is a consumer (the identity part registers it)."""

from __future__ import annotations


def credit_checks(write=print) -> bool:
    """Whether credit checks can read the registry in this run."""
    from panjereh.catalogue.models import Agency
    from panjereh.credit import registry
    from panjereh.identity.management.commands.identity_exchange import PLATFORM_AGENCY

    operator = Agency.objects.filter(code=PLATFORM_AGENCY["code"]).first()
    if operator is None:
        return False
    registry.provision(operator, resolution_number="1404/demo")
    write(
        "Transaction-credit checks at /credit/ (two people of the population, each signed in, "
        "consent to one deal and see each other's financial-conviction status)."
    )
    return True
