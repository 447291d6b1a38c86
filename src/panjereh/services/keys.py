"""Agencies' key pairs: document signing (ES256) and exchange client assertions (Ed25519).

Private keys are stored in the database encrypted at rest with Fernet under a key derived from
``PANJEREH_SERVICES_KEY_SECRET`` (default: the Django secret key) with Django's ``salted_hmac``,
so a database dump alone does not give away an agency's signing key. Keys encrypted under the
earlier derivation (a bare SHA-256) still decrypt. Rotation makes a new key the active one; older
keys stay published in the JWKS so that documents they signed keep verifying.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
from typing import Any

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.crypto import salted_hmac
from joserfc.jwk import ECKey, OKPKey

from panjereh.catalogue.models import Agency
from panjereh.common.conf import setting

from .models import AgencyKey

_cache: dict[str, Any] = {}
_lock = threading.Lock()


def _fernet() -> MultiFernet:
    """Encrypts under the salted_hmac-derived key; decrypts under it or the earlier one."""
    secret = setting("PANJEREH_SERVICES_KEY_SECRET", "") or settings.SECRET_KEY
    current = salted_hmac("panjereh.services.keys", b"fernet", secret=secret, algorithm="sha256")
    # Rows written before salted_hmac was used are encrypted under this key: kept for reading.
    earlier = hashlib.sha256(b"panjereh-services-keys:" + secret.encode()).digest()
    return MultiFernet(
        [
            Fernet(base64.urlsafe_b64encode(current.digest())),
            Fernet(base64.urlsafe_b64encode(earlier)),
        ]
    )


def _generate(agency: Agency, use: str):
    n = AgencyKey.objects.filter(agency=agency, use=use).count() + 1
    kid = f"{agency.code}-{use}-{n}-{os.urandom(3).hex()}"
    if use == AgencyKey.Use.SIGN:
        return ECKey.generate_key("P-256", parameters={"kid": kid, "use": "sig", "alg": "ES256"})
    return OKPKey.generate_key("Ed25519", parameters={"kid": kid})


def create_key(agency: Agency, use: str) -> AgencyKey:
    """A new active key for ``agency``; the previous active one is retired (still published)."""
    key = _generate(agency, use)
    private = _fernet().encrypt(json.dumps(key.as_dict(private=True)).encode()).decode()
    with transaction.atomic():
        AgencyKey.objects.filter(agency=agency, use=use, active=True).update(active=False)
        return AgencyKey.objects.create(
            agency=agency,
            use=use,
            kid=key.kid,
            public_jwk=key.as_dict(private=False),
            private_encrypted=private,
        )


def active_key(agency: Agency, use: str) -> AgencyKey:
    """The agency's active key, created on first use."""
    row = AgencyKey.objects.filter(agency=agency, use=use, active=True).first()
    if row is not None:
        return row
    try:
        return create_key(agency, use)
    except IntegrityError:  # pragma: no cover - two processes raced on a fresh agency
        return AgencyKey.objects.get(agency=agency, use=use, active=True)


def private_key(row: AgencyKey):
    """The decrypted key object (cached per process: decrypting costs more than signing)."""
    with _lock:
        key = _cache.get(row.kid)
        if key is None:
            data = json.loads(_fernet().decrypt(row.private_encrypted.encode()))
            key = (ECKey if data["kty"] == "EC" else OKPKey).import_key(data)
            _cache[row.kid] = key
        return key


def rotate(agency: Agency, use: str = AgencyKey.Use.SIGN) -> AgencyKey:
    return create_key(agency, use)


def jwks(agency: Agency | None = None) -> dict[str, Any]:
    """The published signing keys (all agencies, or one), active and retired."""
    rows = AgencyKey.objects.filter(use=AgencyKey.Use.SIGN).select_related("agency")
    if agency is not None:
        rows = rows.filter(agency=agency)
    keys = []
    for row in rows.order_by("agency__code", "created_at"):
        keys.append({**row.public_jwk, "kid": row.kid, "iss": row.agency.code})
    return {"keys": keys}
