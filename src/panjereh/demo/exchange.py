"""The exchange's part of ``panjereh demo``: start the registries and register them."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from panjereh.common.conf import setting
from panjereh.exchange.provision import register_registries
from panjereh.registries import REGISTRIES, assets, billers, convictions, courts
from panjereh.registries.supervisor import Cluster, RegistryStartError

ADDRESSES_FILE = "registries.json"  # the same file `panjereh registries run` writes


def start_registries(profile: str, write=print) -> Cluster:
    """Start the registries and the simulated billers (on fixed ports if free, so registered
    addresses stay valid between runs), write their addresses into ``VAR_DIR`` and register
    them as providers (idempotent)."""
    port_base = int(setting("PANJEREH_REGISTRY_PORT_BASE", 8100))
    names = (*REGISTRIES, billers.NAME)  # bills are paid through the exchange too
    names += (convictions.NAME,)  # the transaction-credit check (panjereh.credit)
    names += (courts.NAME,)  # the judiciary's case system (panjereh.judiciary)
    names += assets.NAMES  # a judge's asset inquiry (panjereh.assets)
    try:
        cluster = Cluster(profile, port_base=port_base, registries=names).start()
    except RegistryStartError:
        cluster = Cluster(profile, port_base=0, registries=names).start()  # the ports are taken
    try:
        cluster.write(Path(settings.VAR_DIR) / ADDRESSES_FILE)
        register_registries(cluster.addresses())
    except BaseException:
        cluster.stop()
        raise
    write(
        f"Simulated base registries ({cluster.size:,} people): "
        + ", ".join(f"{name} {url}" for name, url in cluster.addresses().items())
    )
    return cluster
