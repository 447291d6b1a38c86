"""The national window's OIDC signing keys: RSA (RS256, the OpenID Connect default) and
EC P-256 (ES256, what agency windows are registered with unless their library lacks it).

Production reads the PEMs from ``PANJEREH_OIDC_KEY`` and ``PANJEREH_OIDC_EC_KEY``. The demo and
the tests keep them in ``VAR_DIR/oidc/`` so that tokens stay verifiable across restarts: the
settings only read a key file that is already there (importing the settings writes nothing),
and :func:`ensure_oidc_keys`, called when the identity app starts, creates the missing ones.
This module is imported by the settings, so it must not import Django models or settings.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from panjereh.common import keyfiles

RSA_FILE = Path("oidc") / "signing-key.pem"
EC_FILE = Path("oidc") / "signing-key-es256.pem"


def configured_key(value: str, var_dir: Path, mode: str, file: Path) -> str:
    """For the settings module: the key from its environment variable's ``value``, else (outside
    production) from its file if that exists, else "". Never writes a file."""
    value = value.strip()
    if value:
        return value + "\n"
    if mode == "production":
        return ""
    return keyfiles.read(Path(var_dir) / file)


def _pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _new_rsa() -> bytes:
    return _pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))


def _new_ec() -> bytes:
    return _pem(ec.generate_private_key(ec.SECP256R1()))


def ensure_oidc_keys() -> None:
    """Outside production, create the OIDC keys the settings found neither set nor in a file,
    and put them in the settings. In production nothing is created: without the keys the
    identity app refuses to start (see :meth:`IdentityConfig.ready`)."""
    from django.conf import settings
    from oauth2_provider.settings import oauth2_settings

    if settings.MODE == "production":
        return
    var_dir = Path(settings.VAR_DIR)
    if not settings.OAUTH2_PROVIDER.get("OIDC_RSA_PRIVATE_KEY"):
        settings.OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"] = keyfiles.load_or_create(
            "PANJEREH_OIDC_KEY", var_dir / RSA_FILE, _new_rsa
        )
        oauth2_settings.reload()
    if not settings.PANJEREH_OIDC_EC_KEY:
        settings.PANJEREH_OIDC_EC_KEY = keyfiles.load_or_create(
            "PANJEREH_OIDC_EC_KEY", var_dir / EC_FILE, _new_ec
        )
