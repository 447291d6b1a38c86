"""The national window's OIDC signing keys: RSA (RS256, the OpenID Connect default) and
EC P-256 (ES256, what agency windows are registered with unless their library lacks it).

Production reads the PEMs from ``PANJEREH_OIDC_KEY`` and ``PANJEREH_OIDC_EC_KEY``; the demo and
the tests generate them into ``VAR_DIR/oidc/`` on first use so that tokens stay verifiable
across restarts. This module is imported by the settings, so it must not import Django models.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa


def load_or_create_oidc_key(var_dir: Path, mode: str) -> str:
    """The RSA private key as PEM text ("" in production when none is configured: the identity
    app then refuses to start, see :meth:`IdentityConfig.ready`, while the settings module stays
    importable for tools that only read it)."""
    return _load_or_create(
        "PANJEREH_OIDC_KEY",
        var_dir / "oidc" / "signing-key.pem",
        mode,
        lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
    )


def load_or_create_oidc_ec_key(var_dir: Path, mode: str) -> str:
    """The EC P-256 private key for ES256 ID tokens, as PEM text (same rules as the RSA key)."""
    return _load_or_create(
        "PANJEREH_OIDC_EC_KEY",
        var_dir / "oidc" / "signing-key-es256.pem",
        mode,
        lambda: ec.generate_private_key(ec.SECP256R1()),
    )


def _load_or_create(variable: str, path: Path, mode: str, generate) -> str:
    pem = os.environ.get(variable, "").strip()
    if pem:
        return pem + "\n"
    if mode == "production":
        return ""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        data = generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        # Write to a temporary name and link it into place: the link fails if another process
        # got there first, so every process ends up reading the one key that won.
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.chmod(tmp, 0o600)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text()
